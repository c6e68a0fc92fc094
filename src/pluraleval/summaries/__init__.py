"""Pure functions of a Fit that replace point-score leaderboards."""

from .leaderboard import leaderboard

__all__ = ["leaderboard"]
