"""Default priors of the rater models, in one place, and merging of user overrides.

Every scale is on the latent logit scale of the ordinal model. A user passes
``priors={"sigma_persona": 0.5}`` to replace a default; unknown names are an error that lists the
valid ones (a typo must never silently leave a default in place).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ModelSpecError

__all__ = ["DEFAULT_PRIORS", "PRIOR_DOCS", "merge_priors"]

#: name -> value; each entry's meaning and distribution is in PRIOR_DOCS.
DEFAULT_PRIORS: dict[str, float] = {
    "system_sd": 1.0,
    "sigma_prompt": 1.0,
    "sigma_output": 1.0,
    "group_bias_sd": 1.0,
    "sigma_system_by_group": 0.5,
    "sigma_output_by_group": 0.5,
    "sigma_persona": 1.0,
    "sigma_discrimination": 0.3,
    "sigma_contested": 0.3,
    "drift_mean_sd": 1.0,
    "sigma_drift": 0.5,
    "beta_sd": 2.5,
    "cutpoint_sd": 3.0,
}

PRIOR_DOCS: dict[str, str] = {
    "system_sd": "mu ~ ZeroSumNormal(system_sd): system quality, fixed scale (few systems)",
    "sigma_prompt": "sigma_prompt ~ HalfNormal(value): scale of prompt difficulty nu",
    "sigma_output": "sigma_output ~ HalfNormal(value): scale of output residual eps",
    "group_bias_sd": "b_a ~ ZeroSumNormal(group_bias_sd): group bias per attribute",
    "sigma_system_by_group": "sigma_lambda_a ~ HalfNormal(value): system x group scale",
    "sigma_output_by_group": "sigma_gamma_a ~ HalfNormal(value): output x group scale",
    "sigma_persona": "sigma_persona ~ HalfNormal(value): persona severity scale",
    "sigma_discrimination": "sigma_alpha ~ HalfNormal(value): scale of log persona "
                            "discrimination",
    "sigma_contested": "sigma_zeta ~ HalfNormal(value): scale of log output noise (contested)",
    "drift_mean_sd": "drift_mean ~ Normal(0, value): mean severity drift over the session",
    "sigma_drift": "sigma_drift ~ HalfNormal(value): persona spread of drift",
    "beta_sd": "beta ~ Normal(0, value): output covariate effects",
    "cutpoint_sd": "cutpoints ~ Normal(0, value), ordered",
}


def merge_priors(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Defaults with ``overrides`` merged over them.

    Raises
    ------
    ModelSpecError
        On an unknown name (the message lists the valid names) or a non-positive scale.
    """
    merged = dict(DEFAULT_PRIORS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULT_PRIORS:
            raise ModelSpecError(f"unknown prior {key!r}; valid priors are "
                                 f"{sorted(DEFAULT_PRIORS)}.")
        if not float(value) > 0:
            raise ModelSpecError(f"prior {key!r} must be a positive scale, got {value!r}.")
        merged[key] = float(value)
    return merged
