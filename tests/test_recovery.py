"""Parameter recovery of the flagship ordinal model on simulated studies with known truth.

Real fits (marked slow). Criteria from the model issue: posterior means correlate > 0.95 with the
true system qualities and group biases, and 90% intervals of the main parameter families cover
the truth at a rate within [0.80, 0.98] pooled over replicates. The table is printed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

import pluraleval as pe

pytestmark = pytest.mark.slow

SEEDS = (11, 12, 13, 14, 15, 16)
# 4 x 3 attribute levels so that enough group biases are pooled for a coverage rate to mean
# something (7 per study, 42 in all: 90% coverage is 37.8 +- 1.9 of them).
STUDY = dict(n_systems=5, n_prompts=10, n_personas=48, fraction_rated=0.6,
             attributes={"region": ["A", "B", "C", "D"], "age_band": ["18-29", "30-49", "50+"]},
             sd_group_bias=0.8, sd_system_by_group=0.4, sd_output_by_group=0.3,
             sd_persona=0.5, covariates={"length": 0.4})
FAMILIES = {"system quality": ["mu"], "group bias": ["b_region", "b_age_band"],
            "system x group": ["lambda_region", "lambda_age_band"], "covariate": ["beta"]}


def _replicate(seed: int) -> pd.DataFrame:
    judgments, truth = pe.simulate("small", seed=seed, **STUDY)
    model = pe.OrdinalRaterModel(covariates=["length"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # 3,000 draws: the slowest scales (sigma_prompt with 10 prompts, sigma_gamma) sit at
        # the gate's edge with fewer (CI runs: R-hat 1.012 at bulk ESS 571 with 1,500 draws;
        # 1.010-1.011 at ESS 682-820 with 2,000, in 1 of 6 fits). R-hat's own noise at that
        # ESS is ~0.005, and nutpie is not bit-reproducible, so a seed can land either side.
        fit = model.fit(judgments, draws=3000, tune=1000, chains=4, random_seed=seed,
                        progressbar=False)
    rows = []
    for family, names in FAMILIES.items():
        for name in names:
            draws = fit.draws(name)
            lo = draws.quantile(0.05, dim=("chain", "draw"))
            hi = draws.quantile(0.95, dim=("chain", "draw"))
            mean = draws.mean(("chain", "draw"))
            true = truth[name].sel({d: mean[d].values for d in mean.dims}).transpose(*mean.dims)
            rows.append(pd.DataFrame({
                "seed": seed, "family": family, "parameter": name,
                "true": true.values.ravel(), "mean": mean.values.ravel(),
                "covered": ((lo <= true) & (true <= hi)).values.ravel(),
            }))
    table = pd.concat(rows, ignore_index=True)
    table.attrs["ranking"] = _ranking_checks(fit, truth)
    table.attrs["converged"] = fit.converged
    table.attrs["problems"] = fit.check(warn=False)
    return table


def _ranking_checks(fit: pe.Fit, truth) -> dict:
    """Does the leaderboard put P(best) on the true best, and do the stratified boards keep
    the true per-group order (Kendall tau per region)?"""
    board = pe.leaderboard(fit).set_index("system")
    mu = truth["mu"].to_series().sort_values(ascending=False)
    by = pe.leaderboard(fit, by="region")
    true_q = (truth["mu"] + truth["lambda_region"]).to_pandas()  # system x region
    taus = [kendalltau(part.set_index("system")["quality"].loc[true_q.index],
                       true_q[region]).statistic for region, part in by.groupby("region")]
    return {"true_gap": mu.iloc[0] - mu.iloc[1],
            "p_best_of_true_best": board.loc[mu.index[0], "p_best"],
            "p_best_on_true_best": board["p_best"].idxmax() == mu.index[0],
            "kendall_tau_by_region": float(np.mean(taus))}


@pytest.fixture(scope="module")
def recovery() -> pd.DataFrame:
    tables = [_replicate(seed) for seed in SEEDS]
    table = pd.concat(tables, ignore_index=True)
    table.attrs["converged"] = [t.attrs["converged"] for t in tables]
    table.attrs["problems"] = [t.attrs["problems"] for t in tables]
    table.attrs["ranking"] = pd.DataFrame([t.attrs["ranking"] for t in tables], index=SEEDS)
    return table


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for family, part in table.groupby("family", sort=False):
        rows.append({"family": family, "n": len(part),
                     "corr(mean, true)": np.corrcoef(part["mean"], part["true"])[0, 1],
                     "coverage90": part["covered"].mean(),
                     "mean abs error": (part["mean"] - part["true"]).abs().mean()})
    return pd.DataFrame(rows)


def test_recovery_table(recovery):
    summary = _summary(recovery)
    print(f"\nRecovery over {len(SEEDS)} simulated studies "
          f"(converged: {recovery.attrs['converged']})")
    print(summary.round(3).to_string(index=False))
    by = summary.set_index("family")
    assert by.loc["system quality", "corr(mean, true)"] > 0.95
    assert by.loc["group bias", "corr(mean, true)"] > 0.95
    for family in ("system quality", "group bias", "system x group"):
        assert 0.80 <= by.loc[family, "coverage90"] <= 0.98, family
    main = recovery[recovery["family"] != "covariate"]
    assert 0.80 <= main["covered"].mean() <= 0.98


def test_recovery_fits_converged(recovery):
    print("\ndiagnostics problems per replicate:", recovery.attrs["problems"])
    assert all(recovery.attrs["converged"])


def test_leaderboards_rank_like_the_truth(recovery):
    """Issue 4: the true best gets the highest P(best) in most studies (in every study where
    it truly leads by more than 0.25, about twice the posterior sd of a difference of two
    system qualities at this size), and the stratified boards recover each region's order."""
    ranking = recovery.attrs["ranking"]
    print("\nranking checks per study\n", ranking.round(3).to_string())
    assert ranking["p_best_on_true_best"].mean() > 0.5
    clear = ranking[ranking["true_gap"] > 0.25]
    assert len(clear) >= 3 and clear["p_best_on_true_best"].all()
    assert ranking["kendall_tau_by_region"].mean() >= 0.8
