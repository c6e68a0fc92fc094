"""Progress lines for long work (sampling, simulation studies, reports): one place, stderr."""

from __future__ import annotations

import sys

__all__ = ["say"]


def say(message: str, show: bool = True) -> None:
    """Print one progress line to stderr (flushed) when ``show``."""
    if show:
        print(message, file=sys.stderr, flush=True)
