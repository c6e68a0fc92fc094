"""A small ready-made fit for documentation examples and first experiments."""

from __future__ import annotations

import warnings
from functools import cache

from .fit import DiagnosticsWarning, Fit
from .models import OrdinalRaterModel
from .simulate import simulate

__all__ = ["example_fit"]


@cache
def example_fit() -> Fit:
    """The default model fitted to the ``"small"`` simulated study (seed 1), briefly.

    Fitted once per session (about 10 s) with 2 chains × 200 draws: enough to show what every
    summary and figure returns, not enough for inference. The fit may fail its diagnostics
    gate; that warning is silenced here and ``fit.converged`` still says so.

    Returns
    -------
    Fit

    Examples
    --------
    >>> import pluraleval as pe
    >>> fit = pe.example_fit()
    >>> fit.judgments.coords["system"]
    ['sys1', 'sys2', 'sys3', 'sys4']
    """
    judgments, _ = simulate("small", seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiagnosticsWarning)
        return OrdinalRaterModel().fit(judgments, draws=200, tune=200, chains=2, random_seed=1,
                                       sampler="pymc", progressbar=False)
