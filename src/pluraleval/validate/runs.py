"""Running many simulate-and-fit tasks: executors, a resumable results file, compiled designs.

A simulation study is a list of independent tasks (one simulated data set each). They run on
any :class:`concurrent.futures.Executor` (a local process pool by default; a Dask
``distributed`` client's ``get_executor()`` spreads them over a cluster). Each finished task is
appended as one JSON line to the results file, whose first line records the study's settings,
so an interrupted run continues where it stopped and a file is never mixed across settings.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import Judgments
from ..models.ordinal import OrdinalRaterModel
from ..models.refit import CompiledDesign
from ..progress import say
from ..simulate import StudySpec, simulate

__all__ = ["compiled_design", "fits_table", "posterior_summary", "read_results", "run_tasks",
           "sim_seeds"]

_CACHE: dict[str, tuple[Judgments, CompiledDesign]] = {}
_LOCK = threading.Lock()


def compiled_design(config: Mapping) -> tuple[Judgments, CompiledDesign]:
    """The study design of ``config`` and the model compiled on it (once per process)."""
    key = json.dumps({k: config[k] for k in ("model", "study", "design_seed")}, sort_keys=True)
    with _LOCK:
        if key not in _CACHE:
            study = StudySpec(**config["study"])
            design, _ = simulate(study, seed=config["design_seed"],
                                 design_seed=config["design_seed"])
            spec = OrdinalRaterModel.from_dict(config["model"])
            _CACHE[key] = (design, CompiledDesign(spec, design))
        return _CACHE[key]


def sim_seeds(seed: int, sim: int, n: int) -> list[int]:
    """``n`` independent integer seeds for simulation ``sim`` of a study seeded ``seed``."""
    return [int(s) for s in np.random.SeedSequence([seed, sim]).generate_state(n)]


def read_results(path: Path, config: Mapping) -> dict[int, dict]:
    """Finished tasks in ``path`` (by simulation index), after checking its settings line."""
    if not path.exists() or path.stat().st_size == 0:
        return {}
    with path.open() as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    stored = lines[0].get("config") if lines else None
    if stored != json.loads(json.dumps(config)):
        diff = sorted(k for k in set(stored or {}) | set(config)
                      if (stored or {}).get(k) != json.loads(json.dumps(config)).get(k))
        raise ValueError(f"{path} holds results of a run with other settings (differ in "
                         f"{diff}); pass a new path, or delete the file to start afresh.")
    return {rec["sim"]: rec for rec in lines[1:]}


def run_tasks(task: Callable[[Mapping, int], dict], config: Mapping, n_sims: int, *,
              path: str | Path | None, executor: Executor | None, progress: bool,
              label: str) -> list[dict]:
    """Run ``task(config, sim)`` for ``sim`` in ``range(n_sims)``; return every record.

    Records already in ``path`` are reused; new ones are appended as they finish. A task
    that raises is recorded with its ``error`` (and no results), so the study goes on and the
    failure is reported with it.
    """
    path = Path(path) if path is not None else None
    done = read_results(path, config) if path else {}
    todo = [i for i in range(n_sims) if i not in done]
    if path and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"config": config}) + "\n")
    say(f"{label}: {n_sims} simulations, {len(done)} already in "
         f"{path if path else 'memory'}, {len(todo)} to run", progress)
    if todo:
        own = executor is None
        pool = executor or ProcessPoolExecutor(
            max_workers=min(len(todo), os.cpu_count() or 1),
            mp_context=multiprocessing.get_context("spawn"))
        start = time.perf_counter()
        try:
            futures = {pool.submit(task, config, i): i for i in todo}
            for n, future in enumerate(as_completed(futures), start=1):
                try:
                    record = future.result()
                except Exception as err:  # a failed fit is a result, recorded not fatal
                    record = {"sim": futures[future], "error": f"{type(err).__name__}: {err}"}
                done[record["sim"]] = record
                if path:
                    with path.open("a") as fh:
                        fh.write(json.dumps(record) + "\n")
                elapsed = time.perf_counter() - start
                eta = elapsed / n * (len(todo) - n)
                say(f"{label}: {len(done)}/{n_sims} done, {elapsed:.0f} s elapsed, "
                     f"about {eta:.0f} s to go", progress and (n == len(todo) or n % 10 == 0))
        finally:
            if own:
                pool.shutdown(cancel_futures=True)
    return [done[i] for i in range(n_sims)]


def fits_table(records: list[dict]) -> pd.DataFrame:
    """One row per simulation: fit diagnostics, seconds, and the error of a failed task."""
    cols = ["sim", "max_r_hat", "min_ess_bulk", "divergences", "seconds", "error"]
    return pd.DataFrame([{c: r.get(c, np.nan) for c in cols} for r in records], columns=cols)


def posterior_summary(tree) -> dict:
    """Per-fit diagnostics recorded with each simulation (2+ chains)."""
    import arviz as az
    post = tree["posterior"]
    rhat = az.rhat(tree)
    ess = az.ess(tree, method="bulk")
    r = np.concatenate([np.ravel(rhat[v].values) for v in post.data_vars])
    e = np.concatenate([np.ravel(ess[v].values) for v in post.data_vars])
    div = int(tree["sample_stats"]["diverging"].sum())
    return {"max_r_hat": float(np.nanmax(r)), "min_ess_bulk": float(np.nanmin(e)),
            "divergences": div}

