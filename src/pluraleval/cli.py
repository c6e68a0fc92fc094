"""The ``pluraleval`` command line: mirrors the Python API.

Bad input ends with a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import pandas as pd

from .data import Judgments
from .errors import JudgmentDataError

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
EXAMPLES = {
    "simulate": "pluraleval simulate --preset demo --seed 2026 --out data/demo",
    "fit": "pluraleval fit data/demo/judgments.csv --personas data/demo/personas.csv "
           "--scale 1,2,3,4,5 --covariates length --out out/demo_fit.nc",
    "leaderboard": "pluraleval leaderboard out/demo_fit.nc --population census.csv --by region",
    "audit": "pluraleval audit out/demo_fit.nc --target data/demo/target_population.csv",
    "report": "pluraleval report out/demo_fit.nc --target data/demo/target_population.csv "
              "--out out/report\n  pluraleval report data/demo/judgments.csv --personas "
              "data/demo/personas.csv --scale 1,2,3,4,5 --target equal --out out/report",
    "demo": "pluraleval demo --draws 1500",
    "calibrate": "pluraleval calibrate sbc --preset small --n-sims 200 "
                 "--results out/sbc.jsonl --out out/calibration\n  pluraleval calibrate "
                 "coverage --study data/demo/spec.json --n-sims 100 --out out/calibration",
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pluraleval`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, KeyError) as err:  # JudgmentDataError etc. included
        print(f"pluraleval {args.command}: error: {err}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pluraleval",
        description="Hierarchical Bayesian rater models for persona-based evaluation.")
    sub = parser.add_subparsers(dest="command")

    def command(name: str, help_: str, run) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_,
                           epilog=f"example:\n  {EXAMPLES[name]}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(run=run)
        return p

    p = command("simulate", "Write a simulated study (judgments, personas, truth).", _simulate)
    p.add_argument("--preset", default="demo", help="study preset (default: demo)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", required=True, type=Path, help="output directory")

    p = command("fit", "Fit the ordinal rater model and save the fit (netCDF).", _fit)
    _data_args(p)
    _sampling_args(p)
    p.add_argument("--out", required=True, type=Path, help="path of the saved fit (.nc)")

    p = command("leaderboard", "Print the posterior leaderboard of a saved fit.", _leaderboard)
    p.add_argument("fit", type=Path, help="saved fit (.nc)")
    p.add_argument("--prob", type=float, default=0.9, help="interval mass (default 0.9)")
    p.add_argument("--population", default="equal",
                   help="whose judgments count: equal (default), sample, or a CSV joint table "
                        "of attribute columns and a 'share' column (e.g. a census)")
    p.add_argument("--by", help="one leaderboard per group of these attributes "
                                "(comma-separated), with rank reversals")

    p = command("audit", "Audit a saved fit's value skew against a target population.", _audit)
    p.add_argument("fit", type=Path, help="saved fit (.nc)")
    p.add_argument("--target", required=True,
                   help="target population: a CSV joint table of attribute columns and a "
                        "'share' column (e.g. a census), or 'equal'")
    p.add_argument("--prob", type=float, default=0.9, help="interval mass (default 0.9)")

    p = command("report", "Write the HTML/Markdown/CSV report of a saved fit, or of a "
                "judgments file (fitted first with the data and sampling options).", _report)
    _data_args(p, metavar="FIT_OR_JUDGMENTS",
               help_="saved fit (.nc) reported as it is, or a judgments file (.csv, .parquet, "
                     ".jsonl) to fit first (the fit is saved as fit.nc in the report)")
    _sampling_args(p)
    p.add_argument("--target",
                   help="target population of the audit: a CSV joint table of attribute "
                        "columns and a 'share' column (e.g. a census), 'equal' or 'sample'; "
                        "without it the report has no audit section")
    p.add_argument("--by", help="attributes to stratify by, comma-separated (default: every "
                                "modelled attribute)")
    p.add_argument("--prob", type=float, default=0.9, help="interval mass (default 0.9)")
    p.add_argument("--out", type=Path,
                   help="report directory (default: <input name>_report next to the input)")

    p = command("demo", "Fit the bundled demo study, print its leaderboard and audit and "
                "write its report to <out>/report.", _demo)
    # 1500 draws: the demo's 720 region x output effects need them to pass the ESS gate.
    _sampling_args(p, draws=1500)
    p.add_argument("--out", type=Path, default=Path("out"),
                   help="directory for the fit and the report (default: out)")
    p = command("calibrate", "Simulation-based calibration or interval coverage of the ordinal "
                "model on a simulated design (exit code 1 when SBC rejects uniformity).",
                _calibrate)
    p.add_argument("study", choices=("sbc", "coverage"))
    p.add_argument("--preset", default="small", help="study preset (default: small)")
    p.add_argument("--study", dest="study_json", type=Path,
                   help="study spec as JSON (fields of StudySpec, e.g. data/demo/spec.json); "
                        "overrides --preset")
    p.add_argument("--levels", type=int, help="rating levels (2 = binary); default the spec's")
    p.add_argument("--n-sims", type=int, default=100)
    p.add_argument("--draws", type=int, default=1000, help="draws per chain (default 1000)")
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results", type=Path,
                   help="JSON-lines results file; an interrupted run continues from it")
    p.add_argument("--out", type=Path, default=Path("out") / "calibration",
                   help="directory for the tables and figure (default: out/calibration)")
    return parser


def _data_args(p: argparse.ArgumentParser, *, metavar: str | None = None,
               help_: str = "judgments file (.csv, .parquet, .jsonl)") -> None:
    p.add_argument("judgments", type=Path, metavar=metavar, help=help_)
    p.add_argument("--personas", type=Path, help="persona table keyed by persona")
    for role in ("output", "persona", "rating", "system", "prompt", "position"):
        p.add_argument(f"--{role}-column", dest=f"{role}_column", default=role,
                       help=f"column holding the {role} (default: {role})")
    p.add_argument("--scale", help="ordered rating levels, e.g. 1,2,3,4,5 or binary")
    p.add_argument("--attributes", help="persona attribute columns, comma-separated")
    p.add_argument("--group-by", help="attributes to model, comma-separated (default: all)")
    p.add_argument("--covariates", help="output covariate columns, comma-separated")
    p.add_argument("--repeats", choices=("error", "allow"), default="error")


def _sampling_args(p: argparse.ArgumentParser, *, draws: int = 1000) -> None:
    p.add_argument("--draws", type=int, default=draws, help=f"draws per chain (default {draws})")
    p.add_argument("--tune", type=int, help="tuning steps per chain (default: 500 with nutpie, "
                                            "1000 with pymc)")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sampler", choices=("nutpie", "pymc"), default="nutpie")
    p.add_argument("--method", choices=("nuts", "advi"), default="nuts",
                   help="nuts (exact, default) or advi (approximate scale path for studies "
                        "too large for NUTS; --draws approximate draws, one chain)")


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _scale(text: str | None):
    if text is None or text == "binary":
        return text
    levels = _split(text)
    try:
        return [int(v) for v in levels]
    except ValueError:
        return levels


def _load(args) -> Judgments:
    covariates = _split(args.covariates) or []
    return Judgments.read(
        args.judgments, personas=args.personas, attributes=_split(args.attributes),
        covariates=covariates, scale=_scale(args.scale), repeats=args.repeats,
        output=args.output_column, persona=args.persona_column, rating=args.rating_column,
        system=args.system_column, prompt=args.prompt_column, position=args.position_column)


def _fit_and_save(judgments: Judgments, args, *, group_by=None, covariates=(), out: Path):
    from .models import OrdinalRaterModel
    model = OrdinalRaterModel(group_by=group_by, covariates=covariates)
    fit = model.fit(judgments, draws=args.draws, tune=args.tune, chains=args.chains,
                    random_seed=args.seed, sampler=args.sampler, method=args.method)
    out.parent.mkdir(parents=True, exist_ok=True)
    fit.save(out)
    print(f"saved fit to {out}")
    return fit


def _simulate(args) -> int:
    from .simulate import simulate
    judgments, truth = simulate(args.preset, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    judgments.table.to_csv(args.out / "judgments.csv", index=False)
    judgments.personas.to_csv(args.out / "personas.csv", index=False)
    truth.to_netcdf(args.out / "truth.nc", engine="h5netcdf")
    (args.out / "spec.json").write_text(json.dumps(json.loads(truth.attrs["spec"]), indent=2))
    print(f"wrote {judgments.n_judgments} judgments to {args.out}")
    return 0


def _fit(args) -> int:
    judgments = _load(args)
    _fit_and_save(judgments, args, group_by=_split(args.group_by),
                  covariates=_split(args.covariates) or (), out=args.out)
    return 0


def _population(text: str):
    """'equal', 'sample', or a CSV joint table with a 'share' column."""
    if text in ("equal", "sample"):
        return text
    from .summaries import Population
    return Population.read(text)


def _leaderboard(args) -> int:
    from .fit import Fit
    fit = Fit.load(args.fit)
    _print_boards(fit, population=_population(args.population), by=_split(args.by),
                  prob=args.prob)
    return 0


def _audit(args) -> int:
    from .fit import Fit
    _print_audit(Fit.load(args.fit), _population(args.target), prob=args.prob)
    return 0


def _print_audit(fit, target, *, prob: float = 0.9) -> None:
    from .summaries import audit
    result = audit(fit, target=target, prob=prob)
    print()
    print(result.summary)
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print("\nWeights (sample vs target)")
        print(result.weights.round(3).to_string(index=False))
        if result.winner_changes:
            print("\nSmallest reweightings that change the top system")
            print(result.changes.round(3).to_string(index=False))


def _print_boards(fit, *, population, by, prob: float = 0.9) -> None:
    from .summaries import leaderboard, rank_reversals
    _print_leaderboard(leaderboard(fit, population=population, prob=prob))
    if by:
        _print_leaderboard(leaderboard(fit, population=population, by=by, prob=prob))
        reversals = rank_reversals(fit, by=by, population=population)
        print(f"\nRank reversals between groups of {', '.join(by)} (posterior probability)")
        print("none" if reversals.empty else reversals.round(3).to_string(index=False))


def _demo(args) -> int:
    judgments = Judgments.read(DEMO_DIR / "judgments.csv", personas=DEMO_DIR / "personas.csv",
                               scale=[1, 2, 3, 4, 5], covariates=["length"])
    print(judgments)
    print(judgments.summary().to_string(index=False))
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        fit = _fit_and_save(judgments, args, covariates=["length"],
                            out=args.out / "demo_fit.nc")
    print(fit)
    _print_boards(fit, population="equal", by=None)
    _print_boards(fit, population="sample", by=["region"])
    target = _population(str(DEMO_DIR / "target_population.csv"))
    _print_audit(fit, target)
    from .report import report
    index = report(fit, args.out / "report", target=target)
    print(f"\nreport: {index}")
    return 0


def _calibrate(args) -> int:
    from . import plots
    from .models import OrdinalRaterModel
    from .simulate import PRESETS, StudySpec
    from .validate import coverage, sbc
    if args.study_json is not None:
        study = StudySpec(**json.loads(args.study_json.read_text()))
    elif args.preset in PRESETS:
        study = PRESETS[args.preset]
    else:
        raise ValueError(f"unknown preset {args.preset!r}; valid presets: {sorted(PRESETS)}.")
    if args.levels is not None:
        study = StudySpec(**{**study.to_dict(), "n_levels": args.levels})
    options = dict(n_sims=args.n_sims, draws=args.draws, tune=args.tune, chains=args.chains,
                   seed=args.seed, path=args.results)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.study == "sbc":
        result = sbc(OrdinalRaterModel(), study, **options)
        table, figure = result.summary(), plots.sbc_ecdf_plot(result)
    else:
        result = coverage(OrdinalRaterModel(), study, **options)
        table, figure = result.table(), plots.coverage_plot(result)
    table.to_csv(args.out / f"{args.study}.csv", index=False)
    result.fits.to_csv(args.out / f"{args.study}_fits.csv", index=False)
    plots.save(figure, args.out / args.study, formats=("png", "pdf"))
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(table.round(4).to_string(index=False))
    failed = int((result.fits["error"] != "").sum())
    print(f"{len(result.fits)} simulations, {failed} failed fits; tables and figure in {args.out}")
    if args.study == "sbc":
        print("SBC: ranks uniform" if result.passed() else "SBC: uniformity REJECTED")
        return 0 if result.passed() else 1
    return 0


def _report(args) -> int:
    from .fit import Fit
    from .report import report
    source = args.judgments
    if not source.exists():
        raise FileNotFoundError(f"no such file: {source}")
    out = args.out or source.parent / f"{source.stem}_report"
    target = None if args.target is None else _population(args.target)
    if source.suffix.lower() == ".nc":
        try:
            fit = Fit.load(source)
        except (ValueError, OSError) as err:
            raise JudgmentDataError(f"cannot read {source} as a saved fit: {err}") from None
    else:
        fit = _fit_and_save(_load(args), args, group_by=_split(args.group_by),
                            covariates=_split(args.covariates) or (), out=out / "fit.nc")
    index = report(fit, out, target=target, by=_split(args.by), prob=args.prob)
    print(f"report: {index}")
    return 0


def _print_leaderboard(table: pd.DataFrame) -> None:
    prob = table.attrs.get("prob", 0.9)
    if not table.attrs.get("converged", True):
        print("WARNING: the fit failed its convergence checks; treat this leaderboard with care.")
    who = table.attrs.get("population", {}).get("name", "equal")
    by = table.attrs.get("by") or []
    what = f"by {', '.join(by)}, " if by else ""
    print(f"\nPosterior leaderboard ({what}population: {who}; {prob:.0%} HDI; latent quality "
          "and expected rating)")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    raise SystemExit(main())
