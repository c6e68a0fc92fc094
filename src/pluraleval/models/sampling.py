"""Running NUTS on a built model: start values, stored variables, log-likelihood."""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
import pymc as pm
import xarray as xr

from ..progress import say

__all__ = ["sample", "SAMPLERS"]

SAMPLERS = ("nutpie", "pymc")


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
    n_obs = int(np.prod(model["y"].shape.eval()))
    n_par = sum(int(np.prod(v.shape.eval())) for v in model.free_RVs)
    say(f"pluraleval: {n_obs} judgments, {n_par} free parameters; compiling and sampling "
         f"{chains} chains x ({tune} tune + {draws} draws) with {sampler}", progressbar)
    start = time.perf_counter()
    kwargs = {"target_accept": target_accept}
    with model:
        tree = pm.sample(draws=draws, tune=tune, chains=chains, cores=min(chains, 2),
                         random_seed=random_seed, nuts_sampler=sampler, initvals=initvals,
                         progressbar=progressbar, **kwargs)
        tree = pm.compute_log_likelihood(tree, progressbar=False)
    tree["posterior"] = tree["posterior"].to_dataset()[keep]
    elapsed = time.perf_counter() - start
    tree.attrs["wall_time_s"] = round(elapsed, 2)
    say(f"pluraleval: sampled in {elapsed:.1f} s", progressbar)
    return tree


def stored_variables(model: pm.Model) -> list[str]:
    """Named parameters: every variable except the unit ``<name>_z`` behind a deterministic."""
    named = {v.name for v in model.deterministics}
    raw = {f"{name}_z" for name in named}
    return [v.name for v in model.free_RVs + model.deterministics if v.name not in raw]

