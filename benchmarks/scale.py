"""Scale-path benchmark: ``fit(method="advi")`` on a simulated study of ~1M judgments, and the
coverage of its system-quality intervals against NUTS on replicated smaller studies.

1. ``--judgments`` (default 1,000,000): one study of the default design (5 systems, 4 persona
   groups, persona severity, system x group and output x group effects), fitted with the default
   model and ``method="advi"`` in a subprocess. Reports wall time (simulation excluded), ADVI
   iterations, peak resident memory of the process, and whether each system's 90% interval
   covers its true quality.
2. ``--replicates`` studies of ``--coverage-judgments`` (default 10 x 20,000), each fitted
   with NUTS (2 chains x 1,000 draws) and with ADVI: per system, whether each method's 90%
   interval covers the truth, and ADVI's mean and sd against NUTS's.

Rows go to ``<out>/<UTC time>_scale.csv`` and ``<out>/<UTC time>_coverage.csv``.

    python benchmarks/scale.py [--judgments 1000000] [--replicates 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from run import FRACTION_RATED, GROUPS, N_SYSTEMS, design, tree_rss

HERE = Path(__file__).resolve().parent


def study(n_judgments: int, seed: int):
    """Default-design study of about ``n_judgments``, sized as run.py's (``run.design``)."""
    import pluraleval as pe
    spec = pe.StudySpec(n_systems=N_SYSTEMS, fraction_rated=FRACTION_RATED,
                        attributes={"group": GROUPS}, **design(n_judgments))
    return pe.simulate(spec, seed=seed)


def intervals(fit, truth, method: str) -> pd.DataFrame:
    mu = fit.posterior["mu"]
    lo, hi = (mu.quantile(q, dim=("chain", "draw")) for q in (0.05, 0.95))
    true = truth["mu"].sel(system=mu["system"])
    return pd.DataFrame({"system": mu["system"].values, "method": method,
                         "truth": true.values, "mean": mu.mean(("chain", "draw")).values,
                         "sd": mu.std(("chain", "draw")).values, "lower": lo.values,
                         "upper": hi.values,
                         "covered": ((lo <= true) & (true <= hi)).values})


def big_child(n_judgments: int, seed: int, result: Path) -> None:
    import pluraleval as pe
    judgments, truth = study(n_judgments, seed)
    start = time.perf_counter()
    fit = pe.OrdinalRaterModel().fit(judgments, method="advi", random_seed=seed)
    wall = time.perf_counter() - start
    table = intervals(fit, truth, "advi")
    result.write_text(json.dumps({
        "n_judgments": judgments.n_judgments, "n_outputs": len(judgments.coords["output"]),
        "n_personas": len(judgments.coords["persona"]), "wall_s": wall,
        "iterations": fit.tree.attrs["iterations"], "converged": fit.converged,
        "systems_covered": int(table["covered"].sum()), "systems": len(table),
        "mean_abs_error": float((table["mean"] - table["truth"]).abs().mean()),
        "mean_sd": float(table["sd"].mean())}))


def run_big(a: argparse.Namespace, out: Path) -> dict:
    import psutil
    result = out.with_suffix(".json")
    cmd = [sys.executable, __file__, "--child", "--judgments", str(a.judgments),
           "--seed", str(a.seed), "--child-result", str(result)]
    proc = subprocess.Popen(cmd, start_new_session=True)
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(ps))
        time.sleep(0.25)
    if proc.returncode:
        raise RuntimeError(f"the {a.judgments}-judgment ADVI fit exited with {proc.returncode}")
    row = {**json.loads(result.read_text()), "peak_rss_mib": peak / 2**20}
    result.unlink()
    return row


def run_coverage(a: argparse.Namespace) -> pd.DataFrame:
    import warnings

    import pluraleval as pe
    rows = []
    for r in range(a.replicates):
        judgments, truth = study(a.coverage_judgments, a.seed + 1 + r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nuts = pe.OrdinalRaterModel().fit(judgments, chains=2, draws=1000,
                                              random_seed=r, progressbar=False)
            advi = pe.OrdinalRaterModel().fit(judgments, method="advi", random_seed=r,
                                              progressbar=False)
        for fit, name in ((nuts, "nuts"), (advi, "advi")):
            rows.append(intervals(fit, truth, name).assign(
                replicate=r, seconds=fit.tree.attrs["wall_time_s"], converged=fit.converged))
        print(f"replicate {r + 1}/{a.replicates}: NUTS {nuts.tree.attrs['wall_time_s']:.0f} s, "
              f"ADVI {advi.tree.attrs['wall_time_s']:.0f} s", flush=True)
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--judgments", type=int, default=1_000_000)
    p.add_argument("--replicates", type=int, default=10)
    p.add_argument("--coverage-judgments", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--child-result", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        return big_child(a.judgments, a.seed, a.child_result)
    a.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    if a.judgments:
        big = run_big(a, a.out / f"{stamp}_scale")
        pd.DataFrame([big]).to_csv(a.out / f"{stamp}_scale.csv", index=False)
        print(f"{big['n_judgments']} judgments: ADVI {big['wall_s']:.0f} s "
              f"({big['iterations']} iterations, converged {big['converged']}), peak "
              f"{big['peak_rss_mib']:.0f} MiB, systems covered {big['systems_covered']}/"
              f"{big['systems']}", flush=True)
    if a.replicates:
        cov = run_coverage(a)
        cov.to_csv(a.out / f"{stamp}_coverage.csv", index=False)
        wide = cov.pivot_table(index=["replicate", "system"], columns="method",
                               values=["mean", "sd"])
        summary = cov.groupby("method").agg(coverage=("covered", "mean"),
                                            intervals=("covered", "size"),
                                            seconds=("seconds", "median"))
        print(summary.to_string())
        d = (wide["mean"]["advi"] - wide["mean"]["nuts"]) / wide["sd"]["nuts"]
        print(f"ADVI - NUTS mean, in NUTS sds: median |diff| {np.median(np.abs(d)):.2f}; "
              f"ADVI/NUTS sd ratio median {np.median(wide['sd']['advi'] / wide['sd']['nuts']):.2f}")


if __name__ == "__main__":
    main()
