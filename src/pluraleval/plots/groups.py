"""Rater figures: group bias per attribute, and persona severity and discrimination."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..errors import ModelSpecError
from ..fit import Fit
from ..summaries.population import modelled_attributes
from ._forest import draw_forest, interval, rows_aspect
from .style import NEUTRAL, group_colors, mark_failed, new_figure, styled

__all__ = ["group_bias_forest", "persona_plot"]

#: Above this many personas the persona plot drops their names.
MAX_LABELLED_PERSONAS = 60


@styled
def group_bias_forest(fit: Fit, *, attribute: str | None = None, prob: float = 0.9,
                      width: str | float = "one") -> Figure:
    """Forest plot of group bias (severity) ``b_<attribute>``, one panel per attribute.

    Parameters
    ----------
    fit : Fit
    attribute : str, optional
        One modelled attribute; default every attribute the fit has a group bias for.
    prob : float
        Mass of the highest-density intervals.
    width : {"one", "two"} or float

    Returns
    -------
    matplotlib.figure.Figure
        Per panel (titled with the attribute), one row per group in the fit's level order,
        in the group's colour (:func:`~pluraleval.plots.group_colors`). Positive bias: the
        group rates more harshly than the average group.

    Raises
    ------
    ModelSpecError
        The fit has no group bias (for ``attribute``).
    """
    available = [a for a in modelled_attributes(fit) if f"b_{a}" in fit.posterior]
    attrs = available if attribute is None else [attribute]
    if not attrs or attrs[0] not in available:
        raise ModelSpecError(f"this fit has no group bias for {attribute or 'any attribute'!r}; "
                             f"attributes with a group bias b: {available} (with thresholds="
                             "'by_group' the first attribute's bias lives in its cutpoints).")
    coords = fit.judgments.coords
    sizes = [len(coords[a]) for a in attrs]
    fig = new_figure(width=width, aspect=rows_aspect(sum(sizes), width, panels=len(attrs)))
    axes = fig.subplots(len(attrs), 1, sharex=True, squeeze=False, height_ratios=sizes)[:, 0]
    for ax, a in zip(axes, attrs, strict=True):
        rows = interval(fit.draws(f"b_{a}"), prob)
        draw_forest(ax, coords[a], rows["mean"], rows["lower"], rows["upper"],
                    colors=list(group_colors(coords[a]).values()))
        ax.axvline(0, color="0.75", linewidth=0.6, linestyle="--", zorder=0)
        ax.set_title(a, loc="left")
    axes[-1].set_xlabel(f"group bias b (logit; higher = harsher), {prob:.0%} HDI")
    mark_failed(fig, fit.converged)
    return fig


@styled
def persona_plot(fit: Fit, *, prob: float = 0.9, width: str | float = "one") -> Figure:
    """Persona severity ``u`` (and discrimination ``alpha`` when fitted) with intervals.

    Parameters
    ----------
    fit : Fit
    prob : float
        Mass of the highest-density intervals.
    width : {"one", "two"} or float

    Returns
    -------
    matplotlib.figure.Figure
        Personas as rows, harshest first, coloured by their group of the first modelled
        attribute (legend below); a second panel with ``alpha`` when the fit has it.
        Persona names are dropped beyond :data:`MAX_LABELLED_PERSONAS` personas.

    Raises
    ------
    ModelSpecError
        The fit has no persona severity.
    """
    if "u" not in fit.posterior:
        raise ModelSpecError("this fit has no persona severity u (persona_severity=False).")
    j = fit.judgments
    severity = interval(fit.draws("u"), prob)
    order = severity["mean"].to_numpy().argsort()[::-1]
    severity = severity.iloc[order]
    attrs = modelled_attributes(fit)
    colors, handles = [NEUTRAL] * len(order), []
    if attrs:
        palette = list(group_colors(j.coords[attrs[0]]).values())
        colors = [palette[g] for g in j.codes[f"persona_{attrs[0]}"][order]]
        handles = [Line2D([], [], marker="o", linestyle="", color=palette[i], label=str(level))
                   for i, level in enumerate(j.coords[attrs[0]])]
    panels = [(severity, 0.0, f"severity u (logit), {prob:.0%} HDI\nhigher = harsher")]
    if "alpha" in fit.posterior:
        panels.append((interval(fit.draws("alpha"), prob).iloc[order], 1.0,
                       f"discrimination α, {prob:.0%} HDI\n1 = typical"))
    fig = new_figure(width=width, aspect=rows_aspect(len(order), width))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, (rows, reference, label) in zip(axes, panels, strict=True):
        draw_forest(ax, rows.index, rows["mean"], rows["lower"], rows["upper"], colors=colors)
        ax.axvline(reference, color="0.75", linewidth=0.6, linestyle="--", zorder=0)
        ax.set_xlabel(label)
    if len(order) > MAX_LABELLED_PERSONAS:
        axes[0].set_yticks([])
        axes[0].set_ylabel(f"{len(order)} personas")
    if handles:
        fig.legend(handles=handles, title=attrs[0], loc="outside lower center",
                   ncols=min(len(handles), 4))
    axes[0].set_title("Personas" + (f", coloured by {attrs[0]}" if attrs else ""), loc="left")
    mark_failed(fig, fit.converged)
    return fig
