"""Simulate persona-evaluation studies from the flagship ordinal rater model, with known truth.

The generative story is the one in ``models/ordinal.md``. Effects are drawn from their
population distributions and then centred exactly as the model constrains them (zero-sum over
levels; output effects centred within system; persona severity centred within its group cell),
so the true values returned are the very quantities the model estimates.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from .data import Judgments
from .errors import ModelSpecError
from .terms import flat_draws, predictive_probabilities, term_design, with_sample_dims

__all__ = ["StudySpec", "simulate", "simulate_ratings", "fixed_effects_spec", "PRESETS"]


@dataclass(frozen=True)
class StudySpec:
    """Size and true effect scales of a simulated study (logit scale).

    Parameters
    ----------
    n_systems, n_prompts : int
        Every system answers every prompt once: ``n_systems * n_prompts`` outputs.
    attributes : mapping of str to sequence of str
        Persona attributes and their levels.
    n_personas : int
        Number of personas, allocated over attribute cells by ``persona_mix``.
    persona_mix : mapping of str to sequence of float, optional
        Share of personas per level of each attribute (default equal); cells get the product.
    n_levels : int
        Rating levels (2 = binary). Ratings are ``1..n_levels`` (``0/1`` when binary).
    fraction_rated : float
        Fraction of outputs each persona rates (1 = fully crossed).
    sd_system, sd_prompt, sd_output : float
        Scales of system quality ``mu``, prompt difficulty ``nu`` and output residual ``eps``.
    sd_group_bias, sd_system_by_group, sd_output_by_group : float
        Scales of group bias ``b_a``, system×group ``lambda_a`` and output×group ``gamma_a``.
    sd_persona : float
        Persona severity ``u`` within its group cell.
    sd_log_discrimination : float
        Scale of ``log(alpha)`` (0: every persona discriminates equally).
    sd_contested : float
        Scale of per-output log noise scale ``zeta`` (0: none contested).
    drift_mean, sd_drift : float
        Persona severity drift per unit of scaled position (position / max position).
    n_variants : int
        Prompt perturbation variants: each persona judges each of its outputs once per variant.
    sd_variant : float
        Persona × variant severity shift (incoherence under perturbation); not estimated by the
        flagship model.
    covariates : mapping of str to float
        Output covariates (standard normal) and their true effects ``beta``.
    cutpoints : sequence of float, optional
        True cutpoints (default evenly spread from -2.4 to 2.4).
    system_quality : sequence of float, optional
        Fixed ``mu`` (centred before use) instead of a draw.
    system_by_group : mapping of str to 2-d array, optional
        Fixed ``lambda_a`` (systems × levels; double-centred before use).
    group_bias : mapping of str to sequence of float, optional
        Fixed ``b_a`` (centred before use).
    """

    n_systems: int = 6
    n_prompts: int = 40
    attributes: Mapping[str, Sequence[str]] = field(
        default_factory=lambda: {"region": ["A", "B", "C"], "age_band": ["18-39", "40+"]})
    n_personas: int = 36
    persona_mix: Mapping[str, Sequence[float]] | None = None
    n_levels: int = 5
    fraction_rated: float = 1.0
    sd_system: float = 0.8
    sd_prompt: float = 0.7
    sd_output: float = 0.4
    sd_group_bias: float = 0.5
    sd_system_by_group: float = 0.4
    sd_output_by_group: float = 0.3
    sd_persona: float = 0.5
    sd_log_discrimination: float = 0.0
    sd_contested: float = 0.0
    drift_mean: float = 0.0
    sd_drift: float = 0.0
    n_variants: int = 1
    sd_variant: float = 0.0
    covariates: Mapping[str, float] = field(default_factory=dict)
    cutpoints: Sequence[float] | None = None
    system_quality: Sequence[float] | None = None
    system_by_group: Mapping[str, Sequence[Sequence[float]]] | None = None
    group_bias: Mapping[str, Sequence[float]] | None = None

    def to_dict(self) -> dict:
        """JSON-safe dict (arrays as lists)."""
        return _jsonable(asdict(self))


PRESETS: dict[str, StudySpec] = {
    "small": StudySpec(n_systems=4, n_prompts=12, n_personas=12,
                       attributes={"region": ["A", "B", "C"]}, fraction_rated=0.8),
    "demo": StudySpec(
        n_systems=6, n_prompts=40, n_personas=36,
        attributes={"region": ["Africa", "Europe", "South Asia"], "age_band": ["18-39", "40+"]},
        persona_mix={"region": [1 / 6, 2 / 3, 1 / 6], "age_band": [0.5, 0.5]},
        fraction_rated=0.95,
        system_quality=[0.55, 0.45, 0.2, 0.0, -0.45, -0.75],
        system_by_group={"region": [[-0.45, 0.35, -0.45], [0.4, -0.15, 0.4],
                                    [0.0, 0.0, 0.0], [0.1, -0.1, 0.1],
                                    [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
                         "age_band": [[0.0, 0.0]] * 6},
        group_bias={"region": [0.3, -0.4, 0.1], "age_band": [0.15, -0.15]},
        covariates={"length": 0.3},
    ),
}


def simulate(spec: StudySpec | str = "demo", *, seed: int | None = 0,
             design_seed: int | None = None, **overrides) -> tuple[Judgments, xr.Dataset]:
    """Draw a study (judgments, persona table) and its true parameters.

    Parameters
    ----------
    spec : StudySpec or str
        A spec or the name of a preset in :data:`PRESETS` (``"small"``, ``"demo"``).
    seed : int, optional
        Seed; the same seed gives the same study.
    design_seed : int, optional
        Separate seed for the design (which outputs each persona rates, in which order): the
        same ``design_seed`` with different ``seed`` gives fresh effects and ratings on one
        design (as repeated-study coverage checks need). Default: drawn from ``seed``.
    **overrides
        Fields of :class:`StudySpec` to replace.

    Returns
    -------
    judgments : Judgments
        Judgments with a persona table; ``system``, ``prompt``, ``position`` (and ``variant``)
        columns; covariates as output columns.
    truth : xarray.Dataset
        True parameters with the dims/coords the model uses (``mu``, ``nu``, ``eps``,
        ``b_<attr>``, ``lambda_<attr>``, ``gamma_<attr>``, ``u``, ``alpha``, ``zeta``,
        ``drift``, ``beta``, ``cutpoints``) plus the spec in ``attrs``.

    Examples
    --------
    >>> import pluraleval as pe
    >>> judgments, truth = pe.simulate("small", seed=1)
    >>> judgments.n_levels("system"), truth["mu"].dims
    (4, ('system',))
    """
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise ModelSpecError(f"unknown preset {spec!r}; valid presets: {sorted(PRESETS)}.")
        spec = PRESETS[spec]
    if overrides:
        spec = StudySpec(**{**asdict(spec), **overrides})
    _check(spec)
    rng = np.random.default_rng(seed)
    design_rng = rng if design_seed is None else np.random.default_rng(design_seed)
    S, P, K = spec.n_systems, spec.n_prompts, spec.n_levels
    systems = [f"sys{i + 1}" for i in range(S)]
    prompts = [f"p{i + 1:03d}" for i in range(P)]
    out_sys = np.repeat(np.arange(S), P)
    out_prompt = np.tile(np.arange(P), S)
    outputs = [f"{systems[s]}:{prompts[p]}" for s, p in zip(out_sys, out_prompt, strict=True)]
    n_out = len(outputs)

    personas = _allocate_personas(spec, rng)
    R = len(personas)
    attrs = list(spec.attributes)
    pcode = {a: personas[a].map({lv: i for i, lv in enumerate(spec.attributes[a])}).to_numpy()
             for a in attrs}

    mu = _centre(_fixed_or(spec.system_quality, lambda: rng.normal(0, spec.sd_system, S)))
    nu = _centre(rng.normal(0, spec.sd_prompt, P))
    eps = _double_centre_outputs(rng.normal(0, spec.sd_output, n_out), out_sys, out_prompt, S, P)
    beta = {c: float(b) for c, b in spec.covariates.items()}
    x = {c: design_rng.normal(0, 1, n_out) for c in beta}
    quality = mu[out_sys] + nu[out_prompt] + eps + sum((beta[c] * x[c] for c in beta), 0.0)

    b, lam, gam = {}, {}, {}
    for a in attrs:
        G = len(spec.attributes[a])
        b[a] = _centre(_fixed_or((spec.group_bias or {}).get(a),
                                 lambda G=G: rng.normal(0, spec.sd_group_bias, G)))
        fixed_lam = (spec.system_by_group or {}).get(a)
        lam[a] = _centre(_centre(np.asarray(fixed_lam, float) if fixed_lam is not None
                                 else rng.normal(0, spec.sd_system_by_group, (S, G)), 0), 1)
        g = rng.normal(0, spec.sd_output_by_group, (n_out, G))
        g = _centre(g, 1)
        g -= _group_mean(g, out_sys, S)[out_sys]
        gam[a] = g

    cell = pd.Series(list(zip(*(personas[a] for a in attrs), strict=True))).factorize()[0] \
        if attrs else np.zeros(R, int)
    u = rng.normal(0, spec.sd_persona, R)
    u -= _group_mean(u, cell, cell.max() + 1)[cell]
    log_alpha = _centre(rng.normal(0, spec.sd_log_discrimination, R))
    alpha = np.exp(log_alpha)
    zeta = _centre(rng.normal(0, spec.sd_contested, n_out))
    drift = spec.drift_mean + rng.normal(0, spec.sd_drift, R) if spec.sd_drift else \
        np.full(R, spec.drift_mean)
    cut = np.asarray(spec.cutpoints if spec.cutpoints is not None
                     else np.linspace(-2.4, 2.4, K - 1), float)
    variant_shift = rng.normal(0, spec.sd_variant, (R, spec.n_variants))

    # Which outputs each persona rates, in which order, under which variants.
    n_rated = max(1, int(round(spec.fraction_rated * n_out)))
    rows_o, rows_r, rows_pos, rows_v = [], [], [], []
    for r in range(R):
        seen = np.sort(design_rng.choice(n_out, n_rated, replace=False)) if n_rated < n_out \
            else np.arange(n_out)
        seq = np.repeat(seen, spec.n_variants)
        var = np.tile(np.arange(spec.n_variants), len(seen))
        order = design_rng.permutation(len(seq))
        rows_o.append(seq[order])
        rows_v.append(var[order])
        rows_pos.append(np.arange(len(seq)))
        rows_r.append(np.full(len(seq), r))
    o, r, pos, v = (np.concatenate(z) for z in (rows_o, rows_r, rows_pos, rows_v))
    pos_scaled = pos / max(pos.max(), 1)

    q = quality[o] + sum((lam[a][out_sys[o], pcode[a][r]] + gam[a][o, pcode[a][r]]
                          for a in attrs), 0.0)
    severity = sum((b[a][pcode[a][r]] for a in attrs), 0.0) + u[r] + drift[r] * pos_scaled \
        + variant_shift[r, v]
    eta = alpha[r] * q - severity
    latent = eta + np.exp(zeta[o]) * rng.logistic(0, 1, len(o))
    code = np.searchsorted(cut, latent)
    levels = np.arange(K) if K == 2 else np.arange(1, K + 1)

    table = pd.DataFrame({"output": np.asarray(outputs)[o], "persona": personas["persona"].
                          to_numpy()[r], "rating": levels[code],
                          "system": np.asarray(systems)[out_sys[o]],
                          "prompt": np.asarray(prompts)[out_prompt[o]], "position": pos})
    if spec.n_variants > 1:
        table["variant"] = v
    for c in beta:
        table[c] = x[c][o]
    judgments = Judgments.from_frame(
        table, personas=personas, covariates=list(beta), scale=list(levels),
        repeats="allow" if spec.n_variants > 1 else "error")

    coords = judgments.coords
    truth = xr.Dataset(
        {"mu": ("system", mu), "nu": ("prompt", nu), "eps": ("output", eps),
         "u": ("persona", u), "alpha": ("persona", alpha), "zeta": ("output", zeta),
         "drift": ("persona", drift), "cutpoints": ("cutpoint", cut),
         **{f"b_{a}": (a, b[a]) for a in attrs},
         **{f"lambda_{a}": (("system", a), lam[a]) for a in attrs},
         **{f"gamma_{a}": (("output", a), gam[a]) for a in attrs}},
        coords={"system": systems, "prompt": prompts, "output": outputs,
                "persona": personas["persona"].to_numpy(), "cutpoint": coords["cutpoint"],
                **{a: list(spec.attributes[a]) for a in attrs}},
        attrs={"spec": json.dumps(spec.to_dict()), "seed": -1 if seed is None else int(seed)})
    if beta:
        truth["beta"] = ("covariate", [beta[c] for c in beta])
        truth = truth.assign_coords(covariate=list(beta))
    # Order every dim as the judgments encode it (sorted labels), as a fit's posterior is.
    truth = truth.reindex({d: coords[d] for d in truth.dims if d in coords})
    return judgments, truth


def fixed_effects_spec(spec: StudySpec, truth: xr.Dataset) -> StudySpec:
    """``spec`` with system quality, group biases and system×group effects fixed to ``truth``.

    Studies simulated from the result share those effects and redraw everything else (prompts,
    outputs, output×group, personas, ratings): the repeated-study ensemble of a coverage check
    at fixed true parameters.

    Examples
    --------
    >>> import pluraleval as pe
    >>> _, truth = pe.simulate("small", seed=1)
    >>> spec = fixed_effects_spec(pe.PRESETS["small"], truth)
    >>> _, again = pe.simulate(spec, seed=2)
    >>> bool((again["mu"] == truth["mu"]).all()), bool((again["u"] == truth["u"]).all())
    (True, False)
    """
    systems = [f"sys{i + 1}" for i in range(spec.n_systems)]
    attrs = list(spec.attributes)
    return StudySpec(**{
        **asdict(spec),
        "system_quality": truth["mu"].sel(system=systems).values.tolist(),
        "group_bias": {a: truth[f"b_{a}"].sel({a: list(spec.attributes[a])}).values.tolist()
                       for a in attrs},
        "system_by_group": {a: truth[f"lambda_{a}"].sel(
            {"system": systems, a: list(spec.attributes[a])}).values.tolist() for a in attrs},
    })


def simulate_ratings(judgments: Judgments, truth: xr.Dataset, *,
                     seed: int | np.random.Generator | None = None) -> Judgments:
    """New ratings for the design of ``judgments`` drawn from the model with parameters ``truth``.

    The ratings come from the model's own likelihood (the numpy linear predictor of
    :mod:`pluraleval.terms`, tested equal to the fitted model's log-likelihood), so any
    parameter set with a fit's names and dims can serve as truth: a prior draw
    (:meth:`OrdinalRaterModel.sample_prior`), a simulator's truth, or fixed values.

    Parameters
    ----------
    judgments : Judgments
        The design: who rates which output (its ratings are replaced).
    truth : xarray.Dataset
        Parameters (``mu``, ``b_<attr>``, ``u``, ``cutpoints`` ...) without ``chain``/``draw``.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    Judgments

    Examples
    --------
    >>> import pluraleval as pe
    >>> design, _ = pe.simulate("small", seed=1)
    >>> prior = pe.OrdinalRaterModel().sample_prior(design, seed=2)
    >>> study = pe.simulate_ratings(design, prior, seed=3)
    >>> study.n_judgments == design.n_judgments
    True
    """
    return judgments.with_ratings(rating_codes(judgments, truth, np.random.default_rng(seed)))


def rating_codes(judgments: Judgments, truth: xr.Dataset,
                 rng: np.random.Generator) -> np.ndarray:
    """Rating level codes (0 .. K-1) drawn for every judgment of the design given ``truth``."""
    if "cutpoints" not in truth:
        raise ModelSpecError("truth needs 'cutpoints' (the thresholds between rating levels).")
    params = with_sample_dims(truth)
    design = term_design(params, judgments)
    prob = predictive_probabilities(flat_draws(params, design), design,
                                    judgments.scale.n_levels)[0]
    below = np.cumsum(prob, axis=-1)[:, :-1]
    return (rng.random(len(prob))[:, None] > below).sum(axis=-1).astype(np.int64)


def _check(spec: StudySpec) -> None:
    if spec.n_levels < 2:
        raise ModelSpecError(f"n_levels={spec.n_levels}: a rating scale needs >= 2 levels.")
    if not 0 < spec.fraction_rated <= 1:
        raise ModelSpecError(f"fraction_rated={spec.fraction_rated} must be in (0, 1].")
    if spec.cutpoints is not None and (len(spec.cutpoints) != spec.n_levels - 1
                                       or np.any(np.diff(spec.cutpoints) <= 0)):
        raise ModelSpecError(f"cutpoints must be {spec.n_levels - 1} increasing numbers.")
    if spec.system_quality is not None and len(spec.system_quality) != spec.n_systems:
        raise ModelSpecError(f"system_quality needs {spec.n_systems} values.")
    for a, mat in (spec.system_by_group or {}).items():
        if a not in spec.attributes or np.shape(mat) != (spec.n_systems,
                                                         len(spec.attributes[a])):
            raise ModelSpecError(f"system_by_group[{a!r}] must be a known attribute with shape "
                                 f"(n_systems, n_levels).")
    for a, vals in (spec.group_bias or {}).items():
        if a not in spec.attributes or len(vals) != len(spec.attributes[a]):
            raise ModelSpecError(f"group_bias[{a!r}] must give one value per level.")


def _allocate_personas(spec: StudySpec, rng: np.random.Generator) -> pd.DataFrame:
    attrs = list(spec.attributes)
    cells = list(itertools.product(*(spec.attributes[a] for a in attrs)))
    mix = spec.persona_mix or {}
    share = np.ones(len(cells))
    for k, a in enumerate(attrs):
        w = np.asarray(mix.get(a, np.ones(len(spec.attributes[a]))), float)
        w = w / w.sum()
        share *= np.array([w[list(spec.attributes[a]).index(c[k])] for c in cells])
    share /= share.sum()
    raw = share * spec.n_personas
    counts = np.floor(raw).astype(int)
    counts[np.argsort(raw - counts)[::-1][: spec.n_personas - counts.sum()]] += 1
    rows = [dict(zip(attrs, c, strict=True)) for c, n in zip(cells, counts, strict=True)
            for _ in range(n)]
    frame = pd.DataFrame(rows, columns=attrs) if attrs else pd.DataFrame(index=range(
        spec.n_personas))
    frame.insert(0, "persona", [f"per{i + 1:03d}" for i in range(len(frame))])
    return frame


def _fixed_or(fixed, draw) -> np.ndarray:
    return np.asarray(fixed, float) if fixed is not None else draw()


def _centre(x: np.ndarray, axis: int = 0) -> np.ndarray:
    return x - x.mean(axis=axis, keepdims=True)


def _group_mean(x: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``x`` (first axis) within each level of ``idx``."""
    sums = np.zeros((n, *x.shape[1:]))
    np.add.at(sums, idx, x)
    return sums / np.bincount(idx, minlength=n).reshape(-1, *([1] * (x.ndim - 1)))


def _double_centre_outputs(e, out_sys, out_prompt, S, P) -> np.ndarray:
    """Centre a fully crossed system×prompt residual within system and within prompt."""
    m = e.reshape(S, P)
    m = m - m.mean(axis=1, keepdims=True) - m.mean(axis=0, keepdims=True) + m.mean()
    return m[out_sys, out_prompt]


def _jsonable(obj):
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
