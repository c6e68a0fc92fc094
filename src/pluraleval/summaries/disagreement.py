"""Disagreement: where the spread of the judgments comes from, and which outputs divide personas.

Three tables from one fit, all pure functions of its posterior draws:

* **Variance decomposition** on the latent scale. For judgment *n* the model's latent rating is
  a sum of terms (``models/ordinal.md``)::

      y*[n] = alpha[r]·(mu[s] + nu[p] + eps[o] + x[o]·beta
                        + Σ_a lambda_a[s, g_a] + Σ_a gamma_a[o, g_a])
              − Σ_a b_a[g_a] − u[r] − drift[r]·t̃_n + exp(zeta[o])·ε_n

  A component's variance is the **finite-population variance of its realised term over the
  fit's judgments**, per posterior draw: the variance, across the rows of the judgments table,
  of that term's value at each row. Equivalently, each level of the effect (a system, a group,
  an output × group cell, a persona, ...) weighs its **share of the judgments**. This is the
  weighting a point-score leaderboard silently applies (it averages judgments) and it needs no
  design-specific correction: repeats, unbalanced persona mixes and missing cells all count as
  they occur in the data. The residual is the logistic noise variance ``π²/3`` (times the
  judgment-weighted mean of ``exp(2·zeta[o])`` when contested outputs are modelled).

* **Most contested outputs**: largest within-group disagreement, measured as the model's
  predicted variance of the rating (on the rating scale) among personas of the same group
  rating the same output.

* **Most polarised outputs**: largest between-group gap in how the groups of one attribute see
  an output's quality, ``max_g − min_g`` of ``gamma_a[o, g] + lambda_a[s(o), g]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse

from ..data import ROLES, Judgments
from ..errors import ModelSpecError
from ..fit import Fit
from ..terms import (
    LOGISTIC_VARIANCE,
    TermDesign,
    flat_draws,
    judgment_terms,
    n_draws,
    predictive_probabilities,
    term_design,
    with_sample_dims,
)

__all__ = ["Disagreement", "disagreement", "variance_components", "LOGISTIC_VARIANCE"]

SAMPLE_DIMS = ("chain", "draw")
#: Cap on the number of floats in one chunk of per-judgment draws.
_CHUNK_FLOATS = 1_000_000


@dataclass(frozen=True, eq=False)
class Disagreement:
    """Result of :func:`disagreement`: three tidy tables and the variance draws.

    Attributes
    ----------
    variance : pandas.DataFrame
        One row per variance component (see :func:`disagreement`).
    contested : pandas.DataFrame
        The ``top`` outputs with the largest within-group disagreement.
    polarised : pandas.DataFrame
        Per modelled attribute, the ``top`` outputs with the largest between-group gap.
    draws : xarray.Dataset
        ``variance`` and ``share`` per posterior draw (dims ``chain``, ``draw``,
        ``component``; coords ``term`` and ``attribute`` along ``component``).
    converged : bool
        The fit's diagnostics verdict (also in every table's ``attrs``).
    """

    variance: pd.DataFrame
    contested: pd.DataFrame
    polarised: pd.DataFrame
    draws: xr.Dataset
    converged: bool

    def __repr__(self) -> str:
        status = "converged" if self.converged else "FAILED CHECKS"
        return (f"Disagreement({len(self.variance)} variance components, "
                f"{len(self.contested)} contested, {len(self.polarised)} polarised rows; "
                f"fit {status})")


def disagreement(fit: Fit, *, prob: float = 0.9, top: int = 10,
                 min_gap: float = 0.5) -> Disagreement:
    """Decompose the judgments' latent variance and find the contested and polarised outputs.

    Parameters
    ----------
    fit : Fit
        A fit of the ordinal rater model.
    prob : float
        Mass of the equal-tailed posterior intervals (quantiles ``(1 - prob) / 2`` and
        ``(1 + prob) / 2``).
    top : int
        Rows kept in ``contested``, and per attribute in ``polarised``.
    min_gap : float
        Latent gap for ``p_gap`` in ``polarised``: P(gap > ``min_gap``). The default 0.5 is
        about a quarter of one judgment's noise SD (π/√3 ≈ 1.8).

    Returns
    -------
    Disagreement
        ``variance``: one row per component the fit estimates (components it does not
        estimate are omitted, not zero-filled), in the order system, prompt, output,
        covariates, then per attribute group_bias, system_x_group, output_x_group, then
        persona, drift, residual. Columns:

        * ``component``: label, e.g. ``"system"``, ``"group_bias[region]"``;
        * ``term``: the kind (``system``, ``prompt``, ``output``, ``covariates``,
          ``group_bias``, ``system_x_group``, ``output_x_group``, ``persona``, ``drift``,
          ``residual``) and ``attribute`` (the persona attribute, or ``None``);
        * ``parameter``: the posterior variable it comes from;
        * ``variance``: posterior mean of the component's variance on the latent scale;
        * ``share``, ``share_lower``, ``share_upper``: posterior mean and interval of its
          **share**, the component's variance divided by the sum of all components'
          variances in the same draw (shares sum to one in every draw).

        A component's variance is the finite-population variance of its realised term over
        the judgments: each level weighs its share of the judgments (see the module notes).
        Quality terms are multiplied by the persona's discrimination ``alpha`` when the fit
        has it (their contribution to the latent rating as the model writes it). With
        ``thresholds="by_group"`` the group bias of the threshold attribute is read from the
        mean of each group's cutpoints (the cutpoints absorb it). ``residual`` is the
        irreducible latent noise ``π²/3``, times the judgment-weighted mean of
        ``exp(2·zeta[o])`` with contested outputs. The sum of the components is the latent
        variance when the terms are uncorrelated over the judgments (exactly so in a
        balanced, fully crossed design, where the zero-sum constraints make them orthogonal);
        otherwise covariances between terms are left out of the total.

        ``contested``: outputs ranked by ``within_sd``, the posterior mean of the square
        root of the model's predicted rating variance within groups: for each judgment of
        the output the predictive distribution of its rating (on the rating scale; codes
        1..K for text labels), pooled within each group (cell of the modelled attributes:
        the mixture's variance, i.e. the mean of the judgments' variances plus the variance
        of their means) and averaged over the groups weighted by judgments. It grows with
        persona severity spread, with the output's position between the cutpoints (ratings
        pile up at the ends of the scale) and with ``zeta``. Columns ``output``, ``system``,
        ``prompt`` (when present), the user's own output-level columns (any column of the
        judgments table that is constant within every output, such as a ``text`` or
        ``response`` column, and covariates), ``n_judgments``, ``within_sd`` with
        ``within_sd_lower``/``within_sd_upper``, ``observed_sd`` (the same pooled within-group
        SD of the observed ratings, descriptive) and, when the fit has contested outputs,
        ``noise_scale`` (posterior mean of ``exp(zeta)``) and ``p_contested``
        (P(``zeta`` > 0)).

        ``polarised``: per attribute ``a`` with system × group or output × group effects,
        the group view ``d[o, g] = gamma_a[o, g] + lambda_a[s(o), g]`` (latent scale, for a
        persona of average discrimination; group bias excluded, since it shifts every output
        alike) and its range ``gap = max_g d − min_g d`` per draw. Columns ``attribute``, the
        output columns as in ``contested``, ``gap`` (posterior mean), ``gap_lower``,
        ``gap_upper``, ``p_gap`` (P(gap > ``min_gap``)), ``high_group`` and ``low_group``
        (the groups with the highest and lowest posterior mean ``d``). Sorted by ``gap``
        within attribute. The range of noisy draws is positive even when the true gap is
        zero, so read ``gap`` with its interval and ``p_gap``.

        Every table's ``attrs`` holds ``converged`` (the fit's verdict) and ``prob``.

    Raises
    ------
    ModelSpecError
        ``prob`` outside (0, 1) or ``top`` < 1.

    Examples
    --------
    >>> import pluraleval as pe
    >>> from pluraleval.summaries.disagreement import disagreement
    >>> fit = pe.example_fit()
    >>> result = disagreement(fit)
    >>> result.variance["component"].tolist()
    ['system', 'prompt', 'output', 'group_bias[region]', 'system_x_group[region]',
     'output_x_group[region]', 'persona', 'residual']
    >>> result.polarised.columns[:4].tolist()
    ['attribute', 'output', 'system', 'prompt']
    """
    if not 0 < prob < 1:
        raise ModelSpecError(f"prob={prob} must lie strictly between 0 and 1.")
    if int(top) < 1:
        raise ModelSpecError(f"top={top} must be at least 1.")
    top = int(top)
    params = with_sample_dims(fit.posterior)
    design = term_design(params, fit.judgments)
    arrays = flat_draws(params, design)
    draws = _variance_draws(params, design, arrays)
    variance = _variance_table(draws, prob)
    contested = _contested_table(fit.judgments, design, arrays, prob, top)
    polarised = _polarised_table(fit.judgments, design, arrays, prob, top, min_gap)
    converged = fit.converged
    for table in (variance, contested, polarised):
        table.attrs.update({"converged": converged, "prob": prob})
    variance.attrs["weighting"] = "judgments"
    polarised.attrs["min_gap"] = min_gap
    return Disagreement(variance=variance, contested=contested, polarised=polarised,
                        draws=draws, converged=converged)


def variance_components(params: xr.Dataset, judgments: Judgments) -> xr.Dataset:
    """Latent variance of each model term over the judgments, per draw (the decomposition of
    :func:`disagreement`).

    Works on posterior draws and on a set of true parameters alike (e.g. the ``truth`` of
    :func:`~pluraleval.simulate`, restricted to the fit's parameters), so estimates and truth
    are compared under one definition.

    Parameters
    ----------
    params : xarray.Dataset
        Effects with the model's names and dims (``mu``, ``nu``, ``eps``, ``beta``,
        ``b_<attr>``, ``lambda_<attr>``, ``gamma_<attr>``, ``u``, ``drift``, ``alpha``,
        ``zeta``, ``cutpoints``); a variable that is absent is a term the model lacks.
        ``chain`` and ``draw`` dims are optional (a single draw without them).
    judgments : Judgments
        The judgments the parameters belong to (their codes index the effects).

    Returns
    -------
    xarray.Dataset
        ``variance`` and ``share`` with dims ``chain``, ``draw``, ``component``; coords
        ``term`` and ``attribute`` (``""`` when none) and ``parameter`` along ``component``.

    Examples
    --------
    >>> import pluraleval as pe
    >>> from pluraleval.summaries.disagreement import variance_components
    >>> judgments, truth = pe.simulate("small", seed=1)
    >>> shares = variance_components(truth[["mu", "nu", "eps", "b_region", "u"]],
    ...                              judgments)["share"]
    >>> shares["component"].values.tolist()
    ['system', 'prompt', 'output', 'group_bias[region]', 'persona', 'residual']
    >>> round(float(shares.sum("component").squeeze()), 6)
    1.0
    """
    params = with_sample_dims(params)
    design = term_design(params, judgments)
    return _variance_draws(params, design, flat_draws(params, design))


def _variance_draws(params: xr.Dataset, design: TermDesign,
                    arrays: dict[str, np.ndarray]) -> xr.Dataset:
    n_chain, n_draw = params.sizes["chain"], params.sizes["draw"]
    chunk = max(1, _CHUNK_FLOATS // max(len(design.output), 1))
    meta, parts = None, []
    for start in range(0, n_chain * n_draw, chunk):
        block = {k: v[start:start + chunk] for k, v in arrays.items()}
        terms = judgment_terms(block, design)
        variances = [v.var(axis=1) for *_, v in terms]
        variances.append(_residual(block, design))
        parts.append(np.stack(variances, axis=1))
        meta = [m[:4] for m in terms] + [("residual", "residual", "", _residual_param(block))]
    values = np.concatenate(parts).reshape(n_chain, n_draw, -1)
    labels, kinds, attrs, names = (list(x) for x in zip(*meta, strict=True))
    coords = {"chain": params["chain"].values, "draw": params["draw"].values,
              "component": labels, "term": ("component", kinds),
              "attribute": ("component", attrs), "parameter": ("component", names)}
    var = xr.DataArray(values, dims=(*SAMPLE_DIMS, "component"), coords=coords)
    return xr.Dataset({"variance": var, "share": var / var.sum("component")})


def _residual(a: dict[str, np.ndarray], d: TermDesign) -> np.ndarray:
    if "zeta" in a:
        return LOGISTIC_VARIANCE * np.exp(2 * a["zeta"][:, d.output]).mean(axis=1)
    return np.full(n_draws(a), LOGISTIC_VARIANCE)


def _residual_param(a: dict[str, np.ndarray]) -> str:
    return "zeta" if "zeta" in a else ""


# ---------------------------------------------------------------------- tables
def _interval(values: np.ndarray, prob: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed interval of mass ``prob`` along ``axis``."""
    lo, hi = np.quantile(values, [(1 - prob) / 2, (1 + prob) / 2], axis=axis)
    return lo, hi


def _variance_table(draws: xr.Dataset, prob: float) -> pd.DataFrame:
    share = draws["share"].stack(sample=SAMPLE_DIMS).transpose("sample", "component").values
    lo, hi = _interval(share, prob)
    comp = draws["component"]
    return pd.DataFrame({
        "component": comp.values,
        "term": comp["term"].values,
        "attribute": [a or None for a in comp["attribute"].values],
        "parameter": comp["parameter"].values,
        "variance": draws["variance"].mean(SAMPLE_DIMS).values,
        "share": share.mean(0), "share_lower": lo, "share_upper": hi,
    })


def _output_columns(judgments: Judgments) -> pd.DataFrame:
    """One row per output (in the fit's order): ``output``, ``system``, ``prompt`` and the
    user's own columns that are constant within every output (texts, covariates, ...)."""
    table = judgments.table
    roles = [c for c in ("system", "prompt") if c in table]
    own = [c for c in table.columns if c not in ROLES
           and c not in judgments.attributes]
    if own:
        varying = table.groupby("output", sort=False)[own].nunique(dropna=False).max()
        own = [c for c in own if varying[c] <= 1]
    cols = roles + own
    if cols:
        first = table.groupby("output", sort=False)[cols].first()
        frame = first.reindex(judgments.coords["output"])
    else:
        frame = pd.DataFrame(index=pd.Index(judgments.coords["output"]))
    frame.index.name = "output"
    return frame.reset_index()


def _cell_index(judgments: Judgments, attrs: list) -> np.ndarray:
    """Per judgment, a code of its (output, group cell) pair."""
    k = judgments.codes
    keys = [k["output"], *(k[f"persona_{a}"][k["persona"]] for a in attrs)]
    return pd.MultiIndex.from_arrays(keys).factorize()[0] if len(keys) > 1 else \
        k["output"].copy()


def _mean_operator(index: np.ndarray, n: int) -> sparse.csr_matrix:
    """Sparse (judgments × n) matrix whose product averages rows within each index level."""
    counts = np.bincount(index, minlength=n).astype(float)
    counts[counts == 0] = 1.0
    rows = np.arange(len(index))
    return sparse.csr_matrix((1.0 / counts[index], (rows, index)), shape=(len(index), n))


def _within_variance(mean: np.ndarray, var: np.ndarray, cell: np.ndarray,
                     output: np.ndarray, n_out: int) -> np.ndarray:
    """Pooled within-cell variance per output: mean over the output's judgments of
    ``var + (mean − cell mean)²`` (draws × outputs)."""
    n_cells = int(cell.max()) + 1
    cell_mean = (_mean_operator(cell, n_cells).T @ mean.T).T  # draws × cells
    dev = var + (mean - cell_mean[:, cell]) ** 2
    return (_mean_operator(output, n_out).T @ dev.T).T


def _contested_table(judgments: Judgments, design: TermDesign, arrays: dict[str, np.ndarray],
                     prob: float, top: int) -> pd.DataFrame:
    values = judgments.scale.values
    n_out = judgments.n_levels("output")
    cell = _cell_index(judgments, design.attributes)
    o = design.output
    chunk = max(1, _CHUNK_FLOATS // max(len(o) * len(values), 1))
    within = []
    for start in range(0, n_draws(arrays), chunk):
        a = {k: v[start:start + chunk] for k, v in arrays.items()}
        pmf = predictive_probabilities(a, design, len(values))
        mean = pmf @ values
        var = np.clip(pmf @ values ** 2 - mean ** 2, 0.0, None)
        within.append(_within_variance(mean, var, cell, o, n_out))
    sd = np.sqrt(np.concatenate(within))
    lo, hi = _interval(sd, prob)
    observed = values[judgments.codes["rating"]][None, :]
    obs_sd = np.sqrt(_within_variance(observed, np.zeros_like(observed), cell, o, n_out)[0])
    table = _output_columns(judgments)
    table["n_judgments"] = np.bincount(o, minlength=n_out)
    table["within_sd"] = sd.mean(0)
    table["within_sd_lower"], table["within_sd_upper"] = lo, hi
    table["observed_sd"] = obs_sd
    if "zeta" in arrays:
        table["noise_scale"] = np.exp(arrays["zeta"]).mean(0)
        table["p_contested"] = (arrays["zeta"] > 0).mean(0)
    table = table.sort_values("within_sd", ascending=False, kind="stable")
    return table.head(top).reset_index(drop=True)


def _polarised_table(judgments: Judgments, design: TermDesign, arrays: dict[str, np.ndarray],
                     prob: float, top: int, min_gap: float) -> pd.DataFrame:
    outputs = _output_columns(judgments)
    s_out = judgments.codes.get("output_system")
    n_out = len(outputs)
    tables = []
    for attr in design.attributes:
        has_gamma = f"gamma_{attr}" in arrays
        has_lambda = f"lambda_{attr}" in arrays and s_out is not None
        if not (has_gamma or has_lambda):
            continue
        view = np.zeros((n_draws(arrays), n_out, judgments.n_levels(attr)))
        if has_gamma:
            view = view + arrays[f"gamma_{attr}"]
        if has_lambda:
            view = view + arrays[f"lambda_{attr}"][:, s_out, :]
        gap = view.max(-1) - view.min(-1)
        lo, hi = _interval(gap, prob)
        levels = np.asarray(judgments.coords[attr], dtype=object)
        mean_view = view.mean(0)
        table = outputs.copy()
        table.insert(0, "attribute", attr)
        table["gap"] = gap.mean(0)
        table["gap_lower"], table["gap_upper"] = lo, hi
        table["p_gap"] = (gap > min_gap).mean(0)
        table["high_group"] = levels[mean_view.argmax(-1)]
        table["low_group"] = levels[mean_view.argmin(-1)]
        table = table.sort_values("gap", ascending=False, kind="stable").head(top)
        tables.append(table)
    if not tables:
        columns = ["attribute", *outputs.columns, "gap", "gap_lower", "gap_upper", "p_gap",
                   "high_group", "low_group"]
        empty = pd.DataFrame(columns=columns)
        empty.attrs["note"] = ("this fit has no system x group or output x group effects, so "
                               "every group sees each output alike.")
        return empty
    return pd.concat(tables, ignore_index=True)
