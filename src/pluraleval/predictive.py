"""Posterior predictions of the ordinal rater model: category probabilities and the PPC.

The linear predictor comes from :mod:`pluraleval.terms` (one numpy implementation, checked
against the sampler's stored log-likelihood in ``tests/test_predictive.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .errors import ModelSpecError
from .fit import Fit
from .terms import (
    SAMPLE_DIMS,
    category_probabilities,
    covariate_columns,
    flat_draws,
    predictive_probabilities,
    term_design,
    with_sample_dims,
)
from .terms import n_draws as n_draws_of

__all__ = ["rating_probabilities", "ppc", "judgment_probabilities"]


def _draws(fit: Fit, n_draws: int | None, seed: int) -> xr.Dataset:
    """The posterior, or a random subset of ``n_draws`` of its draws (as one chain)."""
    post = fit.posterior
    total = fit.n_draws
    if n_draws is None or n_draws >= total:
        return post
    idx = np.sort(np.random.default_rng(seed).choice(total, n_draws, replace=False))
    flat = post.stack(sample=SAMPLE_DIMS).isel(sample=idx).drop_vars(["sample", *SAMPLE_DIMS])
    return flat.rename(sample="draw").expand_dims(chain=[0]).assign_coords(
        draw=np.arange(len(idx)))


def judgment_probabilities(fit: Fit, *, n_draws: int | None = None,
                           seed: int = 0) -> np.ndarray:
    """P(rating = k) for every judgment as the model sees it (its persona, its position).

    Returns
    -------
    ndarray (sample, judgment, rating level)
    """
    params = with_sample_dims(_draws(fit, n_draws, seed))
    design = term_design(params, fit.judgments)
    return predictive_probabilities(flat_draws(params, design), design,
                                    fit.judgments.scale.n_levels)


def rating_probabilities(fit: Fit, *, by: str | None = None, prob: float = 0.9,
                         n_draws: int | None = 1000, seed: int = 0) -> pd.DataFrame:
    """Rating-category probabilities per output (and per group) for a typical persona.

    A typical persona has average severity within its group (``u = 0``), unit discrimination
    and no drift; with ``by`` it belongs to each level of that attribute in turn, with the
    other attributes at equal weight (their zero-sum effects average out).

    Parameters
    ----------
    fit : Fit
    by : str, optional
        A modelled attribute.
    prob : float
        Mass of the equal-tailed intervals.
    n_draws : int, optional
        Posterior draws used (a random subset; ``None`` for all).
    seed : int

    Returns
    -------
    pandas.DataFrame
        ``output``, [``by``], ``rating``, ``p`` (posterior mean), ``p_lower``, ``p_upper``.

    Examples
    --------
    >>> import pluraleval as pe
    >>> table = pe.rating_probabilities(pe.example_fit(), by="region")
    >>> table.columns.tolist()
    ['output', 'region', 'rating', 'p', 'p_lower', 'p_upper']
    >>> bool(table.groupby(["output", "region"])["p"].sum().round(6).eq(1).all())
    True
    """
    params = with_sample_dims(_draws(fit, n_draws, seed))
    design = term_design(params, fit.judgments)
    if by is not None and by not in design.attributes:
        raise ModelSpecError(f"by={by!r} is not a modelled attribute; valid: "
                             f"{design.attributes}.")
    a = flat_draws(params, design)
    j, k = fit.judgments, fit.judgments.codes
    n_out = j.n_levels("output")
    q = np.zeros((n_draws_of(a), n_out))
    for name, index in (("mu", k.get("output_system")), ("nu", k.get("output_prompt"))):
        if name in a:
            q = q + a[name][:, index]
    if "eps" in a:
        q = q + a["eps"]
    if "beta" in a:
        q = q + a["beta"] @ covariate_columns(j, list(params["beta"]["covariate"].values)).T
    q = q[:, :, None]  # sample, output, group
    levels = [None] if by is None else j.coords[by]
    if by is not None:
        if f"lambda_{by}" in a:
            q = q + a[f"lambda_{by}"][:, k["output_system"], :]
        if f"gamma_{by}" in a:
            q = q + a[f"gamma_{by}"]
        if f"b_{by}" in a:
            q = q - a[f"b_{by}"][:, None, :]
    cut = a["cutpoints"]
    if design.threshold_attribute is None:
        cut = cut[:, None, None, :]
    elif design.threshold_attribute == by:
        cut = cut[:, None, :, :]
    else:
        cut = cut.mean(axis=1)[:, None, None, :]
    if "zeta" in a:
        scale = np.exp(a["zeta"])[:, :, None]
        q, cut = q / scale, cut / scale[..., None]
    probs = category_probabilities(q, cut)  # sample, output, group, level
    lo, hi = np.quantile(probs, [(1 - prob) / 2, 1 - (1 - prob) / 2], axis=0)
    mean = probs.mean(axis=0)
    out, grp, lev = np.meshgrid(np.arange(mean.shape[0]), np.arange(mean.shape[1]),
                                np.arange(mean.shape[2]), indexing="ij")
    table = pd.DataFrame({"output": np.asarray(j.coords["output"], dtype=object)[out.ravel()]})
    if by is not None:
        table[by] = np.asarray(levels, dtype=object)[grp.ravel()]
    table["rating"] = np.asarray(j.scale.levels, dtype=object)[lev.ravel()]
    table["p"], table["p_lower"], table["p_upper"] = mean.ravel(), lo.ravel(), hi.ravel()
    table.attrs["converged"] = fit.converged
    return table


def ppc(fit: Fit, *, by: str | None = None, n_draws: int = 200, prob: float = 0.9,
        seed: int = 0) -> pd.DataFrame:
    """Posterior predictive check: observed vs replicated rating distributions per group.

    For each of ``n_draws`` posterior draws, every judgment's rating is replicated from the
    model (same output, persona and position); the share of each rating level within each
    group is compared with the observed share.

    Parameters
    ----------
    fit : Fit
    by : str, optional
        A persona attribute (or ``system``) to split by; ``None`` for all judgments.
    n_draws : int
        Replicated data sets.
    prob : float
        Mass of the equal-tailed predictive intervals.
    seed : int

    Returns
    -------
    pandas.DataFrame
        [``by``], ``rating``, ``observed`` (share), ``predicted`` (mean replicated share),
        ``lower``, ``upper``, ``inside`` (observed within the interval), ``n_judgments``.

    Examples
    --------
    >>> import pluraleval as pe
    >>> check = pe.ppc(pe.example_fit(), by="region", n_draws=50)
    >>> check.columns.tolist()
    ['region', 'rating', 'observed', 'predicted', 'lower', 'upper', 'inside', 'n_judgments']
    """
    j = fit.judgments
    k = j.codes
    if by is None:
        group, labels = np.zeros(j.n_judgments, dtype=int), [None]
    elif by in j.attributes:
        group, labels = k[f"persona_{by}"][k["persona"]], j.coords[by]
    elif by == "system" and j.has("system"):
        group, labels = k["output_system"][k["output"]], j.coords["system"]
    else:
        raise ModelSpecError(f"by={by!r}: valid are None, 'system' or one of {j.attributes}.")
    probs = judgment_probabilities(fit, n_draws=n_draws, seed=seed)
    rng = np.random.default_rng(seed)
    cum = probs.cumsum(axis=-1)
    u = rng.random(probs.shape[:2])[..., None]
    y_rep = (u > cum[..., :-1]).sum(axis=-1)  # sample, judgment
    n_levels = j.scale.n_levels
    rows = []
    for gi, label in enumerate(labels):
        mask = group == gi
        if not mask.any():
            continue
        obs = np.bincount(k["rating"][mask], minlength=n_levels) / mask.sum()
        rep = np.stack([np.bincount(r, minlength=n_levels) for r in y_rep[:, mask]])
        rep = rep / mask.sum()
        lo, hi = np.quantile(rep, [(1 - prob) / 2, 1 - (1 - prob) / 2], axis=0)
        for lv in range(n_levels):
            row = {} if by is None else {by: label}
            rows.append(row | {"rating": j.scale.levels[lv], "observed": obs[lv],
                               "predicted": rep[:, lv].mean(), "lower": lo[lv],
                               "upper": hi[lv], "inside": bool(lo[lv] <= obs[lv] <= hi[lv]),
                               "n_judgments": int(mask.sum())})
    table = pd.DataFrame(rows)
    table.attrs["converged"] = fit.converged
    table.attrs["n_draws"] = int(probs.shape[0])
    return table
