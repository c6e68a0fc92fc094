"""Fast unit tests of the ordinal rater model: spec validation, emitted PyMC model, constraints
in the posterior, the Fit (diagnostics gate, persistence, LOO) and the leaderboard.

MCMC runs once (a module-scoped fixture) on a tiny simulated study with few draws; it is meant
to fail the diagnostics gate, which is itself under test.
"""

from __future__ import annotations

import json
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytest
import xarray as xr
from scipy import stats

import pluraleval as pe
from pluraleval import ModelSpecError
from pluraleval.models.ordinal import initial_cutpoints
from pluraleval.models.priors import DEFAULT_PRIORS, merge_priors

# Any UserWarning a test does not expect is a failure (the fit fixture records its own).
pytestmark = pytest.mark.filterwarnings("error::UserWarning")

LIKERT = [1, 2, 3, 4, 5]
SAMPLE_DIMS = ("chain", "draw")
TINY_FIT = dict(draws=30, tune=30, chains=2, random_seed=7, sampler="pymc", progressbar=False)


# ---------------------------------------------------------------------- helpers and fixtures
def rebuild(judgments: pe.Judgments, *, drop=(), personas=None, covariates=None,
            **columns) -> pe.Judgments:
    """The same judgments reloaded with columns dropped/added (an output-level column may be a
    callable of the output label) and optionally another persona table."""
    table = judgments.table.drop(columns=list(drop))
    for name, values in columns.items():
        table[name] = table["output"].map(values) if callable(values) else values
    return pe.Judgments.from_frame(
        table, personas=judgments.personas if personas is None else personas,
        covariates=judgments.covariates if covariates is None else covariates,
        scale=list(judgments.scale.levels))


def message_of(spec_or_factory, judgments=None) -> str:
    """Message of the ModelSpecError raised by building the spec on ``judgments`` (or by
    constructing the spec when ``spec_or_factory`` is a callable)."""
    with pytest.raises(ModelSpecError) as info:
        if judgments is None:
            spec_or_factory()
        else:
            spec_or_factory.fit(judgments, **TINY_FIT)
    return str(info.value)


def assert_mentions(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} not in message: {message}"


def start_logp(model: pm.Model, judgments: pe.Judgments) -> float:
    """Model log density at its initial point, cutpoints started ordered (PyMC's default start
    for an ordered transform is not ordered: its log density is -inf)."""
    cut = model["cutpoints"]
    with pytensor.config.change_flags(mode="FAST_COMPILE"):  # compiles in ~1 s, no C
        shape = tuple(int(n) for n in cut.shape.eval())
        model.set_initval(cut, initial_cutpoints(judgments, shape))
        return float(model.compile_logp()(model.initial_point()))


@pytest.fixture(scope="module")
def tiny() -> pe.Judgments:
    """4 systems x 4 prompts, 6 personas in 3 regions (2 per cell), one numeric covariate."""
    judgments, _ = pe.simulate("small", seed=11, n_prompts=4, n_personas=6,
                               covariates={"length": 0.3})
    return judgments


@pytest.fixture(scope="module")
def two_attrs() -> pe.Judgments:
    """3 systems with the user's own labels, two attributes, a numeric and a text covariate."""
    judgments, _ = pe.simulate("small", seed=2, n_systems=3, n_prompts=3, n_personas=8,
                               attributes={"region": ["A", "B"], "age": ["young", "old"]},
                               covariates={"length": 0.2})
    names = {"sys1": "zeta-large", "sys2": "Alpha 2", "sys3": "beta"}
    table = judgments.table.assign(system=judgments.table["system"].map(names))
    table["temp"] = np.where(table["prompt"] == "p002", "warm", "cold")
    personas = judgments.personas.assign(region=judgments.personas["region"].map(
        {"A": "Sub-Saharan Africa", "B": "Europe"}))
    return pe.Judgments.from_frame(table, personas=personas, covariates=["length", "temp"],
                                   scale=LIKERT)


@pytest.fixture
def no_sampling(monkeypatch):
    """Any call to pymc.sample fails the test: validation must come before sampling."""
    def forbidden(*args, **kwargs):
        raise AssertionError("pymc.sample was reached; the spec should have been rejected first")
    monkeypatch.setattr(pm, "sample", forbidden)


# ---------------------------------------------------------------------- 1. spec validation
def test_spec_error_is_a_value_error():
    assert issubclass(ModelSpecError, ValueError)


def test_unknown_group_by_attribute(tiny, no_sampling):
    msg = message_of(pe.OrdinalRaterModel(group_by=["country"]), tiny)
    assert_mentions(msg, "'country'", "not a persona attribute", "valid attributes", "['region']")


def test_system_by_group_without_system_column(tiny, no_sampling):
    judgments = rebuild(tiny, drop=["system"])
    msg = message_of(pe.OrdinalRaterModel(system_by_group=True), judgments)
    assert_mentions(msg, "system_by_group=True", "'system' column")


def test_system_by_group_with_one_system(tiny, no_sampling):
    judgments = rebuild(tiny, system="only")
    msg = message_of(pe.OrdinalRaterModel(system_by_group=True), judgments)
    assert_mentions(msg, "system_by_group=True", ">= 2 systems")


def test_system_by_group_without_group_by(tiny, no_sampling):
    msg = message_of(pe.OrdinalRaterModel(system_by_group=True, group_by=[]), tiny)
    assert_mentions(msg, "system_by_group=True", "group_by")


def test_output_by_group_without_group_by(tiny, no_sampling):
    msg = message_of(pe.OrdinalRaterModel(output_by_group=True, group_by=[]), tiny)
    assert_mentions(msg, "output_by_group=True", "group_by")


def test_prompt_effect_without_prompt_column(tiny, no_sampling):
    judgments = rebuild(tiny, drop=["prompt"])
    msg = message_of(pe.OrdinalRaterModel(prompt_effect=True), judgments)
    assert_mentions(msg, "prompt_effect=True", "'prompt' column", "prompt='<column>'")


def test_drift_without_position_column(tiny, no_sampling):
    judgments = rebuild(tiny, drop=["position"])
    msg = message_of(pe.OrdinalRaterModel(drift=True), judgments)
    assert_mentions(msg, "drift=True", "'position' column", "position='<column>'")


def test_thresholds_by_group_without_group_by(tiny, no_sampling):
    msg = message_of(pe.OrdinalRaterModel(thresholds="by_group", group_by=[]), tiny)
    assert_mentions(msg, "thresholds='by_group'", "group_by")


def test_thresholds_invalid_value_rejected_at_construction():
    msg = message_of(lambda: pe.OrdinalRaterModel(thresholds="per_persona"))
    assert_mentions(msg, "'per_persona'", "'shared'", "'by_group'")


def test_covariate_not_declared(tiny, no_sampling):
    msg = message_of(pe.OrdinalRaterModel(covariates=["temperature"]), tiny)
    assert_mentions(msg, "'temperature'", "not declared", "['length']",
                    "covariates=['temperature']")


def test_categorical_covariate_with_one_level(tiny, no_sampling):
    judgments = rebuild(tiny, covariates=["length", "temp"], temp="warm")
    msg = message_of(pe.OrdinalRaterModel(covariates=["temp"]), judgments)
    assert_mentions(msg, "'temp'", "single value", "['warm']", "Drop it from covariates")


def test_unknown_prior_lists_valid_names():
    msg = message_of(lambda: pe.OrdinalRaterModel(priors={"sigma_persons": 0.5}))
    assert_mentions(msg, "unknown prior 'sigma_persons'", "valid priors",
                    *(repr(name) for name in DEFAULT_PRIORS))


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan")])
def test_non_positive_prior(value):
    msg = message_of(lambda: pe.OrdinalRaterModel(priors={"sigma_persona": value}))
    assert_mentions(msg, "'sigma_persona'", "positive scale")


def test_group_by_attribute_with_one_level(tiny, no_sampling):
    personas = tiny.personas.assign(lang="en")
    judgments = rebuild(tiny, personas=personas)
    msg = message_of(pe.OrdinalRaterModel(group_by=["region", "lang"]), judgments)
    assert_mentions(msg, "'lang'", "1 level(s)", "['en']", "group_by='lang'", "at least 2")


def test_unknown_sampler(tiny, no_sampling):
    with pytest.raises(ModelSpecError, match="valid samplers"):
        pe.OrdinalRaterModel().fit(tiny, **{**TINY_FIT, "sampler": "hmc"})


# ---------------------------------------------------------------------- 2. the emitted model
def test_build_dims_and_coords_use_the_vocabulary(two_attrs):
    model = pe.OrdinalRaterModel(covariates=["length", "temp"]).build(two_attrs)
    dims = model.named_vars_to_dims
    expected = {
        "mu": ("system",), "nu": ("prompt",), "eps": ("output",), "u": ("persona",),
        "b_region": ("region",), "b_age": ("age",),
        "lambda_region": ("system", "region"), "lambda_age": ("system", "age"),
        "gamma_region": ("output", "region"), "gamma_age": ("output", "age"),
        "beta": ("covariate",), "cutpoints": ("cutpoint",), "y": ("judgment",),
    }
    for name, want in expected.items():
        assert dims.get(name) == want, name
    assert set(model.coords) == {"system", "prompt", "output", "persona", "region", "age",
                                 "cutpoint", "judgment", "covariate"}
    for dim in ("system", "prompt", "output", "persona", "region", "age", "cutpoint"):
        assert list(model.coords[dim]) == list(two_attrs.coords[dim]), dim
    assert list(model.coords["system"]) == ["Alpha 2", "beta", "zeta-large"]
    assert list(model.coords["region"]) == ["Europe", "Sub-Saharan Africa"]
    assert list(model.coords["cutpoint"]) == ["1|2", "2|3", "3|4", "4|5"]
    assert list(model.coords["covariate"]) == ["length", "temp[warm]"]
    assert list(model.coords["judgment"]) == list(range(two_attrs.n_judgments))


def test_thresholds_by_group_on_two_attributes(two_attrs):
    model = pe.OrdinalRaterModel(thresholds="by_group").build(two_attrs)
    assert model.named_vars_to_dims["cutpoints"] == ("region", "cutpoint")
    names = set(model.named_vars)
    assert "b_region" not in names and "b_age" in names
    assert start_logp(model, two_attrs) > -np.inf


BASE_TERMS = {"sigma_prompt", "sigma_output", "sigma_lambda_region", "sigma_gamma_region",
              "sigma_persona", "cutpoints", "mu", "nu", "eps", "b_region", "lambda_region",
              "gamma_region", "u"}

#: spec options -> (terms added, terms removed) relative to the default spec on ``tiny``.
VARIANTS = {
    "default": ({}, set(), set()),
    "discrimination": ({"persona_discrimination": True},
                       {"sigma_alpha", "log_alpha", "alpha"}, set()),
    "contested": ({"contested_outputs": True}, {"sigma_zeta", "zeta"}, set()),
    "drift": ({"drift": True}, {"drift_mean", "sigma_drift", "drift"}, set()),
    "thresholds_by_group": ({"thresholds": "by_group"}, set(), {"b_region"}),
    "no_output_by_group": ({"output_by_group": False}, set(),
                           {"sigma_gamma_region", "gamma_region"}),
    "no_system_by_group": ({"system_by_group": False}, set(),
                           {"sigma_lambda_region", "lambda_region"}),
    "covariate": ({"covariates": ["length"]}, {"beta"}, set()),
    "bare": ({"group_by": [], "prompt_effect": False, "output_residual": False,
              "persona_severity": False}, set(), BASE_TERMS - {"cutpoints", "mu"}),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_terms_follow_the_switches(tiny, variant):
    options, added, removed = VARIANTS[variant]
    terms = pe.OrdinalRaterModel(**options).terms(tiny)
    assert len(terms) == len(set(terms))
    assert not any(t.endswith("_z") for t in terms)
    assert set(terms) == (BASE_TERMS | added) - removed


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_logp_finite_at_start(tiny, variant):
    options, _, _ = VARIANTS[variant]
    model = pe.OrdinalRaterModel(**options).build(tiny)
    assert start_logp(model, tiny) > -np.inf


def test_thresholds_by_group_cutpoints_dims(tiny):
    model = pe.OrdinalRaterModel(thresholds="by_group").build(tiny)
    assert model.named_vars_to_dims["cutpoints"] == ("region", "cutpoint")
    assert tuple(int(n) for n in model["cutpoints"].shape.eval()) == (3, 4)


def test_no_system_column_builds_zero_sum_output_effects(tiny):
    judgments = rebuild(tiny, drop=["system"])
    spec = pe.OrdinalRaterModel()
    assert set(spec.terms(judgments)) == BASE_TERMS - {"mu", "sigma_lambda_region",
                                                       "lambda_region"}
    assert start_logp(spec.build(judgments), judgments) > -np.inf


def test_binary_scale_builds_unordered_single_cutpoint():
    judgments, _ = pe.simulate("small", seed=5, n_prompts=3, n_personas=6, n_levels=2)
    model = pe.OrdinalRaterModel().build(judgments)
    assert list(model.coords["cutpoint"]) == ["0|1"]
    assert start_logp(model, judgments) > -np.inf


# ---------------------------------------------------------------------- the tiny fit
@pytest.fixture(scope="module")
def fitted(tiny):
    """(fit, warnings raised while fitting): the only MCMC run of this module."""
    spec = pe.OrdinalRaterModel(covariates=["length"], priors={"sigma_persona": 0.7})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = spec.fit(tiny, **TINY_FIT)
    return fit, caught


@pytest.fixture(scope="module")
def fit(fitted) -> pe.Fit:
    return fitted[0]


@pytest.fixture(scope="module")
def saved(fit, tmp_path_factory):
    """(path, reloaded fit). Reloading a fit that failed its checks warns again."""
    path = fit.save(tmp_path_factory.mktemp("fit") / "tiny.nc")
    with pytest.warns(pe.DiagnosticsWarning, match="FAILED ITS CONVERGENCE CHECKS"):
        reloaded = pe.load_fit(path)
    return path, reloaded


# ---------------------------------------------------------------------- 3. constraints
def test_mu_sums_to_zero_over_systems(fit):
    np.testing.assert_allclose(fit.draws("mu").sum("system"), 0, atol=1e-9)


def test_group_bias_sums_to_zero(fit):
    np.testing.assert_allclose(fit.draws("b_region").sum("region"), 0, atol=1e-9)


def test_system_by_group_sums_to_zero_over_both_dims(fit):
    lam = fit.draws("lambda_region")
    np.testing.assert_allclose(lam.sum("system"), 0, atol=1e-9)
    np.testing.assert_allclose(lam.sum("region"), 0, atol=1e-9)


def output_system(fit) -> xr.DataArray:
    table = fit.judgments.output_table
    return xr.DataArray(table["system"].to_numpy(), dims="output", name="system",
                        coords={"output": table["output"].to_numpy()})


def test_output_residual_sums_to_zero_within_system(fit):
    sums = fit.draws("eps").groupby(output_system(fit)).sum()
    assert sums.sizes["system"] == fit.judgments.n_levels("system")
    np.testing.assert_allclose(sums, 0, atol=1e-9)


def test_output_by_group_sums_to_zero_over_groups_and_within_system(fit):
    gam = fit.draws("gamma_region")
    np.testing.assert_allclose(gam.sum("region"), 0, atol=1e-9)
    np.testing.assert_allclose(gam.groupby(output_system(fit)).sum(), 0, atol=1e-9)


def test_persona_severity_sums_to_zero_within_cell(fit):
    personas = fit.judgments.personas
    cell = xr.DataArray(personas["region"].to_numpy(), dims="persona",
                        coords={"persona": personas["persona"].to_numpy()}, name="cell")
    u = fit.draws("u")
    assert (u.std(SAMPLE_DIMS) > 0).all()  # two personas per cell: not degenerate
    np.testing.assert_allclose(u.groupby(cell).sum(), 0, atol=1e-9)


# ---------------------------------------------------------------------- 4. the Fit
def test_posterior_holds_named_parameters_only(fit):
    names = set(fit.posterior.data_vars)
    assert not [n for n in names if n.endswith("_z")]
    assert names == set(fit.spec.terms(fit.judgments))
    assert fit.posterior["beta"].dims == (*SAMPLE_DIMS, "covariate")
    assert list(fit.posterior["covariate"].values) == ["length"]
    assert fit.n_draws == 60


def test_diagnostics_table(fit):
    diag = fit.diagnostics()
    assert list(diag.columns) == ["variable", "size", "r_hat_max", "ess_bulk_min",
                                  "ess_tail_min", "ok"]
    assert set(diag["variable"]) == set(fit.posterior.data_vars)
    assert diag.loc[diag["variable"] == "lambda_region", "size"].item() == 4 * 3
    assert set(diag.attrs) >= {"divergences", "converged"}
    assert diag.attrs["divergences"] == fit.divergences
    assert isinstance(diag.attrs["converged"], bool)


def test_tiny_fit_fails_the_gate_and_says_so(fitted):
    fit, caught = fitted
    assert any(issubclass(w.category, pe.DiagnosticsWarning) for w in caught)
    message = next(str(w.message) for w in caught
                   if issubclass(w.category, pe.DiagnosticsWarning))
    assert "FAILED ITS CONVERGENCE CHECKS" in message
    assert fit.converged is False
    assert fit.diagnostics().attrs["converged"] is False
    assert not fit.diagnostics()["ok"].all()
    assert pe.leaderboard(fit).attrs["converged"] is False
    assert "FAILED CHECKS" in repr(fit)
    with pytest.warns(pe.DiagnosticsWarning):
        problems = fit.check(warn=True)
    assert problems
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fit.check(warn=False) == problems


def test_log_likelihood_is_pointwise_per_judgment(fit):
    assert "log_likelihood" in fit.tree.children
    y = fit.tree["log_likelihood"]["y"]
    assert y.dims == (*SAMPLE_DIMS, "judgment")
    assert y.sizes["judgment"] == fit.judgments.n_judgments
    assert np.isfinite(y.values).all()


def test_loo_runs_on_the_tree(fit, saved):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto k is poor with 60 draws
        result = az.loo(fit.tree)
        reloaded = az.loo(saved[1].tree)
    assert result.n_data_points == fit.judgments.n_judgments
    assert result.n_samples == fit.n_draws
    assert np.isfinite(result.elpd)
    assert reloaded.elpd == result.elpd


def test_save_load_posterior_identical(fit, saved):
    _, loaded = saved
    xr.testing.assert_identical(loaded.posterior, fit.posterior)
    for group in ("sample_stats", "log_likelihood", "observed_data"):
        xr.testing.assert_identical(loaded.tree[group].to_dataset(),
                                    fit.tree[group].to_dataset())


def test_save_load_judgments_identical(fit, saved):
    _, loaded = saved
    a, b = fit.judgments, loaded.judgments
    pd.testing.assert_frame_equal(b.table, a.table, check_exact=True)
    pd.testing.assert_frame_equal(b.personas, a.personas, check_exact=True)
    assert b.scale == a.scale
    assert (b.attributes, b.covariates, b.repeats, b.source_columns) == \
        (a.attributes, a.covariates, a.repeats, a.source_columns)
    assert b.coords == a.coords
    for key, codes in a.codes.items():
        np.testing.assert_array_equal(b.codes[key], codes)


def test_save_load_spec_and_leaderboard(fit, saved):
    _, loaded = saved
    assert loaded.spec == fit.spec
    assert loaded.spec.to_dict() == fit.spec.to_dict()
    assert loaded.spec.priors == {"sigma_persona": 0.7}
    assert loaded.converged is False
    pd.testing.assert_frame_equal(loaded.diagnostics(), fit.diagnostics(), check_exact=True)
    a, b = pe.leaderboard(fit), pe.leaderboard(loaded)
    pd.testing.assert_frame_equal(b, a, check_exact=True)
    assert b.attrs == a.attrs


def test_saved_file_carries_version_and_spec(fit, saved):
    path, loaded = saved
    with xr.open_datatree(path, engine="h5netcdf") as stored:
        attrs = dict(stored.attrs)
        children = set(stored.children)
    assert attrs["pluraleval_version"] == pe.__version__
    assert json.loads(attrs["pluraleval_spec"]) == fit.spec.to_dict()
    assert json.loads(attrs["pluraleval_spec"])["family"] == "ordinal"
    assert children >= {"posterior", "sample_stats", "log_likelihood", "observed_data",
                        "judgments"}
    assert not [n for n in loaded.posterior.data_vars if n.endswith("_z")]


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        pe.load_fit(tmp_path / "absent.nc")


# ---------------------------------------------------------------------- 5. leaderboard
def test_leaderboard(fit):
    board = pe.leaderboard(fit, prob=0.9)
    n = fit.judgments.n_levels("system")
    levels = fit.judgments.scale.levels
    assert list(board.columns[:3]) == ["system", "quality", "quality_lower"]
    assert sorted(board["system"]) == sorted(fit.judgments.coords["system"])
    assert board["quality"].is_monotonic_decreasing
    assert board["p_best"].sum() == pytest.approx(1.0)
    assert board["p_best"].between(0, 1).all()
    assert board["expected_rank"].between(1, n).all()
    assert board["expected_rank"].sum() == pytest.approx(n * (n + 1) / 2)
    assert board["expected_rating"].between(min(levels), max(levels)).all()
    assert (board["quality_lower"] <= board["quality"]).all()
    assert (board["quality"] <= board["quality_upper"]).all()
    assert (board["rating_lower"] <= board["expected_rating"]).all()
    assert (board["expected_rating"] <= board["rating_upper"]).all()
    assert board.attrs["prob"] == 0.9
    mu = fit.draws("mu")
    np.testing.assert_allclose(board["quality"],
                               mu.mean(SAMPLE_DIMS).to_series().loc[board["system"]])
    # Rank intervals are integer, equal-tailed intervals of a discrete quantity: they hold the
    # median rank and (nearly) prob of the draws, but need not hold the mean rank (a system
    # ranked 1st in 57 of 60 draws and 2nd in 3 has mean rank 1.05 and interval [1, 1]).
    ranks = mu.stack(sample=SAMPLE_DIMS).transpose("system", "sample").to_pandas()
    ranks = ranks.rank(axis=0, ascending=False)  # systems x draws, 1 = best
    lower = board.set_index("system")["rank_lower"]
    upper = board.set_index("system")["rank_upper"]
    assert lower.between(1, n).all() and upper.between(1, n).all() and (lower <= upper).all()
    assert ranks.median(axis=1).between(lower.loc[ranks.index], upper.loc[ranks.index]).all()
    inside = ranks.ge(lower.loc[ranks.index], axis=0) & ranks.le(upper.loc[ranks.index], axis=0)
    assert (inside.mean(axis=1) >= 0.9 - 2 / fit.n_draws).all()
    np.testing.assert_allclose(board.set_index("system")["expected_rank"].loc[ranks.index],
                               ranks.mean(axis=1))


def test_leaderboard_needs_systems(fit):
    judgments = rebuild(fit.judgments, drop=["system"])
    no_system = pe.Fit(fit.tree.copy(), judgments, fit.spec)
    no_system.tree["posterior"] = fit.posterior.drop_vars(["mu", "lambda_region"])
    with pytest.raises(ModelSpecError, match="no system quality"):
        pe.leaderboard(no_system)


# ---------------------------------------------------------------------- 6. priors
def test_merge_priors_defaults_and_overrides():
    assert merge_priors(None) == DEFAULT_PRIORS
    assert merge_priors(None) is not DEFAULT_PRIORS
    merged = merge_priors({"sigma_persona": 0.5, "cutpoint_sd": 2})
    assert merged["sigma_persona"] == 0.5 and merged["cutpoint_sd"] == 2.0
    assert {k: v for k, v in merged.items() if k not in ("sigma_persona", "cutpoint_sd")} == \
        {k: v for k, v in DEFAULT_PRIORS.items() if k not in ("sigma_persona", "cutpoint_sd")}
    assert DEFAULT_PRIORS["sigma_persona"] == 1.0  # defaults are not mutated


@pytest.mark.parametrize("name", ["sigma_persona", "sigma_output", "sigma_prompt"])
def test_prior_override_changes_the_built_model(tiny, name):
    value = 1.0
    for scale in (DEFAULT_PRIORS[name], 0.25):
        model = pe.OrdinalRaterModel(priors={name: scale}).build(tiny)
        with pytensor.config.change_flags(mode="FAST_COMPILE"):
            logp = float(pm.logp(model[name], value).eval())
        assert logp == pytest.approx(stats.halfnorm(scale=scale).logpdf(value), rel=1e-6)


def test_spec_round_trips_through_dict():
    spec = pe.OrdinalRaterModel(group_by=("region",), drift=True, thresholds="by_group",
                                covariates=("length",), priors={"beta_sd": 1.5})
    again = pe.OrdinalRaterModel.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.to_dict() == spec.to_dict()


def test_several_criteria_are_refused_not_pooled():
    judgments, _ = pe.simulate("small", seed=2, n_prompts=4, n_personas=6)
    table = judgments.table
    both = pd.concat([table.assign(criterion="helpful"),
                      table.assign(criterion="harmless", rating=6 - table["rating"])])
    stacked = pe.Judgments.from_frame(both, personas=judgments.personas, scale=[1, 2, 3, 4, 5])
    with pytest.raises(pe.ModelSpecError, match="2 criteria .* one model per criterion"):
        pe.OrdinalRaterModel().build(stacked)


def test_drift_time_is_the_position_range_scaled_to_unit():
    judgments, _ = pe.simulate("small", seed=2, n_prompts=4, n_personas=6)
    shifted = pe.Judgments.from_frame(judgments.table.assign(
        position=judgments.table["position"] + 1000), personas=judgments.personas,
        scale=[1, 2, 3, 4, 5])
    scaled = shifted.codes["position_scaled"]
    assert scaled.min() == 0 and scaled.max() == 1
    np.testing.assert_allclose(scaled, judgments.codes["position_scaled"])


def test_parameterisation_invalid_value_rejected_at_construction():
    with pytest.raises(ModelSpecError, match="valid: 'noncentred', 'auto'"):
        pe.OrdinalRaterModel(parameterisation="centred")


def test_auto_parameterisation_centres_data_rich_effects_only():
    from pluraleval.models.ordinal import CENTRED_MIN_JUDGMENTS, CENTRED_MIN_LEVELS
    judgments, _ = pe.simulate("small", seed=1, n_prompts=40, n_personas=36)
    n = judgments.n_judgments  # 160 outputs, 36 personas in 3 regions, 4 systems
    levels = {"eps": 160, "u": 36, "nu": 40, "gamma_region": 480, "lambda_region": 12}
    expected = {k: v >= CENTRED_MIN_LEVELS and n / v >= CENTRED_MIN_JUDGMENTS
                for k, v in levels.items()}
    # u and nu: enough levels, enough judgments each; lambda: enough judgments, too few levels
    assert expected == {"eps": False, "u": True, "nu": True, "gamma_region": False,
                        "lambda_region": False}
    assert pe.OrdinalRaterModel().resolved(judgments)["centred"] == expected  # the default
    plain = pe.OrdinalRaterModel(parameterisation="noncentred").resolved(judgments)
    assert not any(plain["centred"].values())
    names = {v.name for v in pe.OrdinalRaterModel().build(judgments).free_RVs}
    # nu: a centred zero-sum effect is the free variable itself; u: centred, then re-centred
    # within its group cells (u_z has scale sigma_persona); eps, lambda: non-centred
    assert {"nu", "u_z", "eps_z", "lambda_region_z"} <= names
    assert "nu_z" not in names


def test_both_parameterisations_give_the_same_prior():
    judgments, _ = pe.simulate("small", seed=1)
    draws = {p: pe.OrdinalRaterModel(parameterisation=p).sample_prior(judgments, seed=4,
                                                                      draws=3000)
             for p in ("auto", "noncentred")}
    for name in ("nu", "u", "lambda_region", "eps"):
        a, b = (draws[p][name].values.ravel() for p in draws)
        assert stats.ks_2samp(a, b).pvalue > 0.001, name
        np.testing.assert_allclose(a.std(), b.std(), rtol=0.05, err_msg=name)
