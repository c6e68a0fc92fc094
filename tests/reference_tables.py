"""Shared by the reference-fit tests: posterior summaries and table cells."""

from __future__ import annotations

import numpy as np


def posterior_summary(draws) -> dict[str, float]:
    """Mean, sd and the central 90% interval of a parameter's draws."""
    x = np.asarray(draws).ravel()
    lo, hi = np.quantile(x, [0.05, 0.95])
    return {"mean": float(x.mean()), "sd": float(x.std(ddof=1)), "lo": float(lo),
            "hi": float(hi)}


def cell(value: float, width: int = 8) -> str:
    """A right-aligned number with 3 decimals, or '-' for a missing one."""
    return f"{'-':>{width}}" if np.isnan(value) else f"{value:{width}.3f}"
