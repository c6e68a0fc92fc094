"""The simulator: reproducible, constrained like the model, and its draws follow its parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pluraleval as pe


def test_same_seed_same_study_other_seed_other_study():
    a_j, a_t = pe.simulate("small", seed=7)
    b_j, b_t = pe.simulate("small", seed=7)
    c_j, c_t = pe.simulate("small", seed=8)
    pd.testing.assert_frame_equal(a_j.table, b_j.table)
    pd.testing.assert_frame_equal(a_j.personas, b_j.personas)
    xr.testing.assert_identical(a_t, b_t)
    assert not a_t["nu"].equals(c_t["nu"])
    assert not np.array_equal(a_j.codes["rating"], c_j.codes["rating"])


def test_truth_uses_the_model_dims_and_the_judgments_order():
    judgments, truth = pe.simulate("demo", seed=1)
    assert truth["mu"].dims == ("system",)
    assert truth["lambda_region"].dims == ("system", "region")
    assert truth["gamma_age_band"].dims == ("output", "age_band")
    for dim in ("system", "prompt", "output", "persona", "region", "age_band", "cutpoint"):
        assert list(truth[dim].values) == list(judgments.coords[dim]), dim
    assert list(truth["beta"]["covariate"].values) == ["length"]


def test_truth_satisfies_the_model_constraints():
    judgments, t = pe.simulate("small", seed=3, attributes={"region": ["A", "B", "C"],
                                                            "age": ["y", "o"]})
    k = judgments.codes
    np.testing.assert_allclose(t["mu"].sum(), 0, atol=1e-12)
    np.testing.assert_allclose(t["nu"].sum(), 0, atol=1e-12)
    np.testing.assert_allclose(t["b_region"].sum(), 0, atol=1e-12)
    np.testing.assert_allclose(t["lambda_region"].sum("system"), 0, atol=1e-12)
    np.testing.assert_allclose(t["lambda_region"].sum("region"), 0, atol=1e-12)
    np.testing.assert_allclose(t["gamma_age"].sum("age"), 0, atol=1e-12)
    eps = pd.Series(t["eps"].values)
    np.testing.assert_allclose(eps.groupby(k["output_system"]).sum(), 0, atol=1e-12)
    np.testing.assert_allclose(eps.groupby(k["output_prompt"]).sum(), 0, atol=1e-12)
    gam = pd.DataFrame(t["gamma_region"].values)
    np.testing.assert_allclose(gam.groupby(k["output_system"]).sum(), 0, atol=1e-12)
    cell = pd.Series(list(zip(k["persona_region"], k["persona_age"], strict=True)))
    np.testing.assert_allclose(pd.Series(t["u"].values).groupby(cell).sum(), 0, atol=1e-12)


def test_group_mean_differences_track_the_true_group_biases():
    """A group with a larger (more severe) bias gives lower ratings on the same outputs."""
    judgments, truth = pe.simulate("small", seed=11, n_personas=60, n_prompts=20,
                                   attributes={"region": list("ABCDE")}, sd_group_bias=1.0,
                                   sd_system_by_group=0.0, sd_output_by_group=0.0)
    means = judgments.counts("region").set_index("region")["mean_rating_code"]
    bias = truth["b_region"].to_series()
    assert np.corrcoef(means.loc[bias.index], bias)[0, 1] < -0.9


def test_fixed_effects_design_and_mix_are_honoured():
    judgments, truth = pe.simulate("demo", seed=2)
    np.testing.assert_allclose(truth["mu"].values, [0.55, 0.45, 0.2, 0.0, -0.45, -0.75])
    share = judgments.personas["region"].value_counts(normalize=True)
    assert share["Europe"] == pytest.approx(2 / 3)
    seen = judgments.table.groupby("persona")["output"].nunique()
    assert (seen == round(0.95 * 240)).all()
    assert judgments.design().fill == pytest.approx(0.95, abs=0.01)


def test_binary_variants_and_drift():
    judgments, _ = pe.simulate("small", seed=4, n_levels=2)
    assert judgments.scale.levels == (0, 1)
    rep, _ = pe.simulate("small", seed=4, n_variants=3, sd_variant=0.3)
    assert rep.repeats and set(rep.table["variant"]) == {0, 1, 2}
    assert rep.n_judgments == 3 * judgments.n_judgments
    drifting, _ = pe.simulate("small", seed=4, drift_mean=3.0, n_personas=30)
    t = drifting.table
    early = t["position"] < t["position"].median()
    assert t.loc[early, "rating"].mean() > t.loc[~early, "rating"].mean() + 0.3


def test_bad_settings_are_clear_errors():
    with pytest.raises(pe.ModelSpecError, match="unknown preset 'huge'; valid presets"):
        pe.simulate("huge")
    with pytest.raises(pe.ModelSpecError, match="fraction_rated"):
        pe.simulate("small", fraction_rated=0.0)
    with pytest.raises(pe.ModelSpecError, match="system_quality needs 4 values"):
        pe.simulate("small", system_quality=[0.1, 0.2])
    with pytest.raises(pe.ModelSpecError, match="cutpoints must be 4 increasing"):
        pe.simulate("small", cutpoints=[1, 0, 2, 3])
