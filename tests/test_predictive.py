"""Posterior predictions: the numpy linear predictor equals the model's own likelihood."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pluraleval as pe
from pluraleval.predictive import judgment_probabilities, ppc, rating_probabilities


@pytest.fixture(scope="module")
def rich_fit() -> pe.Fit:
    """Every optional term on: discrimination, contested outputs, drift, thresholds by group."""
    judgments, _ = pe.simulate("small", seed=5, n_prompts=4, n_personas=9,
                               attributes={"region": ["A", "B", "C"], "age": ["y", "o"]},
                               covariates={"length": 0.3}, drift_mean=0.5)
    model = pe.OrdinalRaterModel(persona_discrimination=True, contested_outputs=True,
                                 drift=True, thresholds="by_group", covariates=["length"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(judgments, draws=25, tune=25, chains=2, sampler="pymc",
                         random_seed=3, progressbar=False)


def test_judgment_probabilities_match_stored_log_likelihood(rich_fit):
    probs = judgment_probabilities(rich_fit)
    codes = rich_fit.judgments.codes["rating"]
    mine = np.log(probs[:, np.arange(len(codes)), codes])
    stored = rich_fit.tree["log_likelihood"]["y"].stack(sample=("chain", "draw"))
    stored = stored.transpose("sample", "judgment").values
    np.testing.assert_allclose(mine, stored, rtol=1e-7, atol=1e-8)


def test_thinned_draws_are_a_subset(rich_fit):
    full = judgment_probabilities(rich_fit)
    some = judgment_probabilities(rich_fit, n_draws=7, seed=1)
    assert some.shape == (7, *full.shape[1:])
    matches = [np.flatnonzero(np.all(np.isclose(full, row), axis=(1, 2))) for row in some]
    assert all(len(m) == 1 for m in matches)


def test_rating_probabilities_by_group(rich_fit):
    j = rich_fit.judgments
    table = rating_probabilities(rich_fit, by="region")
    assert list(table.columns) == ["output", "region", "rating", "p", "p_lower", "p_upper"]
    assert len(table) == j.n_levels("output") * 3 * j.scale.n_levels
    sums = table.groupby(["output", "region"])["p"].sum()
    np.testing.assert_allclose(sums.values, 1.0)
    tol = 1e-12
    assert ((table["p_lower"] <= table["p"] + tol) & (table["p"] <= table["p_upper"] + tol)).all()
    pooled = rating_probabilities(rich_fit)
    assert "region" not in pooled and len(pooled) == j.n_levels("output") * j.scale.n_levels
    with pytest.raises(pe.ModelSpecError, match="not a modelled attribute"):
        rating_probabilities(rich_fit, by="planet")


def test_ppc_compares_observed_and_replicated_shares(rich_fit):
    j = rich_fit.judgments
    table = ppc(rich_fit, by="region", n_draws=40, seed=2)
    assert set(table["region"]) == set(j.coords["region"])
    per_group = table.groupby("region")
    np.testing.assert_allclose(per_group["observed"].sum().values, 1.0)
    np.testing.assert_allclose(per_group["predicted"].sum().values, 1.0)
    counts = j.counts("region").set_index("region")["n_judgments"]
    assert (per_group["n_judgments"].first() == counts).all()
    observed = np.bincount(j.codes["rating"], minlength=j.scale.n_levels) / j.n_judgments
    overall = ppc(rich_fit, n_draws=40, seed=2)
    np.testing.assert_allclose(overall["observed"].values, observed)
    # the model was fitted to these data: most observed shares sit inside the 90% band
    assert overall["inside"].mean() >= 0.6
    assert len(ppc(rich_fit, by="system", n_draws=10)) == j.n_levels("system") * 5
    with pytest.raises(pe.ModelSpecError, match="valid are"):
        ppc(rich_fit, by="planet")
