"""The fused ordered-logit Op equals PyMC's OrderedLogistic in value and gradient, under
PyTensor's default backend and the numba backend nutpie compiles. (The model's stored
log-likelihood, through this Op, is checked against the numpy likelihood in
test_predictive.py, with cutpoint sets and contested-output scales.)"""

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest

from pluraleval.models.likelihood import ordered_logit_logp

RNG = np.random.default_rng(7)


def _graphs(n_levels: int, n_sets: int):
    eta, w, cuts = pt.vector("eta"), pt.vector("w"), pt.matrix("cuts")
    y, idx = pt.lvector("y"), pt.lvector("idx")
    ours = ordered_logit_logp(y, eta, cuts, cut_index=idx, inv_scale=w)
    ref = pm.logp(pm.OrderedLogistic.dist(eta=eta * w, cutpoints=cuts[idx] * w[:, None],
                                          compute_p=False), y)
    wrt = [eta, cuts, w]
    outs = [[f.sum(), *pt.grad(f.sum(), wrt)] for f in (ours, ref)]
    return [eta, cuts, w, y, idx], outs


def _values(n: int, n_levels: int, n_sets: int):
    cuts = np.sort(RNG.normal(0, 2, size=(n_sets, n_levels - 1)), axis=1)
    return [RNG.normal(0, 3, n), cuts, RNG.uniform(0.3, 3, n),
            RNG.integers(0, n_levels, n), RNG.integers(0, n_sets, n)]


@pytest.mark.parametrize("mode", ["FAST_RUN", "NUMBA"])
@pytest.mark.parametrize(("n_levels", "n_sets"), [(5, 1), (7, 3), (2, 2)])
def test_value_and_gradient_match_ordered_logistic(mode, n_levels, n_sets):
    inputs, (ours, ref) = _graphs(n_levels, n_sets)
    f = pytensor.function(inputs, ours, mode=mode)
    g = pytensor.function(inputs, ref, mode=mode)
    values = _values(500, n_levels, n_sets)
    # OrderedLogistic subtracts category probabilities near 1 (cancellation ~1e-8 relative at
    # distances of ~20 logits); ours subtracts the small tail probabilities
    for a, b in zip(f(*values), g(*values), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def test_far_tails_stay_finite_with_exact_limits():
    """Log-probabilities of very unlikely categories are exact where OrderedLogistic's
    differences of probabilities round to zero."""
    eta, cuts = pt.vector("eta"), pt.matrix("cuts")
    y = pt.lvector("y")
    lp = ordered_logit_logp(y, eta, cuts, cut_index=pt.zeros(4, dtype="int64"))
    f = pytensor.function([eta, cuts, y], [lp, pt.grad(lp.sum(), eta)], mode="NUMBA")
    value, grad = f(np.array([50.0, -50.0, 40.0, -40.0]), np.array([[-1.0, 0.0, 1.0, 2.0]]),
                    np.array([0, 4, 1, 3]))
    # rating 0 at eta=50: log sigmoid(-1 - 50); top at eta=-50: log sigmoid(-(2 + 50))
    np.testing.assert_allclose(value[:2], [-51.0, -52.0])
    # a middle category 40 logits away: log(sigmoid(-40) - sigmoid(-41)), both ~e^-40
    expected = np.log(np.exp(-40.0) - np.exp(-41.0))
    np.testing.assert_allclose(value[2], expected, rtol=1e-9)
    np.testing.assert_allclose(value[3], np.log(np.exp(-41.0) - np.exp(-42.0)), rtol=1e-9)
    assert np.isfinite(grad).all()



def test_end_categories_exact_beyond_the_clipping_limit():
    eta, y = pt.vector("eta"), pt.lvector("y")
    cuts = pt.as_tensor_variable(np.array([[-1.0, 0.0, 1.0]]))
    lp = ordered_logit_logp(y, eta, cuts, cut_index=pt.zeros(2, dtype="int64"))
    f = pytensor.function([eta, y], [lp, pt.grad(lp.sum(), eta)], mode="NUMBA")
    value, grad = f(np.array([699.0, -705.0]), np.array([0, 3]))
    np.testing.assert_allclose(value, [-700.0, -706.0])  # log sigmoid(-1 - 699), (-(1 + 705))
    np.testing.assert_allclose(grad, [-1.0, 1.0])
