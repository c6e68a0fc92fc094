"""Open a pluraleval report in headless Chromium and check it shows every section cleanly.

    python scripts/check_report.py out/report [--with-audit] [--screenshot shot.png]

Exit 0 when the DOM Chromium renders has every section id and Chromium logged no console
error (no "Uncaught", no CONSOLE message: the page has no script), no failed resource load
and no network request; exit 1 with one line per problem otherwise; exit 2 without Chromium.
Debian: ``apt-get install -y chromium``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pluraleval.report import SECTION_IDS

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--enable-logging=stderr", "--v=0")
#: stderr lines that mean the page itself misbehaved (console output, failed loads, network).
PROBLEM = re.compile(r"Uncaught|CONSOLE|Failed to load resource|net::ERR_|"
                     r"Not allowed to load local resource|https?://(?!www\.w3\.org)",
                     re.IGNORECASE)


def chromium(binary: str = CHROMIUM) -> str | None:
    """Path of a usable Chromium, or None."""
    if Path(binary).exists():
        return binary
    return shutil.which("chromium") or shutil.which("chromium-browser")


def run_chromium(index: Path, *extra: str, binary: str = CHROMIUM,
                 timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="pluraleval-chromium-") as profile:
        return subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *extra, index.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False)


def check(index: Path, *, with_audit: bool, binary: str = CHROMIUM,
          screenshot: Path | None = None) -> list[str]:
    """Problems found rendering ``index`` (empty when it passes)."""
    problems = []
    if re.search(r"https?://", index.read_text(encoding="utf-8")):
        problems.append(f"{index.name} mentions an http(s) address: not self-contained")
    done = run_chromium(index, "--dump-dom", binary=binary)
    dom = done.stdout
    if done.returncode != 0:
        problems.append(f"chromium exited with {done.returncode}")
    if "<section" not in dom:
        problems.append("chromium returned no rendered DOM")
    found = set(re.findall(r'<section id="([^"]+)"', dom))
    expected = [s for s in SECTION_IDS if with_audit or s != "audit"]
    problems += [f"section #{s} missing from the rendered DOM" for s in expected
                 if s not in found]
    if not with_audit and "audit" in found:
        problems.append("section #audit present although no target was given")
    problems += [f"chromium log: {line.strip()}" for line in done.stderr.splitlines()
                 if PROBLEM.search(line)]
    if screenshot is not None:
        shot = run_chromium(index, f"--screenshot={screenshot.resolve()}",
                            "--window-size=1280,2400", "--hide-scrollbars", binary=binary)
        if shot.returncode != 0 or not screenshot.exists():
            problems.append(f"screenshot failed (exit {shot.returncode})")
        problems += [f"chromium log (screenshot): {line.strip()}"
                     for line in shot.stderr.splitlines() if PROBLEM.search(line)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="report directory or its index.html")
    parser.add_argument("--with-audit", action="store_true",
                        help="the report was written with a target (expect #audit)")
    parser.add_argument("--screenshot", type=Path, help="also write a PNG screenshot")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)
    index = args.report / "index.html" if args.report.is_dir() else args.report
    if not index.exists():
        print(f"check_report: no report at {index}", file=sys.stderr)
        return 2
    binary = chromium(args.chromium)
    if binary is None:
        print(f"check_report: no Chromium at {args.chromium} (apt-get install -y chromium)",
              file=sys.stderr)
        return 2
    problems = check(index, with_audit=args.with_audit, binary=binary,
                     screenshot=args.screenshot)
    for p in problems:
        print(f"check_report: {p}", file=sys.stderr)
    if not problems:
        print(f"check_report: {index} renders every section without console errors")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
