"""The HJ 212 receiver and ``envgrid alarms evaluate`` evaluating at the same time open one alarm,
not two: evaluation holds a lock (PostgreSQL advisory, SQLite write lock) for its transaction."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
import shapely
from sqlalchemy import func, insert, select, text

from gis.cli import main
from gis.hj212.writer import insert_readings
from gis.monitoring import AlarmEngine, parse_rules, save_rules
from gis.storage import schema
from tests.gis.test_workflow_world import build_world

T0 = datetime(2026, 3, 2, 8, 0)
THREADS = 4


def _setup(store):
    world = build_world(store)
    lon, lat = world.centre("T2S1")
    with store.engine.begin() as connection:
        station = connection.execute(insert(schema.stations).returning(schema.stations.c.id), {
            "mn": "AIR7", "name": "AIR7站", "kind": "air", "lon": lon, "lat": lat,
            "location": shapely.Point(lon, lat), "grid_id": world["T2S1"].id, "active": True,
            "created_at": T0}).scalar_one()
        save_rules(connection, parse_rules([{"code": "pm25", "kind": "threshold", "pollutant": "a34004",
                                             "station_kind": "air", "limit": 75}]))
    rows = [{"station_id": station, "mn": "AIR7", "cn": "2061", "data_time": T0 + timedelta(hours=h),
             "pollutant": "a34004", "rtd": None, "avg": 120.0 + h, "min": None, "max": None, "flag": "N",
             "received_at": T0 + timedelta(hours=h)} for h in range(3)]
    with store.engine.begin() as connection:
        insert_readings(connection, rows)
    return rows


def _counts(store) -> tuple[int, int]:
    with store.engine.connect() as connection:
        return (connection.execute(select(func.count()).select_from(schema.alarms)).scalar_one(),
                connection.execute(select(func.count()).select_from(schema.cases)).scalar_one())


def test_concurrent_evaluations_open_exactly_one_alarm(store):
    rows = _setup(store)
    start = threading.Barrier(THREADS)
    outcomes: list = []
    errors: list = []

    def evaluate():
        try:
            start.wait(timeout=30)
            with store.engine.begin() as connection:  # one engine each, as separate processes have
                outcomes.extend(AlarmEngine().evaluate_rows(connection, rows, now=T0 + timedelta(hours=3)))
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=evaluate) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(o.action for o in outcomes).count("raised") == 1
    assert _counts(store) == (1, 1)
    with store.engine.connect() as connection:
        alarm = connection.execute(select(schema.alarms)).one()
    # One evaluation raised and merged the later hours; the others found them all seen.
    assert (alarm.occurrences, alarm.last_at) == (len(rows), rows[-1]["data_time"])


@pytest.mark.postgres
def test_the_cli_waits_for_the_receivers_evaluation_then_merges(pg_workspace_url):
    """Deterministic: the receiver's transaction has raised the alarm and not committed; the CLI's
    evaluation blocks on the advisory lock (seen in pg_locks), then finds the alarm and adds nothing."""
    from gis.storage.store import open_store

    store = open_store(pg_workspace_url)
    try:
        rows = _setup(store)
        holder = store.engine.connect()
        holder.begin()
        [raised] = AlarmEngine().evaluate_rows(holder, rows[:1], now=T0 + timedelta(hours=1))
        assert raised.action == "raised"
        result: dict = {}

        def cli():
            try:
                result["code"] = main(["alarms", "evaluate", "--db", pg_workspace_url, "--json",
                                       "--at", (T0 + timedelta(hours=2)).isoformat(), "--hours", "3"])
            except BaseException as exc:  # noqa: BLE001 — reported below
                result["error"] = exc

        thread = threading.Thread(target=cli)
        thread.start()
        waiting = 0
        deadline = time.monotonic() + 60
        with store.engine.connect() as watcher:
            while time.monotonic() < deadline and thread.is_alive():
                waiting = watcher.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).scalar_one()
                watcher.rollback()
                if waiting:
                    break
                time.sleep(0.05)
        assert waiting == 1, "the CLI's evaluation did not wait for the receiver's"
        assert _counts(store) == (0, 0)  # nothing committed yet by either
        holder.commit()
        holder.close()
        thread.join(timeout=120)
        assert result.get("code") == 0, result
        assert _counts(store) == (1, 1)
        with store.engine.connect() as connection:
            alarm = connection.execute(select(schema.alarms)).one()
        assert alarm.id == raised.alarm_id and alarm.occurrences == len(rows)  # hours 1 and 2 merged by the CLI
    finally:
        store.close()
