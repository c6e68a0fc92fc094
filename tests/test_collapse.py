"""Without persona-level terms, identical (output, group cell, rating) judgments enter the
likelihood once, weighted by their count: same posterior density, per-judgment LOO terms."""

import numpy as np
import pytest

import pluraleval as pe
from pluraleval.models.ordinal import judgment_cells
from pluraleval.predictive import judgment_probabilities

SPEC = dict(persona_severity=False, group_by=["region"])


@pytest.fixture(scope="module")
def study():
    judgments, _ = pe.simulate("small", seed=8, n_personas=30)
    return judgments


def test_collapsed_model_has_the_same_density(study):
    spec = pe.OrdinalRaterModel(**SPEC)
    collapsed, full = spec.build(study), spec.build(study, collapse=False)
    rows, counts, cell = judgment_cells(study, spec.resolved(study))
    assert counts.sum() == study.n_judgments and len(rows) < study.n_judgments / 2
    assert len(collapsed.coords["cell"]) == len(rows) and "judgment" not in collapsed.coords
    rng = np.random.default_rng(0)
    point = {name: value + rng.normal(0, 0.3, np.shape(value))  # any point will do
             for name, value in collapsed.initial_point().items()}
    values = [m.compile_logp()(point) for m in (collapsed, full)]
    np.testing.assert_allclose(values[0], values[1], rtol=1e-10)


def test_persona_terms_switch_collapsing_off(study):
    spec = pe.OrdinalRaterModel(group_by=["region"])
    assert judgment_cells(study, spec.resolved(study)) is None
    assert "judgment" in spec.build(study).coords


def test_collapsed_fit_stores_per_judgment_log_likelihood(study):
    fit = pe.OrdinalRaterModel(**SPEC).fit(study, draws=60, tune=100, chains=2,
                                            random_seed=1, progressbar=False)
    stored = fit.tree["log_likelihood"]["y"]
    assert stored.sizes["judgment"] == study.n_judgments
    probs = judgment_probabilities(fit)
    codes = study.codes["rating"]
    mine = np.log(probs[:, np.arange(len(codes)), codes])
    np.testing.assert_allclose(
        mine, stored.stack(sample=("chain", "draw")).transpose("sample", "judgment").values,
        rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(fit.tree["observed_data"]["y"].values, codes)
