"""Posterior leaderboards: pooled, poststratified to a population, and stratified by group.

Every board is computed from one set of draws per population: a system's quality under
weights ``w_a`` over the levels of each modelled attribute ``a`` is

    quality[s] = mu[s] + Σ_a Σ_g w_a[g] · lambda_a[s, g]        (per posterior draw)

Equal weights give exactly ``mu`` (``lambda_a`` is zero-sum over groups); a stratified board
(``by=``) is the one-hot population of each group, so both share this code path.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit

from ..errors import ModelSpecError, PopulationError
from ..fit import Fit
from .population import Population, modelled_attributes, weight_arrays

__all__ = ["leaderboard", "pairwise", "rank_reversals", "expected_rating"]

SAMPLE_DIMS = ("chain", "draw")
#: Internal dim along which several populations (one per group) are stacked.
GROUP = "__population__"

PopulationLike = Population | str | Mapping | None


def leaderboard(fit: Fit, *, population: PopulationLike = None,
                by: str | Sequence[str] | None = None, prob: float = 0.9) -> pd.DataFrame:
    """Posterior leaderboard of systems, for a population of personas or per group.

    Parameters
    ----------
    fit : Fit
        A fit whose judgments have a ``system`` column.
    population : Population, "equal", "sample" or mapping, optional
        Whose judgments count (see :class:`~pluraleval.Population`). Default ``None`` is
        ``"equal"``: every group of every modelled attribute weighs the same, and quality is
        ``mu``.
    by : str or sequence of str, optional
        Stratify: one leaderboard per level of an attribute (``by="region"``), or per cell of
        several (``by=["region", "age_band"]``; every combination of levels, since the model
        is additive: a cell without personas is an extrapolation). Group ``g``'s quality is
        ``mu + lambda_a[:, g]`` (summed over the cell's attributes); attributes not in ``by``
        keep the weights of ``population``.
    prob : float
        Mass of the highest-density intervals (and of the equal-tailed rank intervals).

    Returns
    -------
    pandas.DataFrame
        One row per system (per group with ``by``: the group columns come first, then systems
        sorted by quality within each group). Columns ``system``, ``quality`` (latent logit
        scale), ``quality_lower``/``quality_upper``, ``expected_rating`` with
        ``rating_lower``/``rating_upper``, ``p_best``, ``expected_rank``,
        ``rank_lower``/``rank_upper``.

        ``expected_rating`` is on the rating scale for a persona with the population's
        average group severity ``Σ_a Σ_g w_a[g]·b_a[g]`` (and, with ``thresholds="by_group"``,
        its weighted cutpoints), average persona severity, on an average prompt: the plug-in
        rating of a persona drawn from the population, not the average of the groups'
        expected ratings (they differ by Jensen's inequality).

        ``attrs``: ``converged`` (the fit's diagnostics verdict), ``prob``, ``population``
        (name and resolved weights), ``by``, ``system_by_group`` (whether the model has
        system × group effects; without them the population changes only the expected
        rating, and ``note`` says so).

    Raises
    ------
    ModelSpecError
        The fit has no systems.
    PopulationError
        An invalid population, or ``by`` naming an attribute the fit does not model.

    See Also
    --------
    pairwise : P(system beats other) under a population.
    rank_reversals : pairs of systems whose order differs between groups.

    Examples
    --------
    >>> import pluraleval as pe
    >>> fit = pe.example_fit()
    >>> pe.leaderboard(fit).columns[:3].tolist()
    ['system', 'quality', 'quality_lower']
    >>> pe.leaderboard(fit, population="sample").attrs["population"]["name"]
    'sample'
    >>> pe.leaderboard(fit, by="region").columns[:2].tolist()
    ['region', 'system']
    """
    _require_systems(fit)
    base = Population.coerce(population)
    attrs, labels, pops = _populations(fit, base, by)
    draws = population_draws(fit, pops)
    ranks = _ranks(draws["quality"])
    hdi_q = az.hdi(draws["quality"], prob=prob, dim=list(SAMPLE_DIMS))
    hdi_r = az.hdi(draws["rating"], prob=prob, dim=list(SAMPLE_DIMS))
    rank_lo = ranks.quantile((1 - prob) / 2, dim=SAMPLE_DIMS, method="lower")
    rank_hi = ranks.quantile(1 - (1 - prob) / 2, dim=SAMPLE_DIMS, method="higher")
    columns = {
        "quality": draws["quality"].mean(SAMPLE_DIMS),
        "quality_lower": hdi_q.sel(ci_bound="lower"),
        "quality_upper": hdi_q.sel(ci_bound="upper"),
        "expected_rating": draws["rating"].mean(SAMPLE_DIMS),
        "rating_lower": hdi_r.sel(ci_bound="lower"),
        "rating_upper": hdi_r.sel(ci_bound="upper"),
        "p_best": (ranks == 1).mean(SAMPLE_DIMS),
        "expected_rank": ranks.mean(SAMPLE_DIMS),
        "rank_lower": rank_lo,
        "rank_upper": rank_hi,
    }
    systems = draws["system"].values
    boards = []
    for i in range(len(pops)):
        board = pd.DataFrame({"system": systems} | {
            name: col.isel({GROUP: i}).transpose("system").values
            for name, col in columns.items()})
        board = board.sort_values("quality", ascending=False, ignore_index=True)
        for a in reversed(attrs):
            board.insert(0, a, labels[a].iloc[i])
        boards.append(board)
    table = pd.concat(boards, ignore_index=True)
    table[["rank_lower", "rank_upper"]] = table[["rank_lower", "rank_upper"]].astype(int)
    table.attrs.update(_attrs(fit, base, attrs))
    table.attrs["prob"] = prob
    return table


def pairwise(fit: Fit, *, population: PopulationLike = None) -> pd.DataFrame:
    """P(system beats other): the posterior probability that one system's quality is higher.

    Parameters
    ----------
    fit : Fit
        A fit whose judgments have a ``system`` column.
    population : Population, "equal", "sample" or mapping, optional
        Whose judgments count (as in :func:`leaderboard`; default equal weights).

    Returns
    -------
    pandas.DataFrame
        One row per ordered pair of distinct systems: ``system``, ``other``, ``p_beats`` =
        P(quality[system] > quality[other]) over the posterior draws (ties count one half, so
        ``p_beats`` of (i, j) and (j, i) sum to one). Systems appear in leaderboard order.
        ``attrs`` as in :func:`leaderboard`.

    Examples
    --------
    >>> import pluraleval as pe
    >>> fit = pe.example_fit()
    >>> pe.pairwise(fit).columns.tolist()
    ['system', 'other', 'p_beats']
    >>> matrix = pe.pairwise(fit).pivot(index="system", columns="other",
    ...                                 values="p_beats")
    """
    _require_systems(fit)
    base = Population.coerce(population)
    quality = population_draws(fit, [base])["quality"].isel({GROUP: 0})
    order = quality["system"].values[np.argsort(-quality.mean(SAMPLE_DIMS).values,
                                                kind="stable")]
    q = quality.sel(system=order).transpose(*SAMPLE_DIMS, "system").values
    q = q.reshape(-1, len(order))
    diff = q[:, :, None] - q[:, None, :]
    p = (diff > 0).mean(0) + 0.5 * (diff == 0).mean(0)
    i, j = np.nonzero(~np.eye(len(order), dtype=bool))
    table = pd.DataFrame({"system": order[i], "other": order[j], "p_beats": p[i, j]})
    table.attrs.update(_attrs(fit, base, []))
    return table


def rank_reversals(fit: Fit, *, by: str | Sequence[str] = "region",
                   population: PopulationLike = None) -> pd.DataFrame:
    """Pairs of systems whose order differs between two groups, with its probability.

    A reversal is reported when ``system`` is ahead of ``other`` in one group and behind it
    in another by posterior mean quality. Its probability is joint over the draws:
    P(system > other in the first group AND other > system in the second). Each reversal
    appears once: the first group (earlier in level order) is the one where ``system`` leads.

    Parameters
    ----------
    fit : Fit
        A fit whose judgments have a ``system`` column.
    by : str or sequence of str
        The attribute (or cell of several) whose groups are compared (as in
        :func:`leaderboard`).
    population : Population, "equal", "sample" or mapping, optional
        Weights of the attributes not in ``by`` (default equal).

    Returns
    -------
    pandas.DataFrame
        Sorted by ``p_reversal`` (highest first). Columns: one per ``by`` attribute (the
        group where ``system`` leads), ``other_<attribute>`` (the group where ``other``
        leads), ``system``, ``other``, ``lead`` (posterior mean quality gap of ``system``
        over ``other`` in its group), ``other_lead`` (of ``other`` over ``system`` in the
        other group), ``p_reversal``. Empty when no order differs (always, without system ×
        group effects; ``attrs["note"]`` then says so).

    Examples
    --------
    >>> import pluraleval as pe
    >>> fit = pe.example_fit()
    >>> pe.rank_reversals(fit, by="region").columns.tolist()
    ['region', 'other_region', 'system', 'other', 'lead', 'other_lead', 'p_reversal']
    """
    _require_systems(fit)
    base = Population.coerce(population)
    attrs, labels, pops = _populations(fit, base, by)
    quality = population_draws(fit, pops)["quality"]
    systems = quality["system"].values
    q = quality.transpose(*SAMPLE_DIMS, GROUP, "system").values
    q = q.reshape(-1, len(pops), len(systems))
    diff = q[:, :, :, None] - q[:, :, None, :]  # draw, group, system, other
    mean = diff.mean(0)
    rows = []
    for g, h in itertools.combinations(range(len(pops)), 2):
        i, j = np.nonzero((mean[g] > 0) & (mean[h] < 0))
        p = ((diff[:, g, i, j] > 0) & (diff[:, h, i, j] < 0)).mean(0)
        for k in range(len(i)):
            rows.append({**{a: labels[a].iloc[g] for a in attrs},
                         **{f"other_{a}": labels[a].iloc[h] for a in attrs},
                         "system": systems[i[k]], "other": systems[j[k]],
                         "lead": mean[g, i[k], j[k]], "other_lead": -mean[h, i[k], j[k]],
                         "p_reversal": p[k]})
    columns = [*attrs, *(f"other_{a}" for a in attrs), "system", "other", "lead",
               "other_lead", "p_reversal"]
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values("p_reversal", ascending=False, ignore_index=True, kind="stable")
    table.attrs.update(_attrs(fit, base, attrs))
    return table


def expected_rating(fit: Fit, quality: xr.DataArray, *,
                    population: PopulationLike = None) -> xr.DataArray:
    """Expected rating for a latent quality, for a persona of the population's average
    severity on an average prompt.

    Parameters
    ----------
    fit : Fit
    quality : xarray.DataArray
        Latent quality draws (any dims besides ``chain``, ``draw``).
    population : Population, "equal", "sample" or mapping, optional
        Sets the group severity ``Σ_a Σ_g w_a[g]·b_a[g]`` (zero for equal weights) and, with
        group-specific thresholds, the weighted cutpoints.

    Returns
    -------
    xarray.DataArray
        In the scale's numeric levels (codes 1..K for text labels).
    """
    draws = _severity_and_cutpoints(fit, [Population.coerce(population)])
    return _rating(fit, quality - draws["severity"].isel({GROUP: 0}),
                   draws["cutpoints"].isel({GROUP: 0}))


def population_draws(fit: Fit, populations: Sequence[Population]) -> xr.Dataset:
    """Quality and expected-rating draws of every system under each population.

    Returns
    -------
    xarray.Dataset
        ``quality`` and ``rating`` with dims ``chain``, ``draw``, ``system`` and the internal
        population dim :data:`GROUP` (one entry per population, in order).
    """
    _require_systems(fit)
    weights = weight_arrays(fit, populations, GROUP)
    post = fit.posterior
    quality = post["mu"].expand_dims({GROUP: len(populations)}, axis=-1)
    for a, w in weights.items():
        if f"lambda_{a}" in post:
            quality = quality + (post[f"lambda_{a}"] * w).sum(a)
    sc = _severity_and_cutpoints(fit, populations, weights)
    rating = _rating(fit, quality - sc["severity"], sc["cutpoints"])
    return xr.Dataset({"quality": quality, "rating": rating})


# ---------------------------------------------------------------------- helpers
def _severity_and_cutpoints(fit: Fit, populations: Sequence[Population],
                            weights: Mapping[str, xr.DataArray] | None = None) -> xr.Dataset:
    """Population-weighted group severity and cutpoints (dims chain, draw, GROUP[, cutpoint])."""
    weights = weight_arrays(fit, populations, GROUP) if weights is None else weights
    post = fit.posterior
    cut = post["cutpoints"]
    severity = xr.zeros_like(cut.isel({d: 0 for d in cut.dims if d not in SAMPLE_DIMS},
                                      drop=True))
    for a, w in weights.items():
        if a in cut.dims:  # thresholds by group: this attribute's bias lives in the cutpoints
            cut = (cut * w).sum(a)
        if f"b_{a}" in post:
            severity = severity + (post[f"b_{a}"] * w).sum(a)
    severity = severity.expand_dims({GROUP: len(populations)}) if GROUP not in severity.dims \
        else severity
    cut = cut.expand_dims({GROUP: len(populations)}) if GROUP not in cut.dims else cut
    return xr.Dataset({"severity": severity, "cutpoints": cut})


def _rating(fit: Fit, eta: xr.DataArray, cut: xr.DataArray) -> xr.DataArray:
    values = fit.judgments.scale.values
    # P(y <= k) = logistic(c_k - eta); E[y] = v_0 + sum_k (v_{k+1} - v_k) P(y > k)
    above = 1 - xr.apply_ufunc(expit, cut - eta)
    steps = xr.DataArray(np.diff(values), dims="cutpoint", coords={"cutpoint": cut["cutpoint"]})
    return values[0] + (above * steps).sum("cutpoint")


def _populations(fit: Fit, base: Population, by: str | Sequence[str] | None):
    """The populations to evaluate: ``base`` alone, or one per group of ``by`` (one-hot on
    the ``by`` attributes, ``base``'s weights elsewhere)."""
    if by is None:
        base.weights(fit)  # validate now, with the population's own message
        return [], pd.DataFrame(index=[0]), [base]
    attrs = [by] if isinstance(by, str) else list(by)
    valid = modelled_attributes(fit)
    if not attrs or len(set(attrs)) < len(attrs):
        raise PopulationError(f"by={by!r} must name one or more distinct attributes; "
                              f"modelled attributes: {valid}.")
    for a in attrs:
        if a not in valid:
            raise PopulationError(f"by={a!r} is not an attribute this fit models; modelled "
                                  f"attributes: {valid}.")
    weights = base.weights(fit)
    coords = fit.judgments.coords
    cells = list(itertools.product(*(coords[a] for a in attrs)))
    labels = pd.DataFrame(cells, columns=attrs)
    pops = []
    for cell in cells:
        marginals = {a: w.to_dict() for a, w in weights.items()}
        for a, level in zip(attrs, cell, strict=True):
            marginals[a] = {g: float(g == level) for g in coords[a]}
        pops.append(Population.from_marginals(marginals, name="/".join(map(str, cell))))
    return attrs, labels, pops


def _attrs(fit: Fit, base: Population, by: list[str]) -> dict:
    post = fit.posterior
    has_lambda = any(f"lambda_{a}" in post for a in modelled_attributes(fit))
    out = {"converged": fit.converged, "population": base.describe(fit), "by": list(by),
           "system_by_group": has_lambda}
    if not has_lambda and (by or base.builtin != "equal"):
        out["note"] = ("this fit has no system x group effects (lambda), so every population "
                       "and group ranks systems alike; only the expected rating moves, through "
                       "the groups' severity b.")
    return out


def _require_systems(fit: Fit) -> None:
    if "mu" not in fit.posterior:
        raise ModelSpecError("this fit has no system quality (no 'system' column in the "
                             "judgments), so there is no leaderboard to rank.")


def _ranks(quality: xr.DataArray) -> xr.DataArray:
    """Rank of each system in each draw (1 = best), along ``system``."""
    moved = quality.transpose(..., "system")
    ranks = (-moved.values).argsort(axis=-1).argsort(axis=-1) + 1
    return moved.copy(data=ranks)
