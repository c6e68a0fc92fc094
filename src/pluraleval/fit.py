"""Fit: posterior DataTree + the judgments it was fitted to + the model spec.

Saved as one netCDF file (h5netcdf): the sampler's groups, a ``judgments`` group holding the
user's tables exactly, and the spec as JSON in the root attributes with the package version.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .convergence import rank_diagnostics
from .data import Judgments

__all__ = ["Fit", "load_fit", "DiagnosticsWarning", "THRESHOLDS"]

#: Gate every fit must pass (Vehtari et al. 2021 recommendations for reporting).
THRESHOLDS = {"r_hat": 1.01, "ess_bulk": 400, "ess_tail": 400, "divergences": 0}

_SAMPLER_GROUPS = ("posterior", "sample_stats", "log_likelihood", "observed_data")


class DiagnosticsWarning(UserWarning):
    """A fit failed its convergence checks; its summaries are not to be trusted as they stand."""


class Fit:
    """A fitted model: posterior draws, the judgments and the spec.

    Build with ``model.fit(judgments)``; reload with :meth:`load`. Summaries are pure
    functions of a Fit.

    Attributes
    ----------
    tree : xarray.DataTree
        ``posterior``, ``sample_stats``, ``log_likelihood``, ``observed_data`` groups.
    judgments : Judgments
    spec : OrdinalRaterModel
    """

    def __init__(self, tree: xr.DataTree, judgments: Judgments, spec):
        self.tree = tree
        self.judgments = judgments
        self.spec = spec

    @classmethod
    def from_sampling(cls, tree: xr.DataTree, *, judgments: Judgments, spec) -> Fit:
        """Stamp provenance on a freshly sampled tree and run the diagnostics gate."""
        from . import __version__
        tree.attrs.update({
            "pluraleval_version": __version__,
            "pluraleval_spec": json.dumps(spec.to_dict()),
            "pluraleval_created": datetime.now(UTC).isoformat(timespec="seconds"),
        })
        fit = cls(tree, judgments, spec)
        fit.check(warn=True)
        return fit

    # ------------------------------------------------------------------ access
    @property
    def posterior(self) -> xr.Dataset:
        """Posterior draws (``chain``, ``draw`` and parameter dims)."""
        return self.tree["posterior"].to_dataset()

    def draws(self, var_name: str) -> xr.DataArray:
        """Posterior draws of one parameter, e.g. ``fit.draws("mu")``."""
        post = self.posterior
        if var_name not in post:
            raise KeyError(f"{var_name!r} is not a parameter of this fit; parameters: "
                           f"{sorted(post.data_vars)}.")
        return post[var_name]

    @property
    def n_draws(self) -> int:
        """Total posterior draws (chains × draws)."""
        p = self.posterior
        return int(p.sizes["chain"] * p.sizes["draw"])

    # ------------------------------------------------------------------ diagnostics
    @cached_property
    def _diagnostics(self) -> pd.DataFrame:
        post = self.posterior
        names = list(post.data_vars)
        flat = [post[v].transpose("chain", "draw", ...).to_numpy() for v in names]
        sizes = [int(np.prod(a.shape[2:], dtype=int)) for a in flat]
        stats = rank_diagnostics(np.concatenate(
            [a.reshape(a.shape[0], a.shape[1], -1) for a in flat], axis=2))
        bounds = np.cumsum([0, *sizes])
        rows = []
        for v, a, lo, hi in zip(names, flat, bounds[:-1], bounds[1:], strict=True):
            varies = np.ptp(a.reshape(a.shape[0], a.shape[1], -1), axis=(0, 1)) > 0
            if not varies.any():  # constant by construction (e.g. one-level zero-sum)
                continue
            # an undefined R-hat of a varying parameter (one chain) fails the gate: max is NaN
            r, b, t = (stats[k][lo:hi][varies] for k in ("r_hat", "ess_bulk", "ess_tail"))
            rows.append({"variable": v, "size": int(varies.size), "r_hat_max": float(r.max()),
                         "ess_bulk_min": float(b.min()), "ess_tail_min": float(t.min())})
        table = pd.DataFrame(rows, columns=["variable", "size", "r_hat_max", "ess_bulk_min",
                                            "ess_tail_min"])
        table["ok"] = ((table["r_hat_max"] <= THRESHOLDS["r_hat"])
                       & (table["ess_bulk_min"] >= THRESHOLDS["ess_bulk"])
                       & (table["ess_tail_min"] >= THRESHOLDS["ess_tail"]))
        return table

    def diagnostics(self) -> pd.DataFrame:
        """Convergence diagnostics per parameter.

        Returns
        -------
        pandas.DataFrame
            One row per variable: ``size``, ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min``,
            ``ok``; ``attrs["divergences"]`` holds the divergent transitions and
            ``attrs["converged"]`` the overall verdict against :data:`THRESHOLDS`.
        """
        table = self._diagnostics.copy()
        table.attrs["divergences"] = self.divergences
        table.attrs["converged"] = self.converged
        return table

    @property
    def divergences(self) -> int:
        """Number of divergent transitions after tuning."""
        stats = self.tree["sample_stats"]
        return int(stats["diverging"].sum()) if "diverging" in stats else 0

    @property
    def method(self) -> str:
        """``"nuts"`` (MCMC) or ``"advi"`` (the approximate scale path)."""
        return str(self.tree.attrs.get("method", "nuts"))

    @property
    def converged(self) -> bool:
        """True when every parameter passes R-hat, bulk and tail ESS, with no divergence
        (NUTS), or when the ADVI loss stopped improving before the iteration limit (ADVI)."""
        if self.method == "advi":
            return bool(self.tree.attrs["converged"])
        return bool(self._diagnostics["ok"].all()) and self.divergences == 0

    def check(self, *, warn: bool = True) -> list[str]:
        """Problems found by the diagnostics gate (empty when the fit passes).

        Parameters
        ----------
        warn : bool
            Also emit a :class:`DiagnosticsWarning` listing them.
        """
        if self.method == "advi":
            problems = [] if self.converged else [
                f"ADVI stopped at its iteration limit ({self.tree.attrs['iterations']}) "
                "before its loss settled"]
            if problems and warn:
                warnings.warn(f"{problems[0]}: treat the approximation with suspicion.",
                              DiagnosticsWarning, stacklevel=3)
            return problems
        d = self._diagnostics
        t = THRESHOLDS
        problems = [f"{row.variable}: r_hat {row.r_hat_max:.3f}, bulk ESS "
                    f"{row.ess_bulk_min:.0f}, tail ESS {row.ess_tail_min:.0f}"
                    for row in d.loc[~d["ok"]].itertuples()]
        if self.divergences > t["divergences"]:
            problems.insert(0, f"{self.divergences} divergent transitions")
        if problems and warn:
            warnings.warn(
                "FIT FAILED ITS CONVERGENCE CHECKS (R-hat <= 1.01, ESS >= 400, no divergences): "
                + "; ".join(problems[:8]) + (" ..." if len(problems) > 8 else "")
                + ". Run more draws/tune, raise target_accept, or simplify the model before "
                "trusting the summaries.", DiagnosticsWarning, stacklevel=3)
        return problems

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the fit to one netCDF file (h5netcdf); :meth:`load` restores it exactly."""
        path = Path(path)
        groups = {f"/{g}": self.tree[g].to_dataset() for g in _SAMPLER_GROUPS
                  if g in self.tree.children}
        groups["/"] = xr.Dataset(attrs=dict(self.tree.attrs))
        out = xr.DataTree.from_dict(groups)
        out["judgments"] = self.judgments.to_datatree()
        out.to_netcdf(path, engine="h5netcdf")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Fit:
        """Read a fit written by :meth:`save`."""
        from .models.ordinal import spec_from_json
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no saved fit at {path}")
        with xr.open_datatree(path, engine="h5netcdf") as stored:
            stored = stored.load()
        if "pluraleval_spec" not in stored.attrs:
            raise ValueError(f"{path} is not a pluraleval fit (no spec in its attributes).")
        judgments = Judgments.from_datatree(stored["judgments"])
        groups = {f"/{g}": stored[g].to_dataset() for g in _SAMPLER_GROUPS
                  if g in stored.children}
        groups["/"] = xr.Dataset(attrs=dict(stored.attrs))
        fit = cls(xr.DataTree.from_dict(groups), judgments,
                  spec_from_json(stored.attrs["pluraleval_spec"]))
        fit.check(warn=True)
        return fit

    def __repr__(self) -> str:
        p = self.posterior
        status = "converged" if self.converged else "FAILED CHECKS"
        return (f"Fit({self.spec.__class__.__name__}, {self.judgments.n_judgments} judgments, "
                f"{p.sizes['chain']} chains x {p.sizes['draw']} draws, {status})")


def load_fit(path: str | Path) -> Fit:
    """Read a saved fit (same as :meth:`Fit.load`).

    Examples
    --------
    >>> import tempfile, xarray as xr, pluraleval as pe
    >>> fit = pe.example_fit()
    >>> path = fit.save(f"{tempfile.mkdtemp()}/fit.nc")
    >>> again = pe.load_fit(path)  # warns again if the fit failed its checks
    >>> xr.testing.assert_identical(again.posterior, fit.posterior)
    """
    return Fit.load(path)
