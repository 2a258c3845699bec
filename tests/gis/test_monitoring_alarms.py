"""Alarm rules: validation, evaluation on readings, one open alarm per station + pollutant + rule."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import shapely
from sqlalchemy import insert, select

from gis.cli import main
from gis.domain import CaseSource, CaseState
from gis.hj212.writer import insert_readings
from gis.monitoring import AlarmEngine, RuleError, parse_rules, read_rules, save_rules
from gis.storage import schema
from gis.workflow.cases import apply_action
from tests.gis.test_workflow_world import build_world

T0 = datetime(2026, 3, 2, 8, 0)
RULES = [
    {"code": "pm25", "kind": "threshold", "pollutant": "a34004", "station_kind": "air", "limit": 75},
    {"code": "so2-outlet", "kind": "threshold", "pollutant": "a21026", "station_kind": "outlet", "limit": 50},
    {"code": "aqi", "kind": "aqi", "station_kind": "air", "level": 4},
    {"code": "rise", "kind": "rise", "pollutant": "a21004", "factor": 2.0, "absolute": 30, "window": 4},
    {"code": "offline", "kind": "offline", "minutes": 120},
    {"code": "fault", "kind": "flag", "flags": ["D"]},
]


def _setup(store):
    world = build_world(store)
    lon, lat = world.centre("T1N1")
    ids = {}
    with store.engine.begin() as connection:
        for mn, kind, (x, y) in (("AIR1", "air", (lon, lat)), ("OUT1", "outlet", world.centre("T2S2"))):
            ids[mn] = connection.execute(insert(schema.stations).returning(schema.stations.c.id), {
                "mn": mn, "name": f"{mn}站", "kind": kind, "lon": x, "lat": y, "location": shapely.Point(x, y),
                "grid_id": world["D"].id, "active": True, "created_at": T0}).scalar_one()
        save_rules(connection, parse_rules(RULES))
    return world, ids


def _row(station_id, mn, at, code, value, flag="N", cn="2061"):
    return {"station_id": station_id, "mn": mn, "cn": cn, "data_time": at, "pollutant": code, "rtd": None,
            "avg": value, "min": None, "max": None, "flag": flag, "received_at": at}


def _write_and_evaluate(store, engine, rows, now):
    with store.engine.begin() as connection:
        insert_readings(connection, rows)
    with store.engine.begin() as connection:
        return engine.evaluate_rows(connection, rows, now=now)


def test_threshold_alarm_opens_a_dispatched_case_in_the_lowest_grid_and_repeats_merge(store):
    world, ids = _setup(store)
    engine = AlarmEngine()
    air = ids["AIR1"]
    first = _write_and_evaluate(store, engine, [_row(air, "AIR1", T0, "a34004", 60.0)], T0)
    assert first == []  # below the limit
    raised = _write_and_evaluate(store, engine, [_row(air, "AIR1", T0 + timedelta(hours=1), "a34004", 90.0)],
                                 T0 + timedelta(hours=1, minutes=2))
    assert [(o.action, o.rule_code, o.pollutant) for o in raised] == [("raised", "pm25", "a34004")]
    # Two more hours above the limit, and one re-sent frame: merged, counted once each.
    for hour, value in ((2, 120.0), (3, 95.5), (3, 95.5)):
        at = T0 + timedelta(hours=hour)
        merged = _write_and_evaluate(store, engine, [_row(air, "AIR1", at, "a34004", value)], at)
    assert [o.action for o in merged] == ["seen"]
    with store.engine.connect() as connection:
        alarm = connection.execute(select(schema.alarms).where(schema.alarms.c.pollutant == "a34004")).one()
        case = connection.execute(select(schema.cases).where(schema.cases.c.id == alarm.case_id)).one()
        assert connection.execute(select(schema.readings.c.id).where(schema.readings.c.mn == "AIR1")).all().__len__() == 4
    assert (alarm.occurrences, alarm.value, alarm.last_value, alarm.last_at) == (3, 90.0, 95.5, T0 + timedelta(hours=3))
    assert alarm.status == "待反馈" and alarm.rule_id is not None and alarm.threshold == 75
    assert case.source == CaseSource.ALARM and case.state == CaseState.DISPATCHED
    assert case.grid_id == world["T1N1"].id  # the lowest grid containing the station, not the station's own
    assert case.due_at == T0 + timedelta(hours=25, minutes=2)  # 24 h from raising
    assert "AIR1" in case.description and "90" in case.description and "pm25" in case.description


def test_closing_the_case_lets_the_next_firing_open_a_new_alarm(store):
    _world, ids = _setup(store)
    engine = AlarmEngine()
    out = ids["OUT1"]
    [raised] = _write_and_evaluate(store, engine, [_row(out, "OUT1", T0, "a21026", 80.0)], T0)
    with store.engine.begin() as connection:
        for action, options in (("签收处置", {}), ("整改完成", {"note": "已停产整改"}), ("提交复查", {}),
                                ("复查销号", {})):
            apply_action(connection, raised.case_id, action, "测试员", now=T0 + timedelta(hours=2), **options)
    # The old hour again (re-evaluation) opens nothing; a new exceedance opens a new alarm.
    with store.engine.begin() as connection:
        assert [o.action for o in engine.evaluate_rows(connection, [_row(out, "OUT1", T0, "a21026", 80.0)])] == ["seen"]
    again = _write_and_evaluate(store, engine, [_row(out, "OUT1", T0 + timedelta(hours=5), "a21026", 70.0)],
                                T0 + timedelta(hours=5))
    assert [o.action for o in again] == ["raised"] and again[0].case_id != raised.case_id
    # The air limit does not apply to an outlet, nor the outlet limit to air.
    assert _write_and_evaluate(store, engine, [_row(out, "OUT1", T0 + timedelta(hours=6), "a34004", 500.0)],
                               T0 + timedelta(hours=6)) == []


def test_aqi_rise_flag_and_offline_rules(store):
    _world, ids = _setup(store)
    engine = AlarmEngine()
    air = ids["AIR1"]
    history = [_row(air, "AIR1", T0 + timedelta(hours=h), "a21004", 20.0 + h) for h in range(4)]
    assert _write_and_evaluate(store, engine, history, T0 + timedelta(hours=4)) == []
    at = T0 + timedelta(hours=4)
    # NO2 jumps from a mean of 21.5 to 60 (×2.8, +38.5): rise. O3 1 h 320 µg/m³ → IAQI 160, 中度污染: AQI.
    # CO flagged D (故障): flag rule; its value is not data, so no other rule reads it.
    fired = _write_and_evaluate(store, engine, [_row(air, "AIR1", at, "a21004", 60.0),
                                                _row(air, "AIR1", at, "a05024", 320.0),
                                                _row(air, "AIR1", at, "a21005", 99.0, flag="D")], at)
    assert sorted((o.rule_code, o.pollutant) for o in fired) == [("aqi", "AQI"), ("fault", "a21005"),
                                                                 ("rise", "a21004")]
    with store.engine.connect() as connection:
        aqi = connection.execute(select(schema.alarms).where(schema.alarms.c.pollutant == "AQI")).one()
    assert aqi.value == 160 and aqi.threshold == 151
    # A small step is not a rise.
    assert _write_and_evaluate(store, engine, [_row(air, "AIR1", at + timedelta(hours=1), "a21004", 45.0)],
                               at + timedelta(hours=1)) == []
    # Offline: AIR1 last sent at 13:00; OUT1 never sent anything (not connected yet: no alarm).
    with store.engine.begin() as connection:
        assert engine.evaluate_offline(connection, at + timedelta(minutes=100)) == []
        offline = engine.evaluate_offline(connection, at + timedelta(hours=3))
        assert [(o.action, o.station_mn, o.pollutant) for o in offline] == [("raised", "AIR1", "离线")]
        assert [o.action for o in engine.evaluate_offline(connection, at + timedelta(hours=4))] == ["seen"]


def test_rule_files_are_checked_whole_with_one_line_per_problem(store, tmp_path, capsys):
    bad = tmp_path / "rules.json"
    bad.write_text(json.dumps({"rules": [
        {"code": "ok", "kind": "threshold", "pollutant": "a34004", "limit": 75},
        {"code": "neg", "kind": "threshold", "pollutant": "a34004", "limit": -1},
        {"code": "what", "kind": "spike"},
        {"code": "ok", "kind": "offline", "minutes": 60},
        {"code": "lvl", "kind": "aqi", "level": 9, "colour": "red"},
    ]}), encoding="utf-8")
    url = store.engine.url.render_as_string(hide_password=False)
    assert main(["alarms", "set-rules", str(bad), "--db", url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "envgrid alarms: rules.json: rule 2 (neg): 'limit' must be a number at least 0, got -1",
        "envgrid alarms: rules.json: rule 3 (what): 'kind' must be one of threshold, aqi, rise, offline, flag, got 'spike'",
        "envgrid alarms: rules.json: rule 4 (ok): code already used by rule 1",
        "envgrid alarms: rules.json: rule 5 (lvl): unknown field(s) for a aqi rule: colour",
        "envgrid alarms: rules.json: rule 5 (lvl): 'level' must be an AQI level 2-6 (4 = 中度污染), got 9",
    ]
    with store.engine.connect() as connection:
        assert read_rules(connection) == []  # nothing stored
    good = tmp_path / "rules.toml"
    good.write_text('[[rule]]\ncode = "pm25"\nkind = "threshold"\npollutant = "a34004"\nlimit = 75\n'
                    '[[rule]]\ncode = "off"\nkind = "offline"\nminutes = 90\n', encoding="utf-8")
    assert main(["alarms", "set-rules", str(good), "--db", url]) == 0
    assert "2 added" in capsys.readouterr().out
    good.write_text('[[rule]]\ncode = "pm25"\nkind = "threshold"\npollutant = "a34004"\nlimit = 115\n',
                    encoding="utf-8")
    assert main(["alarms", "set-rules", str(good), "--replace", "--db", url]) == 0
    assert "1 updated, 1 disabled" in capsys.readouterr().out
    assert main(["alarms", "rules", "--json", "--db", url]) == 0
    listed = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed["pm25"]["limit"] == 115 and listed["off"]["enabled"] is False
    assert main(["alarms", "set-rules", "--defaults", "--db", url]) == 0
    with store.engine.connect() as connection:
        codes = {r.code for r in read_rules(connection)}
    assert {"air-pm25", "outlet-so2", "air-aqi", "offline", "flag-fault"} <= codes


def test_parse_rules_rejects_entries_that_are_not_tables():
    with pytest.raises(RuleError) as caught:
        parse_rules(["pm25"], "f.json")
    assert caught.value.problems == ["f.json: rule 1: a rule must be a table/object, got str"]
