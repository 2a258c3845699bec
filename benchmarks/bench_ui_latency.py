"""UI-thread latency while panning and zooming the real main window (issue 3: "the UI thread
never blocks longer than 16 ms").

Opens ``MainWindow`` offscreen on a workspace (the 10k-grid one from ``make_big_workspace.py``),
waits for the first map and the interaction indexes, then drives the map canvas with real
events sent through ``QApplication.sendEvent`` — ``QMouseEvent`` press/move/release for pan
drags, ``QWheelEvent`` for wheel zooms at the cursor, ``QKeyEvent`` (``QTest.keyClick``) for the
arrow keys and +/− — at a human pace (a mouse move every 8 ms, a wheel notch or key every
60 ms), letting the event loop run between events so render results, repaints and tiles are
handled as they arrive. Two measurements:

* **handler**: the wall time of each event's dispatch (``sendEvent`` returns when the widget
  has handled it);
* **stall**: a 1-ms ``Qt.PreciseTimer`` heartbeat runs throughout; the gap between two beats
  is the time the UI thread was busy with something else (handlers, paintEvent, the queued
  "render finished" hand-over, the live pins, hover look-ups …). Gaps are measured from the
  first event of a gesture until its renders have finished and 150 ms have passed.

Per interaction type the script prints the median and maximum handler time, the median,
99th percentile and maximum heartbeat gap, and the most CPU time the UI thread itself
(``time.thread_time``, "ui cpu") and the whole process ("proc cpu") spent inside one gap: a long gap with little CPU is the UI thread waiting —
for a core on a loaded machine, or for the GIL held by a render thread. The goal is max ≤ 16 ms.

    .venv/bin/python benchmarks/bench_ui_latency.py /tmp/big10k.sqlite [--size 1920x1080] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SWITCH_INTERVAL_S: float | None = None  # --switch-interval


class Heartbeat:
    """A 1-ms timer on the UI thread; ``gaps()`` are the intervals between its beats."""

    def __init__(self):
        from PySide6.QtCore import QTimer, Qt

        self.beats: list[tuple[float, float]] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        self.beats.append((time.perf_counter(), time.thread_time(), time.process_time()))

    def start(self) -> None:
        self.beats = []
        self._beat()
        self.timer.start()

    def long_gaps(self, over_ms: float = 16.0) -> list[tuple[float, float, float]]:
        """(wall, UI-thread CPU, whole-process CPU) in ms of each gap longer than ``over_ms``."""
        pairs = zip(self.beats, self.beats[1:])
        return [tuple(round((b[i] - a[i]) * 1000, 1) for i in range(3)) for a, b in pairs
                if (b[0] - a[0]) * 1000 > over_ms]

    def stop(self) -> tuple[list[float], list[float], list[float]]:
        """Wall-clock gaps (ms) and, for each, the UI thread's own CPU time and the whole process'
        CPU time in it (ms): a long gap with little CPU is the thread waiting — for a core on a
        loaded machine (little process CPU) or for the GIL held by a render thread (process CPU
        well above the UI thread's)."""
        self.timer.stop()
        self._beat()
        pairs = list(zip(self.beats, self.beats[1:]))
        return ([(b[0] - a[0]) * 1000 for a, b in pairs], [(b[1] - a[1]) * 1000 for a, b in pairs],
                [(b[2] - a[2]) * 1000 for a, b in pairs])


def pump(app, ms: float) -> None:
    """Run the event loop for ``ms`` milliseconds (as a user's pause between events)."""
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.0002)


def settle(app, canvas, timeout: float = 10.0) -> None:
    end = time.perf_counter() + timeout
    while canvas.render_pending and time.perf_counter() < end:
        pump(app, 2)
    pump(app, 150)


def timed(handler_ms: list[float], send) -> None:
    started = time.perf_counter()
    send()
    handler_ms.append((time.perf_counter() - started) * 1000)


def mouse(canvas, kind, x: float, y: float, button, buttons):
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    local = QPointF(x, y)
    event = QMouseEvent(kind, local, QPointF(canvas.mapToGlobal(local)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, event)


def wheel(canvas, x: float, y: float, notches: float):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    position = QPointF(x, y)
    QApplication.sendEvent(canvas, QWheelEvent(
        position, QPointF(canvas.mapToGlobal(position)), QPoint(0, 0), QPoint(0, round(120 * notches)),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False))


def pan_drag(app, canvas, handler, rng) -> None:
    from PySide6.QtCore import QEvent, Qt

    w, h = canvas.width(), canvas.height()
    x, y = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.7)
    dx, dy = rng.uniform(-1, 1) * 12, rng.uniform(-1, 1) * 8
    left = Qt.MouseButton.LeftButton
    timed(handler, lambda: mouse(canvas, QEvent.Type.MouseButtonPress, x, y, left, left))
    pump(app, 8)
    for _ in range(25):
        x, y = x + dx, y + dy
        timed(handler, lambda: mouse(canvas, QEvent.Type.MouseMove, x, y, Qt.MouseButton.NoButton, left))
        pump(app, 8)
    timed(handler, lambda: mouse(canvas, QEvent.Type.MouseButtonRelease, x, y, left, Qt.MouseButton.NoButton))


def wheel_zoom(app, canvas, handler, rng) -> None:
    w, h = canvas.width(), canvas.height()
    x, y = w * rng.uniform(0.2, 0.8), h * rng.uniform(0.2, 0.8)
    direction = 1 if rng.random() < 0.5 else -1
    for _ in range(3):
        timed(handler, lambda: wheel(canvas, x, y, direction))
        pump(app, 60)


def arrow_keys(app, canvas, handler, rng) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    keys = [Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Plus, Qt.Key.Key_Minus]
    for key in (keys[int(rng.integers(0, 4))], keys[int(rng.integers(0, 4))], keys[4 + int(rng.integers(0, 2))]):
        timed(handler, lambda: QTest.keyClick(canvas, key))
        pump(app, 60)


INTERACTIONS = {"pan drag": pan_drag, "wheel zoom": wheel_zoom, "arrow keys": arrow_keys}


def views(canvas):
    """Where each round starts: the full extent, a town, a village, a 2 km view (as used)."""
    from desktop.widgets.map_viewport import MapViewport

    full = canvas.viewport()
    for res_factor in (1.0, 0.25, 0.08, 2000 / (full.res * full.width)):
        yield MapViewport(full.cx, full.cy, full.res * res_factor, full.width, full.height, full.dpr)


def run(db: str, size: tuple[int, int], rounds: int, seed: int) -> dict:
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from desktop.app import create_application
    from desktop.commands import _wait
    from desktop.main_window import MainWindow
    from gis.storage.store import open_store

    app = create_application() if QApplication.instance() is None else QApplication.instance()
    if SWITCH_INTERVAL_S is not None:  # the app sets its own (desktop.app.UI_SWITCH_INTERVAL_S); --switch-interval wins
        sys.setswitchinterval(SWITCH_INTERVAL_S)
    store = open_store(db)
    started = time.perf_counter()
    window = MainWindow(store, remember=False)
    window.resize(*size)
    window.show()
    problem = _wait(window, 120)
    if problem:
        raise SystemExit(problem)
    opened = time.perf_counter() - started
    canvas = window.canvas
    pump(app, 1500)  # the interaction indexes are built in a worker after the first map
    canvas.setFocus()
    rng = np.random.default_rng(seed)
    heartbeat = Heartbeat()
    results = {name: {"handler": [], "gaps": [], "cpu": [], "proc": [], "gesture_max": []} for name in INTERACTIONS}
    for _round in range(rounds):
        for start in views(canvas):
            for name, gesture in INTERACTIONS.items():
                canvas.set_viewport(start)
                settle(app, canvas)
                heartbeat.start()
                gesture(app, canvas, results[name]["handler"], rng)
                settle(app, canvas)
                gaps, cpu, proc = heartbeat.stop()
                results[name]["gaps"] += gaps
                results[name]["cpu"] += cpu
                results[name]["proc"] += proc
                results[name].setdefault("long", []).extend(heartbeat.long_gaps())
                results[name]["gesture_max"].append(max(gaps))
    window.close()
    store.close()
    return {"opened_s": opened, "canvas": (canvas.width(), canvas.height()), "results": results}


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="sys.setswitchinterval in ms instead of the app's 1 ms (CPython's default is 5)")
    args = parser.parse_args(argv)
    global SWITCH_INTERVAL_S
    if args.switch_interval:
        SWITCH_INTERVAL_S = args.switch_interval / 1000
    width, height = (int(v) for v in args.size.lower().split("x"))
    outcome = run(args.db, (width, height), args.rounds, args.seed)
    print(f"window {width}x{height}, map canvas {outcome['canvas'][0]}x{outcome['canvas'][1]}, "
          f"opened and first map in {outcome['opened_s']:.1f} s, load average {os.getloadavg()[0]:.1f}")
    print(f"{'interaction':<12} {'events':>6} {'handler med':>12} {'handler max':>12} "
          f"{'gap med':>8} {'gap p99':>8} {'gap max':>8} {'ui cpu':>8} {'proc cpu':>8} {'gestures >16ms':>15}")
    worst = worst_cpu = 0.0
    for name, r in outcome["results"].items():
        gaps, handler, cpu, proc = r["gaps"], r["handler"], r["cpu"], r["proc"]
        over = sum(1 for g in r["gesture_max"] if g > 16)
        worst, worst_cpu = max(worst, max(gaps)), max(worst_cpu, max(cpu))
        print(f"{name:<12} {len(handler):>6} {statistics.median(handler):>10.2f}ms {max(handler):>10.2f}ms "
              f"{statistics.median(gaps):>6.2f}ms {percentile(gaps, 99):>6.2f}ms {max(gaps):>6.1f}ms "
              f"{max(cpu):>6.1f}ms {max(proc):>6.1f}ms {over:>7}/{len(r['gesture_max'])}")
    for name, r in outcome["results"].items():
        if r.get("long"):
            print(f"  {name}: gaps > 16 ms as (wall, UI-thread CPU, process CPU) ms: {sorted(r['long'])[-6:]}")
    print(f"longest UI-thread stall: {worst:.1f} ms wall, longest UI-thread busy stretch: {worst_cpu:.1f} ms CPU "
          f"(goal ≤ 16 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
