"""Tests of the disagreement summaries: variance decomposition, contested and polarised outputs.

Fast tests share ONE tiny module-scoped fit (3 systems × 6 prompts, 12 personas over region ×
age_band, fully crossed: 216 judgments; 2 chains × 50 draws with PyMC's NUTS, so it fails the
diagnostics gate, which is not under test). Its judgments carry two planted outputs: one that
region A rates 5 and region C rates 1 (polarised), one whose ratings split 1/5 inside every
persona cell (contested). Every summary is checked against the same quantity computed by hand
from the posterior draws. The slow test fits a ~1.4k-judgment study and checks that the
variance shares' intervals cover the shares computed from the simulator's truth.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import pluraleval as pe
from pluraleval.errors import ModelSpecError
from pluraleval.summaries.disagreement import (
    LOGISTIC_VARIANCE,
    Disagreement,
    disagreement,
    variance_components,
)

SAMPLE_DIMS = ("chain", "draw")
ATTRIBUTES = {"region": ["A", "B", "C"], "age_band": ["old", "young"]}
POLARISED = "sys2:p003"
CONTESTED = "sys1:p005"


# ---------------------------------------------------------------------- fixtures and helpers
def planted_judgments() -> pe.Judgments:
    """A small simulated study with a planted polarised and a planted contested output, plus a
    ``text`` column (constant per output) and a ``comment`` column (varying per judgment)."""
    judgments, _ = pe.simulate("small", seed=3, n_systems=3, n_prompts=6, n_personas=12,
                               attributes=ATTRIBUTES, fraction_rated=1.0,
                               covariates={"length": 0.3})
    table = judgments.table.copy()
    personas = judgments.personas
    region = table["persona"].map(personas.set_index("persona")["region"])
    pol = table["output"] == POLARISED
    table.loc[pol, "rating"] = region[pol].map({"A": 5, "B": 3, "C": 1})
    # two personas per region x age_band cell, listed cell by cell: alternate within cells
    number = table["persona"].str[-3:].astype(int)
    con = table["output"] == CONTESTED
    table.loc[con, "rating"] = np.where(number[con] % 2 == 0, 5, 1)
    table["text"] = "response to " + table["prompt"] + " by " + table["system"]
    table["comment"] = [f"c{i}" for i in range(len(table))]
    return pe.Judgments.from_frame(table, personas=personas, covariates=["length"],
                                   scale=[1, 2, 3, 4, 5])


@pytest.fixture(scope="module")
def fit() -> pe.Fit:
    model = pe.OrdinalRaterModel(covariates=["length"], contested_outputs=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DiagnosticsWarning and "too few samples" on purpose
        return model.fit(planted_judgments(), draws=50, tune=50, chains=2, random_seed=3,
                         sampler="pymc", progressbar=False)


@pytest.fixture(scope="module")
def result(fit) -> Disagreement:
    return disagreement(fit, top=5)


def judgment_shares(codes: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes, minlength=n) / len(codes)


def weighted_variance(values: xr.DataArray, dim: str, weights: np.ndarray) -> xr.DataArray:
    w = xr.DataArray(weights, dims=dim, coords={dim: values[dim].values})
    mean = (values * w).sum(dim)
    return (values ** 2 * w).sum(dim) - mean ** 2


# ---------------------------------------------------------------------- variance decomposition
def test_shares_sum_to_one_per_draw(result):
    shares = result.draws["share"]
    np.testing.assert_allclose(shares.sum("component").values, 1.0, rtol=1e-12)
    assert abs(result.variance["share"].sum() - 1) < 1e-12
    table = result.variance
    assert ((table["share_lower"] <= table["share"]) & (table["share"] <= table["share_upper"])
            ).all()
    assert (table["variance"] > 0).all()


def test_components_match_the_fits_terms(fit, result):
    table = result.variance
    assert table.columns.tolist() == ["component", "term", "attribute", "parameter",
                                      "variance", "share", "share_lower", "share_upper"]
    expected = ["system", "prompt", "output", "covariates",
                "group_bias[region]", "group_bias[age_band]",
                "system_x_group[region]", "system_x_group[age_band]",
                "output_x_group[region]", "output_x_group[age_band]", "persona", "residual"]
    assert sorted(table["component"]) == sorted(expected)
    post = fit.posterior
    for row in table.itertuples():
        if row.term != "residual":
            assert row.parameter in post, row
    assert table.set_index("component").loc["residual", "parameter"] == "zeta"
    assert "drift" not in set(table["term"])  # absent from the fit: omitted, not zero-filled
    # a fit without prompts and output x region effects loses exactly those rows
    reduced = variance_components(post.drop_vars(["nu", "gamma_region"]), fit.judgments)
    assert set(expected) - set(reduced["component"].values) == {"prompt",
                                                                 "output_x_group[region]"}
    assert table.attrs["converged"] is fit.converged is False
    assert result.converged is fit.converged


def test_system_component_by_hand(fit, result):
    k = fit.judgments.codes
    system = k["output_system"][k["output"]]
    by_hand = weighted_variance(fit.draws("mu"), "system",
                                judgment_shares(system, fit.judgments.n_levels("system")))
    got = result.draws["variance"].sel(component="system")
    np.testing.assert_allclose(got.values, by_hand.transpose(*SAMPLE_DIMS).values, rtol=1e-9)


def test_output_by_group_component_by_hand(fit, result):
    k = fit.judgments.codes
    gamma = fit.draws("gamma_region").transpose(*SAMPLE_DIMS, "output", "region").values
    region = k["persona_region"][k["persona"]]
    per_judgment = gamma[:, :, k["output"], region]
    by_hand = per_judgment.var(axis=-1)
    got = result.draws["variance"].sel(component="output_x_group[region]").values
    np.testing.assert_allclose(got, by_hand, rtol=1e-9)


def test_residual_and_shares_by_hand(fit, result):
    o = fit.judgments.codes["output"]
    zeta = fit.draws("zeta").transpose(*SAMPLE_DIMS, "output").values
    residual = LOGISTIC_VARIANCE * np.exp(2 * zeta[:, :, o]).mean(-1)
    var = result.draws["variance"]
    np.testing.assert_allclose(var.sel(component="residual").values, residual, rtol=1e-9)
    share = (var.sel(component="persona") / var.sum("component")).values.ravel()
    row = result.variance.set_index("component").loc["persona"]
    assert row["share"] == pytest.approx(share.mean())
    assert row["share_lower"] == pytest.approx(np.quantile(share, 0.05))
    assert row["share_upper"] == pytest.approx(np.quantile(share, 0.95))


def test_discrimination_drift_and_group_thresholds_on_known_parameters():
    """Terms a tiny fit does not carry, on hand-made parameter sets (no sampling)."""
    judgments, truth = pe.simulate("small", seed=4, n_systems=3, n_prompts=4, n_personas=9,
                                   sd_log_discrimination=0.4, drift_mean=0.5, sd_drift=0.3)
    k = judgments.codes
    r, s = k["persona"], k["output_system"][k["output"]]
    params = truth[["mu", "alpha", "drift", "u"]]
    var = variance_components(params, judgments)["variance"].squeeze(SAMPLE_DIMS)
    alpha, mu = truth["alpha"].values, truth["mu"].values
    assert float(var.sel(component="system")) == pytest.approx(np.var(alpha[r] * mu[s]))
    pos = k["position"] / k["position"].max()
    assert float(var.sel(component="drift")) == pytest.approx(
        np.var(truth["drift"].values[r] * pos))
    assert float(var.sel(component="residual")) == pytest.approx(LOGISTIC_VARIANCE)
    # thresholds by region: the group bias is the spread of the groups' mean cutpoints
    cut = xr.DataArray(np.array([[-1.0, 0.0, 1.0, 2.0], [-2.0, -1.0, 0.0, 1.0],
                                 [0.0, 1.0, 2.0, 3.0]]), dims=("region", "cutpoint"),
                       coords={"region": judgments.coords["region"],
                               "cutpoint": judgments.coords["cutpoint"]})
    var = variance_components(xr.Dataset({"mu": truth["mu"], "cutpoints": cut}),
                              judgments)["variance"].squeeze(SAMPLE_DIMS)
    level = cut.mean("cutpoint").values[k["persona_region"][r]]
    assert var["parameter"].sel(component="group_bias[region]") == "cutpoints"
    assert float(var.sel(component="group_bias[region]")) == pytest.approx(np.var(level))


# ---------------------------------------------------------------------- contested and polarised
def test_polarised_ranking_by_hand(fit, result):
    post = fit.posterior
    s_out = xr.DataArray(fit.judgments.codes["output_system"], dims="output")
    view = post["gamma_region"] + post["lambda_region"].isel(system=s_out).drop_vars("system")
    gap = view.max("region") - view.min("region")
    mean = gap.mean(SAMPLE_DIMS).to_series().sort_values(ascending=False)
    table = result.polarised[result.polarised["attribute"] == "region"]
    assert table["output"].tolist() == mean.index[:5].tolist()
    np.testing.assert_allclose(table["gap"], mean.iloc[:5].to_numpy())
    p = (gap > 0.5).mean(SAMPLE_DIMS).to_series()
    np.testing.assert_allclose(table["p_gap"], p.loc[table["output"]].to_numpy())
    assert len(result.polarised) == 10 and set(result.polarised["attribute"]) == set(ATTRIBUTES)


def test_planted_polarised_output_comes_out_on_top(result):
    top = result.polarised[result.polarised["attribute"] == "region"].iloc[0]
    assert top["output"] == POLARISED
    assert (top["high_group"], top["low_group"]) == ("A", "C")
    # a 2 x 50-draw fit: the gap is shrunk by sigma_gamma's prior, so only a loose bound
    assert top["p_gap"] > 0.5 and top["gap_lower"] > 0


def test_planted_contested_output_comes_out_on_top(result):
    table = result.contested
    assert table.iloc[0]["output"] == CONTESTED
    assert table.iloc[0]["observed_sd"] == pytest.approx(2.0)  # 1 and 5 in every cell
    assert table["within_sd"].is_monotonic_decreasing
    assert table.iloc[0]["p_contested"] > 0.9
    assert ((table["within_sd_lower"] <= table["within_sd"])
            & (table["within_sd"] <= table["within_sd_upper"])).all()


def test_tables_keep_the_users_output_columns(result):
    for table in (result.contested, result.polarised):
        assert {"output", "system", "prompt", "text", "length"} <= set(table.columns)
        assert "comment" not in table.columns  # varies within outputs: not an output column
        assert "rating" not in table.columns and "persona" not in table.columns
    row = result.polarised.iloc[0]
    assert row["text"] == f"response to {row['prompt']} by {row['system']}"


def test_options_and_errors(fit):
    narrow = disagreement(fit, prob=0.5, top=1)
    wide = disagreement(fit, prob=0.99, top=1)
    assert len(narrow.contested) == 1 and len(narrow.polarised) == 2
    assert (narrow.variance["share_upper"] - narrow.variance["share_lower"]
            < wide.variance["share_upper"] - wide.variance["share_lower"]).all()
    for bad in ({"prob": 1.0}, {"prob": 0}, {"top": 0}):
        with pytest.raises(ModelSpecError):
            disagreement(fit, **bad)


def test_no_group_effects_gives_an_empty_polarised_table(fit):
    post = fit.posterior.drop_vars([v for v in fit.posterior.data_vars
                                    if v.startswith(("gamma_", "lambda_"))])
    other = pe.Fit(fit.tree.copy(), fit.judgments, fit.spec)
    other.tree["posterior"] = post
    res = disagreement(other)
    assert res.polarised.empty and "note" in res.polarised.attrs
    assert not any(res.variance["term"].isin(["system_x_group", "output_x_group"]))


# ---------------------------------------------------------------------- coverage of the truth
MAIN = ["system", "prompt", "output", "group_bias[region]", "group_bias[age_band]", "persona",
        "residual"]


@pytest.mark.slow
def test_variance_shares_cover_the_true_shares():
    judgments, truth = pe.simulate(
        "small", seed=21, n_systems=5, n_prompts=10, n_personas=48, fraction_rated=0.6,
        attributes={"region": ["A", "B", "C", "D"], "age_band": ["18-29", "30-49", "50+"]},
        sd_group_bias=0.8, sd_system_by_group=0.4, sd_output_by_group=0.3, sd_persona=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pe.OrdinalRaterModel().fit(judgments, draws=500, tune=500, chains=4,
                                         random_seed=21, progressbar=False)
    table = disagreement(fit).variance.set_index("component")
    wide = disagreement(fit, prob=0.95).variance.set_index("component")
    true = variance_components(truth[[v for v in fit.posterior.data_vars if v in truth]],
                               judgments)["share"].squeeze(SAMPLE_DIMS).to_series()
    table["true_share"] = true
    table["covered90"] = (table["share_lower"] <= true) & (true <= table["share_upper"])
    table["covered95"] = (wide["share_lower"] <= true) & (true <= wide["share_upper"])
    print(f"\n{judgments.n_judgments} judgments; converged: {fit.converged}; "
          f"problems: {fit.check(warn=False)[:3]}")
    print(table[["variance", "share", "share_lower", "share_upper", "true_share", "covered90",
                 "covered95"]].round(4).to_string())
    assert set(true.index) == set(table.index)
    # seven main components judged jointly: all inside the 95% intervals, at most one
    # outside its 90% interval (one miss in seven is what 90% intervals are for)
    assert table.loc[MAIN, "covered95"].all()
    assert table.loc[MAIN, "covered90"].sum() >= len(MAIN) - 1
