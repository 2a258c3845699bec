"""How long the first run takes to build the demo workspace (target: ≤ 30 s on the dev machine).

Runs ``envgrid demo`` as a whole process (as a first start would) into a fresh SQLite file, and,
when --pg names a maintenance database, into a fresh PostgreSQL database too. Prints min/median/max.

    .venv/bin/python benchmarks/bench_demo_build.py [--runs 5] [--pg postgresql+psycopg://postgres@127.0.0.1/postgres]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg", help="PostgreSQL maintenance URL; each run uses a new database")
    args = parser.parse_args()
    results: dict[str, list[float]] = {"sqlite": []}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            db = str(Path(folder) / "demo.sqlite")
            results["sqlite"].append(timed([sys.executable, "-m", "gis", "demo", "--db", db]))
    if args.pg:
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        results["postgresql"] = []
        for _ in range(args.runs):
            name = f"envgrid_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = admin.url.set(database=name).render_as_string(hide_password=False)
                results["postgresql"].append(timed([sys.executable, "-m", "gis", "demo", "--db", url]))
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    for backend, times in results.items():
        print(f"envgrid demo on {backend}: runs={len(times)} min={min(times):.2f}s "
              f"median={statistics.median(times):.2f}s max={max(times):.2f}s (target ≤ 30 s)")


if __name__ == "__main__":
    main()
