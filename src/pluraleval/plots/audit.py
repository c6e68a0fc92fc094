"""Win regions over the group weights of one attribute (2 levels: a curve; 3: a triangle)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Polygon

from ..fit import Fit
from ..summaries.audit import win_regions
from ..summaries.leaderboard import PopulationLike
from ..summaries.population import Population
from .style import NEUTRAL, group_colors, mark_failed, new_figure, styled

__all__ = ["win_region_plot"]

_HEIGHT = np.sqrt(3) / 2  # of the unit equilateral triangle


@styled
def win_region_plot(fit: Fit, *, attribute: str, resolution: int = 20,
                    base: PopulationLike = "sample", width: str | float = "one") -> Figure:
    """Which system wins as the weights of one attribute's groups change.

    Parameters
    ----------
    fit : Fit
    attribute : str
        A modelled attribute with 2 or 3 levels.
    resolution : int
        Weight grid step ``1 / resolution`` (as in
        :func:`~pluraleval.summaries.audit.win_regions`).
    base : Population, "equal", "sample" or mapping
        Weights of the other attributes (default the sample mix).
    width : {"one", "two"} or float

    Returns
    -------
    matplotlib.figure.Figure
        2 levels: a weight-sensitivity curve, P(best) of every system (in its colour,
        :func:`~pluraleval.plots.group_colors` of the systems) against the weight of the
        second level, the sample's own mix dotted. 3 levels: a triangle whose corners are the
        one-group populations, each grid point coloured by the system most probably best
        there (paler where that P(best) is lower), the sample's mix starred.

    Raises
    ------
    PopulationError
        ``attribute`` not modelled, or without 2–3 levels.
    """
    table = win_regions(fit, attribute, resolution=resolution, base=base)
    levels = list(fit.judgments.coords[attribute])
    systems = list(fit.judgments.coords["system"])
    colors = group_colors(systems)
    sample = Population.sample().weights(fit)[attribute].to_numpy()
    fig = new_figure(width=width, aspect=0.75 if len(levels) == 2 else 0.95)
    ax = fig.add_subplot()
    if len(levels) == 2:
        _curve(ax, table, attribute, levels, colors, sample)
    else:
        _triangle(ax, table, levels, colors, sample)
    ax.set_title(f"Win regions over {attribute}", loc="left")
    mark_failed(fig, fit.converged)
    return fig


def _curve(ax, table: pd.DataFrame, attribute: str, levels: list, colors: dict,
           sample: np.ndarray) -> None:
    """P(best) of each system along the weight of the second level."""
    weight = table[levels[1]].to_numpy()
    for system, p_best in table.attrs["p_best_by_system"].items():
        ax.plot(weight, p_best, color=colors[system], label=system)
    ax.axvline(sample[1], color=NEUTRAL, linestyle=":", linewidth=0.8)
    ax.text(sample[1] + 0.01, 0.98, "sample mix", transform=ax.get_xaxis_transform(),
            rotation=90, ha="left", va="top", fontsize=5.5)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)  # curves at 0 and 1 stay visible
    ax.set_xlabel(f"weight of {attribute} = {levels[1]} (rest: {levels[0]})")
    ax.set_ylabel("P(best)")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))


def _triangle(ax, table: pd.DataFrame, levels: list, colors: dict, sample: np.ndarray) -> None:
    """Hexagonal cells around the grid points of the weight simplex, clipped to it."""
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, _HEIGHT]])
    weights = table[levels].to_numpy()
    centres = weights @ corners
    radius = 1 / (table.attrs["resolution"] * np.sqrt(3))
    angles = np.deg2rad(30 + 60 * np.arange(6))
    hexagon = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    chance = 1 / len(colors)
    strength = np.clip((table["p_best"].to_numpy() - chance) / (1 - chance), 0, 1)
    faces = [_pale(colors[s], 0.25 + 0.75 * t)
             for s, t in zip(table["best"], strength, strict=True)]
    cells = PolyCollection([c + hexagon for c in centres], facecolors=faces,
                           edgecolors=faces, linewidths=0.3)
    outline = Polygon(corners, closed=True, fill=False, edgecolor="black", linewidth=0.8)
    ax.add_collection(cells)
    ax.add_patch(outline)
    cells.set_clip_path(outline)
    ax.plot(*(sample @ corners), marker="*", markersize=9, color="white",
            markeredgecolor="black", markeredgewidth=0.6, linestyle="")
    offsets = [(-0.04, -0.05, "right"), (0.04, -0.05, "left"), (0.0, 0.04, "center")]
    for (x, y), (dx, dy, ha), level in zip(corners, offsets, levels, strict=True):
        ax.text(x + dx, y + dy, str(level), ha=ha, va="center", fontweight="bold")
    winners = [s for s in colors if s in set(table["best"])]
    ax.legend(handles=[Patch(color=colors[s], label=str(s)) for s in winners]
              + [Patch(facecolor="white", edgecolor="black", label="paler: lower P(best)")],
              title="most probably best", loc="upper right", bbox_to_anchor=(1.05, 1.0))
    ax.text(*(sample @ corners + [0.03, 0.0]), "sample mix", fontsize=5.5, va="center")
    ax.set_xlim(-0.15, 1.15)
    ax.set_ylim(-0.12, _HEIGHT + 0.1)
    ax.set_aspect("equal")
    ax.set_axis_off()


def _pale(color: str, strength: float) -> tuple[float, float, float]:
    """``color`` blended with white: full colour at strength 1, white at 0."""
    return tuple(1 - strength * (1 - np.asarray(to_rgb(color))))
