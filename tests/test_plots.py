"""Figures: every plot function renders from a real small fit and shows what it should.

MCMC runs once (module-scoped: 3 systems, 12 personas over region (3 levels) x age_band (2),
persona discrimination on, 50 draws x 2 chains; it fails the diagnostics gate, so every
figure must carry the failed-diagnostics banner). Systems sys1 and sys2 swap places between
Africa and Europe, a planted rank reversal.
"""

from __future__ import annotations

import warnings

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex
from matplotlib.text import Text

import pluraleval as pe
from pluraleval import plots
from pluraleval.plots.style import FAILED_GID, GROUP_ORDER, OKABE_ITO

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
