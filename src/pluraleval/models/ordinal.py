"""The flagship hierarchical ordinal persona-rater model (math in ``models/ordinal.md``).

The specification (:class:`OrdinalRaterModel`) is a small frozen dataclass; :meth:`build` emits
the ``pm.Model`` for given judgments and :meth:`fit` samples it into a :class:`~pluraleval.Fit`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Literal

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..data import Judgments
from ..errors import JudgmentDataError, ModelSpecError
from .effects import centred_within, double_centred, zero_sum_effect
from .likelihood import ordered_logit_logp
from .priors import merge_priors

__all__ = ["OrdinalRaterModel", "CENTRED_MIN_JUDGMENTS", "CENTRED_MIN_LEVELS"]

#: Scaled effects whose levels average at least this many judgments are centred under
#: ``parameterisation="auto"`` (the default). Measured: centred, 500 judgments per persona and
#: 64 per output mix their scales 5-50x faster (20k and 200k studies; at 200k non-centred
#: ``sigma_persona`` had bulk ESS 38 from 2,000 draws); 8 per output x group cell mixes 7x
#: slower; ~30 per output and per persona (1.4k-judgment recovery studies) mixed worse
#: centred. Levels in between stay non-centred.
CENTRED_MIN_JUDGMENTS = 50
#: ... and only effects with at least this many levels: with few levels ``sigma`` stays
#: uncertain whatever the data, and centred it funnels (1.4k-judgment recovery studies: 10
#: prompts and 15-20 system x group cells with 70-140 judgments each failed the R-hat gate).
CENTRED_MIN_LEVELS = 30


@dataclass(frozen=True, kw_only=True)
class OrdinalRaterModel:
    """Hierarchical ordinal rater model: output quality, group biases, persona severity.

    Terms left at ``None`` are switched on when the judgments support them (a careful first
    fit); ``True`` demands the term (an error if the data cannot carry it); ``False`` drops it.

    Parameters
    ----------
    group_by : sequence of str, optional
        Persona attributes whose levels get biases ``b_a`` and interactions. Default: all
        attributes of the judgments.
    prompt_effect : bool, optional
        Prompt difficulty ``nu`` (needs a ``prompt`` column).
    output_residual : bool
        Output residual ``eps`` (each output's own quality around its system and prompt).
    system_by_group : bool, optional
        System × group effects ``lambda_a`` (the stratified leaderboard).
    output_by_group : bool, optional
        Output × group effects ``gamma_a`` (value disagreement on single outputs).
    persona_severity : bool
        Persona severity ``u`` within its group cell.
    persona_discrimination : bool
        Persona discrimination ``alpha`` (how sharply a persona separates good from bad).
    contested_outputs : bool
        Per-output latent noise scale ``exp(zeta)``: outputs rated noisily beyond group structure.
    drift : bool
        Persona severity drift along ``position`` (needs a ``position`` column).
    thresholds : {"shared", "by_group"}
        One set of cutpoints, or one per level of the first ``group_by`` attribute (whose bias
        ``b`` is then absorbed by the cutpoints and dropped).
    covariates : sequence of str
        Output-level covariates with fixed effects ``beta`` on quality (numeric as given;
        text/categorical columns are treatment-coded against their first level).
    priors : mapping of str to float, optional
        Overrides of :data:`~pluraleval.models.priors.DEFAULT_PRIORS`.
    parameterisation : {"auto", "noncentred"}
        ``"auto"`` (default) centres each scaled effect (``nu``, ``eps``, ``lambda_a``,
        ``gamma_a``, ``u``) with at least :data:`CENTRED_MIN_LEVELS` levels averaging at least
        :data:`CENTRED_MIN_JUDGMENTS` judgments, and samples the others as a unit ``z`` times
        their ``sigma``; ``"noncentred"`` does the latter for all. Same model either way;
        only how fast the sampler explores it changes (``models/ordinal.md``, Inference).

    Examples
    --------
    >>> import pluraleval as pe
    >>> judgments, truth = pe.simulate("small", seed=1)
    >>> model = pe.OrdinalRaterModel(group_by=["region"], priors={"sigma_persona": 0.5})
    >>> sorted(model.terms(judgments))[:3]
    ['b_region', 'cutpoints', 'eps']
    """

    group_by: Sequence[str] | None = None
    prompt_effect: bool | None = None
    output_residual: bool = True
    system_by_group: bool | None = None
    output_by_group: bool | None = None
    persona_severity: bool = True
    persona_discrimination: bool = False
    contested_outputs: bool = False
    drift: bool = False
    thresholds: Literal["shared", "by_group"] = "shared"
    covariates: Sequence[str] = ()
    priors: Mapping[str, float] | None = field(default=None)
    parameterisation: Literal["auto", "noncentred"] = "auto"

    def __post_init__(self):
        if self.group_by is not None:
            object.__setattr__(self, "group_by", tuple(self.group_by))
        object.__setattr__(self, "covariates", tuple(self.covariates))
        if self.thresholds not in ("shared", "by_group"):
            raise ModelSpecError(f"thresholds={self.thresholds!r}; valid: 'shared', 'by_group'.")
        if self.parameterisation not in ("auto", "noncentred"):
            raise ModelSpecError(f"parameterisation={self.parameterisation!r}; valid: "
                                 "'noncentred', 'auto'.")
        merge_priors(self.priors)  # fail early on unknown names

    # ------------------------------------------------------------------ spec <-> JSON
    def to_dict(self) -> dict:
        """JSON-safe spec (stored with every fit)."""
        d = asdict(self)
        d["group_by"] = None if self.group_by is None else list(self.group_by)
        d["covariates"] = list(self.covariates)
        d["priors"] = dict(self.priors or {})
        return {"family": "ordinal", **d}

    @classmethod
    def from_dict(cls, spec: Mapping) -> OrdinalRaterModel:
        """Inverse of :meth:`to_dict`."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in spec.items() if k in names})

    # ------------------------------------------------------------------ resolution
    def resolved(self, judgments: Judgments) -> dict:
        """The concrete terms for these judgments (``None`` settings decided), or a clear error.

        Returns
        -------
        dict
            ``group_by``, the boolean switches and ``threshold_attribute``.
        """
        attrs = judgments.attributes
        if self.group_by is None:
            group_by = [a for a in attrs if judgments.n_levels(a) >= 2]
            if len(group_by) < len(attrs):
                warnings.warn(f"attributes {[a for a in attrs if a not in group_by]} have a "
                              "single level and are not modelled (no contrast to estimate).",
                              UserWarning, stacklevel=3)
        else:
            group_by = list(self.group_by)
        if len(set(group_by)) < len(group_by):
            raise ModelSpecError(f"group_by={group_by} names an attribute twice; list each "
                                 "attribute once.")
        for a in group_by:
            if a not in attrs:
                raise ModelSpecError(f"group_by names {a!r}, which is not a persona attribute; "
                                     f"valid attributes: {attrs}.")
        for a in group_by:
            _require(judgments, a, f"group_by={a!r}")
        has_sys = judgments.has("system") and judgments.n_levels("system") >= 2
        if self.system_by_group and not (has_sys and group_by):
            raise ModelSpecError("system_by_group=True needs a 'system' column with >= 2 "
                                 "systems and at least one group_by attribute.")
        if self.output_by_group and not group_by:
            raise ModelSpecError("output_by_group=True needs at least one group_by attribute.")
        if self.prompt_effect and not judgments.has("prompt"):
            raise ModelSpecError("prompt_effect=True needs a 'prompt' column (map it with "
                                 "prompt='<column>').")
        if judgments.has("criterion") and judgments.n_levels("criterion") > 1:
            raise ModelSpecError(
                f"the judgments rate {judgments.n_levels('criterion')} criteria "
                f"({judgments.coords['criterion'][:4]}); this model would pool them into one "
                "quality. Fit one model per criterion (filter the table), or drop the "
                "criterion column if the ratings really measure one thing.")
        if self.drift and not judgments.has("position"):
            raise ModelSpecError("drift=True needs a 'position' column (order of judgments in "
                                 "each persona's session; map it with position='<column>').")
        if self.thresholds == "by_group" and not group_by:
            raise ModelSpecError("thresholds='by_group' needs a group_by attribute.")
        for c in self.covariates:
            if c not in judgments.covariates:
                raise ModelSpecError(
                    f"covariate {c!r} was not declared when loading the judgments; declared: "
                    f"{judgments.covariates}. Pass covariates=[{c!r}] to Judgments.from_frame.")
        return {
            "group_by": group_by,
            "system": judgments.has("system"),
            "prompt_effect": judgments.has("prompt") if self.prompt_effect is None
            else self.prompt_effect,
            "output_residual": self.output_residual,
            "system_by_group": bool(has_sys and group_by) if self.system_by_group is None
            else self.system_by_group,
            "output_by_group": bool(group_by) if self.output_by_group is None
            else self.output_by_group,
            "persona_severity": self.persona_severity,
            "persona_discrimination": self.persona_discrimination,
            "contested_outputs": self.contested_outputs,
            "drift": self.drift,
            "threshold_attribute": group_by[0] if self.thresholds == "by_group" else None,
            "centred": self._centred(judgments, group_by),
        }

    def _centred(self, judgments: Judgments, group_by: Sequence[str]) -> dict[str, bool]:
        """Which scaled effects are centred: those averaging enough judgments per level."""
        n = judgments.n_judgments
        levels = {"eps": judgments.n_levels("output"), "u": judgments.n_levels("persona")}
        if judgments.has("prompt"):
            levels["nu"] = judgments.n_levels("prompt")
        for a in group_by:
            levels[f"gamma_{a}"] = judgments.n_levels("output") * judgments.n_levels(a)
            if judgments.has("system"):
                levels[f"lambda_{a}"] = judgments.n_levels("system") * judgments.n_levels(a)
        return {name: (self.parameterisation == "auto" and count >= CENTRED_MIN_LEVELS
                       and n / count >= CENTRED_MIN_JUDGMENTS)
                for name, count in levels.items()}

    def terms(self, judgments: Judgments) -> list[str]:
        """Names of the parameters this spec estimates on these judgments."""
        from .sampling import stored_variables
        return stored_variables(self.build(judgments))

    # ------------------------------------------------------------------ model
    def build(self, judgments: Judgments, *, collapse: bool = True) -> pm.Model:
        """Emit the PyMC model for ``judgments`` (no sampling).

        Dims are ``judgment``, ``output``, ``persona``, ``system``, ``prompt``, one per
        ``group_by`` attribute, ``covariate`` and ``cutpoint``; coords carry the user's labels.
        With ``collapse`` and no persona-level term, identical (output, persona group cell,
        rating) judgments enter the likelihood once, weighted by their count, along a ``cell``
        dim instead of ``judgment`` (:func:`judgment_cells`); refits that swap in new ratings
        need ``collapse=False``.
        """
        r = self.resolved(judgments)
        cen = r["centred"]
        pri = merge_priors(self.priors)
        c, k = judgments.coords, judgments.codes
        cells = judgment_cells(judgments, r) if collapse else None
        rows = np.arange(judgments.n_judgments) if cells is None else cells[0]
        weight = np.ones(len(rows)) if cells is None else cells[1].astype(float)
        obs = "judgment" if cells is None else "cell"
        o, p, n = k["output"][rows], k["persona"][rows], len(rows)
        n_out = len(c["output"])
        coords = {d: c[d] for d in ("output", "persona", "cutpoint")}
        coords[obs] = np.arange(n)
        for d in ("system", "prompt", *r["group_by"]):
            if d in c:
                coords[d] = c[d]
        x, x_names = covariate_matrix(judgments, self.covariates)
        if x_names:
            coords["covariate"] = x_names

        with pm.Model(coords=coords) as model:
            quality_out = pt.zeros(n_out)
            if r["system"]:
                s_out = k["output_system"]
                mu = zero_sum_effect("mu", pri["system_sd"], ("system",))
                quality_out = quality_out + mu[s_out]
            if r["prompt_effect"]:
                sig = pm.HalfNormal("sigma_prompt", pri["sigma_prompt"])
                quality_out = quality_out + zero_sum_effect(
                    "nu", sig, ("prompt",), centred=cen["nu"])[k["output_prompt"]]
            if r["output_residual"]:
                sig = pm.HalfNormal("sigma_output", pri["sigma_output"])
                if r["system"] and r["prompt_effect"] and balanced_crossing(judgments):
                    eps = double_centred("eps", sig, s_out, k["output_prompt"],
                                         len(c["system"]), len(c["prompt"]),
                                         centred=cen["eps"])
                elif r["system"]:
                    eps = centred_within("eps", sig, ("output",), s_out, len(c["system"]),
                                         centred=cen["eps"])
                else:
                    eps = zero_sum_effect("eps", sig, ("output",), centred=cen["eps"])
                quality_out = quality_out + eps
            if x_names:
                beta = pm.Normal("beta", 0.0, pri["beta_sd"], dims="covariate")
                quality_out = quality_out + pt.dot(x, beta)

            q = quality_out[o]
            severity = pt.zeros(n)
            g_of = {a: k[f"persona_{a}"][p] for a in r["group_by"]}
            for a in r["group_by"]:
                if a != r["threshold_attribute"]:
                    b = zero_sum_effect(f"b_{a}", pri["group_bias_sd"], (a,))
                    severity = severity + b[g_of[a]]
                if r["system_by_group"]:
                    sig = pm.HalfNormal(f"sigma_lambda_{a}", pri["sigma_system_by_group"])
                    lam = zero_sum_effect(f"lambda_{a}", sig, ("system", a),
                                          centred=cen[f"lambda_{a}"])
                    q = q + lam[k["output_system"][o], g_of[a]]
                if r["output_by_group"]:
                    sig = pm.HalfNormal(f"sigma_gamma_{a}", pri["sigma_output_by_group"])
                    if r["system"]:
                        gam = centred_within(f"gamma_{a}", sig, ("output", a), s_out,
                                             len(c["system"]), zero_sum_last=True,
                                             centred=cen[f"gamma_{a}"])
                    else:
                        gam = zero_sum_effect(f"gamma_{a}", sig, ("output", a),
                                              centred=cen[f"gamma_{a}"])
                    q = q + gam[o, g_of[a]]
            if r["persona_severity"]:
                sig = pm.HalfNormal("sigma_persona", pri["sigma_persona"])
                cell, n_cells = persona_cells(judgments, r["group_by"])
                if n_cells > 1:
                    u = centred_within("u", sig, ("persona",), cell, n_cells,
                                       centred=cen["u"])
                else:
                    u = zero_sum_effect("u", sig, ("persona",), centred=cen["u"])
                severity = severity + u[p]
            if r["drift"]:
                pos = k["position_scaled"][rows]
                d_mean = pm.Normal("drift_mean", 0.0, pri["drift_mean_sd"])
                d_sig = pm.HalfNormal("sigma_drift", pri["sigma_drift"])
                d_z = pm.Normal("drift_z", 0.0, 1.0, dims="persona")
                drift = pm.Deterministic("drift", d_mean + d_sig * d_z, dims="persona")
                severity = severity + drift[p] * pos
            if r["persona_discrimination"]:
                sig = pm.HalfNormal("sigma_alpha", pri["sigma_discrimination"])
                log_alpha = zero_sum_effect("log_alpha", sig, ("persona",))
                alpha = pm.Deterministic("alpha", pt.exp(log_alpha), dims="persona")
                q = alpha[p] * q
            eta = q - severity
            cut = _cutpoints(judgments, r["threshold_attribute"], pri["cutpoint_sd"])
            cut_index = (np.zeros(n, dtype=np.int64) if cut.ndim == 1
                         else k[f"persona_{r['threshold_attribute']}"][p])
            inv_scale = pt.ones(n)
            if r["contested_outputs"]:
                sig = pm.HalfNormal("sigma_zeta", pri["sigma_contested"])
                zeta = zero_sum_effect("zeta", sig, ("output",))
                inv_scale = pt.exp(-zeta)[o]
            # Ratings as data: a compiled model refits new ratings of the same design.
            rating = pm.Data("rating", k["rating"][rows], dims=obs)
            weight = pm.Data("weight", weight, dims=obs)  # judgments per likelihood term
            pm.CustomDist("y", eta, inv_scale, cut if cut.ndim == 2 else cut[None, :],
                          cut_index, weight, logp=_rating_logp,
                          signature="(),(),(s,c),(),()->()", dtype="int64", observed=rating,
                          dims=obs)
        return model

    def sample_prior(self, judgments: Judgments, *, seed: int | None = None,
                     draws: int | None = None) -> xr.Dataset:
        """Draw every named parameter from the prior, for the design of ``judgments``.

        The draw has the dims and coords of a fit's posterior (without ``chain``/``draw``), so
        it can be handed to :func:`pluraleval.simulate_ratings` as the truth of a simulated
        study (simulation-based calibration draws its truths this way).

        Parameters
        ----------
        judgments : Judgments
            The design (who rates what); its ratings are not used.
        seed : int, optional
        draws : int, optional
            Number of draws, along a leading ``draw`` dim; default one draw without it.

        Returns
        -------
        xarray.Dataset

        Examples
        --------
        >>> import pluraleval as pe
        >>> design, _ = pe.simulate("small", seed=1)
        >>> prior = pe.OrdinalRaterModel().sample_prior(design, seed=2)
        >>> prior["mu"].dims, bool((prior["cutpoints"].diff("cutpoint") > 0).all())
        (('system',), True)
        """
        return self.prior_sampler(judgments)(seed=seed, draws=draws)

    def prior_sampler(self, judgments: Judgments) -> Callable[..., xr.Dataset]:
        """:meth:`sample_prior` compiled once for the design of ``judgments``.

        Returns
        -------
        callable
            ``draw(seed=None, draws=None) -> xarray.Dataset``, the same draws as
            ``sample_prior(judgments, seed=seed, draws=draws)`` without rebuilding and
            recompiling the model on every call (simulation studies draw hundreds).

        Examples
        --------
        >>> import pluraleval as pe
        >>> design, _ = pe.simulate("small", seed=1)
        >>> model = pe.OrdinalRaterModel()
        >>> draw = model.prior_sampler(design)
        >>> draw(seed=2).identical(model.sample_prior(design, seed=2))
        True
        """
        from pymc.pytensorf import collect_default_updates, reseed_rngs

        from .sampling import stored_variables
        model = self.build(judgments)
        names = stored_variables(model)
        outputs = [model[n] for n in names]
        # Seeded as pm.draw seeds them, so a seed gives the draws pm.draw would.
        rngs = list(collect_default_updates(inputs=[], outputs=outputs))
        fn = pm.pytensorf.compile(inputs=[], outputs=outputs, random_seed=False)
        dims = model.named_vars_to_dims

        def draw(seed: int | None = None, draws: int | None = None) -> xr.Dataset:
            reseed_rngs(rngs, seed)
            runs = [fn() for _ in range(draws or 1)]
            lead = ("draw",) if draws else ()
            data = {}
            for i, name in enumerate(names):
                value = np.stack([r[i] for r in runs]) if draws else np.asarray(runs[0][i])
                if name == "cutpoints":  # the ordered Normal prior = sorted iid Normal draws
                    value = np.sort(value, axis=-1)
                data[name] = ((*lead, *dims.get(name, ())), value)
            used = {d for dd, _ in data.values() for d in dd}
            return xr.Dataset(data, coords={d: list(model.coords[d]) for d in used - {"draw"}})

        return draw

    def fit(self, judgments: Judgments, *, draws: int = 1000, tune: int | None = None,
            chains: int = 4, random_seed: int | None = None,
            sampler: Literal["nutpie", "pymc"] = "nutpie", target_accept: float = 0.9,
            progressbar: bool = True, method: Literal["nuts", "advi"] = "nuts"):
        """Sample the posterior and return a :class:`~pluraleval.Fit`.

        Parameters
        ----------
        judgments : Judgments
        draws, chains : int
            Posterior draws per chain; number of chains (4 by default, as the R-hat and
            ESS >= 400 gate assumes; two run at a time on two cores).
        tune : int, optional
            Tuning steps per chain; default :data:`~pluraleval.models.sampling.DEFAULT_TUNE`
            of the sampler (500 for nutpie, whose mass-matrix adaptation settles in fewer
            steps; 1000 for PyMC's).
        random_seed : int, optional
        sampler : {"nutpie", "pymc"}
            NUTS implementation.
        target_accept : float
            NUTS target acceptance (raise towards 0.99 if there are divergences).
        progressbar : bool
            Show sampling progress.
        method : {"nuts", "advi"}
            ``"nuts"``: exact (MCMC). ``"advi"``: the scale path for studies too large for
            NUTS, mean-field ADVI (``models/approximate.py``), ``draws`` draws in one chain
            from the approximation, no log-likelihood; ``tune``, ``chains``, ``sampler`` and
            ``target_accept`` do not apply. Its intervals are approximate (coverage measured
            in ``benchmarks/README.md``).

        Returns
        -------
        Fit
            Posterior, log-likelihood, judgments and spec, with its diagnostics computed.
        """
        from ..fit import Fit
        from .sampling import DEFAULT_TUNE, approximate, sample

        if method not in ("nuts", "advi"):
            raise ModelSpecError(f"method={method!r}; valid methods: ['nuts', 'advi'].")
        model = self.build(judgments)
        if method == "advi":
            tree = approximate(model, draws=draws, random_seed=random_seed,
                               progressbar=progressbar, initvals=start_values(model, judgments))
            return Fit.from_sampling(tree, judgments=judgments, spec=self)
        tune = DEFAULT_TUNE.get(sampler) if tune is None else tune
        tree = sample(model, draws=draws, tune=tune, chains=chains, random_seed=random_seed,
                      sampler=sampler, target_accept=target_accept, progressbar=progressbar,
                      initvals=start_values(model, judgments))
        if "cell" in model.coords:
            tree = _per_judgment(tree, judgments, judgment_cells(judgments, self.resolved(
                judgments)))
        return Fit.from_sampling(tree, judgments=judgments, spec=self)


def covariate_matrix(judgments: Judgments, names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Output-level design matrix: numeric columns as given, others treatment-coded.

    Returns
    -------
    x : ndarray (n_outputs, n_columns)
    columns : list of str
        ``"length"`` for numeric, ``"temp[warm]"`` for a level of a categorical column.
    """
    table = judgments.output_table
    cols, names_out = [], []
    for name in names:
        values = table[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            cols.append(values.to_numpy(dtype=float))
            names_out.append(name)
            continue
        levels = sorted(pd.unique(values), key=str) if not isinstance(
            values.dtype, pd.CategoricalDtype) else list(values.cat.categories)
        if len(levels) < 2:
            raise ModelSpecError(f"covariate {name!r} has a single value ({levels}); it "
                                 "carries no contrast. Drop it from covariates.")
        for lv in levels[1:]:
            cols.append((values == lv).to_numpy(dtype=float))
            names_out.append(f"{name}[{lv}]")
    x = np.column_stack(cols) if cols else np.zeros((len(table), 0))
    return x, names_out


def balanced_crossing(judgments: Judgments) -> bool:
    """True when every system answers every prompt with exactly one output."""
    k = judgments.codes
    n_s, n_p = judgments.n_levels("system"), judgments.n_levels("prompt")
    cells = k["output_system"] * n_p + k["output_prompt"]
    return len(cells) == n_s * n_p and len(np.unique(cells)) == n_s * n_p


def persona_cells(judgments: Judgments, attrs: Sequence[str]) -> tuple[np.ndarray, int]:
    """Code of each persona's cell of ``attrs`` (all personas in one cell when empty)."""
    n = judgments.n_levels("persona")
    if not attrs:
        return np.zeros(n, dtype=np.int64), 1
    keys = pd.MultiIndex.from_arrays([judgments.codes[f"persona_{a}"] for a in attrs])
    cell, uniq = pd.factorize(keys)
    return cell.astype(np.int64), len(uniq)


def _cutpoints(judgments: Judgments, attribute: str | None, sd: float):
    levels = judgments.scale.n_levels
    if attribute is None:
        dims: tuple[str, ...] = ("cutpoint",)
        shape = (levels - 1,)
    else:
        dims = (attribute, "cutpoint")
        shape = (judgments.n_levels(attribute), levels - 1)
    if levels == 2:
        return pm.Normal("cutpoints", 0.0, sd, dims=dims)
    return pm.Normal("cutpoints", 0.0, sd, dims=dims, shape=shape,
                     transform=pm.distributions.transforms.ordered)


def _rating_logp(value, eta, inv_scale, cuts, cut_index, weight):
    """Ordered-logit log-probability of each rating code (one fused pass; likelihood.py),
    times the number of judgments the term stands for."""
    cuts = cuts.squeeze(axis=tuple(range(cuts.ndim - 2)))  # CustomDist adds a batch dim of 1
    return weight * ordered_logit_logp(value, eta, cuts, cut_index=cut_index,
                                       inv_scale=inv_scale)


def _per_judgment(tree: xr.DataTree, judgments: Judgments, cells: tuple) -> xr.DataTree:
    """Log-likelihood and observed ratings of a collapsed fit, back on the ``judgment`` dim
    (each judgment's term is its cell's, unweighted), so LOO sees judgments."""
    _, counts, cell = cells
    ll = tree["log_likelihood"]["y"] / xr.DataArray(counts, dims="cell")
    index = xr.DataArray(cell, dims="judgment")
    ll = ll.drop_vars("cell").isel(cell=index).assign_coords(
        judgment=np.arange(judgments.n_judgments))
    tree["log_likelihood"] = xr.DataTree(xr.Dataset({"y": ll}, attrs=tree["log_likelihood"].attrs))
    tree["observed_data"] = xr.DataTree(xr.Dataset(
        {"y": ("judgment", judgments.codes["rating"])},
        coords={"judgment": np.arange(judgments.n_judgments)},
        attrs=tree["observed_data"].attrs))
    return tree


def judgment_cells(judgments: Judgments, resolved: dict
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Identical likelihood terms, when no persona-level term is active.

    Without persona severity, drift or discrimination, a judgment's likelihood depends only on
    its output, its persona's cell of the modelled attributes and its rating; judgments
    sharing all three are one term weighted by their count.

    Returns
    -------
    (rows, counts, cell) or None
        A representative judgment row and the count of each cell, and each judgment's cell;
        ``None`` when a persona-level term is active.
    """
    if any(resolved[t] for t in ("persona_severity", "drift", "persona_discrimination")):
        return None
    attrs = list(dict.fromkeys([*resolved["group_by"],
                                *filter(None, [resolved["threshold_attribute"]])]))
    k = judgments.codes
    persona_cell, _ = persona_cells(judgments, attrs)
    keys = pd.MultiIndex.from_arrays([k["output"], persona_cell[k["persona"]], k["rating"]])
    cell, _ = pd.factorize(keys)
    _, rows = np.unique(cell, return_index=True)
    return rows, np.bincount(cell), cell.astype(np.int64)


def start_values(model: pm.Model, judgments: Judgments) -> dict[str, np.ndarray]:
    """Ordered start for the cutpoints (PyMC's all-zero default is not ordered); none for a
    single binary cutpoint."""
    shape = tuple(int(n) for n in model["cutpoints"].shape.eval())
    return {"cutpoints": initial_cutpoints(judgments, shape)} if shape[-1] > 1 else {}


def initial_cutpoints(judgments: Judgments, shape: tuple[int, ...]) -> np.ndarray:
    """Start cutpoints at the logits of the observed cumulative rating shares (ordered)."""
    counts = np.bincount(judgments.codes["rating"], minlength=judgments.scale.n_levels) + 0.5
    cum = np.cumsum(counts)[:-1] / counts.sum()
    base = np.log(cum / (1 - cum))
    return np.broadcast_to(base, shape).copy()


def _require(judgments: Judgments, name: str, purpose: str) -> None:
    try:
        judgments.require_levels(name, minimum=2, purpose=purpose)
    except JudgmentDataError as err:
        raise ModelSpecError(str(err)) from err


def spec_from_json(text: str):
    """Rebuild a model spec from the JSON stored with a fit."""
    spec = json.loads(text)
    family = spec.pop("family", "ordinal")
    if family != "ordinal":
        raise ModelSpecError(f"unknown model family {family!r}; valid: ['ordinal'].")
    return OrdinalRaterModel.from_dict(spec)
