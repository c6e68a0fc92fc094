"""Fast tests of populations, poststratified and stratified leaderboards, pairwise P(beats)
and rank reversals.

MCMC runs once (a module-scoped fixture: 3 systems, 12 personas over region x age_band, 50
draws x 2 chains; it fails the diagnostics gate, which is not under test here). Every check
compares a summary with the same quantity computed by hand from the posterior draws.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import expit

import pluraleval as pe
from pluraleval import PopulationError

# the package re-exports the function ``leaderboard``, which shadows its module's name
leaderboard_module = importlib.import_module("pluraleval.summaries.leaderboard")

SAMPLE_DIMS = ("chain", "draw")
ATTRIBUTES = {"region": ["A", "B", "C"], "age_band": ["young", "old"]}


# ---------------------------------------------------------------------- fixtures and helpers
@pytest.fixture(scope="module")
def fit() -> pe.Fit:
    """Systems sys1/sys2 swap places between regions A and B (a built-in reversal)."""
    judgments, _ = pe.simulate(
        "small", seed=5, n_systems=3, n_prompts=4, n_personas=12, attributes=ATTRIBUTES,
        persona_mix={"region": [0.5, 0.25, 0.25], "age_band": [0.5, 0.5]},
        fraction_rated=0.8, system_quality=[0.3, 0.0, -0.3],
        system_by_group={"region": [[0.6, -0.6, 0.0], [-0.6, 0.6, 0.0], [0, 0, 0]],
                         "age_band": [[0, 0]] * 3})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DiagnosticsWarning and "too few samples" on purpose
        return pe.OrdinalRaterModel().fit(judgments, draws=50, tune=50, chains=2,
                                          random_seed=5, sampler="pymc", progressbar=False)


def with_posterior(fit: pe.Fit, posterior: xr.Dataset) -> pe.Fit:
    """The same fit with another posterior (to emulate other model variants cheaply)."""
    other = pe.Fit(fit.tree.copy(), fit.judgments, fit.spec)
    other.tree["posterior"] = posterior
    with warnings.catch_warnings():  # R-hat of a tiny fit's near-constant draws
        warnings.simplefilter("ignore", RuntimeWarning)
        other.diagnostics()
    return other


def manual_quality(fit: pe.Fit, weights: dict[str, dict]) -> xr.DataArray:
    """mu + sum_a sum_g w_a[g] lambda_a[:, g] per draw; attributes not given weigh equally."""
    post = fit.posterior
    quality = post["mu"]
    for a in ATTRIBUTES:
        levels = fit.judgments.coords[a]
        w = weights.get(a, {g: 1 / len(levels) for g in levels})
        w = xr.DataArray([w[g] for g in levels], dims=a, coords={a: levels})
        quality = quality + (post[f"lambda_{a}"] * w).sum(a)
    return quality


def manual_rating(fit: pe.Fit, quality: xr.DataArray, weights: dict[str, dict]) -> xr.DataArray:
    """Expected rating 1..5 at severity sum_a sum_g w_a[g] b_a[g], computed independently."""
    post = fit.posterior
    severity = 0.0
    for a in ATTRIBUTES:
        levels = fit.judgments.coords[a]
        w = weights.get(a, {g: 1 / len(levels) for g in levels})
        severity = severity + sum(w[g] * post[f"b_{a}"].sel({a: g}, drop=True)
                                  for g in levels)
    p_above = expit(quality - severity - post["cutpoints"])  # P(y > k), k = 1..4
    return 1 + p_above.sum("cutpoint")


def sample_shares(fit: pe.Fit, attribute: str) -> dict:
    per_judgment = fit.judgments.personas.set_index("persona")[attribute].reindex(
        fit.judgments.table["persona"])
    return per_judgment.value_counts(normalize=True).to_dict()


def by_system(board: pd.DataFrame) -> pd.DataFrame:
    return board.set_index("system").sort_index()


def one_hot(fit: pe.Fit, attribute: str, level) -> dict:
    return {g: float(g == level) for g in fit.judgments.coords[attribute]}


def error_of(call) -> str:
    with pytest.raises(PopulationError) as info:
        call()
    return str(info.value)


# ---------------------------------------------------------------------- (a) equal weights
def test_equal_population_is_the_plain_leaderboard(fit):
    plain = pe.leaderboard(fit)
    for population in ("equal", pe.Population.equal(),
                       {"region": {g: 1 / 3 for g in ATTRIBUTES["region"]}}):
        pd.testing.assert_frame_equal(pe.leaderboard(fit, population=population), plain,
                                      rtol=1e-12)
    mu = fit.draws("mu").mean(SAMPLE_DIMS).to_series()
    np.testing.assert_allclose(plain["quality"], mu.loc[plain["system"]], rtol=0, atol=1e-12)
    assert plain.attrs["population"]["name"] == "equal"
    assert plain.attrs["population"]["weights"]["age_band"] == {"old": 0.5, "young": 0.5}
    assert plain.attrs["by"] == [] and plain.attrs["system_by_group"] is True
    assert "note" not in plain.attrs


# ---------------------------------------------------------------------- (b) one-hot = by=
@pytest.mark.parametrize("level", ATTRIBUTES["region"])
def test_one_hot_population_is_that_groups_leaderboard(fit, level):
    stratified = pe.leaderboard(fit, by="region")
    assert list(stratified.columns[:2]) == ["region", "system"]
    rows = stratified.loc[stratified["region"] == level].drop(columns="region")
    alone = pe.leaderboard(fit, population={"region": one_hot(fit, "region", level)})
    pd.testing.assert_frame_equal(rows.reset_index(drop=True), alone, rtol=1e-12)
    expected = fit.draws("mu") + fit.draws("lambda_region").sel(region=level)
    np.testing.assert_allclose(by_system(alone)["quality"],
                               expected.mean(SAMPLE_DIMS).to_series().sort_index(), atol=1e-12)


def test_stratified_by_a_cell_of_two_attributes(fit):
    board = pe.leaderboard(fit, by=["region", "age_band"])
    assert list(board.columns[:3]) == ["region", "age_band", "system"]
    n_systems = fit.judgments.n_levels("system")
    assert len(board) == 3 * 2 * n_systems
    assert board.attrs["by"] == ["region", "age_band"]
    for (region, age), rows in board.groupby(["region", "age_band"], sort=False):
        assert rows["quality"].is_monotonic_decreasing
        assert rows["p_best"].sum() == pytest.approx(1.0)
        expected = (fit.draws("mu") + fit.draws("lambda_region").sel(region=region)
                    + fit.draws("lambda_age_band").sel(age_band=age))
        np.testing.assert_allclose(by_system(rows)["quality"],
                                   expected.mean(SAMPLE_DIMS).to_series().sort_index(),
                                   atol=1e-12)
        weights = {"region": one_hot(fit, "region", region),
                   "age_band": one_hot(fit, "age_band", age)}
        rating = manual_rating(fit, expected, weights)
        np.testing.assert_allclose(by_system(rows)["expected_rating"],
                                   rating.mean(SAMPLE_DIMS).to_series().sort_index(),
                                   atol=1e-10)


def test_by_keeps_the_population_weights_of_other_attributes(fit):
    board = pe.leaderboard(fit, by="region", population={"age_band": {"old": 1, "young": 0}})
    rows = board.loc[board["region"] == "B"].drop(columns="region").reset_index(drop=True)
    alone = pe.leaderboard(fit, population={"region": one_hot(fit, "region", "B"),
                                            "age_band": {"old": 1.0, "young": 0.0}})
    pd.testing.assert_frame_equal(rows, alone, rtol=1e-12)


# ---------------------------------------------------------------------- (c) the sample's mix
def test_sample_population_is_the_judgment_weighted_sum(fit):
    board = pe.leaderboard(fit, population="sample")
    weights = {a: sample_shares(fit, a) for a in ATTRIBUTES}
    assert weights["region"]["A"] > weights["region"]["B"]  # the sample is skewed
    quality = manual_quality(fit, weights)
    np.testing.assert_allclose(by_system(board)["quality"],
                               quality.mean(SAMPLE_DIMS).to_series().sort_index(), atol=1e-12)
    rating = manual_rating(fit, quality, weights)
    np.testing.assert_allclose(by_system(board)["expected_rating"],
                               rating.mean(SAMPLE_DIMS).to_series().sort_index(), atol=1e-10)
    best = quality.idxmax("system").values.ravel()
    p_best = pd.Series(best).value_counts(normalize=True)
    np.testing.assert_allclose(by_system(board)["p_best"],
                               p_best.reindex(sorted(fit.judgments.coords["system"]),
                                              fill_value=0.0))
    for a in ATTRIBUTES:
        assert board.attrs["population"]["weights"][a] == pytest.approx(weights[a])
    assert board.attrs["population"]["name"] == "sample"


def test_population_from_a_joint_table_uses_its_marginals(fit):
    table = pd.DataFrame({"region": ["A", "A", "B", "B", "C", "C"],
                          "age_band": ["young", "old"] * 3,
                          "count": [10, 30, 20, 20, 15, 5]})
    pop = pe.Population.from_table(table, weight="count", normalize=True, name="census")
    assert pop.marginals == {"region": pytest.approx({"A": 0.4, "B": 0.4, "C": 0.2}),
                             "age_band": pytest.approx({"old": 0.55, "young": 0.45})}
    board = pe.leaderboard(fit, population=pop)
    quality = manual_quality(fit, pop.marginals)
    np.testing.assert_allclose(by_system(board)["quality"],
                               quality.mean(SAMPLE_DIMS).to_series().sort_index(), atol=1e-12)
    assert board.attrs["population"]["name"] == "census"


def test_expected_rating_takes_a_population(fit):
    weights = {"region": one_hot(fit, "region", "C")}
    quality = fit.draws("mu")
    got = leaderboard_module.expected_rating(fit, quality, population=weights)
    xr.testing.assert_allclose(got.transpose(*quality.dims),
                               manual_rating(fit, quality, weights).transpose(*quality.dims))


# ---------------------------------------------------------------------- (d) validation
def test_population_errors_name_the_fault_and_the_fix(fit):
    assert issubclass(PopulationError, ValueError)
    msg = error_of(lambda: pe.leaderboard(fit, population={"country": {"X": 1.0}}))
    assert "'country'" in msg and "['region', 'age_band']" in msg
    msg = error_of(lambda: pe.leaderboard(
        fit, population={"region": {"A": 0.5, "B": 0.3, "Mars": 0.2}}))
    assert "['Mars']" in msg and "['A', 'B', 'C']" in msg
    msg = error_of(lambda: pe.leaderboard(fit, population={"region": {"A": 0.5, "B": 0.5}}))
    assert "['C']" in msg and "0 is allowed" in msg
    msg = error_of(lambda: pe.Population.from_marginals({"region": {"A": 1.2, "B": -0.2,
                                                                    "C": 0.0}}))
    assert "negative" in msg and "'B'" in msg
    msg = error_of(lambda: pe.Population.from_marginals({"region": {"A": 2, "B": 1, "C": 1}}))
    assert "sum to 4" in msg and "normalize=True" in msg
    msg = error_of(lambda: pe.Population.from_marginals({"region": {"A": 0, "B": 0}}))
    assert "all zero" in msg
    msg = error_of(lambda: pe.leaderboard(fit, population="census"))
    assert "'equal'" in msg and "'sample'" in msg
    msg = error_of(lambda: pe.leaderboard(fit, by="country"))
    assert "'country'" in msg and "['region', 'age_band']" in msg
    msg = error_of(lambda: pe.Population.from_table(
        pd.DataFrame({"region": ["A", "B"], "share": [0.5, 0.4]})))
    assert "sum to 0.9" in msg and "normalize=True" in msg
    msg = error_of(lambda: pe.Population.from_table(pd.DataFrame({"region": ["A"]})))
    assert "'share'" in msg


def test_sum_tolerance_and_normalize(fit):
    near = {"region": {"A": 0.5, "B": 0.3, "C": 0.2 + 5e-7}}
    assert pe.Population.from_marginals(near).marginals["region"]["C"] == 0.2 + 5e-7
    counts = pe.Population.from_marginals({"region": {"A": 50, "B": 30, "C": 20}},
                                          normalize=True)
    assert counts.marginals["region"] == pytest.approx({"A": 0.5, "B": 0.3, "C": 0.2})
    pd.testing.assert_frame_equal(
        pe.leaderboard(fit, population=counts),
        pe.leaderboard(fit, population={"region": {"A": 0.5, "B": 0.3, "C": 0.2}}),
        rtol=1e-12)


def test_attribute_not_modelled_is_refused(fit):
    """A persona attribute the model leaves out would change nothing: say so."""
    region_only = with_posterior(fit, fit.posterior.drop_vars(
        [v for v in fit.posterior.data_vars if v.endswith("_age_band")]).drop_dims("age_band"))
    msg = error_of(lambda: pe.leaderboard(region_only, population={"age_band": {
        "old": 0.5, "young": 0.5}}))
    assert "does not model" in msg and "group_by" in msg and "['region']" in msg


# ---------------------------------------------------------------------- (e) pairwise
@pytest.mark.parametrize("population", [None, "sample"])
def test_pairwise_is_complementary_and_consistent_with_p_best(fit, population):
    pairs = pe.pairwise(fit, population=population)
    assert list(pairs.columns) == ["system", "other", "p_beats"]
    n = fit.judgments.n_levels("system")
    assert len(pairs) == n * (n - 1) and not (pairs["system"] == pairs["other"]).any()
    matrix = pairs.pivot(index="system", columns="other", values="p_beats")
    np.testing.assert_allclose((matrix + matrix.T).fillna(1.0), 1.0)
    board = by_system(pe.leaderboard(fit, population=population))
    assert (board["p_best"] <= matrix.min(axis=1).loc[board.index] + 1e-12).all()
    weights = {} if population is None else {a: sample_shares(fit, a) for a in ATTRIBUTES}
    quality = manual_quality(fit, weights)
    for row in pairs.itertuples():
        manual = (quality.sel(system=row.system) > quality.sel(system=row.other)).mean()
        assert row.p_beats == pytest.approx(float(manual))
    assert list(dict.fromkeys(pairs["system"])) == list(
        pe.leaderboard(fit, population=population)["system"])


# ---------------------------------------------------------------------- (f) reversals
def manual_reversals(fit: pe.Fit) -> dict:
    """{(g, h, system, other): probability} straight from the draws, by brute force."""
    regions = fit.judgments.coords["region"]
    systems = fit.judgments.coords["system"]
    q = {g: fit.draws("mu") + fit.draws("lambda_region").sel(region=g) for g in regions}
    out = {}
    for gi, g in enumerate(regions):
        for h in regions[gi + 1:]:
            for i in systems:
                for j in systems:
                    ahead = q[g].sel(system=i) - q[g].sel(system=j)
                    behind = q[h].sel(system=i) - q[h].sel(system=j)
                    if float(ahead.mean()) > 0 and float(behind.mean()) < 0:
                        out[(g, h, i, j)] = float(((ahead > 0) & (behind < 0)).mean())
    return out


def test_rank_reversals_match_the_draws(fit):
    table = pe.rank_reversals(fit, by="region")
    assert list(table.columns) == ["region", "other_region", "system", "other", "lead",
                                   "other_lead", "p_reversal"]
    expected = manual_reversals(fit)
    assert expected, "the fixture is built to contain a reversal"
    got = {(r.region, r.other_region, r.system, r.other): r.p_reversal
           for r in table.itertuples()}
    assert got.keys() == expected.keys()
    for key, p in expected.items():
        assert got[key] == pytest.approx(p)
    assert table["p_reversal"].is_monotonic_decreasing
    assert (table["lead"] > 0).all() and (table["other_lead"] > 0).all()
    assert table.attrs["by"] == ["region"]
    # a joint event is no more probable than either of its margins
    for r in table.itertuples():
        for group, winner, loser in ((r.region, r.system, r.other),
                                     (r.other_region, r.other, r.system)):
            pairs = pe.pairwise(fit, population={"region": one_hot(fit, "region", group)})
            p = pairs.set_index(["system", "other"]).loc[(winner, loser), "p_beats"]
            assert r.p_reversal <= p + 1e-12


def test_rank_reversals_by_a_cell(fit):
    table = pe.rank_reversals(fit, by=["region", "age_band"])
    assert list(table.columns[:4]) == ["region", "age_band", "other_region", "other_age_band"]
    cells = list(zip(table["region"], table["age_band"], strict=True))
    others = list(zip(table["other_region"], table["other_age_band"], strict=True))
    assert all(c != o for c, o in zip(cells, others, strict=True))
    assert table["p_reversal"].between(0, 1).all()


# ---------------------------------------------------------------------- no system x group term
def test_fit_without_system_by_group_term(fit):
    post = fit.posterior.drop_vars([v for v in fit.posterior.data_vars
                                    if v.startswith(("lambda_", "sigma_lambda_"))])
    plain_fit = with_posterior(fit, post)
    plain = pe.leaderboard(plain_fit)
    assert plain.attrs["system_by_group"] is False and "note" not in plain.attrs
    skewed = pe.leaderboard(plain_fit, population={"region": one_hot(fit, "region", "A")})
    assert "only the expected rating" in skewed.attrs["note"]
    pd.testing.assert_series_equal(by_system(skewed)["quality"], by_system(plain)["quality"])
    assert not np.allclose(skewed["expected_rating"], plain["expected_rating"])
    stratified = pe.leaderboard(plain_fit, by="region")
    assert stratified.groupby("system")["quality"].nunique().eq(1).all()
    assert pe.rank_reversals(plain_fit, by="region").empty


def test_group_thresholds_carry_the_group_bias(fit):
    """Cutpoints per region c + b_region give the same likelihood as shared cutpoints and a
    region bias, so every board must be the same."""
    post = fit.posterior
    cut = post["cutpoints"] + post["b_region"]  # dims chain, draw, cutpoint, region
    by_group = with_posterior(fit, post.drop_vars("b_region").assign(
        cutpoints=cut.transpose("chain", "draw", "region", "cutpoint")))
    for population in (None, "sample", {"region": one_hot(fit, "region", "B")}):
        pd.testing.assert_frame_equal(pe.leaderboard(by_group, population=population),
                                      pe.leaderboard(fit, population=population), rtol=1e-10,
                                      check_exact=False)
    pd.testing.assert_frame_equal(pe.leaderboard(by_group, by="region"),
                                  pe.leaderboard(fit, by="region"), rtol=1e-10)
