"""``envgrid simulate``: deterministic with a seed, alarms fire, cases move, frames over TCP, Ctrl+C."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import shapely
from sqlalchemy import func, insert, select

from gis.cli import main
from gis.hj212.receiver import Hj212Receiver
from gis.monitoring import install_default_rules
from gis.simulate import SimConfig, Simulator
from gis.storage import schema
from gis.storage.store import open_store
from tests.gis.test_workflow_world import build_world

ROOT = Path(__file__).resolve().parents[2]
START = "2026-03-02T00:00"


def _workspace(store) -> None:
    world = build_world(store)
    with store.engine.begin() as connection:
        for i, (code, kind) in enumerate((("T1N1", "air"), ("T2S1", "air"), ("T2N2", "outlet"), ("T1S2", "water"))):
            lon, lat = world.centre(code)
            connection.execute(insert(schema.stations).values(
                mn=f"SIM{i}", name=f"模拟站{i}", kind=kind, lon=lon, lat=lat, location=shapely.Point(lon, lat),
                active=True, created_at=datetime(2026, 1, 1)))
        install_default_rules(connection)


def _snapshot(url: str) -> dict:
    store = open_store(url)
    with store.engine.connect() as connection:
        def rows(query):
            return [tuple(r) for r in connection.execute(query)]
        snap = {
            "readings": rows(select(schema.readings.c.mn, schema.readings.c.cn, schema.readings.c.data_time,
                                    schema.readings.c.pollutant, schema.readings.c.avg, schema.readings.c.flag)
                             .order_by(schema.readings.c.id)),
            "cases": rows(select(schema.cases.c.number, schema.cases.c.source, schema.cases.c.state,
                                 schema.cases.c.grid_id, schema.cases.c.created_at).order_by(schema.cases.c.id)),
            "events": rows(select(schema.case_events.c.case_id, schema.case_events.c.action, schema.case_events.c.at)
                           .order_by(schema.case_events.c.id)),
            "alarms": rows(select(schema.alarms.c.pollutant, schema.alarms.c.occurrences, schema.alarms.c.status)
                           .order_by(schema.alarms.c.id)),
        }
    store.close()
    return snap


def test_same_seed_same_run_with_alarms_and_moving_cases(tmp_path, capsys):
    urls = []
    for name in ("a", "b"):
        url = str(tmp_path / f"{name}.sqlite")
        store = open_store(url)
        _workspace(store)
        store.close()
        urls.append(url)
        argv = ["simulate", "--db", url, "--seed", "7", "--speed", "1e9", "--duration", str(36 * 60 * 60 / 1e9),
                "--start", START]
        assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("2160 simulated minutes") == 2
    first, second = (_snapshot(u) for u in urls)
    assert first == second
    assert len({r[2] for r in first["readings"] if r[1] == "2061"}) == 36  # every hour
    sources = {c[1] for c in first["cases"]}
    assert {"巡查上报", "群众举报", "监测报警"} <= sources
    assert {"已销号"} <= {c[2] for c in first["cases"]}
    actions = {e[1] for e in first["events"]}
    assert {"登记", "派发", "签收处置", "整改完成", "提交复查", "复查销号"} <= actions
    assert first["alarms"] and any(a[2] in ("已反馈", "超时反馈") for a in first["alarms"])
    # A different seed is a different run.
    url = str(tmp_path / "c.sqlite")
    store = open_store(url)
    _workspace(store)
    store.close()
    assert main(["simulate", "--db", url, "--seed", "8", "--speed", "1e9", "--duration", str(3 * 60 * 60 / 1e9),
                 "--start", START]) == 0
    other = _snapshot(url)["readings"]
    assert other != first["readings"][:len(other)]


def test_frames_go_to_a_running_receiver(store):
    _workspace(store)
    ready, done = threading.Event(), threading.Event()
    box = {}

    async def serve():
        async with Hj212Receiver(store, port=0, flush_interval=0.01) as receiver:
            box["receiver"] = receiver
            ready.set()
            while not done.is_set():
                await asyncio.sleep(0.02)
            for _ in range(200):
                if receiver.stats.frames_ok >= box.get("frames", 0):
                    break
                await asyncio.sleep(0.02)

    thread = threading.Thread(target=lambda: asyncio.run(serve()))
    thread.start()
    try:
        assert ready.wait(10)
        config = SimConfig(seed=1, speed=1e9, duration=3 * 60 * 60 / 1e9, start=datetime(2026, 3, 2),
                           hj212=("127.0.0.1", box["receiver"].port))
        stats = Simulator(store, config).run()
        box["frames"] = stats.frames
    finally:
        done.set()
        thread.join(30)
    # 3 hours: 36 minute frames and 3 hourly frames per station.
    assert stats.frames == 4 * (36 + 3) and box["receiver"].stats.frames_ok == stats.frames
    with store.engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(schema.readings)).scalar_one()
    assert stored == stats.readings


def test_bad_options_and_ctrl_c(tmp_path, capsys):
    url = str(tmp_path / "w.sqlite")
    assert main(["simulate", "--db", url, "--rate", "0", "--speed", "-1"]) == 1
    assert capsys.readouterr().err.splitlines() == ["envgrid simulate: --rate must be above 0, got 0",
                                                    "envgrid simulate: --speed must be above 0, got -1"]
    assert main(["simulate", "--db", url]) == 1
    assert "has no active monitoring stations" in capsys.readouterr().err
    store = open_store(url)
    _workspace(store)
    store.close()
    process = subprocess.Popen([sys.executable, "-m", "gis", "simulate", "--db", url, "--speed", "600"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert "Ctrl+C stops" in process.stderr.readline()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "simulated minutes" in out and "Traceback" not in err
