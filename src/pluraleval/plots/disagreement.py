"""Disagreement figures: variance shares, and the most contested or polarised outputs."""

from __future__ import annotations

from typing import Literal

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from ..summaries.disagreement import Disagreement
from ._forest import draw_forest, rows_aspect
from .style import GROUP_ORDER, NEUTRAL, mark_failed, new_figure, styled

__all__ = ["variance_bars", "outputs_plot"]


@styled
def variance_bars(result: Disagreement, *, width: str | float = "one") -> Figure:
    """Horizontal bars of each variance component's share, with intervals.

    Parameters
    ----------
    result : Disagreement
        From :func:`~pluraleval.disagreement`.
    width : {"one", "two"} or float

    Returns
    -------
    matplotlib.figure.Figure
        One bar per component in the table's order (top to bottom): posterior mean share of
        the latent variance, its interval as an error bar and the share in percent; the
        irreducible residual in grey.
    """
    table = result.variance
    prob = table.attrs.get("prob", 0.9)
    n = len(table)
    y = np.arange(n)[::-1]
    share = table["share"].to_numpy()
    error = np.clip([share - table["share_lower"], table["share_upper"] - share], 0, None)
    colors = ["0.6" if term == "residual" else GROUP_ORDER[0] for term in table["term"]]
    fig = new_figure(width=width, aspect=rows_aspect(n, width))
    ax = fig.add_subplot()
    ax.barh(y, share, xerr=error, color=colors, height=0.65,
            error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": NEUTRAL})
    for yi, value, upper in zip(y, share, table["share_upper"], strict=True):
        ax.text(upper + 0.01, yi, f"{value:.0%}", va="center", ha="left", fontsize=6)
    ax.set_yticks(y, table["component"])
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, min(1.0, float(table["share_upper"].max()) + 0.12))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"share of latent variance, {prob:.0%} interval")
    ax.set_title("Variance decomposition", loc="left")
    mark_failed(fig, result.converged)
    return fig


@styled
def outputs_plot(result: Disagreement, *, kind: Literal["polarised", "contested"] = "polarised",
                 top: int = 10, width: str | float = "one") -> Figure:
    """The most polarised (between groups) or contested (within groups) outputs.

    Parameters
    ----------
    result : Disagreement
        From :func:`~pluraleval.disagreement` (its ``top`` caps the rows available).
    kind : {"polarised", "contested"}
        ``"polarised"``: the gap between the groups' views of an output's quality, one panel
        per attribute, with the highest and lowest group on the right. ``"contested"``: the
        model's within-group SD of the ratings, with the observed SD as open diamonds.
    top : int
        Outputs shown (per attribute for ``"polarised"``).
    width : {"one", "two"} or float

    Returns
    -------
    matplotlib.figure.Figure
        One row per output, largest first, posterior mean and interval.

    Raises
    ------
    ValueError
        An unknown ``kind``.
    """
    if kind == "contested":
        panels = [("Most contested outputs", result.contested.head(top))]
        value, label = "within_sd", "within-group SD of ratings"
    elif kind == "polarised":
        table = result.polarised
        panels = [(f"Most polarised outputs by {a}", rows.head(top))
                  for a, rows in table.groupby("attribute", sort=False)]
        value, label = "gap", "gap between groups (latent quality)"
    else:
        raise ValueError(f"kind={kind!r}: use 'polarised' or 'contested'.")
    prob = result.variance.attrs.get("prob", 0.9)
    n_rows = sum(len(rows) for _, rows in panels) or 1
    fig = new_figure(width=width, aspect=rows_aspect(n_rows, width, panels=len(panels)))
    mark_failed(fig, result.converged)
    if not panels:  # no group effects: nothing is polarised
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, table.attrs.get("note", "no polarised outputs"), ha="center",
                va="center", wrap=True, transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False,
                        height_ratios=[len(rows) for _, rows in panels])[:, 0]
    for ax, (title, rows) in zip(axes, panels, strict=True):
        y = draw_forest(ax, rows["output"], rows[value], rows[f"{value}_lower"],
                        rows[f"{value}_upper"])
        if kind == "contested":
            ax.scatter(rows["observed_sd"], y, marker="D", s=12, facecolors="none",
                       edgecolors=GROUP_ORDER[1], linewidths=0.8, zorder=4)
        else:
            for yi, high, low in zip(y, rows["high_group"], rows["low_group"], strict=True):
                ax.text(1.02, yi, f"{high} > {low}", transform=ax.get_yaxis_transform(),
                        va="center", ha="left", fontsize=5.5)
        ax.set_title(title, loc="left")
    if kind == "contested":
        fig.legend(handles=[
            Line2D([], [], color=NEUTRAL, marker="o", label=f"model, {prob:.0%} interval"),
            Line2D([], [], color=GROUP_ORDER[1], marker="D", markerfacecolor="none",
                   linestyle="", label="observed")], loc="outside lower center", ncols=2)
    axes[-1].set_xlabel(f"{label}, {prob:.0%} interval")
    return fig
