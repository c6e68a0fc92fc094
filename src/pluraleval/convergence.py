"""Rank-normalised R-hat and bulk/tail ESS of many parameters at once.

The definitions are ArviZ's (Vehtari et al. 2021; arviz-stats ``rhat(method="rank")``,
``ess(method="bulk")`` and ``ess(method="tail")``), computed on one ``(chain, draw,
parameter)`` array with every step vectorised over parameters. arviz-stats loops over
parameters in Python: on a 20k-judgment fit (3,800 parameters) that took 7.6 s of a 60-s fit,
and it grows with the number of parameters. tests/test_convergence.py checks equality with
arviz-stats.
"""

from __future__ import annotations

import numpy as np
from arviz_base import rcParams
from scipy.fft import irfft, next_fast_len, rfft
from scipy.special import ndtri
from scipy.stats import rankdata

__all__ = ["rank_diagnostics"]

def rank_diagnostics(samples: np.ndarray) -> dict[str, np.ndarray]:
    """R-hat (rank-normalised, bulk and folded), bulk ESS and tail ESS per parameter.

    Parameters
    ----------
    samples : numpy.ndarray, shape (chain, draw, parameter)
        At least 4 draws per chain.

    Returns
    -------
    dict
        ``r_hat``, ``ess_bulk`` and ``ess_tail``, each of shape ``(parameter,)``; NaN where a
        parameter has a NaN draw, and R-hat NaN where it is constant or there is one chain,
        as in ArviZ.
    """
    x = np.asarray(samples, dtype=float)
    if x.ndim != 3 or x.shape[1] < 4:
        raise ValueError(f"samples must be (chain, draw >= 4, parameter); got {x.shape}.")
    split = _split_chains(x)
    folded = np.abs(split - np.median(split, axis=(0, 1)))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = _z_scale(split)
        bulk_rhat, tail_rhat = _rhat(z), _rhat(_z_scale(folded))
        # as ArviZ's max(bulk, tail): a NaN folded R-hat (all folded draws equal, e.g. a
        # two-valued parameter split evenly about its median) leaves the bulk one
        r_hat = np.where(np.isnan(tail_rhat), bulk_rhat, np.maximum(bulk_rhat, tail_rhat))
        bulk = _ess(z)
        prob = rcParams["stats.ci_prob"]  # ArviZ's tail ESS: quantiles (1 - prob) and prob
        q = np.quantile(x.reshape(-1, x.shape[2]), sorted((prob, 1 - prob)), axis=0)
        tail = np.minimum(*(_ess(_split_chains((x <= qi).astype(float))) for qi in q))
    if x.shape[0] < 2:
        r_hat[:] = np.nan
    bad = np.isnan(x).any(axis=(0, 1))
    for value in (r_hat, bulk, tail):
        value[bad] = np.nan
    return {"r_hat": r_hat, "ess_bulk": bulk, "ess_tail": tail}


def _split_chains(x: np.ndarray) -> np.ndarray:
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, -half:]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks (Blom's offset 3/8), per parameter."""
    m, n, p = x.shape
    # ranked along contiguous rows (one per parameter): much faster than down the columns
    rows = np.ascontiguousarray(x.reshape(m * n, p).T)
    ranks = rankdata(rows, method="average", axis=1).T
    return ndtri((ranks - 3 / 8) / (m * n - 2 * 3 / 8 + 1)).reshape(m, n, p)


def _rhat(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    between = n * np.var(x.mean(axis=1), axis=0, ddof=1)
    within = np.mean(np.var(x, axis=1, ddof=1), axis=0)
    return np.sqrt((between / within + n - 1) / n)


def _autocov(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    m = next_fast_len(2 * n)
    f = rfft(x - x.mean(axis=1, keepdims=True), n=m, axis=1)
    return irfft(f * np.conjugate(f), n=m, axis=1)[:, :n] / n


def _ess(x: np.ndarray) -> np.ndarray:
    """Geyer's initial monotone sequence estimator, per parameter (ArviZ's ``_ess``)."""
    m, n, p = x.shape
    acov = _autocov(x)
    mean_var = acov[:, 0].mean(axis=0) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + np.var(x.mean(axis=1), axis=0, ddof=1)
    rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # (lag, parameter)

    # initial positive sequence: pairs of lags while their sum stays positive
    rho_t = np.zeros((n, p))
    rho_t[0] = 1.0
    even, odd = np.ones(p), rho[1].copy()
    rho_t[1] = odd
    last = np.ones(p, dtype=int)  # t after each parameter's loop
    active = even + odd > 0
    t = 1
    while t < n - 3 and active.any():
        e, o = rho[t + 1], rho[t + 2]
        even, odd = np.where(active, e, even), np.where(active, o, odd)
        keep = active & (e + o >= 0)
        rho_t[t + 1] = np.where(keep, e, rho_t[t + 1])
        rho_t[t + 2] = np.where(keep, o, rho_t[t + 2])
        last = np.where(active, t + 2, last)
        active &= e + o > 0
        t += 2
    max_t = last - 2
    cols = np.arange(p)
    rho_t[max_t + 1, cols] = np.where(even > 0, even, rho_t[max_t + 1, cols])

    # initial monotone sequence: pair sums never increase
    t = 1
    while t <= max_t.max() - 2:
        prev = rho_t[t - 1] + rho_t[t]
        lower = (t <= max_t - 2) & (rho_t[t + 1] + rho_t[t + 2] > prev)
        rho_t[t + 1] = np.where(lower, prev / 2, rho_t[t + 1])
        rho_t[t + 2] = np.where(lower, prev / 2, rho_t[t + 2])
        t += 2

    total = m * n
    summed = np.cumsum(rho_t, axis=0)
    head = np.where(max_t >= 0, summed[np.maximum(max_t, 0), cols], 0.0)
    tau = np.maximum(-1.0 + 2.0 * head + rho_t[max_t + 1, cols], 1 / np.log10(total))
    ess = total / tau
    ess[np.isnan(rho_t).any(axis=0)] = np.nan
    ess[(x.max(axis=(0, 1)) - x.min(axis=(0, 1))) < np.finfo(float).resolution] = total
    return ess
