"""Speed benchmark: pluraleval's flagship ordinal model against the same model in Bambi.

For each study size the simulator draws one study (written once to parquet); each tool then
fits it in its own subprocess (own peak memory, address-space cap, timeout). One CSV row per
size x tool goes to ``<out>/<UTC time>_<label>.csv``; a table with the ours/Bambi ratios is
printed. See ``benchmarks/README.md`` for what is measured and how (``make benchmark``).

    python benchmarks/run.py [--sizes 2000 20000 200000] [--tools pluraleval bambi]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
FORMULA = "rating ~ 0 + (1|output) + group + (1|persona) + (1|output:group)"
GROUPS = ["g1", "g2", "g3", "g4"]
LEVELS = [1, 2, 3, 4, 5]
N_SYSTEMS, FRACTION_RATED = 5, 0.8
OOM_SIGNS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory",
             "Failed to launch worker thread", "can't start new thread", "failed to allocate")
COLUMNS = ["size", "tool", "status", "n_judgments", "n_outputs", "n_personas", "chains",
           "draws", "tune", "seed", "wall_s", "sampling_s", "startup_s", "min_ess_bulk",
           "ess_per_s", "max_rhat", "divergences", "peak_rss_mib", "recovery_corr",
           "recovery_rmse", "version", "error"]


# ---------------------------------------------------------------------------- data
def design(size: int) -> dict:
    """Personas grow as size^0.3, outputs as size^0.7: 2k -> 20 personas x 125 outputs (each
    persona rates 80%), 20k -> 40 x 625, 200k -> 80 x 3,125."""
    personas = 4 * max(1, round(5 * (size / 2000) ** 0.3))
    prompts = max(2, round(size / (personas * FRACTION_RATED * N_SYSTEMS)))
    return {"n_personas": personas, "n_prompts": prompts}


def make_data(size: int, seed: int, path: Path) -> dict:
    """Simulate one study near ``size`` judgments; write judgments + true output quality."""
    import pluraleval as pe
    spec = pe.StudySpec(n_systems=N_SYSTEMS, attributes={"group": GROUPS},
                        fraction_rated=FRACTION_RATED, n_levels=len(LEVELS),
                        sd_system_by_group=0.0, sd_output_by_group=0.3, sd_persona=0.5,
                        **design(size))
    judgments, truth = pe.simulate(spec, seed=seed)
    table = judgments.table.merge(judgments.personas, on="persona")
    # Output quality of a fit without system/prompt terms: mu + nu + eps, centred.
    out = table.drop_duplicates("output").set_index("output")[["system", "prompt"]]
    quality = (truth["mu"].sel(system=out["system"].to_numpy()).to_numpy()
               + truth["nu"].sel(prompt=out["prompt"].to_numpy()).to_numpy()
               + truth["eps"].sel(output=out.index.to_numpy()).to_numpy())
    table = table[["output", "persona", "group", "rating"]].astype(
        {"output": str, "persona": str, "group": str, "rating": int})
    table.to_parquet(path / f"judgments_{size}.parquet")
    pd.DataFrame({"output": out.index.astype(str), "quality": quality - quality.mean()}
                 ).to_parquet(path / f"truth_{size}.parquet")
    return {"n_judgments": len(table), "n_outputs": table["output"].nunique(),
            "n_personas": table["persona"].nunique()}


# ---------------------------------------------------------------------------- fits (child)
def fit_pluraleval(table: pd.DataFrame, a: argparse.Namespace) -> dict:
    import pluraleval as pe
    from pluraleval.models.sampling import DEFAULT_TUNE
    personas = table[["persona", "group"]].drop_duplicates()
    model = pe.OrdinalRaterModel(group_by=["group"], system_by_group=False)
    start = time.perf_counter()
    judgments = pe.Judgments.from_frame(table.drop(columns="group"), personas=personas,
                                        system=None, prompt=None, scale=LEVELS)
    fit = model.fit(judgments, draws=a.draws, tune=a.tune, chains=a.chains,
                    random_seed=a.seed, progressbar=False)
    wall = time.perf_counter() - start
    print("pluraleval terms:", model.terms(judgments), file=sys.stderr, flush=True)
    tune = a.tune if a.tune is not None else DEFAULT_TUNE["nutpie"]
    return {"wall_s": wall, "tree": fit.tree, "quality": "eps", "version": pe.__version__,
            "tune": tune}


def fit_bambi(table: pd.DataFrame, a: argparse.Namespace) -> dict:
    import bambi as bmb
    data = table.assign(rating=pd.Categorical(table["rating"], categories=LEVELS, ordered=True))
    start = time.perf_counter()
    model = bmb.Model(FORMULA, data, family="cumulative")
    tune = {} if a.tune is None else {"tune": a.tune}  # PyMC's default: 1000
    tree = model.fit(draws=a.draws, chains=a.chains, cores=min(a.chains, 2),
                     random_seed=a.seed, progressbar=False, **tune)
    wall = time.perf_counter() - start
    return {"wall_s": wall, "tree": tree, "quality": "1|output", "version": bmb.__version__,
            "tune": tune.get("tune", 1000)}


def metrics(result: dict, truth: pd.DataFrame) -> dict:
    """Sampling time, min bulk ESS over output quality, max R-hat, divergences, recovery."""
    import arviz as az
    post = result["tree"]["posterior"].to_dataset()
    stats = result["tree"]["sample_stats"].to_dataset()
    q = post[result["quality"]]
    (dim,) = [d for d in q.dims if d not in ("chain", "draw")]
    ess = float(az.ess(q, method="bulk").min())
    rhat = az.rhat(post)
    est = q.mean(("chain", "draw")).to_series()
    est = (est - est.mean()).reindex(truth["output"].to_numpy())
    if est.isna().any():
        raise RuntimeError(f"output labels of {result['quality']!r} ({dim}) do not match")
    err = est.to_numpy() - truth["quality"].to_numpy()
    sampling = post.attrs.get("sampling_time", stats.attrs.get("sampling_time", math.nan))
    return {"wall_s": result["wall_s"], "sampling_s": float(sampling), "min_ess_bulk": ess,
            "ess_per_s": ess / result["wall_s"],
            "max_rhat": float(max(np.nanmax(rhat[v].to_numpy()) for v in rhat.data_vars)),
            "divergences": int(stats["diverging"].sum()) if "diverging" in stats else 0,
            "recovery_corr": float(np.corrcoef(est, truth["quality"])[0, 1]),
            "recovery_rmse": float(np.sqrt(np.mean(err ** 2))), "version": result["version"],
            "tune": result["tune"]}


def child(a: argparse.Namespace) -> None:
    """One fit in this process; results (or the failure) go to ``a.child_result`` as JSON."""
    t0 = time.perf_counter()
    if a.memory_limit_gb:
        limit = int(a.memory_limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    row: dict = {}
    try:
        table = pd.read_parquet(a.child_data / f"judgments_{a.child_size}.parquet")
        truth = pd.read_parquet(a.child_data / f"truth_{a.child_size}.parquet")
        fit = fit_pluraleval if a.child_tool == "pluraleval" else fit_bambi
        __import__(a.child_tool)  # import time counts as startup, not as fit wall time
        setup = time.perf_counter() - t0
        row = {"status": "ok", **metrics(fit(table, a), truth)}
        row["startup_s"] = setup
    except MemoryError as exc:
        row = {"status": "oom", "error": f"MemoryError: {exc}"[:300]}
    except Exception as exc:  # recorded as a row, not a crash of the whole run
        row = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    row["maxrss_mib"] = max(own, kids) / 1024  # KiB on Linux
    a.child_result.write_text(json.dumps(row))


# ---------------------------------------------------------------------------- parent
def tree_rss(proc) -> int:
    """Resident memory of a process and all its descendants (bytes)."""
    import psutil
    total = 0
    try:
        for p in [proc, *proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        pass
    return total


def run_one(size: int, tool: str, data: Path, a: argparse.Namespace) -> dict:
    """Fit in a subprocess; poll its process tree's memory; kill it at the timeout."""
    import psutil
    result, log = data / f"result_{size}_{tool}.json", data / f"log_{size}_{tool}.txt"
    cmd = [sys.executable, __file__, "--child-tool", tool, "--child-size", str(size),
           "--child-data", str(data), "--child-result", str(result),
           "--chains", str(a.chains), "--draws", str(a.draws),
           *(["--tune", str(a.tune)] if a.tune is not None else []),
           "--seed", str(a.seed), "--memory-limit-gb", str(a.memory_limit_gb or 0)]
    start, peak, status = time.perf_counter(), 0, None
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, tree_rss(ps))
            if time.perf_counter() - start > a.timeout:
                os.killpg(proc.pid, signal.SIGKILL)  # the fit's own process group
                proc.wait()
                status = "timeout"
                break
            time.sleep(0.25)
    row = json.loads(result.read_text()) if result.exists() else {}
    text = log.read_text(errors="replace")
    if status or not row:
        status = status or ("oom" if proc.returncode == -signal.SIGKILL  # kernel OOM killer
                            else f"crashed (exit {proc.returncode})")
        error = f"killed after {a.timeout:.0f} s" if status == "timeout" else text[-300:]
        row = {**row, "status": status, "error": row.get("error") or error}
    if row["status"] not in ("ok", "timeout"):
        # Under RLIMIT_AS, running out shows as failed allocations or failed thread starts.
        if any(s in row["error"] + text for s in OOM_SIGNS):
            row["status"] = "oom"
        print(f"  {tool} at {size} failed: {row['error']}\n  log tail:\n{text[-1500:]}",
              flush=True)
    row["peak_rss_mib"] = max(peak / 2**20, row.pop("maxrss_mib", 0.0))
    return row


def report(frame: pd.DataFrame) -> str:
    """Compact table with the ours/Bambi ratios of ESS/s and wall time per size."""
    cols = ["size", "tool", "status", "n_judgments", "wall_s", "sampling_s", "min_ess_bulk",
            "ess_per_s", "max_rhat", "divergences", "peak_rss_mib", "recovery_corr",
            "recovery_rmse"]
    lines = [frame[cols].to_string(index=False, float_format=lambda x: f"{x:.3g}")]
    for size, g in frame.groupby("size"):
        t = g.set_index("tool")
        if {"pluraleval", "bambi"} <= set(t.index):
            ours, theirs = t.loc["pluraleval"], t.loc["bambi"]
            lines.append(f"size {size}: ESS/s ours/Bambi = "
                         f"{ours['ess_per_s'] / theirs['ess_per_s']:.2f}, wall time ours/Bambi "
                         f"= {ours['wall_s'] / theirs['wall_s']:.2f}")
    return "\n".join(lines)


def main() -> None:
    import psutil
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 200000],
                   help="target numbers of judgments")
    p.add_argument("--tools", nargs="+", default=["pluraleval", "bambi"],
                   choices=["pluraleval", "bambi"])
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=None,
                   help="tuning steps per chain (default: each tool's own default)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--label", default=None, help="file label (default: sizes and chains x draws)")
    p.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per fit")
    p.add_argument("--memory-limit-gb", type=float,
                   default=round(psutil.virtual_memory().total / 2**30, 1),
                   help="address-space cap per fit (RLIMIT_AS; 0 = none; default: total RAM)")
    for name, kind in (("tool", str), ("size", int), ("data", Path), ("result", Path)):
        p.add_argument(f"--child-{name}", type=kind, default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child_tool:
        return child(a)

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    label = a.label or ("-".join(f"{s // 1000}k" if s >= 1000 else str(s) for s in a.sizes)
                        + f"_{a.chains}x{a.draws}")
    a.out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, "
          f"{psutil.virtual_memory().total / 2**30:.1f} GiB; python {platform.python_version()}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="pluraleval_bench_") as tmp:
        data = Path(tmp)
        for size in a.sizes:
            counts = make_data(size, a.seed, data)
            print(f"size {size}: {counts['n_judgments']} judgments, {counts['n_outputs']} "
                  f"outputs, {counts['n_personas']} personas in {len(GROUPS)} groups",
                  flush=True)
            for tool in a.tools:
                row = {"size": size, "tool": tool, **counts, "chains": a.chains,
                       "draws": a.draws, "seed": a.seed,
                       **run_one(size, tool, data, a)}
                print(f"  {tool}: {row['status']}, wall {row.get('wall_s', math.nan):.1f} s, "
                      f"min bulk ESS {row.get('min_ess_bulk', math.nan):.0f}", flush=True)
                rows.append(row)
                frame = pd.DataFrame(rows).reindex(columns=COLUMNS)
                frame.to_csv(a.out / f"{stamp}_{label}.csv", index=False)  # after every fit
    print(report(frame))
    print(f"wrote {a.out / f'{stamp}_{label}.csv'}")


if __name__ == "__main__":
    main()
