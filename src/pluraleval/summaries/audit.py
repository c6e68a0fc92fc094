"""Value-skew audit: whose values does a leaderboard encode, and would the winner change?

A benchmark's point-score leaderboard averages judgments, so it silently weighs every persona
group by its share of judgments (the population ``"sample"``). :func:`audit` compares that mix
with a target population and asks how fragile the winner is to the mix:

1. **distance** of the sample's mix from the target, per attribute (total variation distance,
   TV = ½ Σ_g |w_target[g] − w_sample[g]|, the largest share of the population that would
   have to move between groups), with the weights side by side;
2. the **leaderboards** under both mixes and the probability that their top systems differ;
3. the **influence** of each group: how fast the winner's lead erodes when weight moves onto
   the group;
4. the **smallest reweighting** of groups (in TV) that makes another system tie the winner,
   found by one linear program per challenger, and how probable the change is there and
   beyond;
5. the **win regions** over the weight simplex of one attribute with 2–3 levels.

Everything rests on the model's poststratified quality, which is *linear in the weights* for
each posterior draw (``models/ordinal.md``)::

    quality[s](w) = mu[s] + Σ_a Σ_g w_a[g] · lambda_a[s, g]

Throughout, the **top system** (the "winner") of a population is the system with the highest
posterior mean quality there, the first row of :func:`~pluraleval.leaderboard`. ``p_best`` is
the posterior probability of being the best system (highest quality in a draw).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from ..errors import PopulationError
from ..fit import Fit
from .leaderboard import GROUP, PopulationLike, _require_systems, leaderboard, population_draws
from .population import Population, modelled_attributes

__all__ = ["Audit", "audit", "win_regions", "smallest_reweighting"]

SAMPLE_DIMS = ("chain", "draw")
#: Points per challenger on the ray beyond the tie point (for ``tv_credible``).
RAY_POINTS = 50
#: Numerical slack when checking a tie found by the linear program.
TIE_TOLERANCE = 1e-9


# ---------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)  # tables do not compare with ==
class Audit:
    """Result of :func:`audit`: tidy tables and the headline facts.

    Attributes
    ----------
    weights : pandas.DataFrame
        One row per (attribute, level): ``attribute``, ``level``, ``sample`` and ``target``
        weights, ``difference`` (target − sample).
    distance : pandas.DataFrame
        One row per modelled attribute: ``attribute``, ``n_levels``, ``tv`` (total variation
        distance of the target from the sample mix), ``max_difference`` (largest absolute
        change of one level's weight), ``system_by_group`` (whether the fit has system × group
        effects for it: without them its weights cannot move the ranking).
    leaderboards : pandas.DataFrame
        :func:`~pluraleval.leaderboard` under the sample mix and under the target, stacked
        with a leading ``population`` column (``"sample"``, ``"target"``).
    influence : pandas.DataFrame
        One row per (attribute, level), most lead-eroding first. ``margin_slope`` is the
        derivative of the winner's expected margin with respect to moving weight onto the
        group (see :func:`audit`), with a ``prob`` interval ``margin_slope_lower``/``_upper``
        over the draws; ``p_best_change`` is the change of the winner's P(best) after moving
        ``step`` of weight onto the group (``moved`` says how much could be moved).
    changes : pandas.DataFrame
        The smallest reweighting that makes each challenger tie the sample winner (one row per
        challenger that can, smallest ``tv`` first; **empty when no reweighting of the modelled
        groups changes the top system**). Columns ``challenger``, ``tv`` (the combined
        distance, see ``combine``), ``tv_lower``/``tv_upper`` (a ``prob`` interval of the
        distance, along the same direction, at which the challenger overtakes the winner in
        each draw; ``inf`` when that would lie beyond the edge of the simplex),
        ``tv_<attribute>`` per attribute, ``p_best`` (the
        challenger's P(best) at that mix), ``p_best_winner``, ``p_beats`` (P(challenger's
        quality > winner's)), ``top_there`` (the system with the highest mean quality there,
        the challenger unless a third system is ahead of both), ``tv_credible`` (the smallest
        distance along the same direction, up to the edge of the simplex, at which the
        challenger's P(best) reaches ``prob``; NaN if it never does), ``tv_edge`` and
        ``p_best_edge`` (distance and challenger's P(best) at the edge of the simplex).
    change_weights : pandas.DataFrame
        Weights of each row of ``changes``: ``challenger``, ``attribute``, ``level``,
        ``sample``, ``weight``, ``difference``.
    win_regions : pandas.DataFrame
        :func:`win_regions` over ``win_attribute`` (empty when no modelled attribute with
        system × group effects has 2–3 levels).
    sample_winner, target_winner : str
        Top system (highest posterior mean quality) under each mix.
    p_top_differs : float
        Posterior probability that the best system under the target differs from the best
        under the sample mix (per draw, the argmax of quality under each, compared).
    total_distance : float
        The per-attribute TVs combined as ``combine`` says (summed or their maximum).
    combine : {"sum", "max"}
        How per-attribute TVs make one distance (for ``total_distance`` and ``changes``).
    prob : float
        Interval mass, and the P(best) a change needs to count as credible.
    target_name : str
    win_attribute : str or None
    converged : bool
        The fit's diagnostics verdict.
    notes : tuple of str
        Caveats (e.g. no system × group effects, fit not converged).
    """

    weights: pd.DataFrame
    distance: pd.DataFrame
    leaderboards: pd.DataFrame
    influence: pd.DataFrame
    changes: pd.DataFrame
    change_weights: pd.DataFrame
    win_regions: pd.DataFrame
    sample_winner: str
    target_winner: str
    p_top_differs: float
    total_distance: float
    combine: str
    prob: float
    target_name: str
    win_attribute: str | None
    converged: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def winner_changes(self) -> bool:
        """Whether any reweighting of the modelled groups changes the top system."""
        return not self.changes.empty

    @property
    def credible_change(self) -> bool:
        """Whether some reweighting makes another system best with P(best) >= ``prob``."""
        return bool(self.changes["tv_credible"].notna().any()) if self.winner_changes \
            else False

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name (for reports and CSV export)."""
        return {name: getattr(self, name) for name in (
            "weights", "distance", "leaderboards", "influence", "changes", "change_weights",
            "win_regions")}

    def population(self, challenger: str | None = None) -> Population:
        """The reweighting found for ``challenger`` (default: the smallest change) as a
        :class:`~pluraleval.Population`, e.g. to pass to :func:`~pluraleval.leaderboard`.

        Raises
        ------
        PopulationError
            No reweighting changes the top system (or none for this challenger).
        """
        if not self.winner_changes:
            raise PopulationError("no reweighting of the modelled groups changes the top "
                                  f"system {self.sample_winner!r}; there is no such population.")
        challenger = self.changes["challenger"].iloc[0] if challenger is None else challenger
        rows = self.change_weights[self.change_weights["challenger"] == challenger]
        if rows.empty:
            raise PopulationError(f"no reweighting makes {challenger!r} tie "
                                  f"{self.sample_winner!r}; challengers that can: "
                                  f"{list(self.changes['challenger'])}.")
        marginals = {a: dict(zip(g["level"], g["weight"], strict=True))
                     for a, g in rows.groupby("attribute", sort=False)}
        return Population.from_marginals(marginals, normalize=True,
                                         name=f"smallest change to {challenger}")

    @property
    def summary(self) -> str:
        """A short plain-text account for reports and the command line."""
        lines = [f"Value-skew audit: the sample's rater mix vs target {self.target_name!r}"
                 + ("" if self.converged else " (fit failed its diagnostics: provisional)")]
        tv = ", ".join(f"{r.attribute} {r.tv:.2f}" for r in self.distance.itertuples())
        lines.append(f"Distance (total variation): {tv}; combined ({self.combine}) "
                     f"{self.total_distance:.2f}.")
        boards = self.leaderboards.set_index(["population", "system"])["p_best"]
        lines.append(
            f"Top system: {self.sample_winner} under the sample mix (P(best) "
            f"{boards[('sample', self.sample_winner)]:.2f}), {self.target_winner} under the "
            f"target (P(best) {boards[('target', self.target_winner)]:.2f}); P(the best "
            f"system differs) {self.p_top_differs:.2f}.")
        moving = self.influence.head(2)
        if not moving.empty and (moving["margin_slope"] != 0).any():
            parts = [f"{r.attribute}={r.level} ({r.margin_slope:+.2f})"
                     for r in moving.itertuples()]
            lines.append(f"Groups that erode {self.sample_winner}'s lead fastest (change of "
                         f"its expected margin per unit of weight moved onto the group): "
                         f"{', '.join(parts)}.")
        if not self.winner_changes:
            lines.append(f"No reweighting of the modelled groups changes the top system: "
                         f"{self.sample_winner} leads (in posterior mean) under every mix.")
        else:
            row = self.changes.iloc[0]
            moved = self.change_weights[(self.change_weights["challenger"] == row.challenger)
                                        & (self.change_weights["difference"].abs() > 5e-4)]
            shifts = ", ".join(f"{r.attribute}={r.level} {r.sample:.2f}->{r.weight:.2f}"
                               for r in moved.itertuples())
            lines.append(f"Smallest reweighting that changes the top: TV {row.tv:.2f} "
                         f"({self.prob:.0%} interval {row.tv_lower:.2f}-{row.tv_upper:.2f}) "
                         f"makes {row.challenger} tie {self.sample_winner} ({shifts}); there "
                         f"P({row.challenger} best) = {row.p_best:.2f}.")
            credible = self.changes.dropna(subset=["tv_credible"])
            if credible.empty:
                lines.append(f"No credible change: no challenger reaches P(best) >= "
                             f"{self.prob:g} along its direction, even at the edge of the "
                             f"simplex (best: {row.challenger} {row.p_best_edge:.2f} at TV "
                             f"{row.tv_edge:.2f}).")
            else:
                c = credible.sort_values("tv_credible").iloc[0]
                lines.append(f"Credible change: {c.challenger} is best with P >= {self.prob:g} "
                             f"from TV {c.tv_credible:.2f} on (along its smallest-change "
                             f"direction).")
        if self.win_attribute is not None and not self.win_regions.empty:
            counts = self.win_regions["best"].value_counts()
            share = ", ".join(f"{s} {n / len(self.win_regions):.0%}" for s, n in counts.items())
            lines.append(f"Win regions over {self.win_attribute} (other attributes at the "
                         f"sample mix), most probable best system: {share} of the grid.")
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary


# ---------------------------------------------------------------------- main entry
def audit(fit: Fit, *, target: PopulationLike, prob: float = 0.9,
          combine: Literal["sum", "max"] = "sum", step: float = 0.1,
          win_attribute: str | None = None, resolution: int = 20) -> Audit:
    """Value-skew audit of a leaderboard: the sample's rater mix against a target population.

    Parameters
    ----------
    fit : Fit
        A fit whose judgments have a ``system`` column.
    target : Population, "equal", "sample" or mapping
        The population the leaderboard should speak for (anything
        :meth:`Population.coerce <pluraleval.Population.coerce>` accepts). Attributes it does
        not mention get equal weights, as everywhere in pluraleval.
    prob : float
        Mass of the intervals, and the P(best) at which a winner change counts as credible.
    combine : {"sum", "max"}
        How per-attribute total variation distances make one distance. ``"sum"`` (default):
        the total share of weight moved, summed over attributes, so moving 10% of region and
        10% of age band costs 0.2 (the model is additive over attributes, so the moves add up
        too). ``"max"``: the largest move of any one attribute.
    step : float
        Weight (TV) moved onto each group for ``influence.p_best_change``.
    win_attribute : str, optional
        Attribute (2–3 levels) for the win regions; default the one whose groups move the
        winner's lead most (largest ``|margin_slope|`` in ``influence``).
    resolution : int
        Win-region grid: weights in steps of ``1 / resolution``.

    Returns
    -------
    Audit
        Tables ``weights``, ``distance``, ``leaderboards``, ``influence``, ``changes``,
        ``change_weights``, ``win_regions``, the headline facts, and a text ``summary``.

    Notes
    -----
    **Influence.** Moving ``δ`` of weight onto group ``g`` of attribute ``a``, taken from the
    other groups in proportion to their sample weights, is the path
    ``w(δ) = w0 + δ (e_g − w0) / (1 − w0[g])`` (TV from ``w0`` exactly ``δ``). Along it
    quality changes at rate ``(lambda_a[s, g] − Σ_h w0[h] lambda_a[s, h]) / (1 − w0[g])``.
    The winner's margin in a draw is its quality minus the best other system's;
    ``margin_slope`` is the derivative at ``δ = 0`` of the expected margin (the mean over
    draws of the slope against each draw's runner-up). Negative: weight on this group erodes
    the lead; moving weight off the group has the opposite slope. ``p_best_change`` is the
    finite change of the winner's P(best) after ``δ = min(step, 1 − w0[g])``.

    **Smallest reweighting.** For each challenger ``c``, a linear program over the weight
    simplices of the attributes with system × group effects (the others stay at the sample
    mix, where they cannot matter)::

        minimise   combine_a TV_a(w_a, w0_a)
        subject to E[quality[c](w)] >= E[quality[winner](w)],   w_a in the simplex

    using posterior means (linear in ``w``). The optimum is where the challenger's mean
    quality ties the winner's. Its P(best) there is reported; since a tie in means is the
    boundary of the change, ``tv_credible`` continues along the same direction to the edge of
    the simplex and reports where the challenger's P(best) first reaches ``prob`` (on a grid
    of :data:`RAY_POINTS` points). The uncertainty of the distance itself is
    ``tv_lower``/``tv_upper``: along the same direction each draw's margin is linear, so the
    challenger overtakes the winner at one distance per draw; its ``prob`` interval is
    reported (``P(challenger ahead at distance x along the direction)`` is the share of draws
    that crossed by ``x``). A **credible change** is one with a finite
    ``tv_credible``; with no system × group effects in the truth, one expects either no row
    or rows that need extreme weights and never reach ``prob``.

    Examples
    --------
    >>> import pluraleval as pe
    >>> from pluraleval.summaries.audit import audit
    >>> fit = pe.example_fit()
    >>> result = audit(fit, target={"region": {"A": 0.6, "B": 0.2, "C": 0.2}})
    >>> result.distance.columns.tolist()
    ['attribute', 'n_levels', 'tv', 'max_difference', 'system_by_group']
    >>> print(result.summary)  # doctest: +ELLIPSIS
    Value-skew audit: the sample's rater mix vs target 'custom' ...
    Distance (total variation): region 0.27; combined (sum) 0.27.
    ...
    """
    _require_systems(fit)
    if combine not in ("sum", "max"):
        raise ValueError(f"combine={combine!r}: use 'sum' or 'max'.")
    if not 0 < prob < 1:
        raise ValueError(f"prob={prob!r} must be in (0, 1).")
    if not 0 < step <= 1:
        raise ValueError(f"step={step!r} must be in (0, 1].")
    target = Population.coerce(target)
    sample = Population.sample()
    w0 = sample.weights(fit)
    wt = target.weights(fit)
    post = _Posterior.of(fit)
    notes = []
    if not fit.converged:
        notes.append("the fit failed its diagnostics gate; treat every number as provisional.")
    if not post.lambdas:
        notes.append("this fit has no system x group effects, so no reweighting can change "
                     "the ranking.")

    weights, distance, total = _distance(w0, wt, post, combine)

    boards = [leaderboard(fit, population=p, prob=prob).assign(population=name)
              for name, p in (("sample", sample), ("target", target))]
    boards = pd.concat(boards, ignore_index=True)
    boards = boards[["population", *[c for c in boards.columns if c != "population"]]]
    winner = str(boards.loc[boards["population"] == "sample", "system"].iloc[0])
    target_winner = str(boards.loc[boards["population"] == "target", "system"].iloc[0])
    q = population_draws(fit, [sample, target])["quality"]
    q = q.transpose(*SAMPLE_DIMS, GROUP, "system").values.reshape(-1, 2, len(post.systems))
    p_differs = float((q[:, 0].argmax(-1) != q[:, 1].argmax(-1)).mean())

    boards.attrs.update({"converged": bool(fit.converged), "prob": prob,
                         "populations": {"sample": sample.describe(fit),
                                         "target": target.describe(fit)}})

    w0_arrays = {a: w0[a].to_numpy(float) for a in post.lambdas}
    influence = _influence(post, w0, winner, prob=prob, step=step)
    influence.attrs.update({"winner": winner, "step": step, "prob": prob})
    changes, change_weights = _changes(post, w0_arrays, winner, combine=combine, prob=prob)
    changes.attrs.update({"winner": winner, "combine": combine, "prob": prob,
                          "attributes": list(post.lambdas)})
    if changes.empty:
        changes.attrs["note"] = (f"no reweighting of the modelled groups changes the top system: "
                                 f"{winner} leads in posterior mean under every mix.")

    if win_attribute is None:
        eligible = [a for a in post.lambdas if 2 <= len(post.levels[a]) <= 3]
        if eligible:
            slope = influence.assign(s=influence["margin_slope"].abs()).groupby(
                "attribute")["s"].max()
            win_attribute = max(eligible, key=lambda a: slope.get(a, 0.0))
    if win_attribute is None:
        regions = pd.DataFrame()
        notes.append("no modelled attribute with system x group effects has 2-3 levels, so "
                     "there are no win regions to draw.")
    else:
        regions = win_regions(fit, win_attribute, resolution=resolution)

    return Audit(weights=weights, distance=distance, leaderboards=boards, influence=influence,
                 changes=changes, change_weights=change_weights, win_regions=regions,
                 sample_winner=winner, target_winner=target_winner, p_top_differs=p_differs,
                 total_distance=total, combine=combine, prob=prob, target_name=target.name,
                 win_attribute=win_attribute, converged=bool(fit.converged),
                 notes=tuple(notes))


def win_regions(fit: Fit, attribute: str, *, resolution: int = 20,
                base: PopulationLike = "sample") -> pd.DataFrame:
    """Which system is most probably best at each mix of one attribute's groups.

    Parameters
    ----------
    fit : Fit
    attribute : str
        A modelled attribute with 2 or 3 levels.
    resolution : int
        Grid step ``1 / resolution`` on each weight (``resolution + 1`` points for 2 levels,
        ``(resolution + 1)(resolution + 2) / 2`` for 3).
    base : Population, "equal", "sample" or mapping
        Weights of the other attributes (default the sample mix).

    Returns
    -------
    pandas.DataFrame
        One row per grid point: one weight column per level of ``attribute`` (named by the
        level), ``best`` (the system with the highest P(best) there), ``p_best`` (its
        P(best)), ``top`` (the system with the highest posterior mean quality) and ``margin``
        (the top system's mean quality minus the runner-up's). ``attrs``: ``attribute``,
        ``resolution``, ``base`` (the other attributes' weights), ``p_best_by_system``
        (system → P(best) at every grid point, in row order).

    Examples
    --------
    >>> import pluraleval as pe
    >>> from pluraleval.summaries.audit import win_regions
    >>> fit = pe.example_fit()
    >>> win_regions(fit, "region", resolution=4).columns.tolist()
    ['A', 'B', 'C', 'best', 'p_best', 'top', 'margin']
    """
    _require_systems(fit)
    post = _Posterior.of(fit)
    attrs = modelled_attributes(fit)
    if attribute not in attrs:
        raise PopulationError(f"attribute {attribute!r} is not modelled by this fit; modelled "
                              f"attributes: {attrs}.")
    levels = post.levels[attribute]
    if not 2 <= len(levels) <= 3:
        raise PopulationError(f"win regions need an attribute with 2 or 3 levels; "
                              f"{attribute!r} has {len(levels)}: {levels}.")
    if int(resolution) != resolution or resolution < 1:
        raise ValueError(f"resolution={resolution!r} must be a positive integer.")
    reserved = {"best", "p_best", "top", "margin"} & {str(g) for g in levels}
    if reserved:
        raise PopulationError(f"level(s) {sorted(reserved)} of {attribute!r} clash with the "
                              "win-region columns; rename them.")
    resolution = int(resolution)
    grid = np.array([c for c in _compositions(resolution, len(levels))], float) / resolution
    base_w = {a: w.to_numpy(float) for a, w in Population.coerce(base).weights(fit).items()}
    fixed = {a: np.broadcast_to(base_w[a], (len(grid), len(base_w[a])))
             for a in post.lambdas if a != attribute}
    if attribute in post.lambdas:
        fixed[attribute] = grid
    q = post.quality(fixed, len(grid))  # draw, point, system
    p_best = _p_best(q)
    mean = q.mean(0)
    order = np.argsort(-mean, axis=-1, kind="stable")
    rows = np.arange(len(grid))
    table = pd.DataFrame(grid, columns=levels)
    table["best"] = post.systems[p_best.argmax(-1)]
    table["p_best"] = p_best.max(-1)
    table["top"] = post.systems[order[:, 0]]
    table["margin"] = mean[rows, order[:, 0]] - mean[rows, order[:, 1]] \
        if len(post.systems) > 1 else np.nan
    table.attrs.update({"attribute": attribute, "resolution": resolution,
                        "base": {a: w.tolist() for a, w in base_w.items() if a != attribute},
                        "converged": bool(fit.converged)})
    table.attrs["p_best_by_system"] = {str(s): p_best[:, i].tolist()
                                       for i, s in enumerate(post.systems)}
    return table


def _p_best(q: np.ndarray) -> np.ndarray:
    """P(best) per (point, system) from quality draws (draw, point, system)."""
    best = q.argmax(-1)
    return np.stack([(best == s).mean(0) for s in range(q.shape[-1])], -1)


def smallest_reweighting(mu: Sequence[float], lambdas: Mapping[str, np.ndarray],
                         base: Mapping[str, Sequence[float]], winner: int, challenger: int, *,
                         combine: Literal["sum", "max"] = "sum"
                         ) -> tuple[float, dict[str, np.ndarray]] | None:
    """The smallest reweighting (in TV) at which ``challenger``'s quality ties ``winner``'s.

    The linear program behind :func:`audit`'s ``changes``, on plain arrays, so it also runs on
    true parameters (e.g. a simulation's) or on a single draw.

    Parameters
    ----------
    mu : sequence of float
        Quality of each system under equal weights (``mu``).
    lambdas : mapping of str to ndarray
        Per attribute, system × group effects (systems × levels).
    base : mapping of str to sequence of float
        Starting weights per attribute (same keys as ``lambdas``; each sums to one).
    winner, challenger : int
        System positions.
    combine : {"sum", "max"}
        Combine per-attribute TVs by summing or by their maximum.

    Returns
    -------
    (float, dict of str to ndarray) or None
        The combined TV and the weights found, or ``None`` when no reweighting lets the
        challenger tie the winner.

    Examples
    --------
    >>> import numpy as np
    >>> from pluraleval.summaries.audit import smallest_reweighting
    >>> lam = {"region": np.array([[0.5, -0.5], [-0.5, 0.5]])}
    >>> tv, w = smallest_reweighting([0.2, -0.2], lam, {"region": [0.5, 0.5]}, 0, 1)
    >>> round(tv, 3), np.round(w["region"], 3).tolist()
    (0.2, [0.3, 0.7])
    """
    attrs = list(lambdas)
    mu = np.asarray(mu, float)
    if not attrs:
        return (0.0, {}) if mu[challenger] >= mu[winner] else None
    sizes = [np.asarray(lambdas[a]).shape[1] for a in attrs]
    n = sum(sizes)
    starts = np.cumsum([0, *sizes])
    extra = 1 if combine == "max" else 0
    n_var = 2 * n + extra  # weights, |w - w0|, (t)
    w0 = np.concatenate([np.asarray(base[a], float) for a in attrs])
    gap = np.concatenate([np.asarray(lambdas[a], float)[winner]
                          - np.asarray(lambdas[a], float)[challenger] for a in attrs])
    eye = np.eye(n)
    a_ub = [np.hstack([eye, -eye, np.zeros((n, extra))]),  # w - d <= w0
            np.hstack([-eye, -eye, np.zeros((n, extra))])]  # -w - d <= -w0
    b_ub = [w0, -w0]
    # winner's quality <= challenger's: gap . w <= mu[c] - mu[w]
    a_ub.append(np.concatenate([gap, np.zeros(n + extra)])[None])
    b_ub.append([mu[challenger] - mu[winner]])
    a_eq = np.zeros((len(attrs), n_var))
    for k in range(len(attrs)):
        a_eq[k, starts[k]:starts[k + 1]] = 1
    cost = np.zeros(n_var)
    if combine == "max":
        rows = np.zeros((len(attrs), n_var))
        for k in range(len(attrs)):
            rows[k, n + starts[k]:n + starts[k + 1]] = 0.5
        rows[:, -1] = -1
        a_ub.append(rows)
        b_ub.append(np.zeros(len(attrs)))
        cost[-1] = 1
    else:
        cost[n:2 * n] = 0.5
    res = linprog(cost, A_ub=np.vstack(a_ub), b_ub=np.concatenate(b_ub), A_eq=a_eq,
                  b_eq=np.ones(len(attrs)), bounds=[(0, 1)] * n + [(0, None)] * (n + extra),
                  method="highs")
    if res.status == 2:  # infeasible: no mix lets the challenger catch up
        return None
    if not res.success:
        raise RuntimeError(f"the reweighting linear program failed: {res.message}")
    w = np.clip(res.x[:n], 0, None)
    weights = {}
    for k, a in enumerate(attrs):
        part = w[starts[k]:starts[k + 1]]
        weights[a] = part / part.sum()
    tvs = [_tv(weights[a], np.asarray(base[a], float)) for a in attrs]
    return float(sum(tvs) if combine == "sum" else max(tvs)), weights


# ---------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class _Posterior:
    """Flattened draws: ``mu`` (draw, system) and ``lambda_a`` (draw, system, level)."""

    systems: np.ndarray
    mu: np.ndarray
    lambdas: dict[str, np.ndarray]
    levels: dict[str, list[Hashable]]

    @classmethod
    def of(cls, fit: Fit) -> _Posterior:
        post = fit.posterior
        mu = post["mu"].transpose(*SAMPLE_DIMS, "system")
        systems = np.asarray(mu["system"].values)
        lambdas = {}
        for a in modelled_attributes(fit):
            if f"lambda_{a}" in post:
                lam = post[f"lambda_{a}"].transpose(*SAMPLE_DIMS, "system", a)
                lambdas[a] = lam.values.reshape(-1, len(systems), lam.sizes[a])
        levels = {a: list(fit.judgments.coords[a]) for a in modelled_attributes(fit)}
        return cls(systems, mu.values.reshape(-1, len(systems)), lambdas, levels)

    def quality(self, weights: Mapping[str, np.ndarray], n_points: int | None = None
                ) -> np.ndarray:
        """Quality per (draw, point, system) for weights ``(point, level)`` per attribute
        (attributes with effects not given weigh as equal weights: zero shift)."""
        if n_points is None:
            n_points = next(iter(weights.values())).shape[0] if weights else 1
        q = np.repeat(self.mu[:, None, :], n_points, axis=1)
        for a, w in weights.items():
            if a in self.lambdas:
                q = q + np.einsum("dsg,pg->dps", self.lambdas[a], np.asarray(w, float))
        return q


def _tv(a: np.ndarray, b: np.ndarray) -> float:
    return float(0.5 * np.abs(np.asarray(a, float) - np.asarray(b, float)).sum())


def _distance(w0: Mapping[str, pd.Series], wt: Mapping[str, pd.Series], post: _Posterior,
              combine: str) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    rows, dist = [], []
    for a in w0:
        s, t = w0[a].to_numpy(float), wt[a].to_numpy(float)
        for g, sv, tv in zip(w0[a].index, s, t, strict=True):
            rows.append({"attribute": a, "level": g, "sample": sv, "target": tv,
                         "difference": tv - sv})
        dist.append({"attribute": a, "n_levels": len(s), "tv": _tv(s, t),
                     "max_difference": float(np.abs(t - s).max()),
                     "system_by_group": a in post.lambdas})
    weights = pd.DataFrame(rows, columns=["attribute", "level", "sample", "target",
                                          "difference"])
    distance = pd.DataFrame(dist, columns=["attribute", "n_levels", "tv", "max_difference",
                                           "system_by_group"])
    tvs = distance["tv"].to_numpy()
    total = float(tvs.sum() if combine == "sum" else tvs.max()) if len(tvs) else 0.0
    return weights, distance, total


def _influence(post: _Posterior, w0: Mapping[str, pd.Series], winner: str, *, prob: float,
               step: float) -> pd.DataFrame:
    columns = ["attribute", "level", "sample", "margin_slope", "margin_slope_lower",
               "margin_slope_upper", "moved", "p_best_change"]
    w_idx = int(np.flatnonzero(post.systems == winner)[0])
    base = {a: w0[a].to_numpy(float)[None] for a in post.lambdas}
    q0 = post.quality(base)[:, 0]  # draw, system
    n_draws, n_sys = q0.shape
    others = q0.copy()
    others[:, w_idx] = -np.inf
    runner = others.argmax(-1) if n_sys > 1 else np.full(n_draws, w_idx)
    p_best0 = (q0.argmax(-1) == w_idx).mean()
    rows = []
    for a in w0:
        levels = list(w0[a].index)
        for k, g in enumerate(levels):
            wg = float(w0[a].iloc[k])
            row = {"attribute": a, "level": g, "sample": wg}
            if a not in post.lambdas or wg >= 1 - 1e-12 or n_sys < 2:
                row.update(margin_slope=0.0, margin_slope_lower=0.0, margin_slope_upper=0.0,
                           moved=0.0 if wg >= 1 - 1e-12 else min(step, 1 - wg),
                           p_best_change=0.0)
                rows.append(row)
                continue
            lam = post.lambdas[a]  # draw, system, level
            rate = (lam[:, :, k] - lam @ w0[a].to_numpy(float)) / (1 - wg)  # draw, system
            slope = rate[:, w_idx] - rate[np.arange(n_draws), runner]
            lo, hi = np.quantile(slope, [(1 - prob) / 2, 1 - (1 - prob) / 2])
            moved = min(step, 1 - wg)
            q1 = q0 + moved * rate
            row.update(margin_slope=float(slope.mean()), margin_slope_lower=float(lo),
                       margin_slope_upper=float(hi), moved=moved,
                       p_best_change=float((q1.argmax(-1) == w_idx).mean() - p_best0))
            rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values("margin_slope", ignore_index=True, kind="stable")


def _changes(post: _Posterior, w0: Mapping[str, np.ndarray], winner: str, *, combine: str,
             prob: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    attrs = list(post.lambdas)
    columns = ["challenger", "tv", "tv_lower", "tv_upper", *(f"tv_{a}" for a in attrs),
               "p_best", "p_best_winner", "p_beats", "top_there", "tv_credible", "tv_edge",
               "p_best_edge"]
    weight_columns = ["challenger", "attribute", "level", "sample", "weight", "difference"]
    w_idx = int(np.flatnonzero(post.systems == winner)[0])
    mu_bar = post.mu.mean(0)
    lam_bar = {a: lam.mean(0) for a, lam in post.lambdas.items()}
    rows, weight_rows = [], []
    for c_idx, challenger in enumerate(post.systems):
        if c_idx == w_idx or not attrs:
            continue
        found = smallest_reweighting(mu_bar, lam_bar, w0, w_idx, c_idx, combine=combine)
        if found is None:
            continue
        tv, w = found
        # the ray from the sample mix through the tie point, to the edge of the simplex
        delta = {a: w[a] - w0[a] for a in attrs}
        t_edge = min((float(np.min(w0[a][delta[a] < 0] / -delta[a][delta[a] < 0]))
                      for a in attrs if (delta[a] < -1e-12).any()), default=1.0)
        t_edge = max(t_edge, 1.0)
        ts = np.concatenate([[1.0], np.linspace(1.0, t_edge, RAY_POINTS + 1)[1:]])
        path = {a: np.clip(w0[a][None] + ts[:, None] * delta[a][None], 0, None) for a in attrs}
        q = post.quality(path)  # draw, point, system
        best = q.argmax(-1)
        p_c = (best == c_idx).mean(0)
        reach = np.flatnonzero(p_c >= prob)
        # per draw, where the challenger's quality crosses the winner's along the ray
        # (0: already ahead at the sample mix; inf: never, however far the ray went on)
        gap0 = post.quality({a: w0[a][None] for a in attrs})[:, 0]
        lead0 = gap0[:, w_idx] - gap0[:, c_idx]
        lead1 = q[:, 0, w_idx] - q[:, 0, c_idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = np.where(lead0 <= 0, 0.0,
                             np.where(lead1 < lead0, lead0 / (lead0 - lead1), np.inf))
        cross[cross > t_edge * (1 + 1e-9)] = np.inf  # beyond the edge of the simplex
        tv_draw = np.where(np.isinf(cross), np.inf, cross * tv)
        tv_lo = np.quantile(tv_draw, (1 - prob) / 2, method="lower")
        tv_hi = np.quantile(tv_draw, 1 - (1 - prob) / 2, method="higher")
        mean = q[:, 0].mean(0)
        mean[w_idx] -= TIE_TOLERANCE  # at the tie, the challenger counts as ahead
        rows.append({
            "challenger": challenger, "tv": tv, "tv_lower": float(tv_lo),
            "tv_upper": float(tv_hi),
            **{f"tv_{a}": _tv(w[a], w0[a]) for a in attrs},
            "p_best": float(p_c[0]), "p_best_winner": float((best[:, 0] == w_idx).mean()),
            "p_beats": float((q[:, 0, c_idx] > q[:, 0, w_idx]).mean()),
            "top_there": post.systems[int(mean.argmax())],
            "tv_credible": float(ts[reach[0]] * tv) if reach.size else np.nan,
            "tv_edge": float(t_edge * tv), "p_best_edge": float(p_c[-1])})
        for a in attrs:
            for g, s, x in zip(post.levels[a], w0[a], w[a], strict=True):
                weight_rows.append({"challenger": challenger, "attribute": a, "level": g,
                                    "sample": float(s), "weight": float(x),
                                    "difference": float(x - s)})
    changes = pd.DataFrame(rows, columns=columns).sort_values("tv", ignore_index=True,
                                                              kind="stable")
    order = {c: i for i, c in enumerate(changes["challenger"])}
    change_weights = pd.DataFrame(weight_rows, columns=weight_columns)
    change_weights = change_weights.sort_values(
        "challenger", key=lambda s: s.map(order), kind="stable", ignore_index=True)
    return changes, change_weights


def _compositions(total: int, parts: int):
    """Every tuple of ``parts`` non-negative integers summing to ``total``."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)
