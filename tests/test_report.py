"""The report: every section in HTML and Markdown, the tables as CSV, self-contained HTML."""

from __future__ import annotations

import importlib.util
import re
import sys
import types
import warnings
from pathlib import Path

import pandas as pd
import pytest

import pluraleval as pe
from pluraleval.cli import main
from pluraleval.fit import Fit
from pluraleval.report import FIGURES, SECTION_IDS, SECTIONS, report

TITLES = {sid: title for sid, title, _ in SECTIONS}
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def fit():
    judgments, _ = pe.simulate("small", seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pe.DiagnosticsWarning)
        return pe.OrdinalRaterModel().fit(judgments, draws=40, tune=40, chains=2,
                                          random_seed=5, sampler="pymc", progressbar=False)


@pytest.fixture(scope="module")
def target_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("target") / "census.csv"
    pd.DataFrame({"region": ["A", "B", "C"], "share": [0.6, 0.3, 0.1]}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def with_target(fit, target_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("with_target")
    return report(fit, out, target=target_csv, progress=False)


@pytest.fixture(scope="module")
def without_target(fit, tmp_path_factory):
    out = tmp_path_factory.mktemp("without_target")
    return report(fit, out, progress=False)


def _sections(index: Path) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', index.read_text(encoding="utf-8"))


def test_every_section_in_html_and_markdown(with_target):
    out = with_target.parent
    assert with_target.name == "index.html"
    assert _sections(with_target) == list(SECTION_IDS)
    page = with_target.read_text(encoding="utf-8")
    markdown = (out / "report.md").read_text(encoding="utf-8")
    for _sid, title, _ in SECTIONS:
        assert f"<h2>{title}</h2>" in page
        assert f"\n## {title}\n" in markdown
    # one how-to-read sentence per section
    assert page.count('<p class="how">') == len(SECTIONS)


def test_red_banner_for_a_failed_fit(fit, with_target):
    assert not fit.converged
    page = with_target.read_text(encoding="utf-8")
    banner = re.search(r'<div class="banner"[^>]*>(.*?)</div>', page, re.S)
    assert banner is not None
    assert banner.start() < page.index('<section id="leaderboard"')
    for problem in fit.check(warn=False)[:5]:
        assert problem in banner.group(1)
    assert "FAILED" in (with_target.parent / "report.md").read_text(encoding="utf-8")


def test_no_banner_for_a_converged_fit(fit, tmp_path):
    passing = Fit(fit.tree, fit.judgments, fit.spec)
    passing.__dict__["_diagnostics"] = fit.diagnostics().assign(ok=True)
    assert passing.converged
    page = report(passing, tmp_path, progress=False).read_text(encoding="utf-8")
    assert 'class="banner"' not in page and "passed every check" in page


def test_tables_written_with_their_columns(fit, with_target):
    out = with_target.parent
    expected = {
        "data_summary": ["quantity", "value"],
        "diagnostics": ["variable", "size", "r_hat_max", "ess_bulk_min", "ess_tail_min", "ok"],
        "leaderboard": ["population", "system", "quality", "quality_lower", "quality_upper",
                        "expected_rating", "p_best", "expected_rank"],
        "leaderboard_by_region": ["region", "system", "quality", "p_best"],
        "reversals": ["attribute", "group", "other_group", "system", "other", "lead",
                      "other_lead", "p_reversal"],
        "variance": ["component", "term", "share", "share_lower", "share_upper"],
        "contested": ["output", "within_sd"],
        "polarised": ["attribute", "output", "gap", "high_group", "low_group"],
        "ppc": ["attribute", "group", "rating", "observed", "predicted", "lower", "upper",
                "inside", "n_judgments"],
        "audit_weights": ["attribute", "level", "sample", "target", "difference"],
        "audit_distance": ["attribute", "tv"],
        "audit_leaderboards": ["population", "system", "quality"],
        "audit_influence": ["attribute", "level", "margin_slope"],
    }
    for name, columns in expected.items():
        table = pd.read_csv(out / f"{name}.csv")
        missing = set(columns) - set(table.columns)
        assert not missing, (name, missing)
    board = pd.read_csv(out / "leaderboard.csv")
    systems = fit.judgments.coords["system"]
    assert set(board["population"]) == {"equal", "sample"}
    assert len(board) == 2 * len(systems)
    ppc_table = pd.read_csv(out / "ppc.csv")
    assert set(ppc_table["attribute"]) == {"all", "region"}
    assert len(pd.read_csv(out / "leaderboard_by_region.csv")) == 3 * len(systems)
    assert {p.name for p in out.glob("audit_*.csv")} == {
        f"audit_{n}.csv" for n in ("weights", "distance", "leaderboards", "influence",
                                   "changes", "change_weights", "win_regions")}


def test_html_is_self_contained(with_target, without_target):
    for index in (with_target, without_target):
        page = index.read_text(encoding="utf-8")
        assert not re.search(r"https?://", page)
        assert "<script" not in page and "<link" not in page
        srcs = re.findall(r'src="([^"]*)"', page)
        assert all(s.startswith("data:image/png;base64,") for s in srcs)


def test_audit_section_only_with_a_target(without_target):
    page = without_target.read_text(encoding="utf-8")
    assert "audit" not in _sections(without_target)
    assert TITLES["audit"] not in page
    assert "audit against a target population is omitted" in page
    out = without_target.parent
    assert not list(out.glob("audit_*.csv"))
    assert f"## {TITLES['audit']}" not in (out / "report.md").read_text(encoding="utf-8")


def test_progress_lines(fit, tmp_path, capsys):
    report(fit, tmp_path, by="region", progress=True)
    err = capsys.readouterr().err
    steps = [line for line in err.splitlines() if re.match(r"report: .* \(\d/7\)$", line)]
    assert len(steps) == 7 and steps[0].endswith("(1/7)") and steps[-1].endswith("(7/7)")


def test_bad_by_and_target_raise_before_writing(fit, tmp_path):
    with pytest.raises(pe.PopulationError, match="not an attribute"):
        report(fit, tmp_path / "a", by="planet", progress=False)
    with pytest.raises(pe.PopulationError):
        report(fit, tmp_path / "b", target={"region": {"Z": 1.0}}, progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# ---------------------------------------------------------------------- figures
def _fake_plots(calls: list, *, broken: str | None = None) -> types.ModuleType:
    """A stand-in for pluraleval.plots with the agreed signatures."""
    import matplotlib.pyplot as plt

    def figure(name):
        def make(*args, **kwargs):
            calls.append((name, kwargs))
            if name == broken:
                raise RuntimeError("drawing failed")
            fig, ax = plt.subplots(figsize=(2, 1.5))
            ax.plot([0, 1], [0, 1])
            ax.set_title(name)
            return fig
        return make

    def leaderboard_forest(fit, *, population=None, prob=0.9, width="one"):
        return figure("leaderboard_forest")(population=population, prob=prob)

    def rank_heatmap(fit, *, population=None):
        return figure("rank_heatmap")(population=population)

    def group_quality_heatmap(fit, *, by):
        return figure("group_quality_heatmap")(by=by)

    def group_bias_forest(fit, *, attribute=None):
        return figure("group_bias_forest")(attribute=attribute)

    def variance_bars(result):
        assert isinstance(result, pe.Disagreement)
        return figure("variance_bars")()

    def outputs_plot(result, *, kind="polarised", top=10):
        assert kind in ("polarised", "contested")
        return figure("outputs_plot")(kind=kind)

    def ppc_plot(fit, *, by=None):
        return figure("ppc_plot")(by=by)

    def win_region_plot(fit, *, attribute, resolution=20):
        return figure("win_region_plot")(attribute=attribute)

    def persona_plot(fit):
        return figure("persona_plot")()

    module = types.ModuleType("pluraleval.plots")
    for f in (leaderboard_forest, rank_heatmap, group_quality_heatmap, group_bias_forest,
              variance_bars, outputs_plot, ppc_plot, win_region_plot, persona_plot):
        setattr(module, f.__name__, f)
    return module


def test_figures_come_from_the_figure_table(fit, target_csv, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    calls: list = []
    monkeypatch.setitem(sys.modules, "pluraleval.plots", _fake_plots(calls, broken="persona_plot"))
    open_before = plt.get_fignums()
    index = report(fit, tmp_path, target=target_csv, progress=False)
    assert plt.get_fignums() == open_before  # every figure closed after embedding
    page = index.read_text(encoding="utf-8")
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    pngs = sorted(p.name for p in tmp_path.glob("figure_*.png"))
    # every FIGURES entry (the fit models one attribute, so per-attribute entries appear
    # once) but the broken one
    n_expected = len(FIGURES) - 1
    assert len(pngs) == n_expected, pngs
    assert page.count('src="data:image/png;base64,') == n_expected
    for name in pngs:
        assert f"]({name})" in markdown
    assert "Figure personas skipped: RuntimeError: drawing failed" in page
    names = [c[0] for c in calls]
    assert names.count("ppc_plot") == 2 and ("ppc_plot", {"by": "region"}) in calls
    assert ("win_region_plot", {"attribute": "region"}) in calls
    # figures sit in their sections
    audit = page[page.index('<section id="audit"'):page.index('<section id="disagreement"')]
    assert "figure-leaderboard_forest_target" in audit and "figure-win_regions" in audit


def test_report_renders_without_plots(fit, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pluraleval.plots", None)  # import raises ImportError
    index = report(fit, tmp_path, progress=False)
    page = index.read_text(encoding="utf-8")
    assert _sections(index) == [s for s in SECTION_IDS if s != "audit"]
    assert "pluraleval.plots is not importable" in page
    assert not list(tmp_path.glob("figure_*.png"))


# ---------------------------------------------------------------------- command line
def test_cli_report_on_a_saved_fit(fit, target_csv, tmp_path, capsys):
    saved = tmp_path / "fit.nc"
    fit.save(saved)
    out = tmp_path / "rep"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pe.DiagnosticsWarning)
        code = main(["report", str(saved), "--target", str(target_csv), "--out", str(out)])
    assert code == 0
    assert f"report: {out / 'index.html'}" in capsys.readouterr().out
    assert _sections(out / "index.html") == list(SECTION_IDS)
    for name in ("report.md", "leaderboard.csv", "audit_weights.csv", "ppc.csv"):
        assert (out / name).exists(), name


def test_cli_report_bad_input_is_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.nc")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no such file" in err
    junk = tmp_path / "junk.nc"
    junk.write_text("not a fit")
    assert main(["report", str(junk)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot read" in err


# ---------------------------------------------------------------------- browser
def _check_script():
    path = Path(__file__).resolve().parents[1] / "scripts" / "check_report.py"
    spec = importlib.util.spec_from_file_location("check_report", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason="headless Chromium check needs /usr/bin/chromium "
                           "(apt-get install -y chromium)")
def test_report_opens_in_headless_chromium(with_target, without_target):
    check = _check_script()
    assert check.SECTION_IDS == SECTION_IDS
    assert check.check(with_target, with_audit=True, binary=str(CHROMIUM)) == []
    assert check.check(without_target, with_audit=False, binary=str(CHROMIUM)) == []
