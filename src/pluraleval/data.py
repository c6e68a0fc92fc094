"""Judgments: the validated, encoded long table of persona ratings.

One judgment per row: ``output``, ``persona``, ``rating`` and optionally ``system``, ``prompt``,
``criterion``, ``position`` (order in the persona's session) and ``variant`` (prompt
perturbation). Persona attributes come as columns of the same table or as a persona table keyed
by ``persona``. Every row given is either used or reported in an error: nothing is dropped.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .errors import JudgmentDataError, describe_rows
from .scale import RatingScale

__all__ = ["Judgments", "Design", "read_table"]

ROLES = ("output", "persona", "rating", "system", "prompt", "criterion", "position", "variant")
#: Dimension names the models use; an attribute may not take them.
RESERVED_DIMS = ("judgment", "cutpoint", "covariate", "rating_level", "chain", "draw")
REQUIRED = ("output", "persona", "rating")
MISSING_LEVEL = "missing"


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Parquet or JSONL (one JSON object per line) file into a DataFrame.

    Parameters
    ----------
    path : str or Path
        File ending in ``.csv``, ``.parquet``/``.pq`` or ``.jsonl``/``.ndjson``.

    Examples
    --------
    >>> import tempfile, pandas as pd, pluraleval as pe
    >>> path = f"{tempfile.mkdtemp()}/judgments.jsonl"
    >>> pd.DataFrame({"output": ["a"], "persona": ["p1"], "rating": [3]}).to_json(
    ...     path, orient="records", lines=True)
    >>> pe.read_table(path).columns.tolist()
    ['output', 'persona', 'rating']
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".jsonl", ".ndjson"):
        # dtype=False keeps JSON's own types: "007" stays a string id, not the number 7.
        return pd.read_json(path, lines=True, dtype=False)
    raise JudgmentDataError(f"cannot read {path.name!r}: unknown file type {suffix!r}. "
                            "Use .csv, .parquet or .jsonl.")


@dataclass(frozen=True)
class Design:
    """Shape of the rating design.

    Attributes
    ----------
    fully_crossed : bool
        Every persona rated every output.
    connected : bool
        The output–persona graph is connected (all effects on one scale).
    components : list of list of str
        Outputs in each connected component (one list when connected).
    fill : float
        Fraction of the output × persona cells that hold at least one judgment.
    """

    fully_crossed: bool
    connected: bool
    components: list = field(repr=False)
    fill: float


class Judgments:
    """Validated, encoded judgments. Build with :meth:`from_frame` or :meth:`read`.

    Attributes
    ----------
    table : pandas.DataFrame
        The judgments with mapped columns renamed to their roles (``output``, ``persona``,
        ``rating``, ...); every other column the user gave is kept.
    personas : pandas.DataFrame
        One row per rated persona: ``persona`` and the attribute columns.
    scale : RatingScale
        Ordered rating levels.
    attributes : list of str
        Persona attribute columns (their levels form groups).
    covariates : list of str
        Output-level covariates (numeric, or categorical: text, category or bool).
    """

    def __init__(self, table: pd.DataFrame, personas: pd.DataFrame, scale: RatingScale,
                 attributes: list[str], covariates: list[str], repeats: bool,
                 source_columns: dict[str, str]):
        self.table = table
        self.personas = personas
        self.scale = scale
        self.attributes = list(attributes)
        self.covariates = list(covariates)
        self.repeats = repeats
        self.source_columns = dict(source_columns)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        judgments: pd.DataFrame,
        *,
        personas: pd.DataFrame | None = None,
        attributes: Sequence[str] | None = None,
        covariates: Sequence[str] = (),
        scale: str | Sequence | RatingScale | None = None,
        repeats: Literal["error", "allow"] = "error",
        missing_attributes: Literal["error", "level"] = "error",
        output: str = "output",
        persona: str = "persona",
        rating: str = "rating",
        system: str | None = "system",
        prompt: str | None = "prompt",
        criterion: str | None = "criterion",
        position: str | None = "position",
        variant: str | None = "variant",
    ) -> Judgments:
        """Validate and encode a long table of judgments.

        Parameters
        ----------
        judgments : pandas.DataFrame
            One judgment per row.
        personas : pandas.DataFrame, optional
            Persona table keyed by the persona column; its other columns are attributes.
        attributes : sequence of str, optional
            Persona attribute columns. Default: every non-key column of ``personas``, or none
            when attributes sit in ``judgments`` (name them then).
        covariates : sequence of str
            Output-level columns of ``judgments`` (constant within an output): numeric (finite)
            or categorical (text, category, bool; treatment-coded by the models).
        scale : "binary", sequence or RatingScale, optional
            Ordered rating levels, e.g. ``[1, 2, 3, 4, 5]`` or ``["No", "Unsure", "Yes"]``.
            Inferred with a warning when omitted.
        repeats : {"error", "allow"}
            Whether one persona may judge one output more than once (perturbation/drift).
        missing_attributes : {"error", "level"}
            A missing attribute value is an error, or becomes the level ``"missing"``.
        output, persona, rating, system, prompt, criterion, position, variant : str
            Column names for each role. Optional roles whose default column is absent are
            simply not used; naming a column that is absent is an error.

        Returns
        -------
        Judgments

        Examples
        --------
        >>> import pandas as pd, pluraleval as pe
        >>> df = pd.DataFrame({"item_id": ["a", "a", "b", "b"], "rater": ["r1", "r2", "r1", "r2"],
        ...                    "score": [1, 3, 2, 3], "region": ["EU", "US", "EU", "US"]})
        >>> j = pe.Judgments.from_frame(df, output="item_id", persona="rater", rating="score",
        ...                             attributes=["region"], scale=[1, 2, 3])
        >>> j.n_judgments, j.coords["region"]
        (4, ['EU', 'US'])
        """
        if repeats not in ("error", "allow"):
            raise JudgmentDataError(f"repeats={repeats!r}: use 'error' or 'allow'.")
        if missing_attributes not in ("error", "level"):
            raise JudgmentDataError(
                f"missing_attributes={missing_attributes!r}: use 'error' or 'level'.")
        if not isinstance(judgments, pd.DataFrame):
            raise JudgmentDataError(f"judgments must be a pandas DataFrame, got "
                                    f"{type(judgments).__name__}.")
        mapping = dict(output=output, persona=persona, rating=rating, system=system,
                       prompt=prompt, criterion=criterion, position=position, variant=variant)
        roles = _resolve_roles(judgments, mapping)
        if judgments.empty:
            raise JudgmentDataError(
                f"the judgments table is empty (0 rows; columns {list(judgments.columns)}); "
                "nothing to model. Pass a table with at least one judgment (check any filter "
                "applied before loading).")
        table = judgments.rename(columns={col: role for role, col in roles.items()})
        for role in ("output", "persona", "system", "prompt", "criterion", "variant"):
            if role in table:
                _require_values(table, role, roles[role])
        scale = RatingScale.resolve(scale, table["rating"])
        scale.encode(table, "rating", source=roles["rating"])  # validates every rating
        if "position" in table:
            _require_numeric(table, "position", roles["position"], "position in the session")
        for col in covariates:
            if col not in table:
                raise JudgmentDataError(_missing_column_message(col, "covariates", table))
            _require_covariate(table, col)
        if repeats == "error":
            _reject_duplicates(table, roles)
        for role in ("system", "prompt", *covariates):
            if role in table:
                _require_constant(table, "output", role, roles.get(role, role))
        persona_table, attrs = _persona_table(table, personas, attributes, roles,
                                              missing_attributes)
        obj = cls(table, persona_table, scale, attrs, list(covariates), repeats == "allow",
                  roles)
        obj._warn_if_disconnected()
        return obj

    @classmethod
    def read(cls, path: str | Path, *, personas: str | Path | pd.DataFrame | None = None,
             **options) -> Judgments:
        """Read judgments (and optionally a persona table) from CSV / Parquet / JSONL.

        Parameters
        ----------
        path : str or Path
            The judgments file.
        personas : str, Path or DataFrame, optional
            The persona table (file or frame).
        **options
            Passed to :meth:`from_frame` (column mapping, ``scale``, ...).
        """
        frame = read_table(path)
        if personas is not None and not isinstance(personas, pd.DataFrame):
            personas = read_table(personas)
        return cls.from_frame(frame, personas=personas, **options)

    # ------------------------------------------------------------------ encoded view
    @property
    def n_judgments(self) -> int:
        """Number of judgments (rows)."""
        return len(self.table)

    @cached_property
    def coords(self) -> dict[str, list]:
        """Labels for every dimension: ``output``, ``persona``, ``system``, ``prompt``, one
        per attribute, ``rating_level`` and ``cutpoint``; user labels are kept."""
        coords = {"output": _levels(self.table["output"]),
                  "persona": _levels(self.personas["persona"])}
        for role in ("system", "prompt", "criterion", "variant"):
            if role in self.table:
                coords[role] = _levels(self.table[role])
        for attr in self.attributes:
            coords[attr] = _levels(self.personas[attr])
        coords["rating_level"] = list(self.scale.levels)
        coords["cutpoint"] = [f"{a}|{b}" for a, b in zip(self.scale.levels[:-1],
                                                         self.scale.levels[1:], strict=True)]
        return coords

    @cached_property
    def codes(self) -> dict[str, np.ndarray]:
        """Integer codes. Per judgment: ``rating``, ``output``, ``persona`` (and ``criterion``,
        ``variant``, ``position`` as float with ``position_scaled`` mapping its range to
        [0, 1]). Per output: ``output_system``,
        ``output_prompt``. Per persona: ``persona_<attribute>``."""
        c = self.coords
        codes = {"rating": self.scale.encode(self.table, "rating"),
                 "output": _encode(self.table["output"], c["output"]),
                 "persona": _encode(self.table["persona"], c["persona"])}
        for role in ("criterion", "variant"):
            if role in self.table:
                codes[role] = _encode(self.table[role], c[role])
        if "position" in self.table:
            pos = self.table["position"].to_numpy(dtype=float)
            codes["position"] = pos
            span = pos.max() - pos.min()
            codes["position_scaled"] = (pos - pos.min()) / span if span > 0 else 0.0 * pos
        first = self.output_table
        for role in ("system", "prompt"):
            if role in first:
                codes[f"output_{role}"] = _encode(first[role], c[role])
        for attr in self.attributes:
            codes[f"persona_{attr}"] = _encode(self.personas[attr], c[attr])
        return codes

    @cached_property
    def output_table(self) -> pd.DataFrame:
        """One row per output (in ``coords['output']`` order): system, prompt, covariates."""
        cols = [c for c in ("system", "prompt", *self.covariates) if c in self.table]
        first = self.table.groupby("output", sort=False)[cols].first() if cols else \
            pd.DataFrame(index=pd.Index(self.table["output"].unique(), name="output"))
        return first.loc[self.coords["output"]].reset_index()

    def has(self, role: str) -> bool:
        """Whether the optional role (``system``, ``prompt``, ``position``...) is present."""
        return role in self.table

    def n_levels(self, name: str) -> int:
        """Number of levels of a dimension (role or attribute)."""
        return len(self.coords[name])

    def counts(self, by: str) -> pd.DataFrame:
        """Judgment counts per level of ``by`` (a role or an attribute), with rating counts.

        Returns
        -------
        pandas.DataFrame
            Columns: ``by``, ``n_judgments``, ``n_outputs``, ``n_personas``, ``mean_rating_code``.
        """
        frame = self.table[["output", "persona"]].copy()
        frame["code"] = self.codes["rating"]
        if by in self.attributes:
            frame[by] = self.personas.set_index("persona")[by].reindex(frame["persona"]).to_numpy()
        elif by in self.table:
            frame[by] = self.table[by].to_numpy()
        else:
            raise JudgmentDataError(f"cannot count by {by!r}; valid: "
                                    f"{[r for r in ROLES if r in self.table] + self.attributes}.")
        out = frame.groupby(by, sort=True).agg(n_judgments=("code", "size"),
                                               n_outputs=("output", "nunique"),
                                               n_personas=("persona", "nunique"),
                                               mean_rating_code=("code", "mean"))
        return out.reset_index()

    def design(self) -> Design:
        """Describe the design: fully crossed, fill, connected components."""
        n_out, n_per = self.n_levels("output"), self.n_levels("persona")
        o, p = self.codes["output"], self.codes["persona"]
        cells = len(np.unique(o * n_per + p))
        graph = coo_matrix((np.ones_like(o), (o, n_out + p)), shape=(n_out + n_per,) * 2)
        n_comp, labels = connected_components(graph, directed=False)
        outputs = np.asarray(self.coords["output"], dtype=object)
        comps = [list(outputs[labels[:n_out] == k]) for k in range(n_comp)]
        comps = sorted((c for c in comps if c), key=len, reverse=True)
        return Design(fully_crossed=cells == n_out * n_per, connected=len(comps) == 1,
                      components=comps, fill=cells / (n_out * n_per))

    def summary(self) -> pd.DataFrame:
        """One-row-per-fact overview (counts of judgments, outputs, personas, groups, design)."""
        d = self.design()
        rows = [("judgments", self.n_judgments), ("outputs", self.n_levels("output")),
                ("personas", self.n_levels("persona"))]
        rows += [(f"{r}s", self.n_levels(r)) for r in ("system", "prompt") if self.has(r)]
        rows += [(f"{a} groups", self.n_levels(a)) for a in self.attributes]
        rows += [("rating levels", ", ".join(map(str, self.scale.levels))),
                 ("fully crossed", d.fully_crossed), ("fill", round(d.fill, 3)),
                 ("connected", d.connected)]
        return pd.DataFrame(rows, columns=["quantity", "value"])

    def require_levels(self, name: str, *, minimum: int = 2, purpose: str = "a contrast") -> None:
        """Raise unless dimension ``name`` exists with at least ``minimum`` levels."""
        if name not in self.coords:
            raise JudgmentDataError(f"{purpose} needs {name!r}, which these judgments do not "
                                    f"have; available: {sorted(self.coords)}.")
        if self.n_levels(name) < minimum:
            raise JudgmentDataError(
                f"{name!r} has {self.n_levels(name)} level(s) ({self.coords[name]}) but "
                f"{purpose} needs at least {minimum}. Drop it from the model or add data from "
                "other levels.")

    def check_codes(self, codes: np.ndarray, *, caller: str) -> np.ndarray:
        """``codes`` as an array, if they are one integer level code (``0 .. n_levels - 1``)
        per judgment row; otherwise a :class:`JudgmentDataError` naming ``caller`` and the
        offending rows."""
        codes = np.asarray(codes)
        k = self.scale.n_levels
        if codes.shape != (self.n_judgments,) or not np.issubdtype(codes.dtype, np.integer):
            raise JudgmentDataError(f"{caller} needs {self.n_judgments} integer codes (one "
                                    f"per judgment row); got shape {codes.shape}, dtype "
                                    f"{codes.dtype}.")
        bad = (codes < 0) | (codes >= k)
        if bad.any():
            where = describe_rows(self.table.assign(code=codes), bad, "code")
            raise JudgmentDataError(f"{caller}: codes must lie in 0..{k - 1} ({where}).")
        return codes

    def with_ratings(self, codes: np.ndarray) -> Judgments:
        """The same design (rows, personas, scale) with new ratings.

        Parameters
        ----------
        codes : array of int
            One level code per judgment row (``0 .. n_levels - 1``, lowest level first).

        Examples
        --------
        >>> import numpy as np, pluraleval as pe
        >>> judgments, _ = pe.simulate("small", seed=1)
        >>> judgments.with_ratings(np.zeros(judgments.n_judgments, int)).table["rating"].unique()
        array([1])
        """
        codes = self.check_codes(codes, caller="with_ratings")
        table = self.table.copy()
        table["rating"] = np.asarray(self.scale.levels, dtype=object)[codes]
        if all(isinstance(v, (int, np.integer)) for v in self.scale.levels):
            table["rating"] = table["rating"].astype(np.int64)
        return Judgments(table, self.personas, self.scale, self.attributes, self.covariates,
                         self.repeats, self.source_columns)

    # ------------------------------------------------------------------ persistence
    def to_datatree(self) -> xr.DataTree:
        """Everything needed to rebuild these judgments exactly (for saved fits)."""
        table = _frame_to_dataset(self.table, "row")
        personas = _frame_to_dataset(self.personas, "persona_row")
        attrs = {"scale": _json(self.scale.to_attrs()), "attributes": _json(self.attributes),
                 "covariates": _json(self.covariates), "repeats": int(self.repeats),
                 "source_columns": _json(self.source_columns)}
        return xr.DataTree.from_dict({"/": xr.Dataset(attrs=attrs), "table": table,
                                      "personas": personas})

    @classmethod
    def from_datatree(cls, tree: xr.DataTree) -> Judgments:
        """Inverse of :meth:`to_datatree`."""
        import json
        a = tree.attrs
        scale = json.loads(a["scale"])
        return cls(_dataset_to_frame(tree["table"].to_dataset()),
                   _dataset_to_frame(tree["personas"].to_dataset()),
                   RatingScale(levels=tuple(scale["levels"]), kind=scale["kind"]),
                   json.loads(a["attributes"]), json.loads(a["covariates"]),
                   bool(a["repeats"]), json.loads(a["source_columns"]))

    def _warn_if_disconnected(self) -> None:
        d = self.design()
        if not d.connected:
            parts = "; ".join(f"component {k + 1}: {len(c)} outputs (e.g. {c[:3]})"
                              for k, c in enumerate(d.components[:5]))
            warnings.warn(
                f"the design is disconnected: outputs and personas split into "
                f"{len(d.components)} groups that share no persona ({parts}). Effects are only "
                "comparable within a component except through the model's priors; add "
                "judgments that bridge them.", UserWarning, stacklevel=3)

    def __repr__(self) -> str:
        dims = ", ".join(f"{k}={len(v)}" for k, v in self.coords.items()
                         if k not in ("rating_level", "cutpoint"))
        return f"Judgments({self.n_judgments} judgments; {dims}; scale={list(self.scale.levels)})"


# ---------------------------------------------------------------------- validation helpers
def _missing_column_message(col: str, role: str, table: pd.DataFrame) -> str:
    return (f"column {col!r} (for {role}) is not in the table; its columns are "
            f"{list(table.columns)}. Map it, e.g. {role}='<your column name>'.")


def _resolve_roles(frame: pd.DataFrame, mapping: Mapping[str, str | None]) -> dict[str, str]:
    roles = {}
    for role, col in mapping.items():
        if col is None:
            continue
        if col in frame.columns:
            roles[role] = col
        elif role in REQUIRED or col != role:
            raise JudgmentDataError(_missing_column_message(col, role, frame))
    for role in ROLES:  # a column named like a role that is switched off or mapped elsewhere
        if role in frame.columns and roles.get(role) != role and role not in roles.values():
            how = f"mapped to {roles[role]!r}" if role in roles else "switched off (None)"
            raise JudgmentDataError(
                f"column {role!r} has the name of the {role} role, but {role} is {how}; the two "
                f"would be confused. Rename or drop column {role!r} before loading.")
    clash = {c for c in roles.values() if list(roles.values()).count(c) > 1}
    if clash:
        raise JudgmentDataError(f"column(s) {sorted(clash)} are mapped to more than one role "
                                f"({roles}); give each role its own column.")
    return roles


def _require_values(table: pd.DataFrame, role: str, source: str) -> None:
    bad = table[role].isna().to_numpy()
    if bad.any():
        raise JudgmentDataError(
            f"column {source!r} ({role}) is empty in {describe_rows(table, bad, role)}. Every "
            f"judgment needs its {role}: fill these in or remove the rows.")


def _require_numeric(table: pd.DataFrame, col: str, source: str, what: str) -> None:
    values = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise JudgmentDataError(
            f"column {source!r} ({what}) must be numeric and finite, but is missing or not a "
            f"number in {describe_rows(table, bad, col)}. Fill in or fix these values.")
    if not pd.api.types.is_numeric_dtype(table[col]):
        table[col] = values


def _require_covariate(table: pd.DataFrame, col: str) -> None:
    """Numeric covariates must be finite numbers; text/categorical/bool ones must be present."""
    values = table[col]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        _require_numeric(table, col, col, "output covariate")
        return
    bad = values.isna().to_numpy()
    if bad.any():
        raise JudgmentDataError(
            f"column {col!r} (categorical output covariate) is missing in "
            f"{describe_rows(table, bad, col)}. Fill in these values (a missing level can be "
            "its own category, e.g. 'unknown').")


def _reject_duplicates(table: pd.DataFrame, roles: Mapping[str, str]) -> None:
    keys = ["output", "persona"] + (["criterion"] if "criterion" in table else [])
    dup = table.duplicated(subset=keys, keep=False).to_numpy()
    if dup.any():
        raise JudgmentDataError(
            f"the same persona judged the same output more than once (columns "
            f"{'/'.join(roles.get(k, k) for k in keys)} repeated) in "
            f"{describe_rows(table, dup, 'persona')}. If repeats are intended "
            "(perturbation or drift studies) pass repeats='allow'; otherwise remove them.")


def _require_constant(table: pd.DataFrame, key: str, col: str, source: str) -> None:
    n = table.groupby(key, sort=False)[col].nunique(dropna=False)
    bad_keys = n.index[n > 1]
    if len(bad_keys):
        mask = table[key].isin(bad_keys).to_numpy()
        raise JudgmentDataError(
            f"column {source!r} must have one value per {key}, but {len(bad_keys)} {key}(s) "
            f"have several (e.g. {list(bad_keys[:3])}) in {describe_rows(table, mask, col)}. "
            f"Each {key} belongs to one {col}: give the conflicting rows distinct {key} ids or "
            "fix the values.")


def _persona_table(table: pd.DataFrame, personas: pd.DataFrame | None,
                   attributes: Sequence[str] | None, roles: Mapping[str, str],
                   missing: str) -> tuple[pd.DataFrame, list[str]]:
    key = roles["persona"]
    if personas is None:
        attrs = list(attributes or [])
        for a in attrs:
            if a not in table:
                raise JudgmentDataError(_missing_column_message(a, "attributes", table))
            if a in ROLES:
                raise JudgmentDataError(f"attribute {a!r} is also a judgment role; rename it.")
            _reject_reserved(a)
        ptab = table[["persona", *attrs]].copy()
        ptab = _fill_missing(ptab, attrs, missing, "the judgments table")
        for a in attrs:
            _require_constant(ptab, "persona", a, a)
        ptab = ptab.drop_duplicates("persona")
    else:
        if key not in personas.columns:
            raise JudgmentDataError(
                f"the persona table has no column {key!r} to join on; its columns are "
                f"{list(personas.columns)}. Name the key {key!r} or map persona=... to match.")
        ptab = personas.rename(columns={key: "persona"})
        attrs = list(attributes) if attributes is not None else \
            [c for c in ptab.columns if c != "persona"]
        for a in attrs:
            if a not in ptab:
                raise JudgmentDataError(_missing_column_message(a, "attributes", ptab))
            _reject_reserved(a)
        dup = ptab.duplicated("persona", keep=False).to_numpy()
        if dup.any():
            raise JudgmentDataError(
                f"the persona table lists a persona more than once in "
                f"{describe_rows(ptab, dup, 'persona')}; keep one row per persona.")
        ptab = _fill_missing(ptab, attrs, missing, "the persona table")
        unknown = ~table["persona"].isin(ptab["persona"]).to_numpy()
        if unknown.any():
            raise JudgmentDataError(
                f"personas (column {key!r}) in the judgments are missing from the persona table "
                f"in "
                f"{describe_rows(table, unknown, 'persona')}. Add them to the persona table "
                "(with their attributes) or check the persona ids match.")
        unused = ~ptab["persona"].isin(table["persona"])
        if unused.any():
            warnings.warn(f"{int(unused.sum())} persona(s) in the persona table made no "
                          f"judgment (e.g. {list(ptab.loc[unused, 'persona'][:3])}); they are "
                          "not part of the fit.", UserWarning, stacklevel=4)
        ptab = ptab.loc[~unused.to_numpy(), ["persona", *attrs]]
    order = _levels(table["persona"])
    ptab = ptab.set_index("persona").loc[order].reset_index()
    return ptab, attrs


def _reject_reserved(attribute: str) -> None:
    if attribute in RESERVED_DIMS or attribute in ROLES:
        raise JudgmentDataError(
            f"attribute column {attribute!r} has a name the models use for a dimension "
            f"(reserved: {list(RESERVED_DIMS + ROLES)}); rename the column, e.g. "
            f"{attribute + '_group'!r}.")


def _fill_missing(ptab: pd.DataFrame, attrs: Sequence[str], missing: str,
                  where: str) -> pd.DataFrame:
    ptab = ptab.copy()
    for a in attrs:
        bad = ptab[a].isna().to_numpy()
        if not bad.any():
            continue
        if missing == "error":
            raise JudgmentDataError(
                f"attribute {a!r} is missing in {where} in {describe_rows(ptab, bad, 'persona')}"
                f". Fill it in, or pass missing_attributes='level' to treat missing as its own "
                f"level {MISSING_LEVEL!r}.")
        ptab[a] = ptab[a].astype(object).where(~bad, MISSING_LEVEL)
    return ptab


# ---------------------------------------------------------------------- encoding helpers
def _levels(values: pd.Series) -> list:
    """Sorted distinct labels (categorical order if the column is categorical)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().unique())
        return [_py(v) for v in values.cat.categories if v in present]
    uniq = pd.unique(values.dropna())
    try:
        return [_py(v) for v in sorted(uniq)]
    except TypeError:
        return sorted((_py(v) for v in uniq), key=str)


def _encode(values: pd.Series, levels: Sequence) -> np.ndarray:
    lookup = {v: i for i, v in enumerate(levels)}
    return np.fromiter((lookup[_py(v)] for v in values), dtype=np.int64, count=len(values))


def _py(value):
    return value.item() if isinstance(value, np.generic) else value


def _json(value) -> str:
    import json
    return json.dumps(value, default=_py)


def _frame_to_dataset(frame: pd.DataFrame, dim: str) -> xr.Dataset:
    """A DataFrame as a Dataset that survives netCDF exactly (dtypes recorded in attrs).

    Numeric numpy columns are stored as they are (bool as int8: netCDF has no bool); every
    other column (text, object, nullable extension dtypes) as JSON text. The pandas dtype goes
    in ``pandas_dtype`` (xarray reserves the attribute ``dtype`` for its own bool encoding).
    """
    data = {}
    for i, col in enumerate(frame.columns):
        series = frame[col]
        attrs = {"name": _json(_py(col)), "pandas_dtype": str(series.dtype)}
        if isinstance(series.dtype, pd.CategoricalDtype):
            attrs["categories"] = _json([_py(v) for v in series.cat.categories])
            attrs["ordered"] = int(series.cat.ordered)
            values = np.array([_json(_py(v)) for v in series], dtype=object)
        elif isinstance(series.dtype, np.dtype) and series.dtype.kind in "biufcmM":
            values = series.to_numpy()
            if values.dtype == bool:
                values = values.astype(np.int8)
        else:
            attrs["json"] = 1
            values = np.array([_json(None if pd.isna(v) else _py(v)) for v in series],
                              dtype=object)
        data[f"c{i}"] = xr.Variable(dim, values, attrs=attrs)
    return xr.Dataset(data, attrs={"index": _json([_py(v) for v in frame.index]),
                                   "index_name": _json(frame.index.name)})


def _dataset_to_frame(ds: xr.Dataset) -> pd.DataFrame:
    import json
    cols = {}
    for key in sorted(ds.data_vars, key=lambda k: int(k[1:])):
        var = ds[key]
        dtype = var.attrs["pandas_dtype"]
        name = json.loads(var.attrs["name"])
        # netCDF may hand text back as fixed-width unicode (<U..), not object: decode by attrs.
        if dtype == "category":
            cats = pd.CategoricalDtype(json.loads(var.attrs["categories"]),
                                       ordered=bool(var.attrs["ordered"]))
            cols[name] = pd.Series([json.loads(v) for v in var.values], dtype=cats)
        elif var.attrs.get("json"):
            values = [json.loads(v) for v in var.values]
            cols[name] = pd.Series(values, dtype=object if dtype == "object" else dtype)
        else:
            cols[name] = pd.Series(var.values, dtype=dtype)
    frame = pd.DataFrame(cols)
    frame.index = pd.Index(json.loads(ds.attrs["index"]), name=json.loads(ds.attrs["index_name"]))
    return frame
