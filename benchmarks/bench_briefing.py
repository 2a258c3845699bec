"""Briefing map (``envgrid briefing``): file size, time to write it, time to open it in Chromium.

For each workspace given as ``PATH[:FROM:TO]`` (the period, default the last 30 days), the command
is run once in a fresh process (wall time, imports included), then the page is opened ``--runs``
times in a fresh headless Chromium with networking off (``gis.briefing.chromium``). Reported:

- *open*: navigation start → every shown layer built and two animation frames painted, on the
  page's own clock (``performance.now()``, so browser start-up is not counted);
- *all layers*: the same page after ticking every overlay (all grid levels and every ledger
  category built), measured from the call to its return;
- requests that left the file (must be 0).

    .venv/bin/python benchmarks/bench_briefing.py /tmp/demo.sqlite /tmp/big10k.sqlite:2023-06-01:2024-06-01 [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis.briefing.chromium import find_chromium, open_page  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspaces", nargs="+", metavar="PATH[:FROM:TO]")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", help="folder to keep the HTML files in")
    args = parser.parse_args()
    if find_chromium() is None:
        raise SystemExit("no Chromium (apt-get install chromium)")
    folder = Path(args.keep or tempfile.mkdtemp(prefix="envgrid-briefing-"))
    folder.mkdir(parents=True, exist_ok=True)
    for spec in args.workspaces:
        db, *period = spec.split(":")
        out = folder / (Path(db).stem + "".join(f"_{day}" for day in period) + ".html")
        argv = [sys.executable, "-m", "gis", "briefing", str(out), "--db", db]
        if period:
            argv += ["--from", period[0], "--to", period[1]]
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        write_s = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(done.stderr)
        opened, walls, outside, counts = [], [], 0, {}
        for _ in range(args.runs):
            report = open_page(out, show_all=True, timeout=120)
            if not report.ready or report.errors:
                raise SystemExit(f"{out}: not ready or errors: {report.errors}")
            opened.append(report.ready_ms)
            walls.append(report.all_counts["showAllMs"])
            outside += len(report.outside_requests)
            counts = report.counts
        size = out.stat().st_size / 1e6
        print(json.dumps({"workspace": db, "summary": done.stdout.strip(), "size_mb": round(size, 2),
                          "write_s": round(write_s, 2), "open_ms_median": statistics.median(opened),
                          "open_ms": opened, "all_layers_ms_median": statistics.median(walls),
                          "requests_outside": outside, "grids": counts.get("gridsDeclared"),
                          "shown_grids": counts.get("grids")}, ensure_ascii=False))


if __name__ == "__main__":
    main()
