"""Reading the map's case pins at a million cases: open + recently closed vs every case.

Uses the data of ``bench_case_queries.py`` (the demo plus 1,000,000 synthetic cases over two years,
as of 2026-06-01; SQLite), built here or reused with ``--keep DIR``. Times, median of ``--runs``:
``read_pin_cases`` (what the window's loader reads: every open case and those closed in the last
30 days before 2026-06-01), the same with 0 and 365 days, and ``read_case_summaries`` (every case,
what the loader read before), each with the peak memory the rows take (tracemalloc).

    .venv/bin/python benchmarks/bench_map_pins.py [--cases 1000000] [--keep /tmp/pins1m] [--runs 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_case_queries import AS_OF, build_demo, load_sqlite, make_cases  # noqa: E402

from gis.storage.cases import read_case_summaries  # noqa: E402
from gis.storage.map_pins import read_pin_cases  # noqa: E402
from gis.storage.store import open_store  # noqa: E402


def timed(store, read, runs: int) -> tuple[float, int, float]:
    """Median seconds, rows, peak MiB of one read."""
    seconds, rows, peak = [], 0, 0.0
    for n in range(runs):
        if n == 0:
            tracemalloc.start()
        started = time.perf_counter()
        with store.engine.connect() as connection:
            rows = len(read(connection))
        seconds.append(time.perf_counter() - started)
        if n == 0:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    return statistics.median(seconds[1:] or seconds), rows, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--keep", help="build the SQLite workspace in this folder once and reuse it")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench_pins_{args.cases}.sqlite"
    store = open_store(str(path))
    try:
        with store.engine.connect() as connection:
            empty = connection.exec_driver_sql("SELECT count(*) FROM cases").scalar() == 0
        if empty:
            started = time.perf_counter()
            build_demo(store, as_of=AS_OF)
            with store.engine.connect() as connection:
                columns = make_cases(connection, args.cases)
            load_sqlite(store, columns)
            del columns
            print(f"built {path} in {time.perf_counter() - started:.0f} s", flush=True)
        reads = {
            "pins: open + closed in 30 days (default)": lambda c: read_pin_cases(c, now=AS_OF)[0],
            "pins: open only (map_pin_closed_days 0)": lambda c: read_pin_cases(c, closed_days=0, now=AS_OF)[0],
            "pins: open + closed in 365 days": lambda c: read_pin_cases(c, closed_days=365, now=AS_OF)[0],
            "every case (the loader before)": read_case_summaries,
        }
        print(f"{'read':<44} {'rows':>9} {'median s':>9} {'peak MiB':>9}")
        for name, read in reads.items():
            seconds, rows, peak = timed(store, read, args.runs)
            print(f"{name:<44} {rows:>9,} {seconds:>9.2f} {peak:>9.0f}", flush=True)
    finally:
        store.close()


if __name__ == "__main__":
    main()
