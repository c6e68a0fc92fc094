"""Classical agreement baselines: reference values, hand-computed cases, permutation test."""

from __future__ import annotations

import warnings
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from pluraleval import JudgmentDataError, Judgments
from pluraleval.agreement import ALL, Agreement, agreement

IRR = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "irr_agreement"


def _judgments(frame: pd.DataFrame, **options) -> Judgments:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # disconnected designs in tiny data
        return Judgments.from_frame(frame, **options)


def _row(result: Agreement, coefficient: str, level: str = "nominal", **keys) -> pd.Series:
    rel = result.reliability
    mask = (rel["coefficient"] == coefficient) & (rel["level"] == level)
    for name, value in keys.items():
        mask &= rel[name] == value
    assert mask.sum() == 1
    return rel.loc[mask].iloc[0]


# ---------------------------------------------------------------------- reference data
@pytest.fixture(scope="module")
def diagnoses():
    path = IRR / "diagnoses.csv"
    if not path.exists():
        pytest.skip(f"reference data absent: {path} (the shared irr_agreement datasets)")
    wide = pd.read_csv(path)
    levels = sorted(pd.unique(wide.to_numpy().ravel()))
    long = (wide.rename_axis("output").reset_index()
            .melt(id_vars="output", var_name="persona", value_name="rating"))
    codes = wide.apply(lambda col: col.map({v: i for i, v in enumerate(levels)})).to_numpy()
    return _judgments(long, scale=levels), codes


def test_diagnoses_match_krippendorff_and_statsmodels(diagnoses):
    j, codes = diagnoses
    assert codes.shape == (30, 6)
    res = agreement(j, n_boot=200)
    for level in ("nominal", "ordinal", "interval"):
        expected = krippendorff.alpha(reliability_data=codes.T.astype(float),
                                      level_of_measurement=level)
        assert _row(res, "krippendorff_alpha", level)["estimate"] == pytest.approx(expected,
                                                                                   abs=1e-12)
    table, _ = aggregate_raters(codes)
    kappa = _row(res, "fleiss_kappa")
    assert kappa["estimate"] == pytest.approx(fleiss_kappa(table), abs=1e-12)
    assert round(kappa["estimate"], 3) == 0.430  # SOURCE.md: 0.4302 (Fleiss 1971)
    assert kappa["estimate"] == pytest.approx(0.4302, abs=5e-5)
    assert _row(res, "krippendorff_alpha")["estimate"] == pytest.approx(0.433410, abs=1e-6)
    assert (res.reliability["n_units"] == 30).all()
    assert (res.reliability["n_judgments"] == 180).all()
    assert (res.reliability["note"] == "").all()
    assert res.leaderboard is None  # no system column


def test_bootstrap_interval_contains_estimate_and_is_seeded(diagnoses):
    j, _ = diagnoses
    a = agreement(j, n_boot=300, seed=3).reliability
    b = agreement(j, n_boot=300, seed=3).reliability
    pd.testing.assert_frame_equal(a, b)
    assert ((a["lower"] <= a["estimate"]) & (a["estimate"] <= a["upper"])).all()
    assert (a["lower"] < a["upper"]).all()
    assert (a["n_boot"] == 300).all()
    wider = agreement(j, level="nominal", n_boot=300, seed=3, prob=0.99).reliability
    assert (wider["upper"] - wider["lower"]).iloc[0] > (a["upper"] - a["lower"]).iloc[0]
    none = agreement(j, level="nominal", n_boot=0).reliability
    assert none[["lower", "upper"]].isna().all().all() and (none["n_boot"] == 0).all()


# ---------------------------------------------------------------------- hand-computed cases
@pytest.fixture
def tiny():
    df = pd.DataFrame({
        "output": ["o1"] * 4 + ["o2"] * 4,
        "system": ["A"] * 4 + ["B"] * 4,
        "persona": ["p1", "p2", "p3", "p4"] * 2,
        "region": ["EU", "EU", "US", "US"] * 2,
        "rating": [1, 1, 3, 3, 2, 2, 3, 3]})
    return _judgments(df, attributes=["region"], scale=[1, 2, 3])


def test_tiny_hand_computed_alpha_and_kappa(tiny):
    res = agreement(tiny, by="region", n_boot=0, n_perm=0)
    # values 1,1,3,3 | 2,2,3,3: observed disagreement 16/24 = 2/3, expected 1 - 16/56 = 5/7
    assert _row(res, "krippendorff_alpha", region=ALL)["estimate"] == pytest.approx(1 / 15)
    # P_i = 1/3 for both units, P_e = (2/8)^2 + (2/8)^2 + (4/8)^2 = 3/8
    assert _row(res, "fleiss_kappa", region=ALL)["estimate"] == pytest.approx(-1 / 15)
    assert _row(res, "krippendorff_alpha", region="EU")["estimate"] == pytest.approx(1.0)
    us = _row(res, "krippendorff_alpha", region="US")
    assert np.isnan(us["estimate"]) and "no variation" in us["note"]
    assert np.isnan(_row(res, "fleiss_kappa", region="US")["estimate"])


def test_missing_cells_match_krippendorff_reference():
    # The reliability data of Krippendorff (2011), as in the krippendorff package's docs.
    nan = np.nan
    data = np.array([[nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
                     [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
                     [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4]])
    r, u = np.nonzero(~np.isnan(data))
    df = pd.DataFrame({"output": [f"u{k:02d}" for k in u], "persona": [f"c{k}" for k in r],
                       "rating": data[r, u].astype(int)})
    res = agreement(_judgments(df, scale=[1, 2, 3, 4]), n_boot=0)
    assert _row(res, "krippendorff_alpha", "nominal")["estimate"] == pytest.approx(0.691358,
                                                                                   abs=1e-6)
    assert _row(res, "krippendorff_alpha", "interval")["estimate"] == pytest.approx(0.810845,
                                                                                    abs=1e-6)
    assert _row(res, "krippendorff_alpha", "ordinal")["estimate"] == pytest.approx(
        krippendorff.alpha(data, level_of_measurement="ordinal"))
    assert _row(res, "krippendorff_alpha")["n_units"] == 12  # units with >= 2 judgments
    kappa = _row(res, "fleiss_kappa")
    assert np.isnan(kappa["estimate"]) and "different numbers of personas" in kappa["note"]


def test_interval_uses_level_values():
    data = np.array([[1, 2, 5, 5, 1, 2], [2, 2, 5, 1, 1, 5], [1, 5, 5, 2, 2, 2]], dtype=float)
    r, u = np.nonzero(np.ones_like(data))
    df = pd.DataFrame({"output": u, "persona": r, "rating": data[r, u].astype(int)})
    res = agreement(_judgments(df, scale=[1, 2, 5]), level="interval", n_boot=0)
    expected = krippendorff.alpha(data, level_of_measurement="interval")
    assert _row(res, "krippendorff_alpha", "interval")["estimate"] == pytest.approx(expected)


def test_mean_score_leaderboard_by_hand():
    df = pd.DataFrame({"output": ["a", "a", "b", "b", "c", "c", "d", "d"],
                       "system": ["S", "S", "S", "S", "T", "T", "T", "T"],
                       "persona": ["p", "q"] * 4,
                       "rating": [1, 2, 3, 4, 5, 5, 4, 4]})
    res = agreement(_judgments(df, scale=[1, 2, 3, 4, 5]), n_boot=0, prob=0.95)
    board = res.leaderboard.set_index("system")
    assert board.loc["T", "rank"] == 1 and board.loc["S", "rank"] == 2
    assert board.loc["S", "mean_rating"] == pytest.approx(2.5)
    # clustered by output: residual sums (-2, +2) -> var = 2/1 * 8 / 4^2 = 1
    assert board.loc["S", "se"] == pytest.approx(1.0)
    assert board.loc["S", "upper"] - board.loc["S", "mean_rating"] == pytest.approx(1.959964,
                                                                                    abs=1e-6)
    assert board.loc["T", "se"] == pytest.approx(0.5)  # residual sums (1, -1): 2 * 2 / 16
    assert list(board["n_outputs"]) == [2, 2] and list(board["n_judgments"]) == [4, 4]
    assert list(res.leaderboard.columns[:2]) == ["system", "mean_rating"]


def test_majority_vote_ties_are_resolved_and_counted(tiny):
    lowest = agreement(tiny, by="region", n_boot=0, n_perm=0)
    overall = lowest.majority.query("region == @ALL").set_index("output")
    assert list(overall["label"]) == [1, 2] and overall["tie"].all()
    assert overall.loc["o1", "tied"] == (1, 3) and overall.loc["o1", "share"] == 0.5
    assert list(overall["system"]) == ["A", "B"]
    highest = agreement(tiny, n_boot=0, ties="highest").majority
    assert list(highest["label"]) == [3, 3]
    draws = {tuple(agreement(tiny, n_boot=0, ties="random", seed=s).majority["label"])
             for s in range(20)}
    assert len(draws) > 1 and all(set(d) <= {1, 2, 3} for d in draws)
    eu = lowest.majority.query("region == 'EU'")
    assert list(eu["label"]) == [1, 2] and not eu["tie"].any() and (eu["share"] == 1).all()
    ties = lowest.ties.set_index("region")
    assert ties.loc[ALL, "n_ties"] == 2 and ties.loc["EU", "n_ties"] == 0
    assert ties.loc[ALL, "share_ties"] == 1.0


def test_criterion_makes_units():
    df = pd.DataFrame({"output": ["o"] * 4, "criterion": ["help", "help", "harm", "harm"],
                       "persona": ["p", "q", "p", "q"], "rating": [1, 1, 2, 3]})
    res = agreement(_judgments(df, scale=[1, 2, 3]), n_boot=0)
    assert _row(res, "krippendorff_alpha")["n_units"] == 2
    assert set(res.majority["criterion"]) == {"help", "harm"}


# ---------------------------------------------------------------------- in-group vs cross-group
def _two_group_study(planted: bool, seed: int) -> Judgments:
    """16 personas (8 per region) rate 40 outputs 1-5; with ``planted`` each region rates
    around its own per-output truth, otherwise everyone shares one truth."""
    rng = np.random.default_rng(seed)
    n_out, personas = 40, [f"p{k:02d}" for k in range(16)]
    region = ["north"] * 8 + ["south"] * 8
    truth = {g: rng.normal(0, 1.2, n_out) for g in ("north", "south")}
    if not planted:
        truth["south"] = truth["north"]
    rows = []
    for p, g in zip(personas, region, strict=True):
        latent = truth[g] + rng.normal(0, 0.7, n_out)
        ratings = np.clip(np.round(latent + 3), 1, 5).astype(int)
        rows += [dict(output=f"o{o:02d}", persona=p, region=g, rating=int(y))
                 for o, y in enumerate(ratings)]
    return _judgments(pd.DataFrame(rows), attributes=["region"], scale=[1, 2, 3, 4, 5])


def test_permutation_test_detects_planted_group_difference():
    res = agreement(_two_group_study(planted=True, seed=11), by="region", n_boot=0,
                    n_perm=500, seed=1)
    g = res.groups.set_index(["group", "level"])
    for level in ("nominal", "ordinal", "interval"):
        row = g.loc[(ALL, level)]
        assert row["in_group"] > row["cross_group"] and row["difference"] > 0
        assert row["p_value"] < 0.01 and row["p_two_sided"] < 0.01
        assert row["n_permutations"] == 500 and row["ratio"] > 1
    assert g.loc[(ALL, "nominal"), "n_in_pairs"] == 2 * 28
    assert g.loc[(ALL, "nominal"), "n_cross_pairs"] == 64
    assert (g.loc[["north", "south"], "p_value"] < 0.01).all()
    # within-group reliability is higher than pooled reliability
    north = _row(res, "krippendorff_alpha", "interval", region="north")["estimate"]
    pooled = _row(res, "krippendorff_alpha", "interval", region=ALL)["estimate"]
    assert north > pooled


def test_permutation_test_quiet_without_group_difference():
    res = agreement(_two_group_study(planted=False, seed=11), by="region", n_boot=0,
                    n_perm=500, seed=1)
    overall = res.groups.query("group == @ALL")
    assert (overall["p_value"] > 0.1).all() and (overall["p_two_sided"] > 0.1).all()
    assert (overall["difference"].abs() < 0.05).all()


def test_group_agreement_hand_computed(tiny):
    res = agreement(tiny, by="region", n_boot=0, n_perm=0)
    g = res.groups.set_index(["group", "level"])
    # in-group pairs agree everywhere; cross pairs: o1 |1-3|, o2 |2-3| on a 1..3 scale
    assert g.loc[(ALL, "nominal"), "cross_group"] == 0.0
    assert g.loc[(ALL, "ordinal"), "cross_group"] == pytest.approx(1 - (1 + 0.5) / 2)
    assert g.loc[(ALL, "ordinal"), "in_group"] == 1.0
    assert g["p_value"].isna().all() and (g["n_permutations"] == 0).all()


def test_group_with_one_level_reports_why():
    df = pd.DataFrame({"output": ["a", "a", "b", "b"], "persona": ["p", "q"] * 2,
                       "region": ["EU"] * 4, "rating": [0, 1, 1, 1]})
    res = agreement(_judgments(df, attributes=["region"], scale="binary"), by="region",
                    n_boot=0, n_perm=20)
    assert res.groups["cross_group"].isna().all()
    assert res.groups["note"].str.contains("one level").all()


# ---------------------------------------------------------------------- errors
def test_invalid_options_name_the_fix(tiny):
    with pytest.raises(JudgmentDataError, match=r"attributes: \['region'\]"):
        agreement(tiny, by="country")
    with pytest.raises(ValueError, match="choose from"):
        agreement(tiny, level="ratio")
    with pytest.raises(ValueError, match="non-negative integer"):
        agreement(tiny, n_boot=-1)
    with pytest.raises(ValueError, match="'lowest', 'highest' or 'random'"):
        agreement(tiny, ties="first")
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        agreement(tiny, prob=95)
    with pytest.raises(JudgmentDataError, match="Judgments.from_frame"):
        agreement(pd.DataFrame({"output": [1]}))


def test_repeated_judgments_are_an_error():
    df = pd.DataFrame({"output": ["a", "a", "a"], "persona": ["p", "p", "q"],
                       "rating": [0, 1, 1]})
    j = _judgments(df, scale="binary", repeats="allow")
    with pytest.raises(JudgmentDataError, match="one judgment per persona"):
        agreement(j)
