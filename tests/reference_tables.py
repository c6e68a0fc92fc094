"""Shared by the reference-fit tests: reading the data, posterior summaries, table cells."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def posterior_summary(draws) -> dict[str, float]:
    """Mean, sd and the central 90% interval of a parameter's draws."""
    x = np.asarray(draws).ravel()
    lo, hi = np.quantile(x, [0.05, 0.95])
    return {"mean": float(x.mean()), "sd": float(x.std(ddof=1)), "lo": float(lo),
            "hi": float(hi)}


def cell(value: float, width: int = 8) -> str:
    """A right-aligned number with 3 decimals, or '-' for a missing one."""
    return f"{'-':>{width}}" if np.isnan(value) else f"{value:{width}.3f}"


def read_reference_csv(path: Path, sha256: str, what: str) -> pd.DataFrame:
    """The reference data file, or a skip when ``../shared/datasets`` is absent; a file that is
    not the one SOURCE.md documents (by sha256) fails, since its published results would not
    apply."""
    if not path.is_file():
        pytest.skip(f"reference data not found: {path} (folder {path.parent.resolve()} absent); "
                    f"{what} lives outside the repository.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == sha256, (f"{path} is not the file documented in SOURCE.md (sha256 "
                              f"{digest}); the published reference does not apply.")
    return pd.read_csv(path)
