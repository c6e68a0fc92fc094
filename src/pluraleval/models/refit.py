"""One compiled model, many rating vectors: refit a fixed design without recompiling.

Compiling the flagship model with nutpie costs about 10-12 s; sampling a small study costs
about 1-2 s. Simulation studies (SBC, coverage) fit hundreds of rating vectors on one design,
so they compile once per process and swap the ratings in (the model holds them as
``pm.Data("rating")``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..data import Judgments
from .ordinal import OrdinalRaterModel, start_values
from .sampling import stored_variables

__all__ = ["CompiledDesign"]


class CompiledDesign:
    """A model spec compiled for the design of some judgments.

    Parameters
    ----------
    spec : OrdinalRaterModel
    design : Judgments
        Who rates what; only the ratings may change between fits.

    Examples
    --------
    >>> import pluraleval as pe
    >>> from pluraleval.models.refit import CompiledDesign
    >>> design, truth = pe.simulate("small", seed=1)
    >>> compiled = CompiledDesign(pe.OrdinalRaterModel(), design)  # doctest: +SKIP
    >>> tree = compiled.sample(design.codes["rating"], draws=200, tune=200,
    ...                        seed=1)  # doctest: +SKIP
    """

    def __init__(self, spec: OrdinalRaterModel, design: Judgments):
        import nutpie

        self.spec = spec
        self.design = design
        model = spec.build(design, collapse=False)  # new ratings, new cells
        self.var_names = stored_variables(model)
        self._compiled = nutpie.compile_pymc_model(
            model, initial_points=start_values(model, design) or None, var_names=self.var_names)
        #: ``draw(seed=...)``: one prior draw of every parameter, compiled once.
        self.draw_prior = spec.prior_sampler(design)

    def sample(self, codes: np.ndarray, *, draws: int = 1000, tune: int = 1000, chains: int = 2,
               cores: int = 1, seed: int | None = None,
               target_accept: float = 0.9) -> xr.DataTree:
        """NUTS on new ratings (level codes, one per judgment row of the design).

        Returns
        -------
        xarray.DataTree
            ``posterior`` (the named parameters) and ``sample_stats``.
        """
        codes = self.design.check_codes(codes, caller="CompiledDesign.sample").astype(np.int64)
        compiled = self._compiled.with_data(rating=codes)
        import nutpie
        tree = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, cores=cores,
                             seed=seed, progress_bar=False, target_accept=target_accept,
                             save_warmup=False)
        tree["posterior"] = tree["posterior"].to_dataset()[self.var_names]
        return tree
