"""The command line mirrors the API and fails with one clear line on bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import pluraleval as pe
from pluraleval.cli import main


def test_simulate_writes_a_study_that_loads(tmp_path):
    assert main(["simulate", "--preset", "small", "--seed", "3", "--out", str(tmp_path)]) == 0
    for name in ("judgments.csv", "personas.csv", "truth.nc", "spec.json"):
        assert (tmp_path / name).exists(), name
    loaded = pe.Judgments.read(tmp_path / "judgments.csv", personas=tmp_path / "personas.csv",
                               scale=[1, 2, 3, 4, 5])
    direct, _ = pe.simulate("small", seed=3)
    assert loaded.n_judgments == direct.n_judgments
    assert loaded.coords == direct.coords


def test_fit_with_advi(tmp_path, capsys):
    main(["simulate", "--preset", "small", "--seed", "4", "--out", str(tmp_path)])
    out = tmp_path / "advi.nc"
    code = main(["fit", str(tmp_path / "judgments.csv"), "--personas",
                 str(tmp_path / "personas.csv"), "--scale", "1,2,3,4,5", "--method", "advi",
                 "--draws", "100", "--out", str(out)])
    assert code == 0
    fit = pe.load_fit(out)
    assert fit.method == "advi" and fit.n_draws == 100
    assert "ADVI" in capsys.readouterr().err  # progress lines


def test_fit_then_leaderboard(tmp_path, capsys):
    main(["simulate", "--preset", "small", "--seed", "4", "--out", str(tmp_path)])
    out = tmp_path / "fit.nc"
    with pytest.warns(pe.DiagnosticsWarning):
        code = main(["fit", str(tmp_path / "judgments.csv"), "--personas",
                     str(tmp_path / "personas.csv"), "--scale", "1,2,3,4,5", "--draws", "20",
                     "--tune", "20", "--chains", "2", "--sampler", "pymc", "--out", str(out)])
    assert code == 0 and out.exists()
    capsys.readouterr()
    with pytest.warns(pe.DiagnosticsWarning):
        assert main(["leaderboard", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "failed its convergence checks" in printed
    systems = pd.read_csv(tmp_path / "judgments.csv")["system"].unique()
    assert all(s in printed for s in systems)
    target = tmp_path / "census.csv"
    pd.DataFrame({"region": ["A", "B", "C"], "share": [0.6, 0.3, 0.1]}).to_csv(target, index=False)
    with pytest.warns(pe.DiagnosticsWarning):
        assert main(["audit", str(out), "--target", str(target)]) == 0
    printed = capsys.readouterr().out
    assert "Value-skew audit" in printed
    assert "Distance (total variation): region 0.27" in printed  # (.27 + .03 + .23) / 2
    with pytest.warns(pe.DiagnosticsWarning):
        assert main(["leaderboard", str(out), "--by", "region", "--population", "sample"]) == 0
    assert "Rank reversals" in capsys.readouterr().out
    with pytest.warns(pe.DiagnosticsWarning):
        assert main(["audit", str(out), "--target", "equal", "--prob", "1.5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "prob" in err


def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys):
    frame = pd.DataFrame({"output": ["a", "b"], "persona": ["p", "p"], "rating": [1, 9]})
    frame.to_csv(tmp_path / "bad.csv", index=False)
    code = main(["fit", str(tmp_path / "bad.csv"), "--scale", "1,2,3", "--out",
                 str(tmp_path / "f.nc")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "outside the declared scale" in err and "rating=9" in err


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["leaderboard", str(tmp_path / "nope.nc")]) == 2
    assert "no saved fit" in capsys.readouterr().err


def test_calibrate_unknown_preset_is_one_line(capsys):
    assert main(["calibrate", "sbc", "--preset", "huge"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "valid presets" in err


@pytest.mark.slow
def test_calibrate_writes_tables_and_figure_and_resumes(tmp_path, capsys):
    spec = tmp_path / "study.json"
    spec.write_text(json.dumps(pe.StudySpec(n_systems=2, n_prompts=4, n_personas=6,
                                            attributes={"region": ["A", "B"]}).to_dict()))
    args = ["calibrate", "coverage", "--study", str(spec), "--levels", "3", "--n-sims", "2",
            "--draws", "100", "--tune", "100", "--results", str(tmp_path / "cov.jsonl"),
            "--out", str(tmp_path / "out")]
    assert main(args) == 0
    for name in ("coverage.csv", "coverage_fits.csv", "coverage.png", "coverage.pdf"):
        assert (tmp_path / "out" / name).exists(), name
    table = pd.read_csv(tmp_path / "out" / "coverage.csv")
    assert set(table["nominal"]) == {0.5, 0.8, 0.9, 0.95}
    capsys.readouterr()
    assert main(args) == 0  # everything already in the results file
    assert "2 already in" in capsys.readouterr().err
