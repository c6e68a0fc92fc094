"""Paper-ready figures of a fit: one function per figure, each returning a matplotlib Figure.

Every function draws in the paper style of :mod:`pluraleval.plots.style` (Okabe–Ito colours,
one fixed colour per group, small fonts) on a free-standing Figure: nothing is shown and no
pyplot state changes. Save with :func:`save` (PDF, SVG and PNG).

Examples
--------
>>> import tempfile, pluraleval as pe
>>> from pluraleval import plots
>>> fig = plots.leaderboard_forest(pe.example_fit(), population="sample")
>>> [p.name for p in plots.save(fig, f"{tempfile.mkdtemp()}/leaderboard")]
['leaderboard.pdf', 'leaderboard.svg', 'leaderboard.png']
"""

from .audit import win_region_plot
from .disagreement import outputs_plot, variance_bars
from .groups import group_bias_forest, persona_plot
from .leaderboard import group_quality_heatmap, leaderboard_forest, rank_heatmap
from .predictive import ppc_plot
from .style import OKABE_ITO, figure_size, group_colors, rc, save
from .validate import coverage_plot, sbc_ecdf_plot

__all__ = [
    "OKABE_ITO", "coverage_plot", "figure_size", "group_bias_forest", "group_colors",
    "group_quality_heatmap", "leaderboard_forest", "outputs_plot", "persona_plot", "ppc_plot",
    "rank_heatmap", "rc", "save", "sbc_ecdf_plot", "variance_bars", "win_region_plot",
]
