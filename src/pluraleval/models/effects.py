"""Shared effect builders: zero-sum and within-group-centred random effects, each in a
non-centred (unit ``<name>_z`` scaled by ``sigma``) or centred (``<name>_z`` with scale
``sigma``) parameterisation.

Non-centred suits effects the data say little about (the funnel between ``sigma`` and the
effects disappears); centred suits effects with many judgments per level, whose posterior is
tight whatever ``sigma`` is (non-centred, every change of ``sigma`` must then be undone by all
the ``z``: the scale mixes 5-10x slower; ``benchmarks/README.md``). The distribution of the
effect is the same either way.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

__all__ = ["zero_sum_effect", "centred_within", "double_centred", "segment_centre"]


def zero_sum_effect(name: str, sigma, dims: tuple[str, ...], n_zerosum_axes: int | None = None,
                    *, centred: bool = False):
    """``ZeroSumNormal(sigma)`` over the last ``n_zerosum_axes`` dims, as ``name``.

    Non-centred: ``sigma * z`` with ``z ~ ZeroSumNormal(1)``, so the sampler sees a unit-scale
    ``z`` whatever ``sigma`` is. Centred: the effect itself is the free variable.
    """
    n_axes = len(dims) if n_zerosum_axes is None else n_zerosum_axes
    if centred:
        return pm.ZeroSumNormal(name, sigma=sigma, dims=dims, n_zerosum_axes=n_axes)
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
                   n_segments: int, zero_sum_last: bool = False, *, centred: bool = False):
    """Effect centred within segments of its first dim (e.g. outputs per system).

    ``z ~ Normal(0, s)`` (or zero-sum over the last dim when ``zero_sum_last``), then each
    segment's mean is subtracted, so the effect is exactly identified against the segment-level
    effect. Non-centred: ``s = 1`` and the value is ``sigma * (z - segment mean)``; centred:
    ``s = sigma`` and the value is ``z - segment mean``.
    """
    scale = sigma if centred else 1.0
    if zero_sum_last:
        z = pm.ZeroSumNormal(f"{name}_z", sigma=scale, dims=dims, n_zerosum_axes=1)
    else:
        z = pm.Normal(f"{name}_z", 0.0, scale, dims=dims)
    value = segment_centre(z, index, n_segments)
    return pm.Deterministic(name, value if centred else sigma * value, dims=dims)


def double_centred(name: str, sigma, rows: np.ndarray, cols: np.ndarray, n_rows: int,
                   n_cols: int, *, centred: bool = False):
    """Output effect of a balanced rows × cols crossing (e.g. system × prompt), centred within
    every row and every column: ``s * (z - row mean - col mean + mean)``, ``z ~ Normal(0, 1)``
    and ``s = sigma`` (non-centred), or ``z ~ Normal(0, sigma)`` and ``s = 1`` (centred)."""
    z = pm.Normal(f"{name}_z", 0.0, sigma if centred else 1.0, dims="output")
    value = segment_centre(segment_centre(z, rows, n_rows), cols, n_cols)
    return pm.Deterministic(name, value if centred else sigma * value, dims="output")
