"""pluraleval: hierarchical Bayesian rater models for persona-based evaluation of generative AI.

Judgments go in (:class:`Judgments`), a model is fitted (:class:`OrdinalRaterModel`), and pure
functions of the resulting :class:`Fit` give leaderboards, disagreement and audits.
"""

from importlib.metadata import version as _version

from . import plots, validate
from .agreement import Agreement, agreement
from .data import Design, Judgments, read_table
from .errors import JudgmentDataError, ModelSpecError, PopulationError
from .examples import example_fit
from .fit import DiagnosticsWarning, Fit, load_fit
from .models import DEFAULT_PRIORS, OrdinalRaterModel
from .predictive import ppc, rating_probabilities
from .report import report
from .scale import RatingScale
from .simulate import PRESETS, StudySpec, simulate, simulate_ratings
from .summaries import (
    Audit,
    Disagreement,
    Population,
    audit,
    disagreement,
    leaderboard,
    pairwise,
    rank_reversals,
)

__version__ = _version("pluraleval")

__all__ = [
    "DEFAULT_PRIORS", "PRESETS", "Agreement", "Audit", "Design", "DiagnosticsWarning",
    "Disagreement", "Fit", "JudgmentDataError", "Judgments", "ModelSpecError",
    "OrdinalRaterModel", "Population", "PopulationError", "RatingScale", "StudySpec",
    "__version__", "agreement", "audit", "disagreement", "example_fit", "leaderboard",
    "load_fit", "pairwise", "plots", "ppc", "rank_reversals", "rating_probabilities",
    "read_table", "report", "simulate", "simulate_ratings", "validate",
]
