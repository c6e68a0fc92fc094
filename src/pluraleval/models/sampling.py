"""Running a built model: NUTS (nutpie or PyMC) with the log-likelihood for LOO, or the
ADVI scale path; progress lines; stored variables."""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
import pymc as pm
import xarray as xr

from ..progress import SamplingProgress, say

__all__ = ["sample", "approximate", "SAMPLERS", "DEFAULT_TUNE"]

SAMPLERS = ("nutpie", "pymc")
#: Tuning steps per chain when a fit does not say. nutpie's adaptation settles in fewer steps:
#: on the 20k benchmark study 500 gave the output ESS and R-hat of 1,000 (benchmarks/README.md).
DEFAULT_TUNE = {"nutpie": 500, "pymc": 1000}


def sample(model: pm.Model, *, draws: int, tune: int, chains: int, random_seed: int | None,
           sampler: Literal["nutpie", "pymc"], target_accept: float, progressbar: bool,
           initvals: dict[str, np.ndarray] | None = None) -> xr.DataTree:
    """Sample ``model`` with NUTS; keep named parameters (the unit ``*_z`` variables are dropped
    once the pointwise log-likelihood, for LOO, is computed).

    ``initvals`` must give ordered cutpoints: PyMC's default all-zero start is not ordered.
    """
    if sampler not in SAMPLERS:
        from ..errors import ModelSpecError
        raise ModelSpecError(f"sampler={sampler!r}; valid samplers: {list(SAMPLERS)}.")
    keep = stored_variables(model)
    _announce(model, sampler, progressbar)
    start = time.perf_counter()
    if sampler == "nutpie":
        tree = _nutpie(model, draws=draws, tune=tune, chains=chains, random_seed=random_seed,
                       target_accept=target_accept, progressbar=progressbar, initvals=initvals,
                       start=start)
    else:
        with model:
            tree = pm.sample(draws=draws, tune=tune, chains=chains, cores=min(chains, 2),
                             random_seed=random_seed, nuts_sampler=sampler, initvals=initvals,
                             progressbar=progressbar, target_accept=target_accept)
    with model:
        tree = pm.compute_log_likelihood(tree, progressbar=False)
    tree["posterior"] = tree["posterior"].to_dataset()[keep]
    elapsed = time.perf_counter() - start
    tree.attrs["wall_time_s"] = round(elapsed, 2)
    say(f"pluraleval: compiled and sampled in {elapsed:.1f} s", progressbar)
    return tree


def approximate(model: pm.Model, *, draws: int, random_seed: int | None, progressbar: bool,
                initvals: dict[str, np.ndarray] | None = None) -> xr.DataTree:
    """Mean-field ADVI (``models/approximate.py``); named parameters, no log-likelihood (at the
    sizes this path is for it would not fit in memory: draws x judgments)."""
    from .approximate import advi

    _announce(model, "ADVI", progressbar)
    start = time.perf_counter()
    tree = advi(model, draws=draws, random_seed=random_seed, initvals=initvals,
                progressbar=progressbar)
    tree["posterior"] = tree["posterior"].to_dataset()[stored_variables(model)]
    elapsed = time.perf_counter() - start
    tree.attrs["wall_time_s"] = round(elapsed, 2)
    say(f"pluraleval: ADVI {'converged' if tree.attrs['converged'] else 'stopped'} after "
        f"{tree.attrs['iterations']} iterations; {elapsed:.1f} s", progressbar)
    return tree


def _announce(model: pm.Model, method: str, show: bool) -> None:
    n_obs = int(model["weight"].get_value().sum())
    n_terms = int(np.prod(model["y"].shape.eval()))
    terms = f" in {n_terms} distinct likelihood terms" if n_terms < n_obs else ""
    n_par = sum(int(np.prod(v.shape.eval())) for v in model.free_RVs)
    say(f"pluraleval: {n_obs} judgments{terms}, {n_par} free parameters; compiling for "
        f"{method}", show)


def _nutpie(model: pm.Model, *, draws: int, tune: int, chains: int, random_seed: int | None,
            target_accept: float, progressbar: bool, initvals: dict | None,
            start: float) -> xr.DataTree:
    """nutpie with our progress lines (phase, ETA) instead of a redrawn bar."""
    import nutpie
    from pymc.backends.arviz import patch_nutpie_idata

    compiled = nutpie.compile_pymc_model(model, initial_points=initvals or None)
    say(f"pluraleval: compiled in {time.perf_counter() - start:.1f} s; sampling {chains} chains "
        f"x ({tune} tune + {draws} draws)", progressbar)
    began = time.perf_counter()
    tune = max(tune, 1)  # nuts-rs needs at least one tuning step
    tree = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains,
                         cores=min(chains, 2), seed=random_seed, target_accept=target_accept,
                         save_warmup=False, progress_bar=False,
                         progress_callback=SamplingProgress(chains=chains, tune=tune,
                                                            draws=draws, show=progressbar))
    patch_nutpie_idata(tree, model, sampling_time=time.perf_counter() - began)
    return tree


def stored_variables(model: pm.Model) -> list[str]:
    """Named parameters: every variable except the unit ``<name>_z`` behind a deterministic."""
    named = {v.name for v in model.deterministics}
    raw = {f"{name}_z" for name in named}
    return [v.name for v in model.free_RVs + model.deterministics if v.name not in raw]

