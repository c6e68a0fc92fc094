"""Populations: weights over the groups of persona attributes, for poststratified summaries.

The ordinal rater model is additive over attributes: a persona's quality shift is
``Σ_a lambda_a[s, g_a]`` and its group severity ``Σ_a b_a[g_a]``. Averaging either over any
joint distribution of personas therefore only needs that distribution's *marginals*, one
weight vector per attribute. A :class:`Population` is exactly that: ``{attribute: {level:
weight}}``, each attribute's weights non-negative and summing to one.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import PopulationError
from ..fit import Fit

__all__ = ["Population", "BUILTINS", "modelled_attributes"]

#: Tolerance on "weights sum to one".
TOLERANCE = 1e-6

#: Built-in populations, resolved against a fit.
BUILTINS = {
    "equal": "every level of every modelled attribute weighs the same (what `mu` means)",
    "sample": "each level weighs its share of the fit's judgments",
}


@dataclass(frozen=True)
class Population:
    """Weights over the levels of persona attributes (a target population, or a built-in).

    Build with :meth:`from_marginals`, :meth:`from_table`, :meth:`equal` or :meth:`sample`;
    anywhere a population is accepted the strings ``"equal"`` and ``"sample"`` and a plain
    ``{attribute: {level: weight}}`` mapping work too.

    Only marginals are kept: the model is additive over attributes, so a population's
    average quality and severity depend on the joint distribution of attributes only through
    each attribute's marginal weights.

    Built-ins, resolved against a :class:`~pluraleval.Fit`:

    * ``"equal"``: every level of every modelled attribute weighs the same. The system × group
      effects are zero-sum over groups, so under this population a system's quality is exactly
      ``mu``, the plain :func:`~pluraleval.leaderboard`.
    * ``"sample"``: every level weighs its share of the fit's **judgments** (not of its
      personas). A point-score leaderboard averages judgments, so a group's influence on it is
      its share of judgments; this is the rater mix such a leaderboard silently encodes. For
      persona shares instead, build the population from the persona table:
      ``Population.from_table(fit.judgments.personas.assign(n=1), weight="n",
      attributes=[...], normalize=True)``.

    An attribute the fit models but the population does not mention gets **equal weights**
    (the convention that defines ``mu``), so a population over ``region`` alone reweights
    regions and leaves every other attribute as the plain leaderboard has it.

    Parameters
    ----------
    marginals : mapping of str to mapping of level to float
        Validated weights per attribute (use the constructors rather than this directly).
    builtin : {"equal", "sample"}, optional
        A built-in resolved against a fit (``marginals`` is then empty).
    name : str
        A label carried into the summaries' ``attrs``.

    Examples
    --------
    >>> import pluraleval as pe
    >>> pop = pe.Population.from_marginals({"region": {"A": 0.5, "B": 0.3, "C": 0.2}},
    ...                                    name="target")
    >>> pop
    Population('target': region={'A': 0.5, 'B': 0.3, 'C': 0.2})
    >>> pe.Population.from_marginals({"region": {"A": 2, "B": 2}}, normalize=True).marginals
    {'region': {'A': 0.5, 'B': 0.5}}
    """

    marginals: Mapping[str, Mapping[Hashable, float]] = field(default_factory=dict)
    builtin: str | None = None
    name: str = "custom"

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_marginals(cls, marginals: Mapping[str, Mapping[Hashable, float]], *,
                       normalize: bool = False, name: str = "custom") -> Population:
        """A population from one weight vector per attribute.

        Parameters
        ----------
        marginals : mapping of str to mapping of level to float
            ``{"region": {"Africa": 0.2, "Europe": 0.5, ...}, ...}``; each attribute's weights
            are non-negative and sum to one (a level may have weight 0 but must be listed).
        normalize : bool
            Rescale each attribute's weights to sum to one (counts or percentages are fine).
        name : str
            Label carried into summaries.

        Raises
        ------
        PopulationError
            Negative, non-finite or all-zero weights; weights not summing to one.
        """
        if not isinstance(marginals, Mapping) or not marginals:
            raise PopulationError(
                "a population needs at least one attribute: pass {attribute: {level: weight}}, "
                "e.g. {'region': {'Africa': 0.2, 'Europe': 0.8}}.")
        clean = {}
        for attr, weights in marginals.items():
            if not isinstance(weights, Mapping) or not weights:
                raise PopulationError(
                    f"population weights for attribute {attr!r} must be a non-empty mapping "
                    f"{{level: weight}}; got {weights!r}.")
            clean[attr] = _check_weights(attr, dict(weights), normalize=normalize)
        return cls(marginals=clean, name=name)

    @classmethod
    def read(cls, path: str | Path, *, weight: str = "share") -> Population:
        """A population from a file (CSV / Parquet / JSONL) holding a joint table of attribute
        columns and a ``weight`` column, normalised to sum to one and named after the file.

        Examples
        --------
        >>> import tempfile, pandas as pd, pluraleval as pe
        >>> path = f"{tempfile.mkdtemp()}/census.csv"
        >>> pd.DataFrame({"region": ["A", "B"], "share": [30, 70]}).to_csv(path, index=False)
        >>> pe.Population.read(path).name
        'census'
        """
        from ..data import read_table
        path = Path(path)
        return cls.from_table(read_table(path), weight=weight, normalize=True, name=path.stem)

    @classmethod
    def from_table(cls, frame: pd.DataFrame, *, weight: str = "share",
                   attributes: Sequence[str] | None = None, normalize: bool = False,
                   name: str = "custom") -> Population:
        """A population from a joint table (e.g. a census cross-tabulation).

        The table is reduced to each attribute's marginal (weights summed by level): the
        model is additive over attributes, so nothing else of the joint table matters.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per cell (repeated cells are summed), attribute columns and a weight
            column.
        weight : str
            The weight column (shares summing to one, or counts with ``normalize=True``).
        attributes : sequence of str, optional
            Attribute columns; default every column but ``weight``.
        normalize : bool
            Rescale the weights to sum to one.
        name : str
            Label carried into summaries.

        Examples
        --------
        >>> import pandas as pd
        >>> import pluraleval as pe
        >>> census = pd.DataFrame({"region": ["A", "A", "B", "B"],
        ...                        "age_band": ["young", "old", "young", "old"],
        ...                        "count": [30, 10, 40, 20]})
        >>> pe.Population.from_table(census, weight="count", normalize=True)
        Population('custom': region={'A': 0.4, 'B': 0.6}; age_band={'old': 0.3, 'young': 0.7})
        """
        if weight not in frame:
            raise PopulationError(f"the population table has no weight column {weight!r}; "
                                  f"columns: {list(frame.columns)}. Pass weight='<column>'.")
        attrs = [c for c in frame.columns if c != weight] if attributes is None \
            else list(attributes)
        missing = [a for a in attrs if a not in frame]
        if missing or not attrs:
            raise PopulationError(f"the population table lacks attribute columns {missing}; "
                                  f"columns: {list(frame.columns)}.")
        for a in attrs:
            if frame[a].isna().any():
                rows = list(frame.index[frame[a].isna()][:5])
                raise PopulationError(f"the population table has missing {a!r} levels in "
                                      f"rows {rows}; name the level of every cell.")
        w = pd.to_numeric(frame[weight], errors="coerce")
        _check_weights("<table>", dict(enumerate(w)), normalize=True, what=f"column {weight!r}")
        total = float(w.sum())
        if not normalize and abs(total - 1) > TOLERANCE:
            raise PopulationError(
                f"the weights in column {weight!r} sum to {total:.6g}, not 1. Pass "
                "normalize=True to rescale them (counts are fine then).")
        marginals = {a: (w / total).groupby(frame[a].to_numpy(), sort=True).sum().to_dict()
                     for a in attrs}
        return cls.from_marginals(marginals, normalize=True, name=name)

    @classmethod
    def equal(cls) -> Population:
        """Every level of every modelled attribute weighs the same (the plain leaderboard)."""
        return cls(builtin="equal", name="equal")

    @classmethod
    def sample(cls) -> Population:
        """Every level weighs its share of the fit's judgments (the benchmark's own mix)."""
        return cls(builtin="sample", name="sample")

    @classmethod
    def coerce(cls, population: Population | str | Mapping | None) -> Population:
        """Accept ``None`` (equal), ``"equal"``, ``"sample"``, a mapping or a Population."""
        if population is None:
            return cls.equal()
        if isinstance(population, Population):
            return population
        if isinstance(population, str):
            if population not in BUILTINS:
                raise PopulationError(f"unknown population {population!r}; built-ins: "
                                      f"{sorted(BUILTINS)}, or pass a Population / "
                                      "{attribute: {level: weight}}.")
            return cls(builtin=population, name=population)
        if isinstance(population, Mapping):
            return cls.from_marginals(population)
        raise PopulationError(f"population={population!r} is not a population; pass "
                              f"{sorted(BUILTINS)}, a Population or {{attribute: {{level: "
                              "weight}}.")

    # ------------------------------------------------------------------ resolution
    def weights(self, fit: Fit) -> dict[str, pd.Series]:
        """Full weights over every modelled attribute of ``fit``, validated against its levels.

        Returns
        -------
        dict of str to pandas.Series
            One Series per modelled attribute, indexed by its levels (in the fit's order).

        Raises
        ------
        PopulationError
            An attribute the fit does not model, a level it does not know, or a level left
            without weight.
        """
        attrs = modelled_attributes(fit)
        coords = fit.judgments.coords
        if self.builtin == "sample":
            return {a: _sample_shares(fit, a) for a in attrs}
        out = {a: pd.Series(1 / len(coords[a]), index=pd.Index(coords[a], name=a))
               for a in attrs}
        for attr, given in self.marginals.items():
            if attr not in attrs:
                known = attr in fit.judgments.attributes
                why = ("is a persona attribute this fit does not model, so its weights would "
                       "change nothing; refit with it in group_by, or drop it from the "
                       "population" if known else "is not a persona attribute of this fit")
                raise PopulationError(f"population attribute {attr!r} {why}. Modelled "
                                      f"attributes: {attrs}.")
            levels = list(coords[attr])
            unknown = [g for g in given if g not in levels]
            if unknown:
                raise PopulationError(f"population gives weight to unknown {attr} level(s) "
                                      f"{unknown}; valid levels of {attr!r}: {levels}.")
            absent = [g for g in levels if g not in given]
            if absent:
                raise PopulationError(
                    f"population leaves {attr} level(s) {absent} without a weight; give every "
                    f"level of {attr!r} a weight (0 is allowed): {levels}.")
            out[attr] = pd.Series([given[g] for g in levels], index=pd.Index(levels, name=attr),
                                  dtype=float)
        return out

    def describe(self, fit: Fit) -> dict:
        """JSON-like description for a summary's ``attrs``: name and resolved weights."""
        return {"name": self.name, "builtin": self.builtin,
                "weights": {a: {_plain(k): float(v) for k, v in w.items()}
                            for a, w in self.weights(fit).items()}}

    def __repr__(self) -> str:
        if self.builtin:
            return f"Population({self.builtin!r})"
        body = "; ".join(f"{a}={ {k: round(v, 6) for k, v in w.items()} }"
                         for a, w in self.marginals.items())
        return f"Population({self.name!r}: {body})"


def modelled_attributes(fit: Fit) -> list[str]:
    """Persona attributes the fit's model has effects for (dims of its posterior)."""
    dims = set(fit.posterior.dims)
    return [a for a in fit.judgments.attributes if a in dims]


def weight_arrays(fit: Fit, populations: Sequence[Population], dim: str) -> dict[str, xr.DataArray]:
    """Stack the resolved weights of several populations along a new dim ``dim``.

    Returns
    -------
    dict of str to xarray.DataArray
        Per modelled attribute, weights with dims ``(dim, attribute)``.
    """
    resolved = [p.weights(fit) for p in populations]
    out = {}
    for a in modelled_attributes(fit):
        levels = fit.judgments.coords[a]
        values = np.stack([r[a].to_numpy(dtype=float) for r in resolved])
        out[a] = xr.DataArray(values, dims=(dim, a), coords={a: levels})
    return out


# ---------------------------------------------------------------------- helpers
def _check_weights(attr: str, weights: dict, *, normalize: bool,
                   what: str | None = None) -> dict:
    what = what or f"attribute {attr!r}"
    try:
        values = np.array([float(v) for v in weights.values()])
    except (TypeError, ValueError) as err:
        raise PopulationError(f"population weights for {what} must be numbers; got "
                              f"{list(weights.values())}.") from err
    bad = [k for k, v in zip(weights, values, strict=True) if not np.isfinite(v)]
    if bad:
        raise PopulationError(f"population weights for {what} are missing or not finite at "
                              f"{bad}; every weight must be a finite number >= 0.")
    negative = {k: float(v) for k, v in zip(weights, values, strict=True) if v < 0}
    if negative:
        raise PopulationError(f"population weights for {what} are negative: {negative}; "
                              "weights must be >= 0.")
    total = float(values.sum())
    if total <= 0:
        raise PopulationError(f"population weights for {what} are all zero; at least one "
                              "level needs a positive weight.")
    if normalize:
        values = values / total
    elif abs(total - 1) > TOLERANCE:
        raise PopulationError(f"population weights for {what} sum to {total:.6g}, not 1. "
                              "Rescale them with Population.from_marginals(..., "
                              "normalize=True) (counts or percentages are fine then).")
    return {_plain(k): float(v) for k, v in zip(weights, values, strict=True)}


def _sample_shares(fit: Fit, attr: str) -> pd.Series:
    levels = fit.judgments.coords[attr]
    per_judgment = fit.judgments.codes[f"persona_{attr}"][fit.judgments.codes["persona"]]
    counts = np.bincount(per_judgment, minlength=len(levels))
    return pd.Series(counts / counts.sum(), index=pd.Index(levels, name=attr))


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
