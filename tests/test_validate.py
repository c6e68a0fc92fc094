"""Calibration machinery: prior draws, ratings from a truth, fixed designs, SBC and coverage.

Fast tests check each piece against known answers (including that the uniformity test rejects
miscalibrated ranks); slow tests run real SBC studies of the ordinal and binary model, the
resumable results file and the Dask executor path.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pluraleval as pe
from pluraleval.errors import JudgmentDataError
from pluraleval.models.sampling import stored_variables
from pluraleval.terms import flat_draws, predictive_probabilities, term_design, with_sample_dims
from pluraleval.validate import CoverageResult, SBCResult, coverage, sbc
from pluraleval.validate.coverage import family
from pluraleval.validate.runs import read_results, run_tasks

TINY = pe.StudySpec(n_systems=3, n_prompts=6, n_personas=8,
                    attributes={"region": ["A", "B"]})


# ---------------------------------------------------------------- simulation pieces
def test_with_ratings_replaces_only_the_ratings():
    design, _ = pe.simulate("small", seed=1)
    codes = np.zeros(design.n_judgments, dtype=int)
    new = design.with_ratings(codes)
    assert (new.table["rating"] == 1).all() and (new.codes["rating"] == 0).all()
    pd.testing.assert_frame_equal(new.table.drop(columns="rating"),
                                  design.table.drop(columns="rating"))
    with pytest.raises(JudgmentDataError, match="codes must lie in 0..4"):
        design.with_ratings(codes + 5)
    with pytest.raises(JudgmentDataError, match=f"{design.n_judgments} integer codes"):
        design.with_ratings(codes[:3])


def test_design_seed_fixes_the_design_while_seed_redraws_effects_and_ratings():
    a, ta = pe.simulate("small", seed=1, design_seed=9, covariates={"length": 0.3})
    b, tb = pe.simulate("small", seed=2, design_seed=9, covariates={"length": 0.3})
    for key in ("output", "persona", "position"):
        np.testing.assert_array_equal(a.codes[key], b.codes[key])
    np.testing.assert_array_equal(a.table["length"], b.table["length"])
    assert not np.allclose(ta["u"], tb["u"])
    assert not np.array_equal(a.codes["rating"], b.codes["rating"])
    plain, _ = pe.simulate("small", seed=1)  # without design_seed: unchanged stream
    again, _ = pe.simulate("small", seed=1, design_seed=None)
    pd.testing.assert_frame_equal(plain.table, again.table)


def test_simulated_ratings_follow_the_models_probabilities():
    design, truth = pe.simulate("small", seed=4)
    params = with_sample_dims(truth)
    d = term_design(params, design)
    prob = predictive_probabilities(flat_draws(params, d), d, 5)[0]
    rng = np.random.default_rng(0)
    reps = np.stack([pe.simulate_ratings(design, truth, seed=rng).codes["rating"]
                     for _ in range(300)])
    freq = np.stack([(reps == k).mean(axis=0) for k in range(5)], axis=-1)
    assert np.abs(freq - prob).max() < 0.12  # 300 draws: sd of a share <= 0.029
    # The simulator's own (independent) generator agrees with the model's probabilities:
    # regressing its ratings on the expected rating gives slope ~1, intercept ~0.
    slope, intercept = np.polyfit(prob @ np.arange(5), design.codes["rating"], 1)
    assert abs(slope - 1) < 0.15 and abs(intercept) < 0.3, (slope, intercept)


def test_prior_draws_have_the_fits_names_and_the_priors_scales():
    design, _ = pe.simulate("small", seed=1)
    model = pe.OrdinalRaterModel(priors={"sigma_persona": 0.5})
    prior = model.sample_prior(design, seed=3, draws=4000)
    assert sorted(prior.data_vars) == sorted(stored_variables(model.build(design)))
    assert prior["lambda_region"].dims == ("draw", "system", "region")
    half_normal_mean = 0.5 * np.sqrt(2 / np.pi)
    assert abs(float(prior["sigma_persona"].mean()) - half_normal_mean) < 0.02
    assert (prior["cutpoints"].diff("cutpoint") > 0).all()
    np.testing.assert_allclose(prior["mu"].sum("system"), 0, atol=1e-10)
    one = model.sample_prior(design, seed=3)
    assert one["mu"].dims == ("system",)


# ---------------------------------------------------------------- uniformity and coverage
def _ranks(values: np.ndarray, components: int = 3) -> SBCResult:
    sims = np.repeat(np.arange(len(values) // components), components)
    ranks = pd.DataFrame({"sim": sims, "variable": "mu",
                          "component": np.tile([f"s{i}" for i in range(components)],
                                               len(values) // components),
                          "rank": values, "n_draws": 99})
    return SBCResult(ranks=ranks, fits=pd.DataFrame(), config={})


def test_uniform_ranks_pass_and_miscalibrated_ranks_fail():
    rng = np.random.default_rng(1)
    uniform = _ranks(rng.integers(0, 100, 600))
    assert uniform.passed() and not uniform.uniformity()["ecdf_outside"].any()
    # Too-narrow posteriors: truths fall outside the draws, ranks pile at both ends.
    narrow = _ranks(np.where(rng.random(600) < 0.5, rng.integers(0, 10, 600),
                             rng.integers(90, 100, 600)))
    assert not narrow.passed() and narrow.uniformity()["ecdf_outside"].all()
    # Biased posteriors: truths sit low among the draws.
    biased = _ranks((rng.beta(1, 2, 600) * 100).astype(int))
    assert not biased.passed()
    table = biased.uniformity()
    assert list(table.columns) == ["variable", "component", "n_sims", "bins", "chi2",
                                   "p_value", "ecdf_outside", "p_adjusted"]
    assert (table["bins"] == 20).all() and (table["n_sims"] == 200).all()


def test_coverage_table_counts_components_and_simulations():
    hits = pd.DataFrame({"sim": [0, 0, 1, 1], "variable": ["mu", "b_region"] * 2,
                         "family": ["system quality", "group bias"] * 2, "level": 0.9,
                         "covered": [3, 1, 2, 2], "components": [3, 2, 3, 2]})
    table = CoverageResult(hits=hits, fits=pd.DataFrame(), config={}).table()
    row = table.set_index("family").loc["system quality"]
    assert row["coverage"] == pytest.approx(5 / 6) and row["n_sims"] == 2
    assert row["se"] == pytest.approx(np.std([1, 2 / 3], ddof=1) / np.sqrt(2))
    assert row["difference"] == pytest.approx(5 / 6 - 0.9)


def test_parameter_families():
    assert [family(v) for v in ("mu", "b_region", "lambda_age", "u", "sigma_gamma_region",
                                "cutpoints", "alpha")] == [
        "system quality", "group bias", "system x group", "persona severity",
        "variance component", "cutpoints", "other"]


def test_results_file_refuses_other_settings(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps({"config": {"kind": "sbc", "draws": 100}}) + "\n"
                    + json.dumps({"sim": 0, "ranks": []}) + "\n")
    assert list(read_results(path, {"kind": "sbc", "draws": 100})) == [0]
    with pytest.raises(ValueError, match=r"other settings \(differ in \['draws'\]\)"):
        read_results(path, {"kind": "sbc", "draws": 200})


def _flaky(config, sim):
    if sim == 1:
        raise FloatingPointError("sampler blew up")
    return {"sim": sim, "error": "", "value": config["x"] * sim}


def test_failed_tasks_are_recorded_and_not_rerun(tmp_path):
    path = tmp_path / "run.jsonl"
    with ThreadPoolExecutor(2) as pool:
        records = run_tasks(_flaky, {"x": 2}, 3, path=path, executor=pool, progress=False,
                            label="t")
    assert [r.get("value") for r in records] == [0, None, 4]
    assert records[1]["error"] == "FloatingPointError: sampler blew up"
    again = run_tasks(_flaky, {"x": 2}, 3, path=path, executor=_Refusing(), progress=False,
                      label="t")
    assert again == records  # nothing left to run: no task was submitted


class _Refusing(ThreadPoolExecutor):
    def submit(self, *args, **kwargs):
        raise AssertionError("a finished simulation was submitted again")


# ---------------------------------------------------------------- real runs
@pytest.mark.slow
@pytest.mark.parametrize("n_levels", [5, 2], ids=["ordinal", "binary"])
def test_sbc_passes_its_uniformity_check(n_levels):
    study = pe.StudySpec(**{**TINY.to_dict(), "n_levels": n_levels})
    result = sbc(pe.OrdinalRaterModel(), study, n_sims=40, draws=500, tune=500, seed=11,
                 progress=False)
    summary = result.summary()
    print(f"\nSBC {n_levels} levels: {result.n_sims} simulations; fits: median "
          f"{result.fits['seconds'].median():.1f} s, max R-hat "
          f"{result.fits['max_r_hat'].max():.3f}, min bulk ESS "
          f"{result.fits['min_ess_bulk'].min():.0f}")
    print(summary.to_string())
    assert (result.fits["error"] == "").all(), result.fits["error"].unique()
    assert result.n_sims == 40
    assert result.passed(alpha=0.01), summary[~summary["passed"]]
    # Under calibration about 5% of components leave their 95% band; allow up to 15%.
    assert result.uniformity()["ecdf_outside"].mean() < 0.15


@pytest.mark.slow
def test_sbc_resumes_from_its_file_and_runs_on_a_dask_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    path = tmp_path / "sbc.jsonl"
    kwargs = dict(draws=200, tune=200, seed=5, path=path, progress=False)
    with ThreadPoolExecutor(1) as pool:
        first = sbc(pe.OrdinalRaterModel(), TINY, n_sims=2, executor=pool, **kwargs)
    assert len(path.read_text().splitlines()) == 3  # settings + 2 simulations
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        both = sbc(pe.OrdinalRaterModel(), TINY, n_sims=4, executor=client.get_executor(),
                   **kwargs)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(rec["sim"] for rec in lines[1:]) == [0, 1, 2, 3]  # 0, 1 were not re-run
    pd.testing.assert_frame_equal(both.ranks[both.ranks["sim"] < 2].reset_index(drop=True),
                                  first.ranks.reset_index(drop=True))
    assert both.n_sims == 4 and (both.fits["error"] == "").all()
    with pytest.raises(ValueError, match="other settings"):
        sbc(pe.OrdinalRaterModel(), TINY, n_sims=4, **{**kwargs, "draws": 300})


@pytest.mark.slow
def test_coverage_of_a_small_study_is_near_nominal():
    result = coverage(pe.OrdinalRaterModel(), TINY, n_sims=24, draws=500, tune=500, seed=3,
                      progress=False)
    table = result.table()
    print("\n" + table.to_string())
    assert (result.fits["error"] == "").all()
    at90 = table[table["nominal"] == 0.9].set_index("family")
    for fam in ("system quality", "group bias", "persona severity"):
        assert at90.loc[fam, "coverage"] >= 0.7, at90.loc[fam]
    # Wider intervals cover more, in every family.
    for _, t in table.groupby("family"):
        assert t.sort_values("nominal")["coverage"].is_monotonic_increasing
    assert stats.spearmanr(table["nominal"], table["coverage"]).statistic > 0.5


def test_compiled_design_rejects_bad_rating_codes():
    from pluraleval.models.refit import CompiledDesign
    design, _ = pe.simulate("small", seed=2)
    compiled = CompiledDesign(pe.OrdinalRaterModel(), design)
    codes = design.codes["rating"].copy()
    codes[3] = design.scale.n_levels  # one past the top level
    with pytest.raises(JudgmentDataError, match="codes must lie in 0..4"):
        compiled.sample(codes, draws=10, tune=10)
    with pytest.raises(JudgmentDataError, match="one per judgment"):
        compiled.sample(codes[:-1], draws=10, tune=10)
