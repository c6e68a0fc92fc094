"""Figures: every plot function renders from a real small fit and shows what it should.

MCMC runs once (module-scoped: 3 systems, 12 personas over region (3 levels) x age_band (2),
persona discrimination on, 50 draws x 2 chains; it fails the diagnostics gate, so every
figure must carry the failed-diagnostics banner). Systems sys1 and sys2 swap places between
Africa and Europe, a planted rank reversal.
"""

from __future__ import annotations

import dataclasses
import doctest
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.container import BarContainer
from matplotlib.text import Text

import pluraleval as pe
from pluraleval import ModelSpecError, plots
from pluraleval.plots import style
from pluraleval.plots.leaderboard import REVERSAL_GID, format_probability
from pluraleval.plots.style import FAILED_GID, GROUP_ORDER, OKABE_ITO
from pluraleval.summaries.audit import win_regions

matplotlib.use("Agg")  # headless; switching after importing pyplot is fine with no figure open

REGIONS = ["Africa", "Europe", "South Asia"]
AGES = ["18-39", "40+"]


@pytest.fixture(scope="module")
def fit() -> pe.Fit:
    judgments, _ = pe.simulate(
        "small", seed=3, n_systems=3, n_prompts=6, n_personas=12,
        attributes={"region": REGIONS, "age_band": AGES}, fraction_rated=0.8,
        system_quality=[0.3, 0.0, -0.3],
        system_by_group={"region": [[0.8, -0.8, 0.0], [-0.8, 0.8, 0.0], [0, 0, 0]],
                         "age_band": [[0, 0]] * 3})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DiagnosticsWarning and "too few samples" on purpose
        return pe.OrdinalRaterModel(persona_discrimination=True).fit(
            judgments, draws=50, tune=50, chains=2, random_seed=3, sampler="pymc",
            progressbar=False)


@pytest.fixture(scope="module")
def result(fit) -> pe.Disagreement:
    return pe.disagreement(fit, top=8)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------------- helpers
def labels(ticks) -> list[str]:
    return [t.get_text() for t in ticks]


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def failed_marker(fig) -> bool:
    return any(t.get_gid() == FAILED_GID and "FAILED DIAGNOSTICS" in t.get_text()
               for t in fig.findobj(Text))


def point_colors(ax) -> list[str]:
    """Colours of the forest points (the scatter of the axes), top row first."""
    return [to_hex(c) for c in ax.collections[-1].get_facecolors()]


# ---------------------------------------------------------------------- style
def test_group_colors_are_fixed_okabe_ito_and_distinct():
    colors = plots.group_colors(REGIONS)
    assert list(colors) == REGIONS
    assert colors == plots.group_colors(REGIONS)
    assert len(set(colors.values())) == 3
    assert set(colors.values()) <= set(OKABE_ITO.values())
    assert plots.group_colors(range(10))[8] == GROUP_ORDER[0]  # repeats beyond eight


def test_figure_size_and_rc():
    assert plots.figure_size("one", aspect=0.5) == (3.5, 1.75)
    assert plots.figure_size("two")[0] == 7.2
    with pytest.raises(ValueError, match="'one', 'two'"):
        plots.figure_size("three")
    with plots.rc():
        assert not matplotlib.rcParams["axes.spines.top"]
        assert matplotlib.rcParams["font.size"] <= 8
    assert matplotlib.rcParams["axes.spines.top"]  # restored


def test_style_doctests():
    assert doctest.testmod(style).failed == 0


def test_every_figure_marks_failed_diagnostics(fit, result):
    assert not fit.converged
    figures = [plots.leaderboard_forest(fit), plots.rank_heatmap(fit),
               plots.group_quality_heatmap(fit, by="region"), plots.group_bias_forest(fit),
               plots.persona_plot(fit), plots.ppc_plot(fit, n_draws=20),
               plots.win_region_plot(fit, attribute="age_band", resolution=2),
               plots.variance_bars(result), plots.outputs_plot(result)]
    assert all(failed_marker(fig) for fig in figures)


def test_figures_leave_pyplot_alone(fit):
    before = plt.get_fignums()
    fig = plots.leaderboard_forest(fit)
    assert plt.get_fignums() == before
    assert fig.get_figwidth() == 3.5


def test_save_writes_vector_and_png(fit, tmp_path):
    fig = plots.rank_heatmap(fit)
    written = plots.save(fig, tmp_path / "sub" / "rank.pdf")
    assert [p.name for p in written] == ["rank.pdf", "rank.svg", "rank.png"]
    assert all(p.stat().st_size > 0 for p in written)
    assert written[0].read_bytes().startswith(b"%PDF")
    assert "<svg" in written[1].read_text()
    assert written[2].read_bytes().startswith(b"\x89PNG")
    assert plots.save(fig, tmp_path / "only", formats=("png",)) == [tmp_path / "only.png"]


# ---------------------------------------------------------------------- leaderboard
def test_leaderboard_forest(fit):
    board = pe.leaderboard(fit, population="sample")
    fig = plots.leaderboard_forest(fit, population="sample")
    (ax,) = fig.axes
    assert labels(ax.get_yticklabels()) == list(board["system"])
    assert "latent quality" in ax.get_xlabel()
    assert "population: sample" in ax.get_title(loc="left")
    shown = texts(fig)
    assert "P(best)" in shown
    column = [s for s in shown if s[:2] in ("0.", "<0", ">0")]
    assert column == [format_probability(p) for p in board["p_best"]]
    assert not fit.converged and failed_marker(fig)


def test_format_probability():
    assert [format_probability(p) for p in (0.0, 0.004, 0.5, 0.996, 1.0)] == [
        "<0.01", "<0.01", "0.50", ">0.99", ">0.99"]


def test_no_failed_marker_when_converged(fit, monkeypatch):
    monkeypatch.setattr(pe.Fit, "converged", property(lambda self: True))
    assert not failed_marker(plots.leaderboard_forest(fit))


def test_rank_heatmap(fit):
    fig = plots.rank_heatmap(fit)
    ax = fig.axes[0]
    p_rank = ax.images[0].get_array()
    assert p_rank.shape == (3, 3)
    np.testing.assert_allclose(p_rank.sum(axis=1), 1)  # each system takes some rank
    np.testing.assert_allclose(p_rank.sum(axis=0), 1)  # each rank goes to one system
    assert labels(ax.get_yticklabels()) == list(pe.leaderboard(fit)["system"])
    assert labels(ax.get_xticklabels()) == ["1", "2", "3"]
    assert ax.get_xlabel() == "rank"
    np.testing.assert_allclose(p_rank[:, 0], pe.leaderboard(fit)["p_best"])
    assert failed_marker(fig)


def test_group_quality_heatmap_marks_reversals(fit):
    fig = plots.group_quality_heatmap(fit, by="region")
    ax = fig.axes[0]
    systems = list(pe.leaderboard(fit)["system"])
    assert labels(ax.get_xticklabels()) == REGIONS
    assert labels(ax.get_yticklabels()) == systems
    assert ax.get_xlabel() == "region"
    board = pe.leaderboard(fit, by="region").pivot(index="system", columns="region",
                                                   values="quality")
    np.testing.assert_allclose(ax.images[0].get_array(), board.loc[systems, REGIONS])
    reversals = pe.rank_reversals(fit, by="region")
    strong = reversals[reversals["p_reversal"] >= 0.5]
    assert not strong.empty  # the planted sys1/sys2 swap
    expected = {(s, g) for r in strong.itertuples()
                for s in (r.system, r.other) for g in (r.region, r.other_region)}
    outlined = {(systems[round(p.get_y() + 0.5)], REGIONS[round(p.get_x() + 0.5)])
                for p in ax.patches if p.get_gid() == REVERSAL_GID}
    assert outlined == expected
    none = plots.group_quality_heatmap(fit, by="region", min_prob=1.01)
    assert not [p for p in none.axes[0].patches if p.get_gid() == REVERSAL_GID]


# ---------------------------------------------------------------------- groups and personas
def test_group_bias_forest(fit):
    fig = plots.group_bias_forest(fit)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["region", "age_band"]
    for ax, levels in zip(fig.axes, (REGIONS, AGES), strict=True):
        assert labels(ax.get_yticklabels()) == levels
        assert point_colors(ax) == [to_hex(c) for c in plots.group_colors(levels).values()]
    assert "group bias" in fig.axes[-1].get_xlabel()
    assert len(plots.group_bias_forest(fit, attribute="age_band").axes) == 1
    with pytest.raises(ModelSpecError, match="no group bias"):
        plots.group_bias_forest(fit, attribute="politics")


def test_persona_plot(fit):
    fig = plots.persona_plot(fit)
    assert len(fig.axes) == 2  # severity and discrimination
    ax = fig.axes[0]
    personas = labels(ax.get_yticklabels())
    assert sorted(personas) == fit.judgments.coords["persona"]
    severity = fit.draws("u").mean(("chain", "draw")).sel(persona=personas).values
    assert np.all(np.diff(severity) <= 0)  # harshest on top
    region = fit.judgments.personas.set_index("persona")["region"]
    colors = plots.group_colors(REGIONS)
    assert point_colors(ax) == [to_hex(colors[region[p]]) for p in personas]
    assert "severity" in ax.get_xlabel() and "discrimination" in fig.axes[1].get_xlabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == REGIONS


def test_group_colour_is_the_same_in_every_figure(fit):
    europe = to_hex(plots.group_colors(REGIONS)["Europe"])
    bias = point_colors(plots.group_bias_forest(fit, attribute="region").axes[0])[1]
    ppc_axes = plots.ppc_plot(fit, by="region", n_draws=20).axes
    ppc_color = to_hex(ppc_axes[1].containers[0].lines[0].get_color())
    persona_fig = plots.persona_plot(fit)
    personas = labels(persona_fig.axes[0].get_yticklabels())
    region = fit.judgments.personas.set_index("persona")["region"]
    persona_color = point_colors(persona_fig.axes[0])[
        [region[p] for p in personas].index("Europe")]
    assert bias == ppc_color == persona_color == europe


# ---------------------------------------------------------------------- disagreement
def test_variance_bars(result):
    fig = plots.variance_bars(result)
    ax = fig.axes[0]
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == len(result.variance)
    assert labels(ax.get_yticklabels()) == list(result.variance["component"])
    np.testing.assert_allclose([b.get_width() for b in bars], result.variance["share"])
    assert to_hex(bars[len(bars) - 1].get_facecolor()) != to_hex(bars[0].get_facecolor())
    assert "share of latent variance" in ax.get_xlabel()
    assert failed_marker(fig)


def test_outputs_plot(result):
    fig = plots.outputs_plot(result, kind="polarised", top=5)
    attributes = list(dict.fromkeys(result.polarised["attribute"]))
    assert len(fig.axes) == len(attributes) == 2
    for ax, a in zip(fig.axes, attributes, strict=True):
        rows = result.polarised[result.polarised["attribute"] == a].head(5)
        assert labels(ax.get_yticklabels()) == list(rows["output"])
        assert ax.get_title(loc="left").endswith(a)
    assert "gap" in fig.axes[-1].get_xlabel()
    contested = plots.outputs_plot(result, kind="contested", top=4)
    (ax,) = contested.axes
    assert labels(ax.get_yticklabels()) == list(result.contested["output"].head(4))
    assert "within-group SD" in ax.get_xlabel()
    with pytest.raises(ValueError, match="kind"):
        plots.outputs_plot(result, kind="loud")
    nothing = result.polarised.head(0)
    nothing.attrs["note"] = "this fit has no system x group or output x group effects"
    empty = plots.outputs_plot(dataclasses.replace(result, polarised=nothing))
    assert "no system x group" in " ".join(texts(empty))


# ---------------------------------------------------------------------- predictive checks
def test_ppc_plot(fit):
    fig = plots.ppc_plot(fit, by="region", n_draws=20)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 3
    assert [ax.get_title(loc="left").split(" (")[0] for ax in panels] == REGIONS
    levels = [str(v) for v in fit.judgments.scale.levels]
    for ax in panels:
        assert labels(ax.get_xticklabels()) == levels
        assert len(ax.collections[-1].get_offsets()) == len(levels)  # observed points
    assert panels[0].get_ylabel() == "share of judgments"
    assert len(plots.ppc_plot(fit, n_draws=20).axes) == 1


# ---------------------------------------------------------------------- win regions
def test_win_region_curve_for_two_levels(fit):
    fig = plots.win_region_plot(fit, attribute="age_band", resolution=4)
    ax = fig.axes[0]
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) == 5]
    assert [line.get_label() for line in curves] == fit.judgments.coords["system"]
    np.testing.assert_allclose(sum(line.get_ydata() for line in curves), 1)
    assert "40+" in ax.get_xlabel() and ax.get_ylabel() == "P(best)"
    systems = plots.group_colors(fit.judgments.coords["system"])
    assert [to_hex(line.get_color()) for line in curves] == [to_hex(c)
                                                             for c in systems.values()]


def test_win_region_triangle_for_three_levels(fit):
    fig = plots.win_region_plot(fit, attribute="region", resolution=6)
    ax = fig.axes[0]
    table = win_regions(fit, "region", resolution=6)
    (cells,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(cells.get_paths()) == len(table) == 28
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:-1] == [s for s in fit.judgments.coords["system"]
                           if s in set(table["best"])]
    assert set(REGIONS) <= set(texts(fig))
    with pytest.raises(pe.PopulationError, match="not modelled"):
        plots.win_region_plot(fit, attribute="politics")
