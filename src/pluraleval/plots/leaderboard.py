"""Leaderboard figures: the forest plot, rank probabilities, and group-specific quality."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..fit import Fit
from ..summaries.leaderboard import (
    GROUP,
    SAMPLE_DIMS,
    PopulationLike,
    _ranks,
    leaderboard,
    population_draws,
    rank_reversals,
)
from ..summaries.population import Population
from ._forest import draw_forest, rows_aspect
from .style import DIVERGING, SEQUENTIAL, figure_size, mark_failed, new_figure, styled

__all__ = ["leaderboard_forest", "rank_heatmap", "group_quality_heatmap", "REVERSAL_GID",
           "format_probability"]

#: ``gid`` of the outlines marking cells involved in a rank reversal.
REVERSAL_GID = "reversal"


@styled
def leaderboard_forest(fit: Fit, *, population: PopulationLike = None, prob: float = 0.9,
                       width: str | float = "one") -> Figure:
    """Forest plot of the leaderboard: latent quality per system with P(best).

    Parameters
    ----------
    fit : Fit
    population : Population, "equal", "sample" or mapping, optional
        Whose judgments count (as in :func:`~pluraleval.leaderboard`; default equal weights).
    prob : float
        Mass of the highest-density intervals.
    width : {"one", "two"} or float
        Figure width (journal column or inches).

    Returns
    -------
    matplotlib.figure.Figure
        Systems best first (top), posterior mean and ``prob`` HDI of latent quality, P(best)
        in a column on the right (``<0.01``/``>0.99`` at the ends: a finite posterior sample
        cannot show certainty); the title names the population. A fit that failed its
        diagnostics carries a red "FAILED DIAGNOSTICS" banner.
    """
    board = leaderboard(fit, population=population, prob=prob)
    fig = new_figure(width=width, aspect=rows_aspect(len(board), width))
    ax = fig.add_subplot()
    y = draw_forest(ax, board["system"], board["quality"], board["quality_lower"],
                    board["quality_upper"])
    ax.axvline(0, color="0.75", linewidth=0.6, linestyle="--", zorder=0)
    edge = ax.get_yaxis_transform()
    for yi, p in zip(y, board["p_best"], strict=True):
        ax.text(1.03, yi, format_probability(p), transform=edge, va="center", ha="left")
    ax.text(1.03, 1.0, "P(best)", transform=ax.transAxes, va="bottom", ha="left",
            fontweight="bold")
    ax.set_xlabel(f"latent quality (logit scale), {prob:.0%} HDI")
    ax.set_title(f"Leaderboard, population: {board.attrs['population']['name']}", loc="left")
    mark_failed(fig, fit.converged)
    return fig


@styled
def rank_heatmap(fit: Fit, *, population: PopulationLike = None) -> Figure:
    """Heatmap of P(rank): the posterior probability of each system taking each rank.

    Parameters
    ----------
    fit : Fit
    population : Population, "equal", "sample" or mapping, optional
        Whose judgments count (default equal weights).

    Returns
    -------
    matplotlib.figure.Figure
        Systems (rows, best posterior mean first) × rank 1..S (columns); each row sums to one.
    """
    pop = Population.coerce(population)
    quality = population_draws(fit, [pop])["quality"].isel({GROUP: 0})
    order = np.argsort(-quality.mean(SAMPLE_DIMS).values, kind="stable")
    ranks = _ranks(quality).transpose(*SAMPLE_DIMS, "system").values[..., order]
    n = len(order)
    p_rank = np.stack([(ranks == r + 1).mean((0, 1)) for r in range(n)], axis=1)  # system×rank
    fig = new_figure(width="one", aspect=(0.9 + 0.24 * n) / figure_size("one")[0])
    ax = fig.add_subplot()
    image = ax.imshow(p_rank, cmap=SEQUENTIAL, vmin=0, vmax=1, aspect="auto")
    _annotate(ax, p_rank, image.norm, fmt="{:.2f}")
    ax.set_xticks(np.arange(n), [str(r + 1) for r in range(n)])
    ax.set_yticks(np.arange(n), [str(s) for s in quality["system"].values[order]])
    ax.set_xlabel("rank")
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    fig.colorbar(image, ax=ax, label="P(rank)", shrink=0.9)
    ax.set_title(f"Rank probabilities, population: {pop.name}", loc="left")
    mark_failed(fig, fit.converged)
    return fig


@styled
def group_quality_heatmap(fit: Fit, *, by: str | Sequence[str], min_prob: float = 0.5,
                          width: str | float = "one") -> Figure:
    """Heatmap of group-specific quality (system × group), rank reversals outlined.

    Parameters
    ----------
    fit : Fit
    by : str or sequence of str
        The attribute (or cells of several) whose groups form the columns (as in
        :func:`~pluraleval.leaderboard`).
    min_prob : float
        Outline the four cells of every reversal (:func:`~pluraleval.rank_reversals`) whose
        probability is at least this.
    width : {"one", "two"} or float

    Returns
    -------
    matplotlib.figure.Figure
        Colour: posterior mean latent quality of the system for personas of the group. Cell
        text: the system's rank within the group and its quality. Systems ordered as in the
        pooled leaderboard; groups in the fit's level order.
    """
    board = leaderboard(fit, by=by)
    attrs = board.attrs["by"]
    board["group"] = _cell_labels(board, attrs)
    board["rank"] = board.groupby("group", sort=False).cumcount() + 1  # sorted within group
    coords = fit.judgments.coords
    groups = ["/".join(map(str, cell)) for cell in itertools.product(*(coords[a] for a in attrs))]
    systems = list(leaderboard(fit)["system"])
    quality = board.pivot(index="system", columns="group", values="quality").loc[systems, groups]
    rank = board.pivot(index="system", columns="group", values="rank").loc[systems, groups]
    n_sys, n_grp = quality.shape
    inches = figure_size(width)[0]
    fig = new_figure(width=width, aspect=(1.1 + 0.3 * n_sys) / inches)
    ax = fig.add_subplot()
    limit = float(np.abs(quality.to_numpy()).max()) or 1.0
    image = ax.imshow(quality.to_numpy(), cmap=DIVERGING, vmin=-limit, vmax=limit,
                      aspect="auto")
    _annotate(ax, quality.to_numpy(), image.norm, fmt="{:+.2f}", ranks=rank.to_numpy())
    reversals = rank_reversals(fit, by=by)
    reversals = reversals[reversals["p_reversal"] >= min_prob]
    cells = set()
    for first, second, row in zip(_cell_labels(reversals, attrs),
                                  _cell_labels(reversals, [f"other_{a}" for a in attrs]),
                                  reversals.itertuples(), strict=True):
        cells.update(itertools.product((row.system, row.other), (first, second)))
    for system, group in sorted(cells):
        ax.add_patch(Rectangle((groups.index(group) - 0.5, systems.index(system) - 0.5), 1, 1,
                               fill=False, edgecolor="black", linewidth=1.4, gid=REVERSAL_GID))
    ax.set_xticks(np.arange(n_grp), groups)
    ax.set_yticks(np.arange(n_sys), [str(s) for s in systems])
    ax.set_xlabel(" × ".join(attrs))
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    fig.colorbar(image, ax=ax, label="latent quality", shrink=0.9)
    ax.set_title(f"Quality by {' × '.join(attrs)} (cell: rank, quality)", loc="left")
    fig.supxlabel(f"outlined: rank reversals with P ≥ {min_prob:g} ({len(reversals)} "
                  f"pair{'s' if len(reversals) != 1 else ''})", fontsize=6)
    mark_failed(fig, fit.converged)
    return fig


# ---------------------------------------------------------------------- helpers
def format_probability(p: float) -> str:
    """Two decimals, but never a certain-looking 0.00 or 1.00 from finitely many draws."""
    return "<0.01" if p < 0.005 else ">0.99" if p > 0.995 else f"{p:.2f}"


def _cell_labels(table: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """One label per row: the values of ``columns`` joined by "/"."""
    return ["/".join(map(str, values)) for values in zip(*(table[c] for c in columns),
                                                          strict=True)]


def _annotate(ax, values: np.ndarray, norm: Normalize, *, fmt: str,
              ranks: np.ndarray | None = None) -> None:
    """Write each cell's value (and rank) in a colour readable on its background."""
    for (i, j), value in np.ndenumerate(values):
        text = fmt.format(value) if ranks is None else f"#{ranks[i, j]}\n{fmt.format(value)}"
        # dark cells: the ends of a diverging map, the top of a sequential one
        dark = abs(norm(value) - 0.5) > 0.3 if norm.vmin < 0 else norm(value) > 0.6
        ax.text(j, i, text, ha="center", va="center", fontsize=5.5,
                color="white" if dark else "black")
