"""The wall (``envgrid display``) left running: idle CPU, and memory over a simulator soak (issue 8).

Builds the demo workspace (``envgrid demo``) in a temporary SQLite file, or in a fresh PostgreSQL
database with --pg (dropped afterwards), or uses --db as given (the soak writes into it). Then:

1. **Idle CPU.** Starts the wall in a child process (this script with --child: the same
   ``DisplayWindow`` that ``envgrid display`` shows, live on the change feed, offscreen unless
   --display), waits for its first data and --warmup seconds more, then measures the process's CPU
   time (user + system, all threads; ``os.times()`` in the child) over --idle-seconds while nothing
   writes. Reported as % of one core (goal < 10 %). The map playlist rotates as configured
   (--rotate, default the wall's own default), and the once-a-minute re-read of readings runs:
   both are part of an idle wall.
2. **Soak.** Runs ``envgrid simulate --rate R --speed S --duration M×60`` against the same
   workspace while the wall follows it. ``--rate 10`` is "10× the normal rate": ten times the
   simulator's default case, episode and outage rates, at its default speed (60: a simulated hour
   per real minute; readings every 5 simulated minutes at every station, on the hour their hourly
   averages, alarms by the installed rules). The child reports its resident set size (VmRSS,
   /proc/self/statm) every --every seconds; reported: RSS after --warm-minutes (default 5, or
   half a shorter run), RSS at the end, growth % (goal < 10 %), peak, the least-squares trend after
   warm-up in MB/h, the number of refreshes (statistics reads shown) and change batches the wall
   handled, and its CPU share during the soak. The series (every --sample seconds) is in the JSON.
   Finally the child gets SIGTERM and must exit 0.

    .venv/bin/python benchmarks/bench_display.py [--minutes 60] [--idle-seconds 60] [--rate 10] [--speed 60]
        [--db PATH|URL | --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--size 1920x1080]
        [--rotate S] [--display] [--json]
    smoke: .venv/bin/python benchmarks/bench_display.py --minutes 2 --idle-seconds 20 --warmup 10
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MB = 1024 * 1024


# -- the child: the wall, reporting on itself --------------------------------------------------------------

def run_child(args) -> int:
    from PySide6.QtCore import QTimer

    from desktop.app import create_application
    from desktop.display.window import DisplayWindow
    from desktop.quit_on_signal import QuitOnSignals
    from gis.storage.store import open_store

    width, height = (int(v) for v in args.size.lower().split("x"))
    app = create_application()
    quitter = QuitOnSignals(app)
    store = open_store(args.db, create=False)
    window = DisplayWindow(store, height=height, rotate_seconds=args.rotate)
    refreshes = [0]
    page = os.sysconf("SC_PAGE_SIZE")

    def sample(event: str = "sample") -> None:
        times = os.times()
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * page
        feed = window.feed
        print(json.dumps({"event": event, "t": time.monotonic(), "cpu": times.user + times.system, "rss": rss,
                          "refreshes": refreshes[0], "batches": feed.batches if feed else 0,
                          "connected": bool(feed and feed.state and feed.state.connected)}), flush=True)

    def on_refreshed() -> None:
        refreshes[0] += 1
        if refreshes[0] == 1:
            sample("ready")

    window.refreshed.connect(on_refreshed)
    timer = QTimer(interval=int(args.every * 1000), timeout=sample)
    timer.start()
    window.resize(width, height)
    window.show()
    try:
        app.exec()
    finally:
        timer.stop()
        window.close()
        store.close()
        quitter.restore()
    return 0


class Child:
    """The wall in a subprocess; its JSON lines in a queue, its stderr in a file."""

    def __init__(self, db: str, args, env: dict, log: Path):
        command = [sys.executable, str(Path(__file__).resolve()), "--child", "--db", db, "--size", args.size,
                   "--every", str(args.every)]
        if args.rotate is not None:
            command += ["--rotate", str(args.rotate)]
        self.log = log
        self._err = open(log, "w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                                        stderr=self._err)
        self.lines: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.samples: list[dict] = []

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                pass

    def next(self, timeout: float = 120) -> dict:
        try:
            item = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise SystemExit(f"the wall said nothing for {timeout:g} s; its log: {self.log}") from None
        self.samples.append(item)
        return item

    def until(self, t: float) -> dict:
        """The first report at or after monotonic time ``t``."""
        while True:
            item = self.next(timeout=max(60.0, t - time.monotonic() + 60))
            if item["t"] >= t:
                return item

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._err.close()


# -- the workspace --------------------------------------------------------------------------------------

def prepare(args, folder: str):
    """(db, drop): the workspace to use and what to do afterwards."""
    demo = [sys.executable, "-m", "gis", "demo", "--db"]
    if args.db:
        return args.db, lambda: None
    if args.pg:
        from sqlalchemy import create_engine, text

        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        name = f"envgrid_bench_display_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        subprocess.run(demo + [url], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        return url, drop
    path = str(Path(folder) / "demo.sqlite")
    subprocess.run(demo + [path], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return path, lambda: None


# -- figures --------------------------------------------------------------------------------------------

def cpu_share(a: dict, b: dict) -> float:
    return 100 * (b["cpu"] - a["cpu"]) / (b["t"] - a["t"])


def trend_mb_per_hour(samples: list[dict]) -> float | None:
    if len(samples) < 3:
        return None
    ts = [s["t"] for s in samples]
    rs = [s["rss"] / MB for s in samples]
    mt, mr = sum(ts) / len(ts), sum(rs) / len(rs)
    var = sum((t - mt) ** 2 for t in ts)
    return 3600 * sum((t - mt) * (r - mr) for t, r in zip(ts, rs)) / var if var else None


def measure(args, db: str, folder: str) -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_CONFIG_HOME": str(Path(folder) / "config")}
    if not args.display:
        env["QT_QPA_PLATFORM"] = "offscreen"
    child = Child(db, args, env, Path(folder) / "display.log")
    result: dict = {"db": db if "://" not in db else db.rsplit("@", 1)[-1], "size": args.size, "rotate": args.rotate}
    try:
        started = time.monotonic()
        while child.next(timeout=180)["event"] != "ready":
            pass
        result["first_data_s"] = round(child.samples[-1]["t"] - started, 1)
        # -- idle
        a = child.until(time.monotonic() + args.warmup)
        b = child.until(a["t"] + args.idle_seconds)
        result["idle"] = {"seconds": round(b["t"] - a["t"], 1), "warmup_s": args.warmup,
                          "cpu_percent": round(cpu_share(a, b), 2), "refreshes": b["refreshes"] - a["refreshes"],
                          "rss_mb": round(b["rss"] / MB, 1)}
        # -- soak
        duration = args.minutes * 60
        warm = min(args.warm_minutes * 60, duration / 2)
        with open(Path(folder) / "simulate.log", "w") as simulate_log:
            simulator = subprocess.Popen(
                [sys.executable, "-m", "gis", "simulate", "--db", db, "--rate", str(args.rate), "--speed",
                 str(args.speed), "--duration", str(duration)], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                stderr=simulate_log)
            start = child.next()
            soak = [start]
            while simulator.poll() is None:
                soak.append(child.next())
            soak.append(child.next())   # one report after the last write
        out = simulator.stdout.read().strip()
        if simulator.returncode != 0:
            raise SystemExit(f"envgrid simulate failed ({simulator.returncode}): "
                             f"{(Path(folder) / 'simulate.log').read_text()[-2000:]}")
        at_warm = next(s for s in soak if s["t"] >= start["t"] + warm)
        end = soak[-1]
        after = [s for s in soak if s["t"] >= at_warm["t"]]
        series, next_t = [], start["t"]
        for s in soak:
            if s["t"] >= next_t:
                series.append({"minute": round((s["t"] - start["t"]) / 60, 2), "rss_mb": round(s["rss"] / MB, 1),
                               "refreshes": s["refreshes"] - start["refreshes"]})
                next_t += args.sample
        result["soak"] = {
            "minutes": round((end["t"] - start["t"]) / 60, 2), "rate": args.rate, "speed": args.speed,
            "warm_minutes": round(warm / 60, 2),
            "rss_warm_mb": round(at_warm["rss"] / MB, 1), "rss_end_mb": round(end["rss"] / MB, 1),
            "rss_growth_percent": round(100 * (end["rss"] - at_warm["rss"]) / at_warm["rss"], 2),
            "rss_peak_mb": round(max(s["rss"] for s in soak) / MB, 1),
            "rss_trend_mb_per_h": (round(t, 1) if (t := trend_mb_per_hour(after)) is not None else None),
            "refreshes": end["refreshes"] - start["refreshes"], "batches": end["batches"] - start["batches"],
            "cpu_percent": round(cpu_share(start, end), 1), "simulator": out.splitlines()[-1] if out else "",
            "series": series,
        }
    finally:
        code = child.stop()
    log = child.log.read_text()
    result["exit_code"] = code
    result["traceback_in_log"] = "Traceback" in log
    return result


def markdown(r: dict, smoke: bool) -> str:
    idle, soak = r["idle"], r["soak"]
    label = " (SMOKE RUN: short parameters, not the reportable figure)" if smoke else ""
    rows = [
        ("idle CPU, % of one core", f"{idle['cpu_percent']:.2f} %", "< 10 %",
         f"{idle['seconds']:.0f} s with nothing written, after {idle['warmup_s']:g} s warm-up"),
        ("soak: RSS after warm-up", f"{soak['rss_warm_mb']:.1f} MB", "",
         f"at {soak['warm_minutes']:g} min of `simulate --rate {soak['rate']:g} --speed {soak['speed']:g}`"),
        ("soak: RSS at the end", f"{soak['rss_end_mb']:.1f} MB", "", f"after {soak['minutes']:g} min"),
        ("soak: RSS growth after warm-up", f"{soak['rss_growth_percent']:+.2f} %", "< 10 %", ""),
        ("soak: peak RSS", f"{soak['rss_peak_mb']:.1f} MB", "", ""),
        ("soak: RSS trend after warm-up", "—" if soak["rss_trend_mb_per_h"] is None
         else f"{soak['rss_trend_mb_per_h']:+.1f} MB/h", "", "least squares over every report"),
        ("soak: refreshes shown", f"{soak['refreshes']}", "",
         f"{soak['refreshes'] / max(soak['minutes'], 1e-9):.1f}/min; {soak['batches']} change batches"),
        ("soak: CPU, % of one core", f"{soak['cpu_percent']:.1f} %", "", "while following the simulator"),
        ("exit on SIGTERM", f"code {r['exit_code']}" + (", traceback in log" if r["traceback_in_log"] else ""),
         "0", ""),
    ]
    lines = [f"Wall (`DisplayWindow`, {r['size']}, rotate {r['rotate'] if r['rotate'] is not None else 'default'}) "
             f"on {r['db']}{label}", "", "| figure | value | goal | how |", "|---|---:|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", f"simulator: {soak['simulator']}", "", "| minute | RSS MB | refreshes |", "|---:|---:|---:|"]
    step = max(1, len(soak["series"]) // 12)
    picked = soak["series"][::step] + ([soak["series"][-1]] if (len(soak["series"]) - 1) % step else [])
    lines += [f"| {s['minute']:g} | {s['rss_mb']:.1f} | {s['refreshes']} |" for s in picked]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="workspace to use as is (the soak writes into it); default: a fresh demo")
    parser.add_argument("--pg", help="PostgreSQL maintenance database URL: a fresh demo database there, dropped after")
    parser.add_argument("--minutes", type=float, default=60, help="soak length in real minutes (default 60)")
    parser.add_argument("--warm-minutes", type=float, default=5, help="RSS baseline after this long (default 5)")
    parser.add_argument("--idle-seconds", type=float, default=60, help="idle CPU window (default 60)")
    parser.add_argument("--warmup", type=float, default=30, help="seconds after first data before idle (30)")
    parser.add_argument("--rate", type=float, default=10, help="simulator --rate (default 10: 10× normal)")
    parser.add_argument("--speed", type=float, default=60, help="simulator --speed (default 60, its own default)")
    parser.add_argument("--sample", type=float, default=30, help="seconds between RSS points in the series (30)")
    parser.add_argument("--every", type=float, default=5, help="seconds between the wall's self-reports (5)")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--rotate", type=int, help="seconds per map view (default: the wall's default)")
    parser.add_argument("--display", action="store_true", help="use $DISPLAY instead of the offscreen platform")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.exit(run_child(args))
    if args.db and args.pg:
        parser.error("--db and --pg: give one")
    with tempfile.TemporaryDirectory(prefix="envgrid-bench-display-") as folder:
        db, drop = prepare(args, folder)
        try:
            result = measure(args, db, folder)
        finally:
            drop()
    smoke = args.minutes < 30 or args.idle_seconds < 60
    result["smoke"] = smoke
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else markdown(result, smoke))


if __name__ == "__main__":
    main()
