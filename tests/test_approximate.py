"""The scale path: mean-field ADVI through ``fit(method="advi")``."""

import numpy as np
import pytest

import pluraleval as pe
from pluraleval.errors import ModelSpecError


@pytest.fixture(scope="module")
def advi_fit():
    judgments, truth = pe.simulate("small", seed=5, n_personas=24)
    fit = pe.OrdinalRaterModel().fit(judgments, method="advi", draws=400, random_seed=2,
                                     progressbar=False)
    return fit, truth


def test_advi_fit_is_a_full_fit(advi_fit, tmp_path):
    fit, _ = advi_fit
    assert fit.method == "advi" and fit.converged and fit.check(warn=False) == []
    assert dict(fit.posterior.sizes)["chain"] == 1 and fit.n_draws == 400
    assert "log_likelihood" not in fit.tree.children
    assert {"mu", "eps", "u", "cutpoints"} <= set(fit.posterior.data_vars)
    assert not any(v.endswith("_z") for v in fit.posterior.data_vars)
    board = pe.leaderboard(fit)
    assert len(board) == 4 and board["quality_lower"].lt(board["quality_upper"]).all()
    again = pe.load_fit(fit.save(tmp_path / "advi.nc"))
    assert again.method == "advi" and again.converged
    assert again.posterior.identical(fit.posterior)


def test_advi_recovers_system_quality(advi_fit):
    fit, truth = advi_fit
    est = fit.posterior["mu"].mean(("chain", "draw"))
    assert np.corrcoef(est, truth["mu"].sel(system=est["system"]))[0, 1] > 0.9


def test_unknown_method_lists_the_valid_ones():
    judgments, _ = pe.simulate("small", seed=1)
    with pytest.raises(ModelSpecError, match=r"valid methods: \['nuts', 'advi'\]"):
        pe.OrdinalRaterModel().fit(judgments, method="vi")


def test_iteration_limit_is_reported_as_not_converged():
    from pluraleval.models.approximate import advi
    from pluraleval.models.ordinal import start_values
    judgments, _ = pe.simulate("small", seed=1)
    model = pe.OrdinalRaterModel().build(judgments)
    tree = advi(model, draws=10, random_seed=1, initvals=start_values(model, judgments),
                progressbar=False,
                max_iterations=300, window=100, tolerance=-1.0)  # never "settled"
    assert tree.attrs["converged"] == 0 and tree.attrs["iterations"] == 300


@pytest.mark.slow
def test_advi_matches_nuts_on_system_quality():
    """On a 10k-judgment study of the default design, ADVI's system-quality posterior sits
    where NUTS's does (means within 0.75 NUTS sd; sds within -40% / +30%)."""
    import warnings
    spec = pe.StudySpec(n_systems=5, n_prompts=62, n_personas=40, fraction_rated=0.8,
                        attributes={"group": ["a", "b", "c", "d"]})
    judgments, _ = pe.simulate(spec, seed=31)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nuts = pe.OrdinalRaterModel().fit(judgments, chains=2, draws=1000, random_seed=3,
                                          progressbar=False)
    advi = pe.OrdinalRaterModel().fit(judgments, method="advi", random_seed=3,
                                      progressbar=False)
    assert advi.converged
    m_n, m_a = (f.posterior["mu"].mean(("chain", "draw")) for f in (nuts, advi))
    s_n, s_a = (f.posterior["mu"].std(("chain", "draw")) for f in (nuts, advi))
    assert float((abs(m_a - m_n) / s_n).max()) < 0.75
    assert 0.6 < float((s_a / s_n).min()) and float((s_a / s_n).max()) < 1.3
