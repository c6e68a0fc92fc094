"""Shared effect builders: non-centred, zero-sum and within-group-centred random effects."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

__all__ = ["zero_sum_effect", "centred_within", "double_centred", "segment_centre"]


def zero_sum_effect(name: str, sigma, dims: tuple[str, ...], n_zerosum_axes: int | None = None):
    """``sigma * z`` with ``z ~ ZeroSumNormal(1)`` over the last ``n_zerosum_axes`` dims.

    Non-centred: the sampler sees a unit-scale ``z`` whatever ``sigma`` is.
    """
    n_axes = len(dims) if n_zerosum_axes is None else n_zerosum_axes
    z = pm.ZeroSumNormal(f"{name}_z", sigma=1.0, dims=dims, n_zerosum_axes=n_axes)
    return pm.Deterministic(name, sigma * z, dims=dims)


def segment_centre(x, index: np.ndarray, n_segments: int):
    """Subtract from ``x`` (first axis) the mean of its segment given by integer ``index``."""
    counts = np.bincount(index, minlength=n_segments).astype(float)
    counts[counts == 0] = 1.0
    shape = (n_segments, *[x.shape[i] for i in range(1, x.ndim)])
    sums = pt.inc_subtensor(pt.zeros(shape)[index], x)
    means = sums / counts.reshape(-1, *([1] * (x.ndim - 1)))
    return x - means[index]


def centred_within(name: str, sigma, dims: tuple[str, ...], index: np.ndarray,
                   n_segments: int, zero_sum_last: bool = False):
    """Non-centred effect centred within segments of its first dim (e.g. outputs per system).

    ``z ~ Normal(0, 1)`` (or zero-sum over the last dim when ``zero_sum_last``), then each
    segment's mean is subtracted, so the effect is exactly identified against the segment-level
    effect; the value is ``sigma * (z - segment mean)``.
    """
    if zero_sum_last:
        z = pm.ZeroSumNormal(f"{name}_z", sigma=1.0, dims=dims, n_zerosum_axes=1)
    else:
        z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
    return pm.Deterministic(name, sigma * segment_centre(z, index, n_segments), dims=dims)


def double_centred(name: str, sigma, rows: np.ndarray, cols: np.ndarray, n_rows: int,
                   n_cols: int):
    """Non-centred output effect of a balanced rows × cols crossing (e.g. system × prompt),
    centred within every row and every column: ``sigma * (z - row mean - col mean + mean)``."""
    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims="output")
    centred = segment_centre(segment_centre(z, rows, n_rows), cols, n_cols)
    return pm.Deterministic(name, sigma * centred, dims="output")
