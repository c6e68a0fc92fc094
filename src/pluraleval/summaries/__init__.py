"""Pure functions of a Fit that replace point-score leaderboards."""

from .audit import Audit, audit, win_regions
from .disagreement import Disagreement, disagreement, variance_components
from .leaderboard import leaderboard, pairwise, rank_reversals
from .population import Population

__all__ = [
    "Audit", "Disagreement", "Population", "audit", "disagreement", "leaderboard", "pairwise",
    "rank_reversals", "variance_components", "win_regions",
]
