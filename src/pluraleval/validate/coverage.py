"""Interval coverage at fixed true parameters, over repeated simulated studies.

System quality, group biases and system×group effects are held fixed at one draw of the study
spec; each simulated study redraws the rest from the spec's scales (prompt, output, output×group
effects, persona severities) and the ratings, on one design. Each fit's central posterior
intervals are checked against the truth: variance components against the spec's scales, the
redrawn effects against their values in that study.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..models.ordinal import OrdinalRaterModel
from ..simulate import StudySpec, fixed_effects_spec, simulate
from .runs import compiled_design, fits_table, posterior_summary, run_tasks, sim_seeds

__all__ = ["CoverageResult", "coverage", "FAMILIES"]

#: Parameter family of each variable (prefix match for per-attribute names).
FAMILIES = {"mu": "system quality", "b_": "group bias", "lambda_": "system x group",
            "u": "persona severity", "sigma_": "variance component", "nu": "prompt difficulty",
            "eps": "output residual", "gamma_": "output x group", "cutpoints": "cutpoints"}


@dataclass(frozen=True)
class CoverageResult:
    """Empirical coverage of central posterior intervals.

    Attributes
    ----------
    hits : pandas.DataFrame
        One row per simulation × variable × level: ``sim``, ``variable``, ``family``,
        ``level``, ``covered`` (components whose interval holds the truth), ``components``.
    fits : pandas.DataFrame
        One row per simulation: diagnostics, ``seconds``, ``error``.
    config : dict
    """

    hits: pd.DataFrame
    fits: pd.DataFrame
    config: dict

    def table(self, by: str = "family") -> pd.DataFrame:
        """Nominal vs empirical coverage per ``family`` (or ``variable``) and level.

        ``se`` is the Monte Carlo standard error from the spread of per-simulation coverage
        (components of one study are not independent, so it is not the binomial one).
        """
        h = self.hits
        per_sim = h.groupby([by, "level", "sim"])[["covered", "components"]].sum()
        per_sim["share"] = per_sim["covered"] / per_sim["components"]
        g = per_sim.groupby([by, "level"])
        out = pd.DataFrame({"n_sims": g.size(), "components": g["components"].mean(),
                            "coverage": g["covered"].sum() / g["components"].sum(),
                            "se": g["share"].std(ddof=1) / np.sqrt(g.size())}).reset_index()
        out = out.rename(columns={"level": "nominal"})
        out["difference"] = out["coverage"] - out["nominal"]
        return out


def coverage(model_spec: OrdinalRaterModel, study_spec: StudySpec, *, n_sims: int = 100,
             levels: Sequence[float] = (0.5, 0.8, 0.9, 0.95), draws: int = 1000,
             tune: int = 1000, chains: int = 2, seed: int = 0,
             executor: Executor | None = None, path: str | Path | None = None,
             progress: bool = True) -> CoverageResult:
    """Coverage of the posterior intervals of ``model_spec`` at fixed true parameters.

    Parameters
    ----------
    model_spec : OrdinalRaterModel
    study_spec : StudySpec
        Design and true scales; system quality, group biases and system×group effects are
        drawn once from it (with ``seed``) and then held fixed (unless the spec fixes them).
    n_sims : int
        Simulated studies.
    levels : sequence of float
        Nominal central interval probabilities.
    draws, tune, chains, seed, executor, path, progress
        As in :func:`pluraleval.validate.sbc`.

    Returns
    -------
    CoverageResult

    Examples
    --------
    >>> import pluraleval as pe
    >>> from pluraleval.validate import coverage
    >>> result = coverage(pe.OrdinalRaterModel(), pe.PRESETS["small"],
    ...                   n_sims=20)  # doctest: +SKIP
    >>> result.table().query("nominal == 0.9")  # doctest: +SKIP
    """
    _, truth = simulate(study_spec, seed=seed)
    fixed = fixed_effects_spec(study_spec, truth)
    config = {"kind": "coverage", "model": model_spec.to_dict(), "study": fixed.to_dict(),
              "design_seed": int(seed), "seed": int(seed), "draws": int(draws),
              "tune": int(tune), "chains": int(chains),
              "levels": [float(v) for v in levels]}
    records = run_tasks(coverage_task, config, n_sims, path=path, executor=executor,
                        progress=progress, label="coverage")
    hits = pd.DataFrame([[r["sim"], *row] for r in records for row in r.get("hits", [])],
                        columns=["sim", "variable", "level", "covered", "components"])
    hits.insert(2, "family", hits["variable"].map(family))
    fits = fits_table(records)
    return CoverageResult(hits=hits, fits=fits, config=config)


def coverage_task(config: Mapping, sim: int) -> dict:
    """One study: redraw the free effects and ratings, fit, check every interval."""
    start = time.perf_counter()
    design, compiled = compiled_design(config)
    study = StudySpec(**config["study"])
    data_seed, fit_seed = sim_seeds(config["seed"], sim, 2)
    judgments, truth = simulate(study, seed=data_seed, design_seed=config["design_seed"])
    if not np.array_equal(judgments.codes["output"], design.codes["output"]):
        raise RuntimeError("the simulated design changed between studies; coverage needs "
                           "one design (report this as a bug).")
    truth = truth.assign(scale_truth(study, compiled.spec.resolved(design)["group_by"]))
    tree = compiled.sample(judgments.codes["rating"], draws=config["draws"],
                           tune=config["tune"], chains=config["chains"], seed=fit_seed)
    post = tree["posterior"].to_dataset()
    rows = []
    for name in post.data_vars:
        if name not in truth:
            continue
        draws = post[name].stack(sample=("chain", "draw")).transpose("sample", ...)
        true = truth[name].transpose(*draws.dims[1:]).values
        for level in config["levels"]:
            lo, hi = np.quantile(draws.values, [(1 - level) / 2, (1 + level) / 2], axis=0)
            inside = (lo <= true) & (true <= hi)
            rows.append([name, level, int(inside.sum()), int(inside.size)])
    return {"sim": sim, "error": "", "hits": rows, "seconds": time.perf_counter() - start,
            **posterior_summary(tree)}


def scale_truth(study: StudySpec, attributes: Sequence[str]) -> Mapping[str, float]:
    """True variance components: the spec's scales of the effects redrawn in every study."""
    out = {"sigma_prompt": study.sd_prompt, "sigma_output": study.sd_output,
           "sigma_persona": study.sd_persona}
    out.update({f"sigma_gamma_{a}": study.sd_output_by_group for a in attributes})
    return out


def family(variable: str) -> str:
    """Parameter family of a variable name (see :data:`FAMILIES`)."""
    for prefix, name in FAMILIES.items():
        if variable == prefix or (prefix.endswith("_") and variable.startswith(prefix)):
            return name
    return "other"
