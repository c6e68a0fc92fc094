"""Exception types: one per kind of mistake, each message names the place and the fix."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["JudgmentDataError", "ModelSpecError", "PopulationError", "describe_rows"]


class JudgmentDataError(ValueError):
    """The judgments (or persona) table cannot be used as given.

    The message names the column, the offending rows (first few, with a count) and the fix.
    """


class ModelSpecError(ValueError):
    """A model specification does not fit the data or names something unknown."""


class PopulationError(ValueError):
    """Population weights are invalid (unknown groups, negative, not summing to one)."""


def describe_rows(frame: pd.DataFrame, mask: Sequence[bool] | pd.Series, column: str,
                  *, limit: int = 5) -> str:
    """Describe the rows of ``frame`` selected by ``mask``: count, first index labels, values.

    Parameters
    ----------
    frame : pandas.DataFrame
        The user's table.
    mask : boolean sequence
        Which rows are at fault.
    column : str
        Column whose values are quoted.
    limit : int
        How many rows to quote.
    """
    bad = frame.loc[pd.Series(mask, index=frame.index).to_numpy(dtype=bool)]
    shown = ", ".join(f"row {idx!r} ({column}={val!r})" for idx, val in
                      zip(bad.index[:limit], bad[column].iloc[:limit], strict=True))
    more = f" and {len(bad) - limit} more" if len(bad) > limit else ""
    return f"{len(bad)} row(s): {shown}{more}"
