"""Calibration figures: SBC rank ECDF differences and interval coverage."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..validate import CoverageResult, SBCResult
from .style import NEUTRAL, OKABE_ITO, group_colors, new_figure, styled

__all__ = ["sbc_ecdf_plot", "coverage_plot"]

#: Panels per row.
MAX_COLUMNS = 4
#: Markers of successive coverage series.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")


@styled
def sbc_ecdf_plot(result: SBCResult, *, prob: float = 0.95,
                  width: str | float = "two") -> Figure:
    """ECDF of fractional SBC ranks minus the uniform CDF, one panel per parameter.

    Parameters
    ----------
    result : SBCResult
    prob : float
        Mass of the simultaneous band a single component's curve stays in under calibration.
    width : {"one", "two"} or float

    Returns
    -------
    matplotlib.figure.Figure
        One panel per variable: a thin line per component (vermillion when it leaves the
        band), the grey simultaneous band. Curves above zero on the left mean true values
        sit low in the posterior (overestimation); a ∩ shape means too-wide posteriors, a ∪
        shape too-narrow ones.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from pluraleval.validate import SBCResult
    >>> from pluraleval.plots import sbc_ecdf_plot
    >>> rng = np.random.default_rng(0)
    >>> ranks = pd.DataFrame({"sim": np.arange(50), "variable": "mu", "component": "sys1",
    ...                       "rank": rng.integers(0, 100, 50), "n_draws": 99})
    >>> fig = sbc_ecdf_plot(SBCResult(ranks=ranks, fits=pd.DataFrame(), config={}))
    >>> len(fig.axes)
    1
    """
    grid, lower, upper, diffs = result.ecdf_differences(prob=prob)
    variables = list(dict.fromkeys(var for var, _ in diffs))
    ncol = min(MAX_COLUMNS, len(variables))
    nrow = math.ceil(len(variables) / ncol)
    fig = new_figure(width=width, aspect=0.25 * nrow * MAX_COLUMNS / ncol)
    axes = fig.subplots(nrow, ncol, squeeze=False, sharex=True)
    for ax, var in zip(axes.flat, variables, strict=False):
        ax.fill_between(grid, lower, upper, color="0.88", lw=0, step="post")
        ax.axhline(0, color=NEUTRAL, lw=0.4)
        curves = [d for (v, _), d in diffs.items() if v == var]
        alpha = max(0.15, 1 / math.sqrt(len(curves)))
        for diff in curves:
            out = np.any((diff < lower) | (diff > upper))
            ax.step(grid, diff, where="post", lw=0.6,
                    color=OKABE_ITO["vermillion"] if out else OKABE_ITO["blue"],
                    alpha=1.0 if out else alpha)
        ax.set_title(f"{var} ({len(curves)})")
        ax.set_xlim(0, 1)
    for ax in list(axes.flat)[len(variables):]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("fractional rank")
    for ax in axes[:, 0]:
        ax.set_ylabel("ECDF − uniform")
    n_draws = int(result.ranks["n_draws"].iloc[0])
    fig.suptitle(f"SBC: {result.n_sims} simulations, {n_draws} posterior draws each; "
                 f"grey: {prob:.0%} simultaneous band")
    return fig


@styled
def coverage_plot(result: CoverageResult, *, by: str = "family",
                  width: str | float = "one") -> Figure:
    """Empirical against nominal coverage of central intervals, one line per family.

    Parameters
    ----------
    result : CoverageResult
    by : {"family", "variable"}
    width : {"one", "two"} or float

    Returns
    -------
    matplotlib.figure.Figure
        Coverage minus nominal (points with ±2 Monte Carlo SE bars) at each nominal level;
        zero is perfect calibration, below zero overconfident intervals.

    Examples
    --------
    >>> import pandas as pd
    >>> from pluraleval.validate import CoverageResult
    >>> from pluraleval.plots import coverage_plot
    >>> hits = pd.DataFrame({"sim": [0, 0, 1, 1], "variable": "mu",
    ...                      "family": "system quality", "level": [0.5, 0.9, 0.5, 0.9],
    ...                      "covered": [2, 3, 1, 3], "components": 3})
    >>> fig = coverage_plot(CoverageResult(hits=hits, fits=pd.DataFrame(), config={}))
    >>> fig.axes[0].get_ylabel()
    'coverage − nominal'
    """
    table = result.table(by=by)
    keys = list(dict.fromkeys(table[by]))
    colors = group_colors(keys)
    fig = new_figure(width=width, aspect=1.0)
    ax = fig.subplots()
    offsets = np.linspace(-0.012, 0.012, len(keys)) if len(keys) > 1 else [0.0]
    for i, (off, key) in enumerate(zip(offsets, keys, strict=True)):
        t = table[table[by] == key]
        # colours repeat beyond eight series: the marker tells them apart
        ax.errorbar(t["nominal"] + off, t["difference"], yerr=2 * t["se"].fillna(0),
                    marker=MARKERS[i % len(MARKERS)], ms=3, lw=0.8, capsize=0,
                    color=colors[key], label=key)
    ax.axhline(0, color=NEUTRAL, lw=0.5)
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("coverage − nominal")
    fig.legend(loc="outside lower center", ncols=3)
    return fig
