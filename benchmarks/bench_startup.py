"""Start-up time: process start → first map image, on an existing demo workspace (target ≤ 3 s).

Starts the real app (``main.py --db DEMO``) N times with ENVGRID_TIMING=exit, which prints the time
from process start (kernel start time, so interpreter and imports count) to the first finished map
render and quits. Uses the offscreen platform unless --display is given (e.g. under xvfb-run).

    .venv/bin/python benchmarks/bench_startup.py [--runs 7] [--db PATH] [--display]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", help="workspace to open (default: a demo built for the run)")
    parser.add_argument("--display", action="store_true", help="use $DISPLAY instead of offscreen")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or str(Path(folder) / "demo.sqlite")
        if not args.db:
            subprocess.run([sys.executable, "-m", "gis", "demo", "--db", db], check=True, stdout=subprocess.DEVNULL)
        env = {**os.environ, "ENVGRID_TIMING": "exit", "XDG_CONFIG_HOME": folder}
        if not args.display:
            env["QT_QPA_PLATFORM"] = "offscreen"
        times = []
        for _ in range(args.runs):
            done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", db], env=env,
                                  capture_output=True, text=True, timeout=120)
            found = re.search(r"map shown ([\d.]+) s", done.stderr)
            if not found:
                raise SystemExit(f"no timing line; stderr:\n{done.stderr}")
            times.append(float(found.group(1)))
    print(f"start-up to first map: runs={len(times)} min={min(times):.2f}s median={statistics.median(times):.2f}s "
          f"max={max(times):.2f}s (target ≤ 3 s)")


if __name__ == "__main__":
    main()
