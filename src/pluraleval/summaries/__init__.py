"""Pure functions of a Fit that replace point-score leaderboards."""

from .leaderboard import leaderboard, pairwise, rank_reversals
from .population import Population

__all__ = ["Population", "leaderboard", "pairwise", "rank_reversals"]
