"""Re-run the calibration studies behind models/CALIBRATION.md (``make calibration``).

Three studies of the flagship ordinal model on one small design each: SBC with a 5-level
scale, SBC with a binary scale, and interval coverage at fixed true parameters. Raw results
go to ``out/calibration/*.jsonl`` (resumable: re-running continues an interrupted study);
tables (CSV) and figures (PNG, PDF) go to ``models/calibration/``.

    python scripts/calibration.py [--n-sims 200] [--raw out/calibration]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pluraleval as pe
from pluraleval.validate import coverage, sbc

ROOT = Path(__file__).resolve().parents[1]

#: The design of every study: 4 systems x 8 prompts, 12 personas in 3 regions, each persona
#: rates 75% of the 32 outputs (288 judgments).
DESIGN = pe.StudySpec(n_systems=4, n_prompts=8, n_personas=12,
                      attributes={"region": ["A", "B", "C"]}, fraction_rated=0.75)
SAMPLING = {"draws": 1000, "tune": 1000, "chains": 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sims", type=int, default=200)
    parser.add_argument("--raw", type=Path, default=ROOT / "out" / "calibration")
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "calibration")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    model = pe.OrdinalRaterModel()
    numbers = {"design": DESIGN.to_dict(), "sampling": SAMPLING, "model": model.to_dict()}

    for name, levels in (("sbc_ordinal", 5), ("sbc_binary", 2)):
        study = pe.StudySpec(**{**DESIGN.to_dict(), "n_levels": levels})
        result = sbc(model, study, n_sims=args.n_sims, seed=2026,
                     path=args.raw / f"{name}.jsonl", **SAMPLING)
        summary = result.summary()
        summary.to_csv(args.out / f"{name}_summary.csv", index=False)
        result.fits.to_csv(args.out / f"{name}_fits.csv", index=False)
        pe.plots.save(pe.plots.sbc_ecdf_plot(result), args.out / f"{name}_ecdf",
                      formats=("png",))
        numbers[name] = _fit_numbers(result.fits) | {
            "passed": result.passed(), "min_p_adjusted": float(summary["min_p_adjusted"].min()),
            "share_outside_band": float(result.uniformity()["ecdf_outside"].mean())}
        print(f"{name}: passed={result.passed()}\n{summary.to_string()}")

    result = coverage(model, DESIGN, n_sims=args.n_sims, seed=2026,
                      path=args.raw / "coverage.jsonl", **SAMPLING)
    for by in ("family", "variable"):
        result.table(by=by).to_csv(args.out / f"coverage_by_{by}.csv", index=False)
    result.fits.to_csv(args.out / "coverage_fits.csv", index=False)
    pe.plots.save(pe.plots.coverage_plot(result), args.out / "coverage", formats=("png",))
    numbers["coverage"] = _fit_numbers(result.fits)
    print(result.table().to_string())
    (args.out / "numbers.json").write_text(json.dumps(numbers, indent=1) + "\n")


def _fit_numbers(fits) -> dict:
    return {"n_sims": len(fits), "failed": int((fits["error"] != "").sum()),
            "median_seconds": round(float(fits["seconds"].median()), 2),
            "max_r_hat": round(float(fits["max_r_hat"].max()), 4),
            "min_ess_bulk": round(float(fits["min_ess_bulk"].min()), 1),
            "sims_with_divergences": int((fits["divergences"] > 0).sum())}


if __name__ == "__main__":
    main()
