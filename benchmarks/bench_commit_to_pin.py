"""Commit → pin: how long after another seat commits a new case does it show on this window's map
(issues 5 and 6: "within 2 s" / "within 1 s").

Opens the real ``MainWindow`` offscreen on a workspace (default: a fresh demo on SQLite; ``--pg URL``
makes a fresh demo database on that PostgreSQL server and drops it afterwards), waits until the live
feed is connected, then, ``--count`` times, commits a new 群众举报 case on a second engine (another
seat) and spins the event loop until the case's pin is on the map layer. Latency = commit returned →
pin present (polled every 1 ms). Prints median / p90 / max; ``--json`` for one JSON line.

    .venv/bin/python benchmarks/bench_commit_to_pin.py [--pg postgresql+psycopg://postgres@127.0.0.1/postgres] [--count 30]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def fresh_demo(pg: str | None, folder: Path) -> tuple[str, object]:
    """The workspace URL and a cleanup callable."""
    from sqlalchemy import create_engine, text

    from gis.demo.build import build_demo
    from gis.storage.store import open_store

    if pg is None:
        url = str(folder / "demo.sqlite")
        cleanup = lambda: None  # noqa: E731 — the temporary folder goes anyway
    else:
        name = f"envgrid_bench_pin_{uuid.uuid4().hex[:8]}"
        server = create_engine(pg, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = pg.rsplit("/", 1)[0] + "/" + name

        def cleanup() -> None:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()
    store = open_store(url)
    build_demo(store)
    store.close()
    return url, cleanup


def measure(url: str, count: int) -> list[float]:
    from PySide6.QtWidgets import QApplication

    from desktop.main_window import MainWindow
    from gis.storage.store import open_store
    from gis.workflow.cases import create_case

    app = QApplication.instance() or QApplication([])
    store, seat = open_store(url), open_store(url)
    window = MainWindow(store, remember=False)
    window.resize(1600, 1000)
    window.show()

    def spin_until(condition, timeout: float = 30.0) -> None:
        end = time.perf_counter() + timeout
        while not condition():
            if time.perf_counter() > end:
                raise SystemExit("timed out waiting for the window")
            app.processEvents()
            time.sleep(0.001)

    spin_until(lambda: window.live is not None and window.live.feed.state is not None
               and window.live.feed.state.connected)
    spin_until(lambda: window.data is not None and window.layer_control.pins is not None)
    pins = window.layer_control.pins
    district = next(g for g in window.data.grids if g.level == 3).boundary.representative_point()
    latencies = []
    for n in range(count):
        with seat.engine.begin() as connection:
            case = create_case(connection, source="群众举报", category="扬尘污染", description=f"延迟测量 {n}",
                               actor="坐席二", lon=district.x + 0.0005 * (n % 7), lat=district.y)
        started = time.perf_counter()
        spin_until(lambda: pins.xy_of(case.id) is not None)
        latencies.append(time.perf_counter() - started)
        time.sleep(0.2)  # cases arrive one by one, as calls do
    window.close()
    store.close()
    seat.close()
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="PostgreSQL maintenance database URL (default: SQLite)")
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    with tempfile.TemporaryDirectory() as folder:
        url, cleanup = fresh_demo(args.pg, Path(folder))
        try:
            ms = sorted(1000 * t for t in measure(url, args.count))
        finally:
            cleanup()
    backend = "PostgreSQL" if args.pg else "SQLite"
    result = {"backend": backend, "count": len(ms), "median_ms": round(statistics.median(ms), 1),
              "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 1), "max_ms": round(ms[-1], 1)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"commit → pin on {backend}, {len(ms)} cases: median {result['median_ms']} ms, "
              f"p90 {result['p90_ms']} ms, max {result['max_ms']} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
