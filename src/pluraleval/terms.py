"""Per-judgment terms of the ordinal model's latent rating, from any parameter set.

One implementation of the linear predictor in numpy, shared by the predictive checks, the
disagreement decomposition and anything else that needs the model's terms judgment by
judgment. It works on posterior draws and on a simulator's truth alike; the model's own
log-likelihood is the check (``tests/test_predictive.py``)::

    y*[n] = alpha[r]·(mu[s] + nu[p] + eps[o] + x[o]·beta
                      + Σ_a lambda_a[s, g_a] + Σ_a gamma_a[o, g_a])
            − Σ_a b_a[g_a] − u[r] − drift[r]·t̃_n + exp(zeta[o])·ε_n
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.special import expit

from .data import Judgments
from .errors import ModelSpecError

__all__ = ["LOGISTIC_VARIANCE", "TermDesign", "category_probabilities", "covariate_columns",
           "flat_draws", "judgment_terms", "n_draws", "predictive_probabilities", "term_design",
           "with_sample_dims"]

SAMPLE_DIMS = ("chain", "draw")
#: Variance of the standard logistic distribution: the latent noise of one judgment.
LOGISTIC_VARIANCE = float(np.pi ** 2 / 3)


@dataclass(frozen=True)
class TermDesign:
    """Per-judgment indices into the effects, and which terms the parameters carry."""

    output: np.ndarray
    persona: np.ndarray
    system: np.ndarray | None       # per judgment
    prompt: np.ndarray | None       # per judgment
    groups: dict                    # attribute -> per-judgment group code
    attributes: list                # modelled attributes, in the judgments' order
    threshold_attribute: str | None
    position: np.ndarray | None     # scaled to [0, 1]
    x: np.ndarray | None            # per judgment × covariate column


def term_design(params: xr.Dataset, judgments: Judgments) -> TermDesign:
    k = judgments.codes
    o, r = k["output"], k["persona"]
    dims = set(params.dims)
    attrs = [a for a in judgments.attributes if a in dims]
    cut_dims = [d for d in params["cutpoints"].dims if d not in (*SAMPLE_DIMS, "cutpoint")] \
        if "cutpoints" in params else []
    x = None
    if "beta" in params:
        x = covariate_columns(judgments, list(params["beta"]["covariate"].values))[o]
    pos = None
    if "drift" in params:
        if "position" not in k:
            raise ModelSpecError("the parameters have a persona drift but the judgments no "
                                 "'position' column to scale it.")
        pos = k["position_scaled"]
    return TermDesign(
        output=o, persona=r,
        system=k["output_system"][o] if "output_system" in k else None,
        prompt=k["output_prompt"][o] if "output_prompt" in k else None,
        groups={a: k[f"persona_{a}"][r] for a in attrs}, attributes=attrs,
        threshold_attribute=cut_dims[0] if cut_dims else None, position=pos, x=x)


def covariate_columns(judgments: Judgments, names: list) -> np.ndarray:
    """Output × covariate matrix for the columns named in ``beta``'s coords."""
    from .models.ordinal import covariate_matrix
    columns = {}
    for c in judgments.covariates:
        try:
            x, got = covariate_matrix(judgments, [c])
        except ModelSpecError:  # a constant categorical the fit cannot have used
            continue
        columns.update({g: x[:, i] for i, g in enumerate(got)})
    missing = [n for n in names if n not in columns]
    if missing:
        raise ModelSpecError(f"covariate(s) {missing} of beta are not columns of the "
                             f"judgments; declared covariates: {judgments.covariates}.")
    return np.column_stack([columns[n] for n in names])


def with_sample_dims(params: xr.Dataset) -> xr.Dataset:
    for d in SAMPLE_DIMS:
        if d not in params.dims:
            params = params.expand_dims({d: [0]})
    return params


def flat_draws(params: xr.Dataset, design: TermDesign) -> dict[str, np.ndarray]:
    """Every used variable as an array (draw, *dims) with draws flattened over chains, its
    dims in the model's order (output/system first, then attribute, then cutpoint)."""
    order = ["output", "system", "prompt", "persona", "covariate", *design.attributes,
             "cutpoint"]
    out = {}
    for name in params.data_vars:
        da = params[name]
        rest = sorted((d for d in da.dims if d not in SAMPLE_DIMS),
                      key=lambda d: order.index(d) if d in order else len(order))
        da = da.transpose(*SAMPLE_DIMS, *rest)
        out[name] = np.asarray(da.values, dtype=float).reshape(-1, *da.shape[2:])
    return out


def judgment_terms(a: dict[str, np.ndarray], d: TermDesign) -> list[tuple]:
    """Per-judgment value of every term, as it enters the latent rating.

    Returns
    -------
    list of (label, term, attribute, parameter, in_eta, values (draws, judgments))
    """
    o, r = d.output, d.persona
    alpha = a["alpha"][:, r] if "alpha" in a else 1.0
    out = []

    def add(label, term, attr, param, values, in_eta=True):
        out.append((label, term, attr, param, in_eta, values))

    if "mu" in a and d.system is not None:
        add("system", "system", "", "mu", alpha * a["mu"][:, d.system])
    if "nu" in a and d.prompt is not None:
        add("prompt", "prompt", "", "nu", alpha * a["nu"][:, d.prompt])
    if "eps" in a:
        add("output", "output", "", "eps", alpha * a["eps"][:, o])
    if "beta" in a and d.x is not None:
        add("covariates", "covariates", "", "beta", alpha * (a["beta"] @ d.x.T))
    for attr in d.attributes:
        g = d.groups[attr]
        if f"b_{attr}" in a:
            add(f"group_bias[{attr}]", "group_bias", attr, f"b_{attr}", -a[f"b_{attr}"][:, g])
        elif attr == d.threshold_attribute:
            loc = a["cutpoints"].mean(axis=-1)  # (draw, group): each group's threshold level
            loc = loc - loc.mean(axis=1, keepdims=True)
            add(f"group_bias[{attr}]", "group_bias", attr, "cutpoints", -loc[:, g],
                in_eta=False)
    for attr in d.attributes:
        if f"lambda_{attr}" in a and d.system is not None:
            add(f"system_x_group[{attr}]", "system_x_group", attr, f"lambda_{attr}",
                alpha * a[f"lambda_{attr}"][:, d.system, d.groups[attr]])
    for attr in d.attributes:
        if f"gamma_{attr}" in a:
            add(f"output_x_group[{attr}]", "output_x_group", attr, f"gamma_{attr}",
                alpha * a[f"gamma_{attr}"][:, o, d.groups[attr]])
    if "u" in a:
        add("persona", "persona", "", "u", -a["u"][:, r])
    if "drift" in a and d.position is not None:
        add("drift", "drift", "", "drift", -a["drift"][:, r] * d.position)
    return out


def n_draws(a: dict[str, np.ndarray]) -> int:
    return next(iter(a.values())).shape[0]


def predictive_probabilities(a: dict[str, np.ndarray], d: TermDesign, n_levels: int) -> np.ndarray:
    """Predictive probabilities of every rating level for every judgment (draws × judgments
    × levels), rebuilt from the terms, cutpoints and noise scales of the draws in ``a``."""
    o = d.output
    eta = sum(v for *_, in_eta, v in judgment_terms(a, d) if in_eta)
    eta = np.broadcast_to(eta, (n_draws(a), len(o)))
    cut = a["cutpoints"].reshape(n_draws(a), -1, n_levels - 1)
    cut = cut[:, d.groups[d.threshold_attribute], :] if d.threshold_attribute else cut
    scale = np.exp(a["zeta"][:, o]) if "zeta" in a else np.ones_like(eta)
    below = expit((cut - eta[..., None]) / scale[..., None])  # P(y <= k)
    cum = np.concatenate([below, np.ones((*eta.shape, 1))], axis=-1)
    return np.diff(cum, axis=-1, prepend=0.0)



def category_probabilities(eta: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """P(rating = k) for latent locations ``eta`` (...) and cutpoints ``cut`` (..., K-1)."""
    below = expit(cut - eta[..., None])
    ones = np.ones((*below.shape[:-1], 1))
    return np.clip(np.diff(np.concatenate([0 * ones, below, ones], axis=-1), axis=-1), 0, 1)
