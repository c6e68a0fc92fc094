"""Report of a Fit: one self-contained HTML page, a Markdown twin and every table as CSV.

:func:`report` computes the summaries (pure functions of the fit), renders the figures of
:mod:`pluraleval.plots` through one table of :class:`FigureSpec` entries (:data:`FIGURES`),
and writes into a directory::

    index.html         self-contained: CSS inline, figures as base64 PNG, no script, no network
    report.md          the same sections; figures are the PNG files next to it
    figure_*.png       one per figure
    *.csv              every table in full (the pages show the first rows of long ones)

Each figure is produced by calling its entry of :data:`FIGURES`; when ``pluraleval.plots`` is
not importable, or one figure fails, the report still renders and says so where the figure
would be.
"""

from __future__ import annotations

import base64
import html
import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ModelSpecError, PopulationError
from .fit import THRESHOLDS, Fit
from .predictive import ppc
from .progress import say as progress_line
from .summaries import Population, audit, disagreement, leaderboard, rank_reversals
from .summaries.population import modelled_attributes

__all__ = ["report", "SECTIONS", "FIGURES", "FigureSpec"]

#: (id, heading, how to read it): one sentence per section, in page order.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("data-summary", "Data summary",
     "What was fitted: the counts of judgments, outputs, personas and groups, whether every "
     "persona rated every output (fully crossed) and whether the design links all systems "
     "(connected), then the model's terms and the sampler run."),
    ("diagnostics", "Diagnostics",
     "Every parameter should reach R-hat ≤ {r_hat}, bulk and tail ESS ≥ {ess} with no "
     "divergent transitions; a red banner means the fit failed these checks and every number "
     "below is provisional."),
    ("leaderboard", "Leaderboard",
     "Systems ranked by posterior mean latent quality with {prob:.0%} highest-density "
     "intervals, the expected rating on the rating scale, P(best) and the {prob:.0%} rank "
     "interval, first with every persona group weighing the same (pooled) and then weighted "
     "by the sample's own mix of personas, which is what a point-score average encodes."),
    ("stratified", "Stratified leaderboards and reversals",
     "One leaderboard per group of each persona attribute (quality as that group's personas "
     "see it) and the pairs of systems whose order flips between two groups, with the "
     "posterior probability that the flip is real (both orders hold in the same draw)."),
    ("audit", "Audit against the target population",
     "How far the sample's mix of personas sits from the target population (total variation "
     "distance), the leaderboard under each, which groups erode the winner's lead, and the "
     "smallest reweighting of groups that would change the top system."),
    ("disagreement", "Disagreement",
     "Where the spread of the judgments comes from (each component's share of the latent "
     "variance with {prob:.0%} intervals), the outputs on which personas of one group "
     "disagree most (contested) and the outputs that groups see most differently "
     "(polarised)."),
    ("ppc", "Posterior predictive check",
     "The observed share of each rating level against the share in data replicated from the "
     "fitted model with a {prob:.0%} predictive interval: observed shares outside their "
     "intervals show where the model misfits."),
)
SECTION_IDS = tuple(s[0] for s in SECTIONS)
#: Rows of a table shown on the page (the CSV has all of them).
MAX_ROWS = 40
_PNG_DPI = 150


# ---------------------------------------------------------------------- figure table
@dataclass(frozen=True)
class FigureSpec:
    """One figure of the report: where it goes and how :mod:`pluraleval.plots` makes it.

    ``make(plots, ctx, attribute)`` returns a matplotlib Figure; ``per_attribute`` repeats
    the entry for every attribute of ``ctx.by`` (``attribute`` is ``None`` otherwise);
    ``when(ctx)`` says whether the figure applies to this fit.
    """

    section: str
    name: str
    caption: str
    make: Callable[[Any, _Context, str | None], Any]
    per_attribute: bool = False
    when: Callable[[_Context], bool] = lambda ctx: True


def _systems(ctx: _Context) -> bool:
    return ctx.has_systems


#: Every figure of the report, in page order within each section.
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("leaderboard", "leaderboard_forest",
               "Posterior quality per system (pooled, equal weights) with {prob:.0%} intervals "
               "and P(best); overlapping intervals mean the order is uncertain.",
               lambda p, c, a: p.leaderboard_forest(c.fit, prob=c.prob), when=_systems),
    FigureSpec("leaderboard", "leaderboard_forest_sample",
               "The same under the sample's own mix of personas.",
               lambda p, c, a: p.leaderboard_forest(c.fit, population="sample", prob=c.prob),
               when=_systems),
    FigureSpec("leaderboard", "rank_heatmap",
               "Posterior probability of each rank per system: a single dark cell per row is "
               "a settled rank, a smear across columns an open one.",
               lambda p, c, a: p.rank_heatmap(c.fit), when=_systems),
    FigureSpec("stratified", "group_quality_{attribute}",
               "Quality of each system as each {attribute} group sees it; marked cells are "
               "orders that reverse between groups.",
               lambda p, c, a: p.group_quality_heatmap(c.fit, by=a), per_attribute=True,
               when=_systems),
    FigureSpec("stratified", "group_bias",
               "Group severity per attribute with intervals: a group to the right rates every "
               "output lower, whatever its quality.",
               lambda p, c, a: p.group_bias_forest(c.fit),
               when=lambda c: any(f"b_{a}" in c.fit.posterior for a in c.attributes)),
    FigureSpec("audit", "leaderboard_forest_target",
               "The leaderboard under the target population.",
               lambda p, c, a: p.leaderboard_forest(c.fit, population=c.target, prob=c.prob),
               when=lambda c: c.audit is not None),
    FigureSpec("audit", "win_regions",
               "Which system is most probably best for each mix of {win} groups (other "
               "attributes at the sample mix).",
               lambda p, c, a: p.win_region_plot(c.fit, attribute=c.audit.win_attribute),
               when=lambda c: c.audit is not None and c.audit.win_attribute is not None),
    FigureSpec("disagreement", "variance_shares",
               "Share of the latent variance per component with intervals; the residual is "
               "the disagreement no term of the model explains.",
               lambda p, c, a: p.variance_bars(c.disagreement)),
    FigureSpec("disagreement", "contested_outputs",
               "Outputs with the largest disagreement among personas of the same group.",
               lambda p, c, a: p.outputs_plot(c.disagreement, kind="contested")),
    FigureSpec("disagreement", "polarised_outputs",
               "Outputs with the largest gap between how groups see their quality.",
               lambda p, c, a: p.outputs_plot(c.disagreement, kind="polarised"),
               when=lambda c: not c.disagreement.polarised.empty),
    FigureSpec("disagreement", "personas",
               "Each persona's severity (and discrimination, when modelled): outliers are "
               "raters that judge unlike their group.",
               lambda p, c, a: p.persona_plot(c.fit)),
    FigureSpec("ppc", "ppc",
               "Observed rating shares (points) against replicated shares and intervals, all "
               "judgments.",
               lambda p, c, a: p.ppc_plot(c.fit)),
    FigureSpec("ppc", "ppc_{attribute}",
               "The same per {attribute} group.",
               lambda p, c, a: p.ppc_plot(c.fit, by=a), per_attribute=True),
)


# ---------------------------------------------------------------------- page model
@dataclass
class _Context:
    fit: Fit
    prob: float
    attributes: list[str]
    by: list[str]
    target: Population | None
    has_systems: bool
    audit: Any = None
    disagreement: Any = None


@dataclass
class _Section:
    id: str
    title: str
    how: str
    blocks: list[tuple] = field(default_factory=list)

    def text(self, value: str) -> None:
        self.blocks.append(("text", value))

    def note(self, value: str) -> None:
        self.blocks.append(("note", value))

    def table(self, caption: str, frame: pd.DataFrame, csv: str | None = None,
              max_rows: int = MAX_ROWS) -> None:
        self.blocks.append(("table", caption, frame, csv, max_rows))


# ---------------------------------------------------------------------- entry point
def report(fit: Fit, out_dir: str | Path, *, target=None,
           by: str | Sequence[str] | None = None, prob: float = 0.9,
           progress: bool = True) -> Path:
    """Write the report of a fit: ``index.html``, ``report.md``, figures and CSV tables.

    Parameters
    ----------
    fit : Fit
    out_dir : str or Path
        Directory to write into (created if needed; files of the same names are replaced).
    target : Population, "equal", "sample", mapping, path, optional
        Target population of the audit (a path is a CSV/Parquet joint table of attribute
        columns and a ``share`` column, such as a census). ``None`` omits the audit section.
    by : str or sequence of str, optional
        Attributes to stratify by, each on its own; default every modelled attribute.
    prob : float
        Interval mass throughout.
    progress : bool
        Print one line per step to stderr.

    Returns
    -------
    Path
        The ``index.html`` written.

    Raises
    ------
    PopulationError
        An invalid target or a ``by`` the fit does not model.

    Examples
    --------
    >>> import tempfile, pluraleval as pe
    >>> index = pe.report(pe.example_fit(), tempfile.mkdtemp(), progress=False)
    >>> index.name, "Leaderboard" in index.read_text()
    ('index.html', True)
    """
    if not 0 < prob < 1:
        raise ModelSpecError(f"prob={prob} must lie strictly between 0 and 1.")
    out = Path(out_dir)
    attributes = modelled_attributes(fit)
    by_list = attributes if by is None else ([by] if isinstance(by, str) else list(by))
    for a in by_list:
        if a not in attributes:
            raise PopulationError(f"by={a!r} is not an attribute this fit models; modelled "
                                  f"attributes: {attributes}.")
    ctx = _Context(fit=fit, prob=prob, attributes=attributes, by=by_list,
                   target=_coerce_target(target), has_systems="mu" in fit.posterior)
    if ctx.target is not None:
        ctx.target.weights(fit)  # fail now, before writing anything
    out.mkdir(parents=True, exist_ok=True)

    steps = [("data summary", _data_summary), ("diagnostics", _diagnostics),
             ("leaderboards", _leaderboards), ("stratified leaderboards", _stratified),
             ("audit", _audit), ("disagreement", _disagreement),
             ("posterior predictive check", _ppc)]

    def say(message: str) -> None:
        progress_line(f"report: {message}", progress)

    plots, plots_error = _import_plots()
    if plots is None:
        say(f"figures skipped, pluraleval.plots is not importable ({plots_error})")
    sections: list[_Section] = []
    tables: dict[str, pd.DataFrame] = {}
    omitted: list[str] = []
    with _agg_backend():
        for i, (label, step) in enumerate(steps, start=1):
            say(f"{label} ({i}/{len(steps)})")
            section = step(ctx, tables)
            if section is None:
                omitted.append(label)
                continue
            _figures(section, ctx, plots, plots_error, out, say)
            sections.append(section)
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    head = _header(fit, ctx, omitted)
    (out / "report.md").write_text(_markdown(head, sections), encoding="utf-8")
    index = out / "index.html"
    index.write_text(_html(head, sections), encoding="utf-8")
    say(f"wrote {index}")
    return index


def _coerce_target(target) -> Population | None:
    if target is None:
        return None
    if isinstance(target, Path) or (isinstance(target, str)
                                    and target not in ("equal", "sample")):
        return Population.read(target)
    return Population.coerce(target)


def _import_plots():
    try:
        return importlib.import_module("pluraleval.plots"), None
    except ImportError as err:
        return None, f"{type(err).__name__}: {err}"


@contextmanager
def _agg_backend():
    """Render with Agg; restore the caller's pyplot backend afterwards."""
    import matplotlib
    import matplotlib.pyplot as plt
    previous = matplotlib.get_backend(auto_select=False)
    plt.switch_backend("agg")
    try:
        yield
    finally:
        if previous is not None and previous.lower() != "agg":
            try:
                plt.switch_backend(previous)
            except ImportError:  # the caller's GUI framework is gone; stay on Agg
                pass


# ---------------------------------------------------------------------- sections
def _section(section_id: str, ctx: _Context) -> _Section:
    _, title, how = next(s for s in SECTIONS if s[0] == section_id)
    how = how.format(prob=ctx.prob, r_hat=THRESHOLDS["r_hat"], ess=THRESHOLDS["ess_bulk"])
    return _Section(section_id, title, how)


def _data_summary(ctx: _Context, tables: dict) -> _Section:
    fit = ctx.fit
    s = _section("data-summary", ctx)
    summary = fit.judgments.summary()
    summary["value"] = summary["value"].astype(str)
    tables["data_summary"] = summary
    s.table("The judgments", summary, "data_summary.csv")
    post = fit.posterior
    spec = fit.spec.to_dict()
    rows = [(k, _describe(v)) for k, v in spec.items() if k != "priors"]
    if spec.get("priors"):
        rows.append(("priors", _describe(spec["priors"])))
    rows += [("modelled attributes", ", ".join(ctx.attributes) or "none"),
             ("posterior draws", f"{post.sizes['chain']} chains x {post.sizes['draw']} draws")]
    attrs = fit.tree.attrs
    if "wall_time_s" in attrs:
        rows.append(("sampling wall time", f"{float(attrs['wall_time_s']):.0f} s"))
    for key, label in (("pluraleval_version", "pluraleval version"),
                       ("pluraleval_created", "fitted")):
        if key in attrs:
            rows.append((label, str(attrs[key])))
    s.table("The model and the run (None: the model's default)",
            pd.DataFrame(rows, columns=["setting", "value"]))
    return s


def _describe(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    return str(value)


def _diagnostics(ctx: _Context, tables: dict) -> _Section:
    fit = ctx.fit
    s = _section("diagnostics", ctx)
    table = fit.diagnostics()
    if not fit.converged:
        s.blocks.append(("banner", "This fit FAILED its convergence checks: treat every "
                         "number in this report as provisional. Run more draws and tuning, "
                         "raise target_accept or simplify the model.",
                         fit.check(warn=False)))
    else:
        s.text(f"The fit passed every check ({len(table)} parameters, "
               f"{fit.divergences} divergent transitions).")
    table = table.sort_values(["ok", "r_hat_max"], ascending=[True, False],
                              ignore_index=True, kind="stable")
    tables["diagnostics"] = table
    s.text(f"Divergent transitions after tuning: {fit.divergences}.")
    s.table("Per parameter, the worst element (failing first)", table, "diagnostics.csv")
    return s


def _no_systems(s: _Section) -> _Section:
    s.note("These judgments have no system column, so there is no leaderboard to rank.")
    return s


def _board_note(s: _Section, board: pd.DataFrame) -> None:
    if board.attrs.get("note"):
        s.note(f"Note: {board.attrs['note']}")


def _leaderboards(ctx: _Context, tables: dict) -> _Section:
    s = _section("leaderboard", ctx)
    if not ctx.has_systems:
        return _no_systems(s)
    pooled = leaderboard(ctx.fit, prob=ctx.prob)
    sample = leaderboard(ctx.fit, population="sample", prob=ctx.prob)
    tables["leaderboard"] = pd.concat(
        [pooled.assign(population="equal"), sample.assign(population="sample")],
        ignore_index=True).pipe(lambda t: t[["population", *pooled.columns]])
    top_p, top_s = pooled["system"].iloc[0], sample["system"].iloc[0]
    s.text(f"Top system: {top_p} pooled (P(best) {pooled['p_best'].iloc[0]:.2f}), {top_s} "
           f"under the sample mix (P(best) {sample['p_best'].iloc[0]:.2f}).")
    s.table("Pooled: every group weighs the same", pooled, "leaderboard.csv")
    s.table("Under the sample's own mix of personas", sample, "leaderboard.csv")
    _board_note(s, sample)
    return s


def _stratified(ctx: _Context, tables: dict) -> _Section:
    s = _section("stratified", ctx)
    if not ctx.has_systems:
        return _no_systems(s)
    if not ctx.by:
        s.note("This fit models no persona attribute, so there are no groups to compare.")
        return s
    reversals = []
    for a in ctx.by:
        board = leaderboard(ctx.fit, by=a, prob=ctx.prob)
        name = f"leaderboard_by_{_safe(a)}"
        tables[name] = board
        s.table(f"By {a}", board, f"{name}.csv")
        _board_note(s, board)
        rev = rank_reversals(ctx.fit, by=a)
        reversals.append(rev.rename(columns={a: "group", f"other_{a}": "other_group"})
                         .assign(attribute=a))
    columns = ["attribute", "group", "other_group", "system", "other", "lead", "other_lead",
               "p_reversal"]
    rev = pd.concat(reversals, ignore_index=True)[columns].sort_values(
        "p_reversal", ascending=False, ignore_index=True, kind="stable")
    tables["reversals"] = rev
    if rev.empty:
        s.text("No pair of systems changes order between groups (posterior means).")
    else:
        likely = int((rev["p_reversal"] >= 0.5).sum())
        s.text(f"{len(rev)} pair(s) of systems change order between groups by posterior "
               f"mean; {likely} with probability at least 0.5.")
        s.table("Rank reversals (system leads in group, other leads in other_group)", rev,
                "reversals.csv", max_rows=20)
    return s


def _audit(ctx: _Context, tables: dict) -> _Section | None:
    if ctx.target is None:
        return None
    s = _section("audit", ctx)
    if not ctx.has_systems:
        return _no_systems(s)
    result = audit(ctx.fit, target=ctx.target, prob=ctx.prob)
    ctx.audit = result
    s.blocks.append(("lines", result.summary.splitlines()))
    captions = {"weights": "Weights per group: the sample's mix and the target",
                "distance": "Distance of the target from the sample mix, per attribute",
                "leaderboards": "Leaderboards under the sample mix and under the target",
                "influence": "Influence: how moving weight onto a group changes the "
                             "winner's margin (most eroding first)",
                "changes": "Smallest reweighting that makes each challenger tie the winner",
                "change_weights": "The weights of those reweightings",
                "win_regions": "Win regions over the weight grid"}
    for name, frame in result.tables.items():
        tables[f"audit_{name}"] = frame
        if name in ("change_weights", "win_regions"):
            s.text(f"{captions[name]}: audit_{name}.csv ({len(frame)} rows).")
        elif frame.empty:
            s.text(f"{captions[name]}: none.")
        else:
            s.table(captions[name], frame, f"audit_{name}.csv", max_rows=20)
    return s


def _disagreement(ctx: _Context, tables: dict) -> _Section:
    s = _section("disagreement", ctx)
    result = disagreement(ctx.fit, prob=ctx.prob)
    ctx.disagreement = result
    for name, caption in (("variance", "Variance shares (latent scale, judgments weighted)"),
                          ("contested", "Most contested outputs (within-group spread)"),
                          ("polarised", "Most polarised outputs (between-group gap)")):
        frame = getattr(result, name)
        tables[name] = frame
        if frame.empty:
            s.text(f"{caption}: none (the fit has no group-specific quality effects).")
        else:
            s.table(caption, frame, f"{name}.csv", max_rows=20)
    return s


def _ppc(ctx: _Context, tables: dict) -> _Section:
    s = _section("ppc", ctx)
    parts = [ppc(ctx.fit, prob=ctx.prob).assign(attribute="all", group="all")]
    for a in ctx.by:
        parts.append(ppc(ctx.fit, by=a, prob=ctx.prob).rename(columns={a: "group"})
                     .assign(attribute=a))
    table = pd.concat(parts, ignore_index=True)
    table = table[["attribute", "group", *[c for c in table.columns
                                           if c not in ("attribute", "group")]]]
    tables["ppc"] = table
    inside = int(table["inside"].sum())
    s.text(f"{inside} of {len(table)} observed shares lie inside their {ctx.prob:.0%} "
           f"predictive intervals ({inside / len(table):.0%}).")
    s.table("All judgments", table[table["attribute"] == "all"], "ppc.csv")
    outside = table[~table["inside"]]
    if not outside.empty:
        s.table("Observed shares outside their intervals", outside, "ppc.csv", max_rows=20)
    return s


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", str(name))


# ---------------------------------------------------------------------- figures
def _figures(section: _Section, ctx: _Context, plots, plots_error: str | None, out: Path,
             say: Callable[[str], None]) -> None:
    """Append the section's figures from :data:`FIGURES` (or notes saying why not)."""
    import matplotlib.pyplot as plt
    specs = [f for f in FIGURES if f.section == section.id and f.when(ctx)]
    if not specs:
        return
    if plots is None:
        names = ", ".join(f.name.format(attribute="<attribute>") for f in specs)
        section.note(f"Figures skipped ({names}): pluraleval.plots is not importable "
                     f"({plots_error}).")
        return
    win = ctx.audit.win_attribute if ctx.audit is not None else None
    for spec in specs:
        for a in (ctx.by if spec.per_attribute else [None]):
            name = spec.name.format(attribute=_safe(a) if a else "")
            caption = spec.caption.format(prob=ctx.prob, attribute=a, win=win)
            try:
                fig = spec.make(plots, ctx, a)
                try:
                    path = _save_png(plots, fig, out / f"figure_{name}.png")
                finally:
                    plt.close(fig)
            except Exception as err:  # a figure never stops the report; it says why
                message = f"{type(err).__name__}: {err}".splitlines()[0]
                say(f"figure {name} skipped ({message})")
                section.note(f"Figure {name} skipped: {message}")
                continue
            section.blocks.append(("figure", name, caption, path))


def _save_png(plots, fig, path: Path) -> Path:
    """PNG through the paper style's ``plots.style.save`` when there is one."""
    save = getattr(getattr(plots, "style", None), "save", None)
    if save is None:
        fig.savefig(path, dpi=_PNG_DPI, bbox_inches="tight")
        return path
    return Path(save(fig, path, formats=("png",), dpi=_PNG_DPI)[0])


# ---------------------------------------------------------------------- rendering
def _header(fit: Fit, ctx: _Context, omitted: list[str]) -> dict:
    target = "none" if ctx.target is None else ctx.target.name
    return {"title": "pluraleval report", "fit": repr(fit), "converged": fit.converged,
            "target": target, "omitted": omitted,
            "written": datetime.now(UTC).isoformat(timespec="seconds")}


def _cell(value) -> str:
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        if np.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3f}"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return str(value)


def _shown(frame: pd.DataFrame, max_rows: int) -> tuple[pd.DataFrame, str | None]:
    if len(frame) <= max_rows:
        return frame, None
    return frame.head(max_rows), f"first {max_rows} of {len(frame)} rows"


def _omitted_sentence(head: dict) -> str | None:
    if "audit" not in head["omitted"]:
        return None
    return ("The audit against a target population is omitted: no target was given (pass "
            "target= to report(), or --target CSV|equal on the command line).")


def _html(head: dict, sections: list[_Section]) -> str:
    e = html.escape
    body = [f"<header><h1>{e(head['title'])}</h1>",
            f"<p class=\"meta\">{e(head['fit'])} · target population: {e(head['target'])} "
            f"· written {e(head['written'])}</p>"]
    if not head["converged"]:
        body.append("<p class=\"status fail\">Fit failed its convergence checks: see "
                    "<a href=\"#diagnostics\">Diagnostics</a>.</p>")
    body.append("<nav><ol>" + "".join(f"<li><a href=\"#{s.id}\">{e(s.title)}</a></li>"
                                      for s in sections) + "</ol></nav>")
    if (sentence := _omitted_sentence(head)) is not None:
        body.append(f"<p class=\"omitted\">{e(sentence)}</p>")
    body.append("</header><main>")
    for s in sections:
        body.append(f"<section id=\"{s.id}\"><h2>{e(s.title)}</h2>")
        body.append(f"<p class=\"how\">{e(s.how)}</p>")
        for block in s.blocks:
            kind = block[0]
            if kind == "text":
                body.append(f"<p>{e(block[1])}</p>")
            elif kind == "note":
                body.append(f"<p class=\"note\">{e(block[1])}</p>")
            elif kind == "lines":
                body.append("<ul class=\"lines\">" + "".join(f"<li>{e(x)}</li>"
                                                            for x in block[1]) + "</ul>")
            elif kind == "banner":
                problems = block[2]
                shown = "".join(f"<li>{e(p)}</li>" for p in problems[:25])
                more = (f"<li>… and {len(problems) - 25} more (diagnostics.csv)</li>"
                        if len(problems) > 25 else "")
                body.append(f"<div class=\"banner\" role=\"alert\"><strong>{e(block[1])}"
                            f"</strong><ul>{shown}{more}</ul></div>")
            elif kind == "table":
                _, caption, frame, csv, max_rows = block
                shown, cut = _shown(frame, max_rows)
                extra = [cut] if cut else []
                if csv:
                    extra.append(f"in full: {csv}")
                cap = e(caption) + (f" <span class=\"csv\">({e('; '.join(extra))})</span>"
                                    if extra else "")
                align = ["" if pd.api.types.is_numeric_dtype(t)
                         and not pd.api.types.is_bool_dtype(t) else " class=\"l\""
                         for t in shown.dtypes]
                head_row = "".join(f"<th{a}>{e(str(c))}</th>"
                                   for a, c in zip(align, shown.columns, strict=True))
                rows = "".join("<tr>" + "".join(f"<td{a}>{e(_cell(v))}</td>"
                                                for a, v in zip(align, row, strict=True))
                               + "</tr>" for row in shown.itertuples(index=False))
                body.append(f"<div class=\"table\"><table><caption>{cap}</caption><thead>"
                            f"<tr>{head_row}</tr></thead><tbody>{rows}</tbody></table></div>")
            elif kind == "figure":
                _, name, caption, path = block
                data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
                body.append(f"<figure id=\"figure-{e(name)}\"><img alt=\"{e(caption)}\" "
                            f"src=\"data:image/png;base64,{data}\"><figcaption>{e(caption)}"
                            "</figcaption></figure>")
        body.append("</section>")
    body.append("</main>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(head['title'])}</title><style>{_CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(head: dict, sections: list[_Section]) -> str:
    lines = [f"# {head['title']}", "",
             f"{head['fit']} · target population: {head['target']} · written "
             f"{head['written']}", ""]
    if not head["converged"]:
        lines += ["> **Fit failed its convergence checks: see Diagnostics.**", ""]
    if (sentence := _omitted_sentence(head)) is not None:
        lines += [sentence, ""]
    for s in sections:
        lines += [f"## {s.title}", "", f"*{s.how}*", ""]
        for block in s.blocks:
            kind = block[0]
            if kind == "text":
                lines += [block[1], ""]
            elif kind == "note":
                lines += [f"> {block[1]}", ""]
            elif kind == "lines":
                lines += [f"- {x}" for x in block[1]] + [""]
            elif kind == "banner":
                lines += [f"> **{block[1]}**", ">"]
                lines += [f"> - {p}" for p in block[2]] + [""]
            elif kind == "table":
                _, caption, frame, csv, max_rows = block
                shown, cut = _shown(frame, max_rows)
                extra = [x for x in (cut, f"in full: {csv}" if csv else None) if x]
                lines += [f"**{caption}**" + (f" ({'; '.join(extra)})" if extra else ""), ""]
                lines.append("| " + " | ".join(_md_escape(str(c)) for c in shown.columns)
                             + " |")
                lines.append("|" + "---|" * len(shown.columns))
                lines += ["| " + " | ".join(_md_escape(_cell(v)) for v in row) + " |"
                          for row in shown.itertuples(index=False)]
                lines.append("")
            elif kind == "figure":
                _, name, caption, path = block
                lines += [f"![{caption}]({Path(path).name})", "", f"*{caption}*", ""]
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1100px;padding:1rem 2rem 4rem;color:#1b1b1b;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem}
.meta{color:#555;font-size:.9rem}nav ol{columns:2;font-size:.95rem}
.how{font-style:italic;color:#333;background:#f4f6f8;border-left:4px solid #7a8a99;
padding:.4rem .8rem}
.note{color:#6b4e00;background:#fff8e1;border-left:4px solid #e0a800;padding:.3rem .8rem}
.omitted{color:#555;font-style:italic}
.banner{background:#fde8e8;border:2px solid #c62828;color:#8e0000;padding:.6rem 1rem;
border-radius:4px;margin:1rem 0}.banner ul{margin:.4rem 0 0;font-size:.9rem}
.status.fail{color:#c62828;font-weight:bold}
.table{overflow-x:auto;margin:1rem 0}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.3rem 0}.csv{font-weight:normal;color:#666}
th,td{padding:.2rem .6rem;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
th{background:#f4f6f8;position:sticky;top:0}th.l,td.l{text-align:left}
figure{margin:1.5rem 0}figure img{max-width:100%;height:auto}
figcaption{font-size:.9rem;color:#444}ul.lines li{margin:.2rem 0}
@media print{nav{display:none}th{position:static}}
"""
