"""Posterior predictive check figure: observed vs replicated rating distributions."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..fit import Fit
from ..predictive import ppc
from .style import NEUTRAL, OKABE_ITO, figure_size, group_colors, mark_failed, new_figure, styled

__all__ = ["ppc_plot"]

#: Panels per row.
MAX_COLUMNS = 4


@styled
def ppc_plot(fit: Fit, *, by: str | None = None, n_draws: int = 200, prob: float = 0.9,
             width: str | float = "two") -> Figure:
    """Observed vs predicted rating distributions, one panel per group.

    Parameters
    ----------
    fit : Fit
    by : str, optional
        A persona attribute or ``"system"`` (as in :func:`~pluraleval.ppc`); ``None`` for
        one panel of all judgments.
    n_draws : int
        Replicated data sets.
    prob : float
        Mass of the predictive intervals.
    width : {"one", "two"} or float

    Returns
    -------
    matplotlib.figure.Figure
        Per group (in the fit's level order, titled with the group and its number of
        judgments): the predicted share of each rating level as the mean and ``prob``
        interval (error bars, in the group's colour) and the observed share as black points,
        vermillion where it falls outside the interval.
    """
    table = ppc(fit, by=by, n_draws=n_draws, prob=prob)
    levels = list(fit.judgments.scale.levels)
    if by is None:
        panels, colors = [("all judgments", table)], {None: NEUTRAL}
    else:
        groups = list(dict.fromkeys(table[by]))
        panels = [(g, table[table[by] == g]) for g in groups]
        colors = group_colors(fit.judgments.coords[by])
    ncols = min(len(panels), MAX_COLUMNS)
    nrows = math.ceil(len(panels) / ncols)
    fig = new_figure(width=width, aspect=(0.6 + 1.4 * nrows) / figure_size(width)[0])
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    x = np.arange(len(levels))
    for ax, (label, rows) in zip(axes, panels, strict=False):
        color = colors[None if by is None else label]
        predicted = rows["predicted"].to_numpy()
        error = np.clip([predicted - rows["lower"], rows["upper"] - predicted], 0, None)
        ax.errorbar(x, predicted, yerr=error, fmt="_", markersize=8, color=color,
                    elinewidth=1.6, capsize=0)
        outside = ~rows["inside"].to_numpy()
        ax.scatter(x, rows["observed"], s=12, zorder=3,
                   c=np.where(outside, OKABE_ITO["vermillion"], "black"))
        ax.set_xticks(x, [str(level) for level in levels])
        ax.set_title(f"{label} (n={rows['n_judgments'].iloc[0]})", loc="left")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel("share of judgments")
    for ax in axes[max(len(panels) - ncols, 0):len(panels)]:  # the lowest panel of each column
        ax.set_xlabel("rating")
    fig.legend(handles=[
        Line2D([], [], color=NEUTRAL, marker="|", markersize=8, markeredgewidth=1.6,
               linestyle="", label=f"predicted, {prob:.0%} interval"),
        Line2D([], [], color="black", marker="o", linestyle="", label="observed"),
        Line2D([], [], color=OKABE_ITO["vermillion"], marker="o", linestyle="",
               label="observed, outside interval")],
        loc="outside lower center", ncols=3)
    mark_failed(fig, fit.converged)
    return fig
