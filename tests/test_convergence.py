"""The vectorised diagnostics equal arviz-stats' rank R-hat, bulk ESS and tail ESS."""

import arviz as az
import numpy as np
import pytest
import xarray as xr

from pluraleval.convergence import rank_diagnostics


def _chains(n_chains: int, n_draws: int, seed: int) -> np.ndarray:
    """AR(1) chains with autocorrelations from -0.6 (antithetic) to 0.97, shifted chains
    (R-hat > 1), heavy tails, a discrete parameter (rank ties) and a constant one."""
    rng = np.random.default_rng(seed)
    phis = [-0.6, 0.0, 0.3, 0.8, 0.97]
    cols = []
    for phi in phis:
        e = rng.standard_normal((n_chains, n_draws))
        z = np.empty_like(e)
        z[:, 0] = e[:, 0]
        for t in range(1, n_draws):
            z[:, t] = phi * z[:, t - 1] + e[:, t]
        cols.append(z)
    cols.append(rng.standard_normal((n_chains, n_draws)) + np.arange(n_chains)[:, None] * 0.5)
    cols.append(rng.standard_t(2, (n_chains, n_draws)))
    cols.append(rng.integers(0, 4, (n_chains, n_draws)).astype(float))
    cols.append(np.full((n_chains, n_draws), 3.0))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize(("n_chains", "n_draws", "seed"),
                         [(2, 1000, 0), (4, 301, 1), (3, 40, 2), (1, 200, 4)])
def test_equal_to_arviz(n_chains, n_draws, seed):
    x = _chains(n_chains, n_draws, seed)
    ours = rank_diagnostics(x)
    da = xr.DataArray(x, dims=("chain", "draw", "p"))
    ref = {"r_hat": az.rhat(da), "ess_bulk": az.ess(da, method="bulk"),
           "ess_tail": az.ess(da, method="tail")}
    for key, value in ref.items():
        np.testing.assert_allclose(ours[key], value.to_numpy(), rtol=1e-9, equal_nan=True,
                                   err_msg=key)
    assert np.isnan(ours["r_hat"][-1])  # constant: undefined, as in ArviZ
    assert np.isnan(ours["r_hat"]).all() == (n_chains == 1)


def test_nan_draws_give_nan():
    x = _chains(2, 100, 3)
    x[0, 5, 1] = np.nan
    out = rank_diagnostics(x)
    assert all(np.isnan(out[k][1]) for k in out)
    assert np.isfinite(out["ess_bulk"][0])


def test_shape_error_names_the_requirement():
    with pytest.raises(ValueError, match="draw >= 4"):
        rank_diagnostics(np.zeros((2, 3, 3)))


@pytest.mark.parametrize("chains", [
    [[0, 1, 1, 0, 0, 1], [1, 0, 0, 1, 1, 0]],  # folded draws all equal: R-hat is the bulk one
    [[0, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0]],
    np.repeat([[0.0], [1.0]], 1000, axis=1),  # two chains stuck at different values
])
def test_two_valued_parameters_match_arviz(chains):
    x = np.asarray(chains, dtype=float)[:, :, None]
    ours = rank_diagnostics(x)["r_hat"][0]
    ref = float(az.rhat(xr.DataArray(x[:, :, 0], dims=("chain", "draw"))))
    assert not np.isnan(ours)
    np.testing.assert_allclose(ours, ref, rtol=1e-9)
