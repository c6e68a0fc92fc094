"""Classical agreement baselines, side by side with the Bayesian view.

:func:`agreement` computes what an inter-rater-reliability analysis would report from the same
judgments a model is fitted to, overall and within each persona group:

- **Krippendorff's alpha** (nominal, ordinal, interval) with the `krippendorff` package, on the
  persona × output reliability matrix (a missing judgment is a missing cell), with a bootstrap
  interval over outputs.
- **Fleiss' kappa** with `statsmodels` where the design allows it (every output rated by the
  same number of personas); otherwise ``NaN`` and a ``note`` saying why.
- A **mean-score leaderboard** of systems (mean rating, output-clustered normal interval) and
  **majority-vote labels** per output (ties resolved by a declared rule and flagged).
- With ``by``: the same numbers within every group, plus **in-group vs cross-group agreement**
  per attribute with a permutation test over persona group labels (as in GRASP, Prabhakaran et
  al. 2023).

These numbers treat every judgment as exchangeable noise around one truth per output. What the
Bayesian model adds is visible next to them: per-group system qualities rather than one mean,
persona severity separated from output quality, and uncertainty that accounts for both.

Definitions
-----------
unit
    An output (an ``(output, criterion)`` pair when the judgments have a ``criterion``): the
    thing several personas rate. The reliability matrix is persona × unit.
values
    Nominal and ordinal coefficients use the rating codes ``0..K-1`` (ordinal through ranks,
    so only the order matters); interval coefficients and mean scores use the scale's numeric
    levels, or ``1..K`` for text labels.
bootstrap
    Nonparametric cluster bootstrap over units: ``n_boot`` resamples of the units with
    replacement, each unit carrying all of its judgments; percentile interval of mass ``prob``.
    This keeps the dependence among the judgments of one output (it is not Hayes &
    Krippendorff's 2007 bootstrap, which resamples pairable values). Alpha and kappa of one
    group share the resamples.
pairwise agreement (in-group vs cross-group)
    For two personas ``r, r'`` that rated shared units, agreement on unit ``u`` is
    ``1 - d(y_ru, y_r'u) / d_max``: ``d`` is ``0/1`` mismatch (nominal), the absolute
    difference of codes (ordinal) or of level values (interval), and ``d_max`` its largest
    possible value, so agreement lies in ``[0, 1]`` (exact-agreement rate for nominal). In-group
    agreement pools all shared units of all same-group pairs (``Σ agreement / Σ shared units``);
    cross-group agreement pools the pairs from different groups. The statistic is
    ``difference = in_group - cross_group``. Under the null that group labels carry no
    information, labels are exchangeable across personas: ``n_perm`` random permutations of
    the attribute's labels over personas give the reference distribution. ``p_value`` is
    one-sided (in-group agreement exceeds cross-group, GRASP's hypothesis),
    ``(1 + #{T* >= T}) / (n_perm + 1)``; ``p_two_sided`` compares ``|T* - mean(T*)|`` with
    ``|T - mean(T*)|``. Per-group rows compare pairs inside the group with pairs of the group
    with everyone outside it, under the same permutations.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import krippendorff
import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from .data import Judgments
from .errors import JudgmentDataError

__all__ = ["ALL", "LEVELS", "Agreement", "agreement"]

#: Label of the overall rows (all personas) in the group columns of every table.
ALL = "(all)"
#: Levels of measurement for Krippendorff's alpha and the pairwise agreement.
LEVELS = ("nominal", "ordinal", "interval")

Level = Literal["nominal", "ordinal", "interval"]
Ties = Literal["lowest", "highest", "random"]


@dataclass(frozen=True)
class Agreement:
    """Classical agreement tables (see :func:`agreement`).

    Attributes
    ----------
    reliability : pandas.DataFrame
        One row per group × coefficient × level: the ``by`` columns (``"(all)"`` on the overall
        rows), ``coefficient`` (``"krippendorff_alpha"`` or ``"fleiss_kappa"``), ``level``,
        ``estimate``, ``lower``, ``upper`` (bootstrap percentile interval), ``n_boot`` (valid
        resamples), ``n_units`` (units with at least two judgments), ``n_personas``,
        ``n_judgments`` and ``note`` (why an estimate is ``NaN``; empty otherwise).
    leaderboard : pandas.DataFrame or None
        Mean-score leaderboard per group (``None`` without a ``system`` column): the ``by``
        columns, ``criterion`` (if present), ``system``, ``mean_rating``, ``se`` (clustered by
        output), ``lower``, ``upper`` (normal interval), ``rank`` (1 = highest mean; ties share
        the smaller rank), ``n_judgments``, ``n_outputs``, ``n_personas``.
    majority : pandas.DataFrame
        Majority-vote label per group × unit: the ``by`` columns, ``output``, ``criterion`` and
        ``system`` (if present), ``label``, ``n_votes``, ``n_judgments``, ``share``
        (``n_votes / n_judgments``), ``tie`` (several levels had the most votes) and ``tied``
        (those levels, lowest first).
    groups : pandas.DataFrame or None
        In-group vs cross-group agreement (``None`` without ``by``): ``attribute``, ``group``
        (``"(all)"`` for the attribute as a whole), ``level``, ``in_group``, ``cross_group``,
        ``difference``, ``ratio`` (in/cross, GRASP's group association index), ``p_value``,
        ``p_two_sided``, ``n_permutations``, ``n_in_pairs``, ``n_cross_pairs`` (persona pairs
        with shared units) and ``note``.
    by : tuple of str
        The grouping attributes.
    """

    reliability: pd.DataFrame
    leaderboard: pd.DataFrame | None
    majority: pd.DataFrame
    groups: pd.DataFrame | None
    by: tuple[str, ...] = ()

    @property
    def ties(self) -> pd.DataFrame:
        """Majority-vote ties per group: ``n_units``, ``n_ties`` and ``share_ties``."""
        keys = [*self.by] if self.by else []
        frame = self.majority.assign(_one=1)
        if keys:
            out = frame.groupby(keys, sort=False).agg(n_units=("_one", "size"),
                                                     n_ties=("tie", "sum"))
            out = out.reset_index()
        else:
            out = pd.DataFrame({"n_units": [len(frame)], "n_ties": [int(frame["tie"].sum())]})
        out["share_ties"] = out["n_ties"] / out["n_units"]
        return out

    def __repr__(self) -> str:
        by = f"by={list(self.by)}; " if self.by else ""
        n_lb = "none" if self.leaderboard is None else f"{len(self.leaderboard)} rows"
        n_gr = "none" if self.groups is None else f"{len(self.groups)} rows"
        return (f"Agreement({by}reliability: {len(self.reliability)} rows; leaderboard: {n_lb}; "
                f"majority: {len(self.majority)} rows; groups: {n_gr})")


def agreement(
    judgments: Judgments,
    *,
    by: str | Sequence[str] | None = None,
    level: Level | Sequence[Level] | None = None,
    n_boot: int = 1000,
    n_perm: int = 1000,
    prob: float = 0.9,
    ties: Ties = "lowest",
    seed: int = 0,
) -> Agreement:
    """Classical agreement baselines: Krippendorff's alpha, Fleiss' kappa, mean scores,
    majority vote, and in-group vs cross-group agreement.

    Parameters
    ----------
    judgments : Judgments
        At most one judgment per persona per output (and criterion).
    by : str or sequence of str, optional
        Persona attribute(s). Every table is repeated within each group (each observed cell of
        several attributes), and ``groups`` tests in-group vs cross-group agreement for each
        attribute.
    level : {"nominal", "ordinal", "interval"} or sequence of them, optional
        Levels of measurement for Krippendorff's alpha and the pairwise agreement. Default:
        all three (only the ones meaningful for your scale should be read: a scale of text
        labels without an order is nominal).
    n_boot : int
        Bootstrap resamples of units for the alpha/kappa intervals (0: no interval).
    n_perm : int
        Permutations of group labels for the in-group vs cross-group test (0: no p-value).
    prob : float
        Mass of the bootstrap and normal intervals (0.9, as in the posterior leaderboard).
    ties : {"lowest", "highest", "random"}
        How a majority-vote tie is resolved: the lowest or highest tied level, or one drawn
        at random (seeded). Every tie is flagged in ``majority["tie"]``.
    seed : int
        Seed for the bootstrap, the permutations and random tie-breaking.

    Returns
    -------
    Agreement
        ``reliability``, ``leaderboard``, ``majority`` and ``groups`` tables (see
        :class:`Agreement`); the module docstring defines units, values, the bootstrap and the
        pairwise agreement.

    Raises
    ------
    JudgmentDataError
        ``by`` is not a persona attribute, or a persona judged an output more than once.
    ValueError
        An unknown ``level`` or ``ties``, or an invalid ``n_boot``/``n_perm``/``prob``.

    Examples
    --------
    >>> import pandas as pd
    >>> from pluraleval import Judgments
    >>> from pluraleval.agreement import agreement
    >>> df = pd.DataFrame({
    ...     "output": ["o1", "o1", "o1", "o1", "o2", "o2", "o2", "o2"],
    ...     "system": ["A", "A", "A", "A", "B", "B", "B", "B"],
    ...     "persona": ["p1", "p2", "p3", "p4"] * 2,
    ...     "region": ["EU", "EU", "US", "US"] * 2,
    ...     "rating": [1, 1, 3, 3, 2, 2, 3, 3]})
    >>> j = Judgments.from_frame(df, attributes=["region"], scale=[1, 2, 3])
    >>> res = agreement(j, by="region", level="nominal", n_boot=50, n_perm=50)
    >>> res.reliability[["region", "coefficient", "estimate"]].round(3)
      region         coefficient  estimate
    0  (all)  krippendorff_alpha     0.067
    1  (all)        fleiss_kappa    -0.067
    2     EU  krippendorff_alpha     1.000
    3     EU        fleiss_kappa     1.000
    4     US  krippendorff_alpha       NaN
    5     US        fleiss_kappa       NaN
    >>> res.reliability.loc[4, "note"]
    'no variation: every pairable judgment has the same value (expected disagreement is 0)'
    >>> res.leaderboard[["region", "system", "mean_rating", "rank"]]
      region system  mean_rating  rank
    0  (all)      B          2.5     1
    1  (all)      A          2.0     2
    2     EU      B          2.0     1
    3     EU      A          1.0     2
    4     US      A          3.0     1
    5     US      B          3.0     1
    >>> res.majority.query("region == '(all)'")[["output", "label", "n_votes", "tie"]]
      output  label  n_votes   tie
    0     o1      1        2  True
    1     o2      2        2  True
    >>> res.groups[["attribute", "group", "in_group", "cross_group", "difference"]]
      attribute  group  in_group  cross_group  difference
    0    region  (all)       1.0          0.0         1.0
    1    region     EU       1.0          0.0         1.0
    2    region     US       1.0          0.0         1.0
    """
    levels = _check_levels(level)
    by_attrs = _check_by(judgments, by)
    for name, value in (("n_boot", n_boot), ("n_perm", n_perm)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name}={value!r}: give a non-negative integer (0 switches it off).")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r}: give a non-negative integer.")
    if not 0 < prob < 1:
        raise ValueError(f"prob={prob!r}: give the interval mass as a number in (0, 1), e.g. 0.9.")
    if ties not in ("lowest", "highest", "random"):
        raise ValueError(f"ties={ties!r}: use 'lowest', 'highest' or 'random'.")

    data = _Data.build(judgments)
    groups = _group_cells(judgments, by_attrs)
    reliability, boards, majority = [], [], []
    for k, (labels, mask) in enumerate(groups):
        rows = mask[data.persona]
        keys = dict(zip(by_attrs, labels, strict=True))
        rng = np.random.default_rng([seed, 0, k])
        reliability.append(_reliability(data, rows, levels, n_boot, prob, rng, keys))
        if data.system is not None:
            boards.append(_leaderboard(data, rows, prob, keys))
        majority.append(_majority(data, rows, ties, rng, keys))
    group_table = None
    if by_attrs:
        group_table = pd.concat(
            [_group_test(judgments, data, a, levels, n_perm, np.random.default_rng([seed, 1, i]))
             for i, a in enumerate(by_attrs)], ignore_index=True)
    rel = pd.concat(reliability, ignore_index=True)
    rel.attrs.update(prob=prob, n_boot=n_boot, seed=seed,
                     bootstrap="cluster bootstrap over units (outputs), percentile interval")
    board = pd.concat(boards, ignore_index=True) if boards else None
    if board is not None:
        board.attrs.update(prob=prob, interval="normal, standard error clustered by output")
    maj = pd.concat(majority, ignore_index=True)
    maj.attrs.update(ties=ties)
    return Agreement(reliability=rel, leaderboard=board, majority=maj, groups=group_table,
                     by=tuple(by_attrs))


# ---------------------------------------------------------------------- validation
def _check_levels(level) -> tuple[str, ...]:
    if level is None:
        return LEVELS
    chosen = (level,) if isinstance(level, str) else tuple(level)
    bad = [v for v in chosen if v not in LEVELS]
    if bad or not chosen:
        raise ValueError(f"level={level!r}: choose from {list(LEVELS)} (or a list of them), or "
                         "leave level=None for all three.")
    return tuple(dict.fromkeys(chosen))


def _check_by(judgments: Judgments, by) -> list[str]:
    if not isinstance(judgments, Judgments):
        raise JudgmentDataError(
            f"agreement() needs a Judgments object, got {type(judgments).__name__}. Build one "
            "with pluraleval.Judgments.from_frame(table, ...).")
    if by is None:
        return []
    attrs = [by] if isinstance(by, str) else list(by)
    for a in attrs:
        if a not in judgments.attributes:
            raise JudgmentDataError(
                f"by={a!r} is not a persona attribute of these judgments; attributes: "
                f"{judgments.attributes}. Use one of them, or declare the column when loading "
                f"(Judgments.from_frame(..., attributes=[{a!r}])).")
    if len(set(attrs)) != len(attrs) or not attrs:
        raise JudgmentDataError(f"by={by!r}: name each attribute once (at least one).")
    return attrs


# ---------------------------------------------------------------------- encoded data
@dataclass(frozen=True)
class _Data:
    unit: np.ndarray  # per judgment: unit code
    persona: np.ndarray  # per judgment: persona code
    code: np.ndarray  # per judgment: rating code 0..K-1
    n_units: int
    n_personas: int
    levels: tuple  # rating labels
    values: np.ndarray  # numeric value of each level (interval, mean score)
    units: pd.DataFrame  # one row per unit: output, criterion?, system?
    system: np.ndarray | None  # per judgment: system code
    systems: list | None
    criterion: np.ndarray | None  # per judgment: criterion code

    @classmethod
    def build(cls, j: Judgments) -> _Data:
        codes = j.codes
        keys = ["output"] + (["criterion"] if j.has("criterion") else [])
        frame = j.table[keys].copy()
        dup = frame.assign(persona=j.table["persona"]).duplicated(keep=False).to_numpy()
        if dup.any():
            raise JudgmentDataError(
                f"agreement needs at most one judgment per persona per "
                f"{'/'.join(keys)}, but {int(dup.sum())} judgments repeat one (these judgments "
                "were loaded with repeats='allow'). Keep one judgment per persona and output "
                "first, e.g. table.query('variant == 0') or the first position.")
        key = codes["output"].copy()
        n_crit = j.n_levels("criterion") if j.has("criterion") else 1
        if j.has("criterion"):
            key = key * n_crit + codes["criterion"]
        present, unit_codes = np.unique(key, return_inverse=True)
        units = pd.DataFrame({"output": np.asarray(j.coords["output"], dtype=object)[
            present // n_crit]})
        if j.has("criterion"):
            units["criterion"] = np.asarray(j.coords["criterion"], dtype=object)[present % n_crit]
        system = systems = None
        if j.has("system"):
            systems = j.coords["system"]
            sys_of_output = codes["output_system"]
            system = sys_of_output[codes["output"]]
            first = pd.Series(system).groupby(unit_codes).first()
            units["system"] = np.asarray(systems, dtype=object)[first.to_numpy()]
        scale = j.scale
        values = scale.values
        return cls(unit=unit_codes.astype(np.int64), persona=codes["persona"],
                   code=codes["rating"], n_units=len(units), n_personas=j.n_levels("persona"),
                   levels=tuple(scale.levels), values=values, units=units, system=system,
                   systems=systems,
                   criterion=codes.get("criterion"))

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    def value_counts(self, rows: np.ndarray) -> np.ndarray:
        """Units × levels counts of the selected judgments (all units, zero rows included)."""
        k = self.n_levels
        flat = self.unit[rows] * k + self.code[rows]
        return np.bincount(flat, minlength=self.n_units * k).reshape(self.n_units, k)


def _group_cells(j: Judgments, by: list[str]) -> list[tuple[tuple, np.ndarray]]:
    """``(labels, persona mask)`` for the overall group and each observed cell of ``by``."""
    n = j.n_levels("persona")
    cells = [((ALL,) * len(by), np.ones(n, dtype=bool))]
    if not by:
        return cells
    codes = np.column_stack([j.codes[f"persona_{a}"] for a in by])
    for combo in itertools.product(*(range(j.n_levels(a)) for a in by)):
        mask = (codes == np.asarray(combo)).all(axis=1)
        if mask.any():
            labels = tuple(j.coords[a][c] for a, c in zip(by, combo, strict=True))
            cells.append((labels, mask))
    return cells


# ---------------------------------------------------------------------- reliability
def _reliability(d: _Data, rows: np.ndarray, levels: tuple[str, ...], n_boot: int, prob: float,
                 rng: np.random.Generator, keys: dict) -> pd.DataFrame:
    counts = d.value_counts(rows)
    rated = counts.sum(axis=1)
    pairable = counts[rated >= 2]
    common = dict(n_units=len(pairable), n_personas=int(np.unique(d.persona[rows]).size),
                  n_judgments=int(rows.sum()))
    idx = rng.integers(0, len(pairable), size=(n_boot, len(pairable))) if len(pairable) else \
        np.zeros((0, 0), dtype=np.int64)
    out = []
    for level in levels:
        est, note = _alpha(pairable, d, level)
        boot = [_alpha(pairable[i], d, level)[0] for i in idx] if not note else []
        out.append(dict(coefficient="krippendorff_alpha", level=level, estimate=est,
                        **_interval(boot, prob), note=note))
    # Fleiss' kappa: nominal, needs the same number of ratings for every rated unit.
    rated_units = counts[rated > 0]
    est, note = _fleiss(d, rows, rated_units)
    boot = [_fleiss_counts(rated_units[i]) for i in
            rng.integers(0, len(rated_units), size=(n_boot, len(rated_units)))] if not note else []
    out.append(dict(coefficient="fleiss_kappa", level="nominal", estimate=est,
                    **_interval(boot, prob), note=note))
    frame = pd.DataFrame([{**keys, **row, **common} for row in out])
    cols = [*keys, "coefficient", "level", "estimate", "lower", "upper", "n_boot", "n_units",
            "n_personas", "n_judgments", "note"]
    return frame[cols]


def _alpha(counts: np.ndarray, d: _Data, level: str) -> tuple[float, str]:
    if len(counts) == 0:
        return np.nan, "no output was rated by two or more personas of this group"
    if np.count_nonzero(counts.sum(axis=0)) < 2:
        return np.nan, ("no variation: every pairable judgment has the same value (expected "
                        "disagreement is 0)")
    domain = d.values if level == "interval" else np.arange(d.n_levels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = krippendorff.alpha(value_counts=counts, value_domain=domain,
                                   level_of_measurement=level)
    return float(value), ""


def _fleiss(d: _Data, rows: np.ndarray, counts: np.ndarray) -> tuple[float, str]:
    per_unit = counts.sum(axis=1)
    if len(counts) == 0 or per_unit.max() < 2:
        return np.nan, "no output was rated by two or more personas of this group"
    if per_unit.min() != per_unit.max():
        return np.nan, (f"outputs are rated by different numbers of personas "
                        f"({per_unit.min()}-{per_unit.max()}); Fleiss' kappa needs the same "
                        "number for every output (Krippendorff's alpha allows missing ratings)")
    if np.count_nonzero(counts.sum(axis=0)) < 2:
        return np.nan, ("no variation: every judgment has the same value (expected agreement "
                        "is 1)")
    # subjects × raters matrix of codes (raters are exchangeable in Fleiss' kappa)
    order = np.argsort(d.unit[rows], kind="stable")
    wide = d.code[rows][order].reshape(len(counts), int(per_unit[0]))
    table, _ = aggregate_raters(wide, n_cat=d.n_levels)
    return float(fleiss_kappa(table, method="fleiss")), ""


def _fleiss_counts(counts: np.ndarray) -> float:
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(fleiss_kappa(counts, method="fleiss"))


def _interval(boot: list[float], prob: float) -> dict:
    arr = np.asarray(boot, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return dict(lower=np.nan, upper=np.nan, n_boot=0)
    tail = (1 - prob) / 2
    lo, hi = np.quantile(arr, [tail, 1 - tail])
    return dict(lower=float(lo), upper=float(hi), n_boot=int(arr.size))


# ---------------------------------------------------------------------- mean scores, majority
def _leaderboard(d: _Data, rows: np.ndarray, prob: float, keys: dict) -> pd.DataFrame:
    frame = pd.DataFrame({"system": np.asarray(d.systems, dtype=object)[d.system[rows]],
                          "unit": d.unit[rows], "persona": d.persona[rows],
                          "y": d.values[d.code[rows]]})
    strata = ["system"]
    if d.criterion is not None:
        frame["criterion"] = d.units["criterion"].to_numpy()[d.unit[rows]]
        strata = ["criterion", "system"]
    g = frame.groupby(strata, sort=True)
    out = g.agg(mean_rating=("y", "mean"), n_judgments=("y", "size"),
                n_outputs=("unit", "nunique"), n_personas=("persona", "nunique"))
    # output-clustered (CR1) standard error of a mean: residuals summed within each output
    frame["resid"] = frame["y"] - g["y"].transform("mean")
    sums = frame.groupby([*strata, "unit"], sort=True)["resid"].sum().pow(2)
    ss = sums.groupby(level=strata, sort=True).sum()
    n_out = out["n_outputs"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = n_out / (n_out - 1) * ss / out["n_judgments"].astype(float) ** 2
    out["se"] = np.sqrt(var.where(n_out > 1))
    z = norm.ppf(1 - (1 - prob) / 2)
    out["lower"] = out["mean_rating"] - z * out["se"]
    out["upper"] = out["mean_rating"] + z * out["se"]
    out = out.reset_index()
    rank_by = out.groupby(strata[:-1])["mean_rating"] if len(strata) > 1 else out["mean_rating"]
    out["rank"] = rank_by.rank(method="min", ascending=False).astype(int)
    out = out.sort_values([*strata[:-1], "rank", "system"], kind="stable")
    for k, (name, value) in enumerate(keys.items()):
        out.insert(k, name, value)
    cols = [*keys, *strata, "mean_rating", "se", "lower", "upper", "rank", "n_judgments",
            "n_outputs", "n_personas"]
    return out[cols].reset_index(drop=True)


def _majority(d: _Data, rows: np.ndarray, ties: str, rng: np.random.Generator,
              keys: dict) -> pd.DataFrame:
    counts = d.value_counts(rows)
    rated = np.flatnonzero(counts.sum(axis=1) > 0)
    counts = counts[rated]
    top = counts.max(axis=1, keepdims=True)
    is_top = counts == top
    n_top = is_top.sum(axis=1)
    if ties == "lowest":
        choice = is_top.argmax(axis=1)
    elif ties == "highest":
        choice = d.n_levels - 1 - is_top[:, ::-1].argmax(axis=1)
    else:  # a uniformly random tied level per unit
        score = rng.random(counts.shape) * is_top
        choice = score.argmax(axis=1)
    labels = np.asarray(d.levels, dtype=object)
    out = d.units.iloc[rated].reset_index(drop=True)
    for k, (name, value) in enumerate(keys.items()):
        out.insert(k, name, value)
    out["label"] = labels[choice].tolist()  # let pandas infer the dtype (int, str, ...)
    out["n_votes"] = top[:, 0]
    out["n_judgments"] = counts.sum(axis=1)
    out["share"] = out["n_votes"] / out["n_judgments"]
    out["tie"] = n_top > 1
    out["tied"] = [tuple(labels[m]) if n > 1 else () for m, n in zip(is_top, n_top, strict=True)]
    return out


# ---------------------------------------------------------------------- in-group vs cross-group
def _pair_matrices(d: _Data, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Persona × persona: summed agreement over shared units, and number of shared units."""
    p, u = d.n_personas, d.n_units
    mask = np.zeros((p, u))
    mask[d.persona, d.unit] = 1.0
    shared = mask @ mask.T
    if level == "nominal":
        agree = np.zeros((p, p))
        for k in range(d.n_levels):
            y = np.zeros((p, u))
            sel = d.code == k
            y[d.persona[sel], d.unit[sel]] = 1.0
            agree += y @ y.T
    else:
        # |x - x'| = Σ_t w_t |1[x > t] - 1[x' > t]| over thresholds t between adjacent levels
        steps = np.ones(d.n_levels - 1) if level == "ordinal" else np.diff(d.values)
        dist = np.zeros((p, p))
        for t, w in enumerate(steps):
            b = np.zeros((p, u))
            sel = d.code > t
            b[d.persona[sel], d.unit[sel]] = 1.0
            cross = b @ mask.T
            dist += w * (cross + cross.T - 2 * (b @ b.T))
        agree = shared - dist / steps.sum()
    np.fill_diagonal(agree, 0.0)
    np.fill_diagonal(shared, 0.0)
    return agree, shared


def _in_cross(agree: np.ndarray, shared: np.ndarray, pairs: np.ndarray,
              labels: np.ndarray, n_groups: int) -> np.ndarray:
    """Rows: overall then each group; columns: in-group, cross-group, n_in, n_cross."""
    onehot = np.eye(n_groups)[labels]
    mats = [onehot.T @ m @ onehot for m in (agree, shared, pairs)]
    diag = [np.diag(m) for m in mats]
    row = [m.sum(axis=1) for m in mats]
    with np.errstate(divide="ignore", invalid="ignore"):
        overall = [diag[0].sum() / diag[1].sum(),
                   (mats[0].sum() - diag[0].sum()) / (mats[1].sum() - diag[1].sum()),
                   diag[2].sum() / 2, (mats[2].sum() - diag[2].sum()) / 2]
        per = np.column_stack([diag[0] / diag[1], (row[0] - diag[0]) / (row[1] - diag[1]),
                               diag[2] / 2, row[2] - diag[2]])
    return np.vstack([overall, per])


def _group_test(j: Judgments, d: _Data, attribute: str, levels: tuple[str, ...], n_perm: int,
                rng: np.random.Generator) -> pd.DataFrame:
    labels = j.codes[f"persona_{attribute}"]
    n_groups = j.n_levels(attribute)
    perms = [rng.permutation(labels) for _ in range(n_perm)]
    names = [ALL, *j.coords[attribute]]
    out = []
    for level in levels:
        agree, shared = _pair_matrices(d, level)
        pairs = (shared > 0).astype(float)
        obs = _in_cross(agree, shared, pairs, labels, n_groups)
        stat = obs[:, 0] - obs[:, 1]
        if perms:
            null = np.stack([_in_cross(agree, shared, pairs, p, n_groups)[:, :2]
                             for p in perms])
            null = null[..., 0] - null[..., 1]  # permutations × rows
            valid = np.isfinite(null)
            n_valid = valid.sum(axis=0)
            centre = np.nanmean(np.where(valid, null, np.nan), axis=0) if valid.any() else \
                np.full(len(names), np.nan)
            tol = 1e-12
            with np.errstate(invalid="ignore"):
                ge = ((null >= stat - tol) & valid).sum(axis=0)
                far = ((np.abs(null - centre) >= np.abs(stat - centre) - tol) & valid).sum(axis=0)
                p_one = np.where(np.isfinite(stat) & (n_valid > 0), (1 + ge) / (1 + n_valid),
                                 np.nan)
                p_two = np.where(np.isfinite(stat) & (n_valid > 0), (1 + far) / (1 + n_valid),
                                 np.nan)
        else:
            n_valid = np.zeros(len(names), dtype=int)
            p_one = p_two = np.full(len(names), np.nan)
        for r, name in enumerate(names):
            note = ""
            if n_groups < 2:
                note = f"{attribute!r} has one level: there are no cross-group pairs"
            elif obs[r, 2] == 0:
                note = "no pair of personas in the same group rated a shared output"
            elif obs[r, 3] == 0:
                note = "no pair of personas from different groups rated a shared output"
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = obs[r, 0] / obs[r, 1]
            out.append(dict(attribute=attribute, group=name, level=level, in_group=obs[r, 0],
                            cross_group=obs[r, 1], difference=stat[r], ratio=ratio,
                            p_value=float(p_one[r]), p_two_sided=float(p_two[r]),
                            n_permutations=int(n_valid[r]), n_in_pairs=int(obs[r, 2]),
                            n_cross_pairs=int(obs[r, 3]), note=note))
    return pd.DataFrame(out)
