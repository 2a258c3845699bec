"""Readings stored once, alarms from the HJ 212 writer, CSV/Excel import, the case number lookup."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import shapely
from sqlalchemy import func, insert, select

from gis.cli import main
from gis.hj212.frame import build_frame
from gis.hj212.receiver import Hj212Receiver
from gis.hj212.writer import insert_readings
from gis.monitoring import parse_rules, save_rules
from gis.storage import schema
from gis.workflow.cases import _next_number
from tests.gis.test_workflow_world import build_world

T0 = datetime(2026, 3, 2, 8, 0)


def _url(store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _station(store, mn, lon, lat, kind="air") -> int:
    with store.engine.begin() as connection:
        return connection.execute(insert(schema.stations).returning(schema.stations.c.id), {
            "mn": mn, "name": f"{mn}站", "kind": kind, "lon": lon, "lat": lat, "location": shapely.Point(lon, lat),
            "active": True, "created_at": T0}).scalar_one()


def _count(store, table=schema.readings) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_resent_reading_is_stored_once_on_every_insert_path(store):
    row = {"station_id": None, "mn": "DEV1", "cn": "2061", "data_time": T0, "pollutant": "a34004", "rtd": None,
           "avg": 40.0, "min": None, "max": None, "flag": "N", "received_at": T0}
    other = {**row, "pollutant": "a34002", "avg": 70.0}
    with store.engine.begin() as connection:
        assert insert_readings(connection, [row, other, dict(row)]) == 2  # a duplicate inside one batch too
    with store.engine.begin() as connection:
        assert insert_readings(connection, [{**row, "avg": 41.0}, {**row, "cn": "2051"}]) == 1
    with store.engine.begin() as connection:  # twice in one transaction (PostgreSQL's staging table is emptied)
        assert insert_readings(connection, [{**row, "data_time": T0 + timedelta(hours=1)}]) == 1
        assert insert_readings(connection, [{**other, "data_time": T0 + timedelta(hours=1)}]) == 1
    with store.engine.connect() as connection:
        values = connection.execute(select(schema.readings.c.cn, schema.readings.c.pollutant, schema.readings.c.avg)
                                    .order_by(schema.readings.c.id)).all()
    assert [tuple(v) for v in values] == [("2061", "a34004", 40.0), ("2061", "a34002", 70.0), ("2051", "a34004", 40.0),
                                          ("2061", "a34004", 40.0), ("2061", "a34002", 70.0)]


def test_the_receiver_raises_one_alarm_case_for_repeated_exceedances(store):
    world = build_world(store)
    lon, lat = world.centre("T2N2")
    _station(store, "AIR-9", lon, lat)
    with store.engine.begin() as connection:
        save_rules(connection, parse_rules([{"code": "pm25", "kind": "threshold", "pollutant": "a34004",
                                             "station_kind": "air", "limit": 75}]))

    def frame(hour, value):
        return build_frame("22", "2061", "AIR-9", {"DataTime": T0 + timedelta(hours=hour), "a34004-Avg": value,
                                                   "a34004-Flag": "N"})

    async def scenario():
        async with Hj212Receiver(store, port=0, flush_interval=0.01) as receiver:
            for batch in ([frame(0, 50.0)], [frame(1, 120.0)], [frame(2, 130.0), frame(2, 130.0)], [frame(3, 99.0)]):
                reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
                writer.write(b"".join(batch))
                await writer.drain()
                writer.close()
                await writer.wait_closed()
                for _ in range(200):
                    await asyncio.sleep(0.01)
                    if receiver.stats.frames_ok >= 5 and _count(store) >= 4:
                        break
                await receiver.store_writer.drain()

    asyncio.run(scenario())
    assert _count(store) == 4  # the re-sent frame of hour 2 once
    with store.engine.connect() as connection:
        alarm = connection.execute(select(schema.alarms)).one()
        case = connection.execute(select(schema.cases)).one()
    assert (alarm.occurrences, alarm.value, alarm.last_value) == (3, 120.0, 99.0)
    assert case.id == alarm.case_id and case.grid_id == world["T2N2"].id and case.state == "已派发"


def test_import_readings_all_or_nothing_then_alarms(store, tmp_path, capsys):
    build_world(store)
    _station(store, "OUT-1", 112.81, 35.42, kind="outlet")
    with store.engine.begin() as connection:
        save_rules(connection, parse_rules([{"code": "so2", "kind": "threshold", "pollutant": "a21026", "limit": 50}]))
    bad = tmp_path / "bad.csv"
    bad.write_text("MN,time,pollutant,value,flag\nOUT-1,2026-03-02 08:00,a21026,30,N\n"
                   "NOPE,2026-03-02 09:00,a21026,abc,N\nOUT-1,yesterday,a21026,20,TOOLONG\n", encoding="utf-8")
    assert main(["import-readings", str(bad), "--db", _url(store)]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "envgrid import-readings: bad.csv: row 3, column MN: unknown station 'NOPE' (no station has this MN or name)",
        "envgrid import-readings: bad.csv: row 3, column value: not a number: 'abc'",
        "envgrid import-readings: bad.csv: row 4, column time: not a date-time: 'yesterday' (e.g. 2024-05-01 08:00)",
        "envgrid import-readings: bad.csv: row 4, column flag: an HJ 212 data flag has at most 4 characters, got 'TOOLONG'",
    ]
    assert _count(store) == 0
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["站点", "时间", "因子", "值", "标记"])
    sheet.append(["OUT-1站", T0, "a21026", 30.0, "N"])  # by station name, an Excel date-time cell
    sheet.append(["OUT-1", "2026-03-02 09:00", "a21026", 80.0, "N"])
    sheet.append(["OUT-1", "2026-03-02T10:00", "a21026", 90, None])
    good = tmp_path / "good.xlsx"
    book.save(good)
    assert main(["import-readings", str(good), "--db", _url(store)]) == 0
    assert "3 readings stored, 0 already present; 1 alarms raised" in capsys.readouterr().out
    assert main(["import-readings", str(good), "--db", _url(store)]) == 0
    assert "0 readings stored, 3 already present; 0 alarms raised" in capsys.readouterr().out
    with store.engine.connect() as connection:
        alarm = connection.execute(select(schema.alarms)).one()
    assert (alarm.occurrences, alarm.last_value) == (2, 90.0)
    assert main(["alarms", "evaluate", "--db", _url(store), "--at", "2026-03-02T12:00", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing new: the import already evaluated these hours


def test_next_case_number_reads_the_day_by_range(store):
    day = datetime(2026, 3, 2, 9, 0)
    with store.engine.begin() as connection:
        category = connection.execute(select(schema.case_categories.c.id)).scalars().first()
        for number in ("AJ20260302001", "AJ20260302999", "AJ202603021000", "AJ20260301998", "AJ20260303005"):
            connection.execute(insert(schema.cases).values(
                number=number, source="巡查上报", category_id=category, description="x", state="待受理",
                created_at=day, version=1))
        assert _next_number(connection, day, 1) == ("AJ202603021001", 1001)
        assert _next_number(connection, datetime(2026, 3, 4), 1) == ("AJ20260304001", 1)
        assert _next_number(connection, datetime(2026, 3, 4), 7) == ("AJ20260304007", 7)
        assert _next_number(connection, datetime(2026, 3, 1), 1) == ("AJ20260301999", 999)
