"""Shared pieces of the forest plots: posterior intervals and one row per label."""

from __future__ import annotations

from collections.abc import Sequence

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes

from .style import NEUTRAL, figure_size

SAMPLE_DIMS = ("chain", "draw")
#: Inches per forest row, for titles, axis labels and margins, and the tallest figure.
ROW_HEIGHT, MARGIN, MAX_HEIGHT = 0.17, 0.8, 9.0


def interval(draws: xr.DataArray, prob: float) -> pd.DataFrame:
    """Posterior mean and highest-density interval along the one non-sample dim of ``draws``.

    Returns
    -------
    pandas.DataFrame
        Indexed by that dim's coordinate; columns ``mean``, ``lower``, ``upper``.
    """
    (dim,) = (d for d in draws.dims if d not in SAMPLE_DIMS)
    hdi = az.hdi(draws, prob=prob, dim=list(SAMPLE_DIMS))
    return pd.DataFrame({"mean": draws.mean(SAMPLE_DIMS).values,
                         "lower": hdi.sel(ci_bound="lower").transpose(dim).values,
                         "upper": hdi.sel(ci_bound="upper").transpose(dim).values},
                        index=pd.Index(draws[dim].values, name=dim))


def rows_aspect(n_rows: int, width: str | float, *, panels: int = 1) -> float:
    """Height/width ratio giving each forest row :data:`ROW_HEIGHT` inches (at most
    :data:`MAX_HEIGHT` inches in all)."""
    height = MARGIN + ROW_HEIGHT * n_rows + 0.35 * (panels - 1)
    return min(height, MAX_HEIGHT) / figure_size(width)[0]


def draw_forest(ax: Axes, labels: Sequence, mean: Sequence[float], lower: Sequence[float],
                upper: Sequence[float], *, colors: Sequence | None = None) -> np.ndarray:
    """Draw one interval and point per label, the first label on top.

    Returns
    -------
    numpy.ndarray
        The y position of each row (in the order of ``labels``).
    """
    n = len(labels)
    y = np.arange(n)[::-1].astype(float)
    colors = [NEUTRAL] * n if colors is None else list(colors)
    ax.hlines(y, lower, upper, colors=colors, linewidth=1.2)
    ax.scatter(mean, y, c=colors, s=14, zorder=3, edgecolors="white", linewidths=0.4)
    ax.set_yticks(y, [str(label) for label in labels])
    ax.set_ylim(-0.7, n - 0.3)
    ax.tick_params(axis="y", length=0)
    return y
