"""Rating scales: the ordered levels a rating can take, and encoding ratings to codes."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import JudgmentDataError, describe_rows

__all__ = ["RatingScale"]

_BINARY_ALIASES = {"0": 0, "1": 1, "false": 0, "true": 1, "no": 0, "yes": 1}


@dataclass(frozen=True)
class RatingScale:
    """Ordered rating levels (lowest first).

    Parameters
    ----------
    levels : tuple
        The labels in order; a rating's code is its position.
    kind : {"ordinal", "binary"}
        Binary is the two-level case of ordinal.
    """

    levels: tuple
    kind: str = "ordinal"

    @property
    def n_levels(self) -> int:
        """Number of rating levels (categories)."""
        return len(self.levels)

    @property
    def values(self) -> np.ndarray:
        """Numbers for averaging ratings: the numeric levels, or 1..K for text labels."""
        if self.numeric:
            return np.asarray(self.levels, float)
        return np.arange(1, self.n_levels + 1, dtype=float)

    @property
    def numeric(self) -> bool:
        """Whether the levels are numbers (so 2.5 is a non-integer, not an unknown label)."""
        return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                   for v in self.levels)

    @classmethod
    def resolve(cls, spec: str | Sequence | RatingScale | None, ratings: pd.Series) -> RatingScale:
        """Build the scale from a user's declaration, or infer it (with a warning).

        Parameters
        ----------
        spec : "binary", sequence of levels, RatingScale or None
            ``None`` infers the sorted distinct ratings and warns.
        ratings : pandas.Series
            The rating column (used only to infer).
        """
        if isinstance(spec, RatingScale):
            return spec
        if isinstance(spec, str):
            if spec != "binary":
                raise JudgmentDataError(
                    f"scale={spec!r} is not a known scale name. Use scale='binary', or list the "
                    "ordered levels, e.g. scale=[1, 2, 3, 4, 5] or scale=['No', 'Unsure', 'Yes'].")
            return cls(levels=(0, 1), kind="binary")
        if spec is None:
            values = pd.unique(ratings.dropna())
            try:
                levels = tuple(sorted(_plain(v) for v in values))
            except TypeError as err:
                raise JudgmentDataError(
                    "column 'rating' mixes numbers and text, so its order cannot be inferred. "
                    "Declare the ordered levels, e.g. scale=['No', 'Unsure', 'Yes'].") from err
            warnings.warn(
                f"no rating scale declared; inferred ordered levels {list(levels)} from the data. "
                "Declare scale=[...] so that unused levels are kept and the order is yours.",
                UserWarning, stacklevel=3)
            kind = "binary" if len(levels) == 2 else "ordinal"
            return cls(levels=levels, kind=kind)
        levels = tuple(_plain(v) for v in spec)
        if len(levels) < 2:
            raise JudgmentDataError(f"scale={list(levels)} has fewer than two levels; a rating "
                                    "scale needs at least two ordered levels.")
        if len(set(levels)) != len(levels):
            raise JudgmentDataError(f"scale={list(levels)} repeats a level; list each level once.")
        return cls(levels=levels, kind="binary" if len(levels) == 2 else "ordinal")

    def encode(self, frame: pd.DataFrame, column: str = "rating", *,
               source: str | None = None) -> np.ndarray:
        """Map ``frame[column]`` to integer codes 0..K-1, raising on anything off the scale.

        ``source`` is the user's name for the column (named in error messages).
        """
        name = column if source is None else source
        zero_one = self.levels == (0, 1)  # 0/1 also accepts True/False, "yes"/"no"
        values = frame[column]
        missing = values.isna().to_numpy()
        if self.numeric or zero_one:
            numeric = pd.to_numeric(values, errors="coerce") if not zero_one else \
                values.map(_binary_value)
            nonfinite = ~np.isfinite(numeric.to_numpy(dtype=float, na_value=np.nan))
            bad = missing | (nonfinite & ~missing) if zero_one else missing | nonfinite
            if bad.any():
                raise JudgmentDataError(
                    f"column {name!r} has missing, non-numeric or non-finite ratings in "
                    f"{describe_rows(frame, bad, column)}. Every judgment needs a rating on the "
                    f"scale {list(self.levels)}: fix or remove these rows before loading.")
            arr = numeric.to_numpy(dtype=float)
            if not zero_one:
                frac = arr != np.round(arr)
                if frac.any() and all(float(v).is_integer() for v in self.levels):
                    raise JudgmentDataError(
                        f"column {name!r} has non-integer values on the ordinal scale "
                        f"{list(self.levels)} in {describe_rows(frame, frac, column)}. Ordinal "
                        "ratings must be one of the levels; round them yourself if that is "
                        "meant, or declare the levels you use.")
            lookup = {float(v): i for i, v in enumerate(self.levels)}
            codes = np.array([lookup.get(v, -1) for v in arr], dtype=np.int64)
        else:
            if missing.any():
                raise JudgmentDataError(
                    f"column {name!r} has missing ratings in "
                    f"{describe_rows(frame, missing, column)}. Every judgment needs a rating on "
                    f"the scale {list(self.levels)}: fill in or remove these rows before loading.")
            lookup = {v: i for i, v in enumerate(self.levels)}
            codes = np.array([lookup.get(_plain(v), -1) for v in values], dtype=np.int64)
        outside = codes < 0
        if outside.any():
            raise JudgmentDataError(
                f"column {name!r} has values outside the declared scale {list(self.levels)} in "
                f"{describe_rows(frame, outside, column)}. Fix those ratings, or declare the "
                "scale that includes them (scale=[...]).")
        return codes

    def to_attrs(self) -> dict:
        """JSON-safe description, for saving with a fit."""
        return {"levels": [_plain(v) for v in self.levels], "kind": self.kind}


def _plain(value):
    """numpy scalars to Python scalars; integral floats to int (so 3.0 and 3 are one level)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _binary_value(value) -> float:
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, str):
        return float(_BINARY_ALIASES.get(value.strip().lower(), np.nan))
    try:
        number = float(value)
    except (TypeError, ValueError):
        return np.nan
    return number if number in (0.0, 1.0) else (-1.0 if np.isfinite(number) else np.nan)
