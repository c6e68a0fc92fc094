"""Posterior leaderboard: system quality with intervals, ranks and P(best)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit

from ..errors import ModelSpecError
from ..fit import Fit

__all__ = ["leaderboard", "expected_rating"]

SAMPLE_DIMS = ("chain", "draw")


def leaderboard(fit: Fit, *, prob: float = 0.9) -> pd.DataFrame:
    """Posterior leaderboard of systems (equal weight on every persona group).

    Parameters
    ----------
    fit : Fit
        A fit whose judgments have a ``system`` column.
    prob : float
        Mass of the highest-density intervals.

    Returns
    -------
    pandas.DataFrame
        Sorted by posterior mean quality; columns ``system``, ``quality`` (latent logit
        scale), ``quality_lower``/``quality_upper``, ``expected_rating`` (on the rating scale,
        for a typical persona on an average prompt) with its interval, ``p_best``,
        ``expected_rank``, ``rank_lower``/``rank_upper``. ``attrs["converged"]`` carries the
        fit's diagnostics verdict.

    Examples
    --------
    >>> import pluraleval as pe
    >>> judgments, _ = pe.simulate("small", seed=1)
    >>> fit = pe.OrdinalRaterModel().fit(judgments, draws=50, tune=50, chains=2,
    ...                                  random_seed=1, progressbar=False)  # doctest: +SKIP
    >>> pe.leaderboard(fit).columns[:3].tolist()  # doctest: +SKIP
    ['system', 'quality', 'quality_lower']
    """
    if "mu" not in fit.posterior:
        raise ModelSpecError("this fit has no system quality (no 'system' column in the "
                             "judgments), so there is no leaderboard to rank.")
    mu = fit.draws("mu")
    rating = expected_rating(fit, mu)
    ranks = _ranks(mu)
    hdi_q = az.hdi(mu, prob=prob, dim=list(SAMPLE_DIMS))
    hdi_r = az.hdi(rating, prob=prob, dim=list(SAMPLE_DIMS))
    rank_lo = ranks.quantile((1 - prob) / 2, dim=SAMPLE_DIMS, method="lower")
    rank_hi = ranks.quantile(1 - (1 - prob) / 2, dim=SAMPLE_DIMS, method="higher")
    table = pd.DataFrame({
        "system": mu["system"].values,
        "quality": mu.mean(SAMPLE_DIMS).values,
        "quality_lower": hdi_q.sel(ci_bound="lower").values,
        "quality_upper": hdi_q.sel(ci_bound="upper").values,
        "expected_rating": rating.mean(SAMPLE_DIMS).values,
        "rating_lower": hdi_r.sel(ci_bound="lower").values,
        "rating_upper": hdi_r.sel(ci_bound="upper").values,
        "p_best": (ranks == 1).mean(SAMPLE_DIMS).values,
        "expected_rank": ranks.mean(SAMPLE_DIMS).values,
        "rank_lower": rank_lo.values.astype(int),
        "rank_upper": rank_hi.values.astype(int),
    })
    table = table.sort_values("quality", ascending=False, ignore_index=True)
    table.attrs["converged"] = fit.converged
    table.attrs["prob"] = prob
    return table


def expected_rating(fit: Fit, quality: xr.DataArray) -> xr.DataArray:
    """Expected rating (in the scale's numeric levels, or codes 1..K for text labels) for a
    latent quality, for a persona of average severity on an average prompt."""
    cut = fit.draws("cutpoints")
    extra = [d for d in cut.dims if d not in (*SAMPLE_DIMS, "cutpoint")]
    if extra:  # thresholds by group: average the group-specific cutpoints
        cut = cut.mean(extra)
    levels = fit.judgments.scale.levels
    values = np.asarray(levels, float) if fit.judgments.scale.numeric else \
        np.arange(1, len(levels) + 1, dtype=float)
    # P(y <= k) = logistic(c_k - eta); E[y] = v_0 + sum_k (v_{k+1} - v_k) P(y > k)
    above = 1 - xr.apply_ufunc(expit, cut - quality)
    steps = xr.DataArray(np.diff(values), dims="cutpoint", coords={"cutpoint": cut["cutpoint"]})
    return values[0] + (above * steps).sum("cutpoint")


def _ranks(quality: xr.DataArray) -> xr.DataArray:
    """Rank of each system in each draw (1 = best)."""
    values = quality.transpose(*SAMPLE_DIMS, "system").values
    ranks = (-values).argsort(axis=-1).argsort(axis=-1) + 1
    return xr.DataArray(ranks, dims=(*SAMPLE_DIMS, "system"),
                        coords={"system": quality["system"].values})
