"""Tests of the value-skew audit (``pluraleval.summaries.audit``).

Fast tests share ONE tiny fit (module scope: 3 systems, 12 personas over region x age_band,
a planted sys1/sys2 reversal between regions A and B, 50 draws x 2 chains; it fails the
diagnostics gate, which is not under test). Every check recomputes the audit's numbers by hand
from the posterior draws or through :func:`pluraleval.leaderboard`.

The slow test fits two simulated studies (a planted winner change, and no system x group
effects at all) and checks the audit against the truth.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import pluraleval as pe
from pluraleval import PopulationError
from pluraleval.summaries.audit import Audit, audit, smallest_reweighting, win_regions

SAMPLE_DIMS = ("chain", "draw")
ATTRIBUTES = {"region": ["A", "B", "C"], "age_band": ["young", "old"]}
TARGET = {"region": {"A": 0.1, "B": 0.6, "C": 0.3}, "age_band": {"old": 0.7, "young": 0.3}}


# ---------------------------------------------------------------------- fixtures and helpers
@pytest.fixture(scope="module")
def fit() -> pe.Fit:
    """sys1 leads in region A (half the personas), sys2 in region B: a reweighting flips."""
    judgments, _ = pe.simulate(
        "small", seed=3, n_systems=3, n_prompts=4, n_personas=12, attributes=ATTRIBUTES,
        persona_mix={"region": [0.5, 0.25, 0.25], "age_band": [0.5, 0.5]},
        fraction_rated=0.9, system_quality=[0.3, 0.0, -0.3],
        system_by_group={"region": [[0.8, -0.8, 0.0], [-0.8, 0.8, 0.0], [0, 0, 0]],
                         "age_band": [[0, 0]] * 3})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DiagnosticsWarning and "too few samples" on purpose
        return pe.OrdinalRaterModel().fit(judgments, draws=50, tune=50, chains=2,
                                          random_seed=3, sampler="pymc", progressbar=False)


@pytest.fixture(scope="module")
def result(fit) -> Audit:
    return audit(fit, target=TARGET)


def with_posterior(fit: pe.Fit, posterior: xr.Dataset) -> pe.Fit:
    """The same fit with another posterior (to emulate other model variants cheaply)."""
    other = pe.Fit(fit.tree.copy(), fit.judgments, fit.spec)
    other.tree["posterior"] = posterior
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        other.diagnostics()
    return other


def sample_shares(fit: pe.Fit) -> dict[str, dict]:
    """Each level's share of judgments, from the raw tables."""
    table = fit.judgments.table.merge(fit.judgments.personas, on="persona")
    return {a: table[a].value_counts(normalize=True).to_dict() for a in ATTRIBUTES}


def mean_quality(fit: pe.Fit, weights: dict[str, dict]) -> pd.Series:
    """Posterior mean of mu + sum_a w_a . lambda_a, by hand."""
    return quality_under(fit, weights).mean(SAMPLE_DIMS).to_series()


def tv(a: dict, b: dict) -> float:
    return 0.5 * sum(abs(a[k] - b[k]) for k in a)


# ---------------------------------------------------------------------- 1. distance
def test_distance_by_hand(fit, result):
    shares = sample_shares(fit)
    for row in result.weights.itertuples():
        assert row.sample == pytest.approx(shares[row.attribute][row.level])
        assert row.target == pytest.approx(TARGET[row.attribute][row.level])
        assert row.difference == pytest.approx(row.target - row.sample)
    distance = result.distance.set_index("attribute")
    for a in ATTRIBUTES:
        assert distance.loc[a, "tv"] == pytest.approx(tv(shares[a], TARGET[a]))
        assert distance.loc[a, "max_difference"] == pytest.approx(
            max(abs(shares[a][g] - TARGET[a][g]) for g in TARGET[a]))
        assert distance.loc[a, "system_by_group"]
    assert result.total_distance == pytest.approx(distance["tv"].sum())
    by_max = audit(fit, target=TARGET, combine="max")
    assert by_max.total_distance == pytest.approx(distance["tv"].max())


def test_target_equal_to_sample_is_no_move(fit):
    same = audit(fit, target="sample")
    assert same.distance["tv"].tolist() == [0.0, 0.0]
    assert same.total_distance == 0.0
    assert (same.weights["difference"] == 0).all()
    assert same.target_winner == same.sample_winner
    assert same.p_top_differs == 0.0
    boards = same.leaderboards
    pd.testing.assert_frame_equal(
        boards[boards["population"] == "sample"].drop(columns="population").reset_index(
            drop=True),
        boards[boards["population"] == "target"].drop(columns="population").reset_index(
            drop=True))


# ---------------------------------------------------------------------- 2. leaderboards
def test_leaderboards_and_top_change(fit, result):
    for name, pop in (("sample", "sample"), ("target", TARGET)):
        board = result.leaderboards[result.leaderboards["population"] == name]
        expected = pe.leaderboard(fit, population=pop)
        pd.testing.assert_frame_equal(board.drop(columns="population").reset_index(drop=True),
                                      expected)
    assert result.sample_winner == pe.leaderboard(fit, population="sample")["system"].iloc[0]
    assert result.target_winner == pe.leaderboard(fit, population=TARGET)["system"].iloc[0]
    # P(top differs), by hand from the draws
    shares = sample_shares(fit)

    def best(weights):
        return quality_under(fit, weights).argmax("system").values

    assert result.p_top_differs == pytest.approx(float((best(shares) != best(TARGET)).mean()))


def quality_under(fit, weights):
    """System quality draws under ``{attribute: {level: weight}}``, by hand from the posterior."""
    post = fit.posterior
    q = post["mu"]
    for a, w in weights.items():
        wa = xr.DataArray([w[g] for g in fit.judgments.coords[a]], dims=a,
                          coords={a: fit.judgments.coords[a]})
        q = q + (post[f"lambda_{a}"] * wa).sum(a)
    return q


# ---------------------------------------------------------------------- 3. influence
def test_influence_is_the_derivative_of_the_expected_margin(fit, result):
    shares = sample_shares(fit)
    winner = result.sample_winner

    def expected_margin(weights):
        q = quality_under(fit, weights)
        others = q.drop_sel(system=winner).max("system")
        return float((q.sel(system=winner) - others).mean())

    def moved(a, g, delta):
        w = {k: dict(v) for k, v in shares.items()}
        scale = delta / (1 - w[a][g])
        w[a] = {h: x + scale * ((h == g) - x) for h, x in w[a].items()}
        return w

    assert len(result.influence) == sum(len(v) for v in ATTRIBUTES.values())
    assert result.influence["margin_slope"].is_monotonic_increasing
    base = expected_margin(shares)
    for row in result.influence.itertuples():
        h = 1e-6
        numeric = (expected_margin(moved(row.attribute, row.level, h)) - base) / h
        assert row.margin_slope == pytest.approx(numeric, rel=1e-3, abs=1e-4)
        assert row.margin_slope_lower <= row.margin_slope <= row.margin_slope_upper
        # p_best_change: the leaderboard after moving `moved` of weight onto the group
        after = pe.leaderboard(fit, population=moved(row.attribute, row.level, row.moved))
        before = pe.leaderboard(fit, population="sample")
        change = (after.set_index("system").loc[winner, "p_best"]
                  - before.set_index("system").loc[winner, "p_best"])
        assert row.p_best_change == pytest.approx(change)
    # within one attribute, the sample-weighted slopes cancel (moving onto every level
    # in proportion to its weight moves nothing)
    for _, rows in result.influence.groupby("attribute"):
        w = rows["sample"].to_numpy()
        assert float((w * (1 - w) * rows["margin_slope"]).sum()) == pytest.approx(0, abs=1e-9)


# ---------------------------------------------------------------------- 4. smallest change
def test_smallest_change_ties_and_is_minimal(fit, result):
    assert result.winner_changes, result.summary
    shares = sample_shares(fit)
    winner = result.sample_winner
    rng = np.random.default_rng(0)
    for row in result.changes.itertuples():
        w = result.change_weights[result.change_weights["challenger"] == row.challenger]
        found = {a: dict(zip(g["level"], g["weight"], strict=True))
                 for a, g in w.groupby("attribute")}
        assert row.tv == pytest.approx(sum(tv(found[a], shares[a]) for a in ATTRIBUTES))
        # the challenger ties (or beats) the winner there, by posterior mean ...
        q = mean_quality(fit, found)
        assert q[row.challenger] >= q[winner] - 1e-7
        board = pe.leaderboard(fit, population=result.population(row.challenger))
        assert board.set_index("system").loc[row.challenger, "p_best"] == \
            pytest.approx(row.p_best)
        # ... a slightly smaller move along the same direction does not ...
        shorter = {a: {g: shares[a][g] + 0.98 * (found[a][g] - shares[a][g]) for g in shares[a]}
                   for a in ATTRIBUTES}
        q = mean_quality(fit, shorter)
        assert q[row.challenger] < q[winner]
        # ... nor does any other mix closer to the sample's (random points, TV < 0.98 tv)
        for _ in range(200):
            point = {}
            for a, levels in ATTRIBUTES.items():
                direction = rng.dirichlet(np.ones(len(levels)))
                point[a] = {g: shares[a][g] + rng.uniform() * (direction[k] - shares[a][g])
                            for k, g in enumerate(levels)}
            total = sum(tv(point[a], shares[a]) for a in ATTRIBUTES)
            if total >= 0.98 * row.tv:
                continue
            q = mean_quality(fit, point)
            assert q[row.challenger] < q[winner]
    first = result.changes.iloc[0]
    assert first.tv == result.changes["tv"].min()
    # the distance interval: the share of draws in which the challenger is ahead at a point
    # along the same direction is the share that crossed by then
    w = result.change_weights[result.change_weights["challenger"] == first.challenger]
    lo, hi = (1 - result.prob) / 2, 1 - (1 - result.prob) / 2
    for bound, limit in ((first.tv_lower, lo), (first.tv_upper, hi)):
        if not np.isfinite(bound) or bound == 0:
            continue
        t = bound / first.tv
        point = {a: {r.level: r.sample + t * (r.weight - r.sample) for r in g.itertuples()}
                 for a, g in w.groupby("attribute")}
        duel = pe.pairwise(fit, population=point).set_index(["system", "other"])
        ahead = duel.loc[(first.challenger, winner), "p_beats"]
        assert ahead == pytest.approx(limit, abs=0.03)
    assert first.tv_lower <= first.tv <= first.tv_upper
    assert first.top_there == first.challenger
    assert first.tv <= first.tv_edge
    if not np.isnan(first.tv_credible):
        assert first.tv <= first.tv_credible <= first.tv_edge
    assert first.challenger in result.summary


def test_smallest_reweighting_linear_program_by_hand():
    # two groups; winner leads by 0.4 at (0.5, 0.5), and the gap moves by 2 per unit of
    # weight on group 2: a tie at w = (0.3, 0.7), TV 0.2
    lam = {"region": np.array([[0.5, -0.5], [-0.5, 0.5]])}
    tv_, w = smallest_reweighting([0.2, -0.2], lam, {"region": [0.5, 0.5]}, 0, 1)
    assert tv_ == pytest.approx(0.2)
    np.testing.assert_allclose(w["region"], [0.3, 0.7], atol=1e-9)
    # no mix can close a gap of 5
    assert smallest_reweighting([2.5, -2.5], lam, {"region": [0.5, 0.5]}, 0, 1) is None
    # two attributes that can each close half the gap: "sum" moves one attribute at the
    # cheaper rate; "max" spreads the move over both
    lam2 = {"a": np.array([[0.5, -0.5], [-0.5, 0.5]]), "b": np.array([[0.25, -0.25],
                                                                     [-0.25, 0.25]])}
    base = {"a": [0.5, 0.5], "b": [0.5, 0.5]}
    s, ws = smallest_reweighting([0.2, -0.2], lam2, base, 0, 1, combine="sum")
    assert s == pytest.approx(0.2) and ws["b"] == pytest.approx([0.5, 0.5])
    m, wm = smallest_reweighting([0.2, -0.2], lam2, base, 0, 1, combine="max")
    # gap 0.4 closes at 2 t + 1 t = 0.4 with the same TV t in each attribute
    assert m == pytest.approx(0.4 / 3)
    assert 0.5 * np.abs(np.asarray(wm["a"]) - 0.5).sum() == pytest.approx(0.4 / 3)


def test_no_reweighting_changes_the_winner(fit):
    # the winner far ahead in every draw: no mix of groups catches it
    post = fit.posterior.copy()
    winner = pe.leaderboard(fit, population="sample")["system"].iloc[0]
    post["mu"] = post["mu"] + 10 * (post["system"] == winner)
    far = audit(with_posterior(fit, post), target=TARGET)
    assert not far.winner_changes and not far.credible_change
    assert far.changes.empty and far.change_weights.empty
    assert "no reweighting" in far.changes.attrs["note"]
    assert "No reweighting" in far.summary
    with pytest.raises(PopulationError, match="no reweighting"):
        far.population()
    # no system x group effects at all: nothing can move the ranking
    flat = audit(with_posterior(fit, fit.posterior.drop_vars(
        [f"lambda_{a}" for a in ATTRIBUTES] + [f"sigma_lambda_{a}" for a in ATTRIBUTES])),
        target=TARGET)
    assert flat.changes.empty and flat.win_regions.empty and flat.win_attribute is None
    assert (flat.influence["margin_slope"] == 0).all()
    assert flat.p_top_differs == 0.0
    assert any("no system x group" in n for n in flat.notes)
    assert "No reweighting" in flat.summary


# ---------------------------------------------------------------------- 5. win regions
def test_win_regions_agree_with_the_leaderboard(fit, result):
    grid = win_regions(fit, "region", resolution=4)
    assert len(grid) == 15 and list(grid.columns) == ["A", "B", "C", "best", "p_best", "top",
                                                      "margin"]
    np.testing.assert_allclose(grid[["A", "B", "C"]].sum(axis=1), 1)
    shares = sample_shares(fit)
    for i in (0, 4, 7, 14):
        point = grid.iloc[i]
        pop = {"region": {g: float(point[g]) for g in ATTRIBUTES["region"]},
               "age_band": shares["age_band"]}
        board = pe.leaderboard(fit, population=pop)
        by_system = board.set_index("system")
        assert point["p_best"] == pytest.approx(by_system["p_best"].max())
        assert by_system.loc[point["best"], "p_best"] == pytest.approx(point["p_best"])
        assert point["top"] == board["system"].iloc[0]
        assert point["margin"] == pytest.approx(board["quality"].iloc[0]
                                                - board["quality"].iloc[1])
    # the audit's grid is the same function at its own resolution
    assert result.win_attribute in ATTRIBUTES
    assert len(result.win_regions) == (21 if result.win_attribute == "age_band" else 231)
    two = win_regions(fit, "age_band", resolution=10)
    assert len(two) == 11 and list(two.columns[:2]) == ["old", "young"]


def test_win_region_errors(fit):
    with pytest.raises(PopulationError, match="not modelled"):
        win_regions(fit, "country")
    with pytest.raises(ValueError, match="resolution"):
        win_regions(fit, "region", resolution=0)
    with pytest.raises(ValueError, match="combine"):
        audit(fit, target=TARGET, combine="mean")
    with pytest.raises(PopulationError):
        audit(fit, target={"region": {"A": 1.0}})  # levels B and C left without weight


def test_summary_and_tables(result):
    text = result.summary
    assert "total variation" in text and result.sample_winner in text
    assert str(result) == text
    assert set(result.tables) == {"weights", "distance", "leaderboards", "influence",
                                  "changes", "change_weights", "win_regions"}
    assert not result.converged and "provisional" in text


# ---------------------------------------------------------------------- slow: vs the truth
REGIONS = ["Africa", "Europe", "South Asia"]
STUDY = dict(n_systems=4, n_prompts=20, n_personas=36,
             attributes={"region": REGIONS, "age_band": ["18-39", "40+"]},
             persona_mix={"region": [1 / 6, 2 / 3, 1 / 6], "age_band": [0.5, 0.5]},
             fraction_rated=0.7, system_quality=[0.4, 0.3, 0.0, -0.7],
             group_bias={"region": [0.3, -0.4, 0.1], "age_band": [0.15, -0.15]})


def _fit_study(seed: int, **overrides) -> tuple[pe.Fit, xr.Dataset]:
    judgments, truth = pe.simulate("demo", seed=seed, **STUDY, **overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pe.DiagnosticsWarning)
        fit = pe.OrdinalRaterModel().fit(judgments, draws=500, tune=500, chains=4,
                                         random_seed=seed, progressbar=False)
    return fit, truth


def _true_smallest_change(fit: pe.Fit, truth: xr.Dataset) -> tuple[str, str, float]:
    """Winner under the sample mix and the smallest TV to change it, from true mu/lambda."""
    shares = pe.Population.sample().weights(fit)
    systems = list(truth["system"].values)
    lambdas = {a: truth[f"lambda_{a}"].transpose("system", a).values for a in shares}
    base = {a: shares[a].reindex(truth[a].values).to_numpy() for a in shares}
    quality = truth["mu"].values + sum(lambdas[a] @ base[a] for a in shares)
    winner = int(np.argmax(quality))
    found = [(smallest_reweighting(truth["mu"].values, lambdas, base, winner, c), systems[c])
             for c in range(len(systems)) if c != winner]
    found = [(f[0], c) for f, c in found if f is not None]
    if not found:
        return systems[winner], "", np.inf
    tv_, challenger = min(found)
    return systems[winner], challenger, tv_


@pytest.mark.slow
def test_audit_finds_planted_winner_change_and_none_without_effects():
    planted_fit, planted_truth = _fit_study(
        7, system_by_group={"region": [[-0.6, 0.6, -0.6], [0.6, -0.3, 0.6], [0, 0, 0],
                                       [0, 0, 0]], "age_band": [[0, 0]] * 4})
    target = {"region": {"Africa": 0.45, "Europe": 0.1, "South Asia": 0.45}}
    planted = audit(planted_fit, target=target)
    winner, challenger, true_tv = _true_smallest_change(planted_fit, planted_truth)
    print("\n--- planted winner change ---")
    print(planted.summary)
    print(planted.changes.to_string())
    print(f"truth: {winner} -> {challenger} at TV {true_tv:.3f}; "
          f"fit converged: {planted_fit.converged}")
    assert planted.sample_winner == winner
    assert planted.winner_changes
    first = planted.changes.iloc[0]
    assert first.challenger == challenger
    assert abs(first.tv - true_tv) < 0.12
    assert first.tv_lower <= true_tv <= first.tv_upper
    assert planted.credible_change
    true_target = (planted_truth["mu"] + sum(
        (planted_truth[f"lambda_{a}"] * xr.DataArray(w.to_numpy(), dims=a,
                                                     coords={a: list(w.index)})).sum(a)
        for a, w in pe.Population.from_marginals(target).weights(planted_fit).items()))
    assert planted.target_winner == str(true_target["system"].values[
        int(np.argmax(true_target.values))])

    null_fit, null_truth = _fit_study(8, sd_system_by_group=0.0, system_by_group=None)
    null = audit(null_fit, target=target)
    print("\n--- no system x group effects ---")
    print(null.summary)
    print(null.changes.to_string())
    print(f"fit converged: {null_fit.converged}")
    assert float(np.abs(null_truth["lambda_region"]).max()) == 0.0
    assert not null.credible_change
    if null.winner_changes:  # only at extreme weights, and improbable there
        assert null.changes["tv"].min() > 0.4
        assert null.changes["p_best_edge"].max() < null.prob
