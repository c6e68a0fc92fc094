"""The scale path: mean-field ADVI for studies too large for NUTS.

Mean-field ADVI (PyMC's, numba-compiled) on the model as built. Data-rich effects are centred by
the default ``parameterisation="auto"``, which is also what suits a mean-field approximation:
centred, an effect's posterior is pinned by its own judgments and nearly independent of its
``sigma``; non-centred, every unit ``z`` is correlated with its ``sigma``, the very dependence
mean-field drops. The approximation starts at sd 0.1 (not PyMC's 1) and at the observed rating
shares for the cutpoints; it stops when the loss has not improved by ``tolerance`` (relative)
over a window of iterations.

Measured against NUTS and the truth in ``benchmarks/README.md`` (scale path): like any
mean-field method it ignores posterior correlations, so intervals of correlated parameters are
too narrow; system-quality intervals covered the truth at the rates reported there.
"""

from __future__ import annotations

import time

import numpy as np
import pymc as pm
import xarray as xr

from ..progress import say

__all__ = ["advi"]

START_SD = 0.1


class _Stop:
    """ADVI callback: progress lines, and stop when the windowed loss stops improving."""

    def __init__(self, *, max_iterations: int, window: int, tolerance: float, show: bool):
        self.max_iterations, self.window, self.tolerance = max_iterations, window, tolerance
        self.show = show
        self.start = time.perf_counter()
        self.converged = False
        self.iterations: int | None = None  # set when the loss settles
        self._best = np.inf

    def __call__(self, approx, losses, i):
        if i % self.window or i == 0:
            return
        recent = float(np.mean(losses[-self.window:]))
        elapsed = time.perf_counter() - self.start
        say(f"pluraleval: ADVI iteration {i}/{self.max_iterations}, loss {recent:,.1f}, "
            f"{elapsed:.0f} s elapsed ({1e3 * elapsed / i:.1f} ms per iteration)", self.show)
        improved = self._best - recent > self.tolerance * abs(recent)
        self._best = min(self._best, recent)
        if not improved and np.isfinite(recent) and i >= 2 * self.window:
            self.converged, self.iterations = True, i + 1
            raise StopIteration(f"ADVI loss improved less than {self.tolerance:g} (relative) "
                                f"over {self.window} iterations")


def advi(model: pm.Model, *, draws: int, random_seed: int | None, initvals: dict | None,
         progressbar: bool, max_iterations: int = 20_000, learning_rate: float = 0.01,
         window: int = 250, tolerance: float = 1e-4) -> xr.DataTree:
    """Fit mean-field ADVI and draw ``draws`` times from the approximation.

    Returns
    -------
    xarray.DataTree
        ``posterior`` (one chain) of every variable of the model; attrs ``method``,
        ``iterations``, ``converged``, ``final_loss`` and ``wall_time_s``.
    """
    stop = _Stop(max_iterations=max_iterations, window=window, tolerance=tolerance,
                 show=progressbar)
    with model:
        inference = pm.ADVI(random_seed=random_seed, start=initvals or None)
        rho = inference.approx.groups[0].shared_params["rho"]
        rho.set_value(np.full(rho.get_value().shape, np.log(np.expm1(START_SD))))
        approx = inference.fit(n=max_iterations, obj_optimizer=pm.adam(learning_rate=learning_rate),
                               callbacks=[stop], progressbar=False,
                               compile_kwargs={"mode": "NUMBA"})
        tree = approx.sample(draws, random_seed=random_seed)
    losses = np.asarray(approx.hist)
    tree.attrs.update({"method": "advi", "iterations": stop.iterations or int(losses.size),
                       "converged": int(stop.converged),
                       "final_loss": float(np.mean(losses[-window:]))})
    return tree
