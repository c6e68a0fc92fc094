"""Progress lines for long work (sampling, simulation studies, reports): one place, stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

__all__ = ["say", "SamplingProgress"]


def say(message: str, show: bool = True) -> None:
    """Print one progress line to stderr (flushed) when ``show``."""
    if show:
        print(message, file=sys.stderr, flush=True)


class SamplingProgress:
    """nutpie ``progress_callback``: a line per phase change and every ``every`` seconds with
    the phase (tuning / sampling), draws done, divergences and an ETA.

    Lines rather than a redrawn bar, so logs, terminals and notebooks all show the same.
    """

    def __init__(self, *, chains: int, tune: int, draws: int, show: bool = True,
                 every: float = 15.0):
        self.total = chains * (tune + draws)
        self.tune, self.draws, self.chains = tune, draws, chains
        self.show, self.every = show, every
        self.start = time.perf_counter()
        self._last = self.start
        self._phase = ""

    def __call__(self, chains: Sequence) -> None:
        now = time.perf_counter()
        done = sum(c.finished_draws for c in chains)
        phase = "tuning" if any(c.tuning for c in chains) else "sampling"
        if phase == self._phase and now - self._last < self.every:
            return
        self._phase, self._last = phase, now
        elapsed = now - self.start
        eta = f"{(self.total - done) * elapsed / done:.0f} s" if done else "unknown"
        steps = [c.latest_num_steps for c in chains if c.started]
        say(f"pluraleval: {phase} {100 * done / self.total:3.0f}% ({done}/{self.total} "
            f"iterations, {self.chains} chains x {self.tune} tune + {self.draws} draws), "
            f"{elapsed:.0f} s elapsed, ETA {eta}, "
            f"{sum(c.divergences for c in chains)} divergences, "
            f"{max(steps, default=0)} leapfrog steps per draw", self.show)
