"""Model families: specifications that emit PyMC models and fit them."""

from .ordinal import OrdinalRaterModel
from .priors import DEFAULT_PRIORS, PRIOR_DOCS

__all__ = ["OrdinalRaterModel", "DEFAULT_PRIORS", "PRIOR_DOCS"]
