"""Simulation-based calibration (Talts et al. 2018; Modrák et al. 2023).

Each simulation draws every parameter from the model's prior, simulates ratings for a fixed
study design from them, fits the model and records the rank of each true value among thinned
posterior draws. If the sampler and the model are right, every rank is uniform on
``0 .. n_draws``; departures show as non-flat rank histograms and ECDFs leaving their band.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..models.ordinal import OrdinalRaterModel
from ..simulate import StudySpec, rating_codes
from .runs import compiled_design, fits_table, posterior_summary, run_tasks, sim_seeds

__all__ = ["SBCResult", "sbc"]

#: Thinned posterior draws each true value is ranked among (ranks take 100 values).
N_RANK_DRAWS = 99


@dataclass(frozen=True)
class SBCResult:
    """Ranks of the true parameters among posterior draws, one row per simulation × component.

    Attributes
    ----------
    ranks : pandas.DataFrame
        ``sim``, ``variable``, ``component`` (coordinate labels joined by ``,``), ``rank``
        (0 .. ``n_draws``), ``n_draws``.
    fits : pandas.DataFrame
        One row per simulation: ``sim``, ``max_r_hat``, ``min_ess_bulk``, ``divergences``,
        ``seconds``, ``error`` (empty when the fit ran).
    config : dict
        The settings of the run (model, study, seeds, draws).
    """

    ranks: pd.DataFrame
    fits: pd.DataFrame
    config: dict

    @property
    def n_sims(self) -> int:
        """Simulations whose fit ran (failed ones have no ranks)."""
        return int(self.ranks["sim"].nunique())

    def uniformity(self, *, bins: int | None = None) -> pd.DataFrame:
        """Chi-square test of uniform ranks for every parameter component.

        Parameters
        ----------
        bins : int, optional
            Rank bins (a divisor of ``n_draws + 1``); default the largest of 2, 4, 5, 10, 20
            with at least 5 expected ranks per bin.

        Returns
        -------
        pandas.DataFrame
            ``variable``, ``component``, ``n_sims``, ``bins``, ``chi2``, ``p_value``,
            ``p_adjusted`` (Bonferroni over all components, so one table-wide threshold keeps
            the family-wise error rate), ``ecdf_outside`` (the ECDF of fractional ranks leaves
            the simultaneous 95% band of Säilynoja et al. 2022).
        """
        n_values = int(self.ranks["n_draws"].iloc[0]) + 1
        n = self.n_sims
        if bins is None:
            bins = max([b for b in (2, 4, 5, 10, 20) if n_values % b == 0 and n / b >= 5],
                       default=2)
        if n_values % bins:
            raise ValueError(f"bins={bins} must divide the {n_values} possible ranks.")
        _, lower, upper, diffs = self.ecdf_differences()
        rows = []
        groups = self.ranks.groupby(["variable", "component"], sort=False)
        for (var, comp), g in groups:
            r = g["rank"].to_numpy()
            counts = np.bincount(r * bins // n_values, minlength=bins)
            chi2, p = stats.chisquare(counts)
            diff = diffs[var, comp]
            rows.append({"variable": var, "component": comp, "n_sims": len(r), "bins": bins,
                         "chi2": float(chi2), "p_value": float(p),
                         "ecdf_outside": bool(np.any((diff < lower) | (diff > upper)))})
        table = pd.DataFrame(rows)
        table["p_adjusted"] = np.minimum(1.0, table["p_value"] * len(table))
        return table

    def ecdf_differences(self, *, prob: float = 0.95) -> tuple:
        """ECDF of each component's randomised fractional ranks minus the uniform CDF.

        Returns
        -------
        grid, lower, upper : ndarray
            Evaluation points and the simultaneous ``prob`` band of one component's curve.
        differences : dict
            ``(variable, component)`` to the curve at ``grid``.
        """
        n_values = int(self.ranks["n_draws"].iloc[0]) + 1
        lower, upper = band(self.n_sims, prob)
        groups = self.ranks.groupby(["variable", "component"], sort=False)["rank"]
        diffs = {key: ecdf_difference(fractional_ranks(r.to_numpy(), n_values, seed=i))
                 for i, (key, r) in enumerate(groups)}
        return ecdf_grid(self.n_sims), lower, upper, diffs

    def summary(self, *, alpha: float = 0.01) -> pd.DataFrame:
        """One row per variable: components, smallest p-values, share of ECDFs out of band.

        ``passed`` is False when any component's Bonferroni-adjusted p-value is below
        ``alpha``.
        """
        u = self.uniformity()
        g = u.groupby("variable", sort=False)
        out = pd.DataFrame({"components": g.size(), "n_sims": g["n_sims"].min(),
                            "min_p": g["p_value"].min(), "min_p_adjusted": g["p_adjusted"].min(),
                            "share_outside_band": g["ecdf_outside"].mean()}).reset_index()
        out["passed"] = out["min_p_adjusted"] >= alpha
        return out

    def passed(self, *, alpha: float = 0.01) -> bool:
        """True when no component's ranks reject uniformity at family-wise level ``alpha``."""
        return bool(self.summary(alpha=alpha)["passed"].all())


def sbc(model_spec: OrdinalRaterModel, study_spec: StudySpec, *, n_sims: int = 100,
        draws: int = 1000, tune: int = 1000, chains: int = 2, seed: int = 0,
        var_names: Sequence[str] | None = None, executor: Executor | None = None,
        path: str | Path | None = None, progress: bool = True) -> SBCResult:
    """Simulation-based calibration of ``model_spec`` on the design of ``study_spec``.

    Parameters
    ----------
    model_spec : OrdinalRaterModel
        The model to calibrate (its priors generate the truths).
    study_spec : StudySpec
        The design (sizes, attributes, rating levels, fraction rated). Only the design is
        used: every effect is drawn from the model's prior, not from the spec's scales.
    n_sims : int
        Simulations (each: one prior draw, one data set, one fit).
    draws, tune, chains : int
        NUTS settings of each fit (nutpie; chains run one after another in each worker).
    seed : int
        Fixes the design and every simulation's seeds (simulation ``i`` is reproducible alone).
    var_names : sequence of str, optional
        Parameters to rank (default: every named parameter of the model).
    executor : concurrent.futures.Executor, optional
        Where simulations run: default a process pool over the local cores; pass
        ``distributed.Client(...).get_executor()`` to use a Dask cluster.
    path : str or Path, optional
        JSON-lines file the results are appended to; an interrupted run given the same path
        and settings continues where it stopped.
    progress : bool
        Print progress lines to stderr.

    Returns
    -------
    SBCResult

    Examples
    --------
    >>> import pluraleval as pe
    >>> from pluraleval.validate import sbc
    >>> study = pe.StudySpec(n_systems=3, n_prompts=6, n_personas=8,
    ...                      attributes={"region": ["A", "B"]})
    >>> result = sbc(pe.OrdinalRaterModel(), study, n_sims=20)  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    """
    config = {"kind": "sbc", "model": model_spec.to_dict(), "study": study_spec.to_dict(),
              "design_seed": int(seed), "seed": int(seed), "draws": int(draws),
              "tune": int(tune), "chains": int(chains),
              "var_names": None if var_names is None else list(var_names)}
    records = run_tasks(sbc_task, config, n_sims, path=path, executor=executor,
                        progress=progress, label="sbc")
    return _result(records, config)


def sbc_task(config: Mapping, sim: int) -> dict:
    """One simulation: prior draw → ratings → fit → ranks (runs in a worker)."""
    start = time.perf_counter()
    design, compiled = compiled_design(config)
    prior_seed, data_seed, fit_seed = sim_seeds(config["seed"], sim, 3)
    truth = compiled.draw_prior(seed=prior_seed)
    codes = rating_codes(design, truth, np.random.default_rng(data_seed))
    tree = compiled.sample(codes, draws=config["draws"], tune=config["tune"],
                           chains=config["chains"], seed=fit_seed)
    post = tree["posterior"].to_dataset()
    names = config["var_names"] or list(post.data_vars)
    rows = []
    for name in names:
        draws = post[name].stack(sample=("chain", "draw")).transpose("sample", ...)
        keep = np.linspace(0, draws.sizes["sample"] - 1, N_RANK_DRAWS).round().astype(int)
        thinned = draws.values[keep]
        true = truth[name].transpose(*draws.dims[1:]).values
        ranks = (thinned < true).sum(axis=0)
        for comp, rank in zip(_labels(truth[name], draws.dims[1:]), np.ravel(ranks),
                              strict=True):
            rows.append([name, comp, int(rank)])
    return {"sim": sim, "error": "", "ranks": rows, "seconds": time.perf_counter() - start,
            **posterior_summary(tree)}


def _labels(da, dims) -> list[str]:
    if not dims:
        return [""]
    grids = np.meshgrid(*[da[d].values.astype(str) for d in dims], indexing="ij")
    return [",".join(parts) for parts in zip(*(g.ravel() for g in grids), strict=True)]


def _result(records: list[dict], config: dict) -> SBCResult:
    ranks = pd.DataFrame([[r["sim"], *row] for r in records for row in r.get("ranks", [])],
                         columns=["sim", "variable", "component", "rank"])
    ranks["n_draws"] = N_RANK_DRAWS
    fits = fits_table(records)
    return SBCResult(ranks=ranks, fits=fits, config=dict(config))


def fractional_ranks(ranks: np.ndarray, n_values: int, seed: int = 0) -> np.ndarray:
    """Randomised fractional ranks ``(rank + U) / n_values``, ``U ~ Uniform(0, 1)``: exactly
    uniform on (0, 1) under calibration, so the continuous ECDF band applies (mid-points would
    put the discrete ranks' steps outside a narrow band at the ends)."""
    jitter = np.random.default_rng(seed).random(len(ranks))
    return (np.asarray(ranks) + jitter) / n_values


def ecdf_grid(n: int) -> np.ndarray:
    """Points where ECDF differences of ``n`` ranks are evaluated."""
    return np.arange(1, n) / n


def ecdf_difference(values: np.ndarray) -> np.ndarray:
    """ECDF of ``values`` minus the uniform CDF, at :func:`ecdf_grid`."""
    grid = ecdf_grid(len(values))
    return np.searchsorted(np.sort(values), grid, side="right") / len(values) - grid


@functools.lru_cache(maxsize=32)
def band(n: int, prob: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous ``prob`` band of the ECDF difference of ``n`` uniform values, at
    :func:`ecdf_grid` (arviz-stats' simulation method, Säilynoja et al. 2022)."""
    from arviz_stats.ecdf_utils import ecdf_pit
    grid, _, lower, upper = ecdf_pit(np.linspace(0.5 / n, 1 - 0.5 / n, n), prob, 1000,
                                     rng=np.random.default_rng(0))
    return (lower - grid)[1:-1], (upper - grid)[1:-1]

