"""Pure functions of a Fit that replace point-score leaderboards."""

from .disagreement import Disagreement, disagreement, variance_components
from .leaderboard import leaderboard, pairwise, rank_reversals
from .population import Population

__all__ = [
    "Disagreement", "Population", "disagreement", "leaderboard", "pairwise", "rank_reversals",
    "variance_components",
]
