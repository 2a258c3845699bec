"""Alarm repeats in the case history (痕迹化) without a storm of events: the first repeat at once,
then at most one 报警持续 event per alarm per ``repeat_minutes``, each summing what it stands for."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import shapely
from sqlalchemy import insert, select

from gis.domain import CaseAction
from gis.monitoring import ACTOR, AlarmEngine, RuleError, parse_rules, save_rules
from gis.monitoring.alarms import value_text
from gis.storage import schema
from gis.storage.changes import latest_change_id, read_changes
from gis.workflow.cases import apply_action, read_events
from tests.gis.test_workflow_world import build_world

T0 = datetime(2026, 3, 2, 8, 0)
LIMIT = 75.0


def _setup(store, repeat_minutes=None):
    world = build_world(store)
    lon, lat = world.centre("T1N1")
    rule = {"code": "pm25-rt", "kind": "threshold", "pollutant": "a34004", "station_kind": "air", "limit": LIMIT,
            "cn": ["2011"]}
    if repeat_minutes is not None:
        rule["repeat_minutes"] = repeat_minutes
    with store.engine.begin() as connection:
        station = connection.execute(insert(schema.stations).returning(schema.stations.c.id), {
            "mn": "AIR1", "name": "AIR1站", "kind": "air", "lon": lon, "lat": lat,
            "location": shapely.Point(lon, lat), "grid_id": world["T1N1"].id, "active": True,
            "created_at": T0}).scalar_one()
        save_rules(connection, parse_rules([rule]))
    return station


def _row(station_id, at, value):
    return {"station_id": station_id, "mn": "AIR1", "cn": "2011", "data_time": at, "pollutant": "a34004",
            "rtd": value, "avg": None, "min": None, "max": None, "flag": "N", "received_at": at}


def _fire(store, engine, station_id, at, value):
    """One real-time reading evaluated as the receiver does: in its own transaction, ``now`` = data time."""
    with store.engine.begin() as connection:
        return engine.evaluate_rows(connection, [_row(station_id, at, value)], now=at)


def _alarm(store):
    with store.engine.connect() as connection:
        return connection.execute(select(schema.alarms)).one()


def _repeat_events(store, case_id):
    with store.engine.connect() as connection:
        return [e for e in read_events(connection, case_id) if e.payload.get("alarm_id") is not None]


def test_the_first_repeat_is_a_case_event_the_seats_see(store):
    station = _setup(store)
    engine = AlarmEngine()
    [raised] = _fire(store, engine, station, T0, 90.0)
    with store.engine.connect() as connection:
        before = latest_change_id(connection)
    repeat_at = T0 + timedelta(minutes=1)
    [merged] = _fire(store, engine, station, repeat_at, 104.5)
    assert merged.action == "merged" and merged.case_id == raised.case_id and merged.event_id is not None

    [event] = _repeat_events(store, raised.case_id)
    assert (event.id, event.action, event.actor, event.at, event.internal) == (
        merged.event_id, CaseAction.NOTE, ACTOR, repeat_at, True)
    assert event.payload == {"alarm_id": raised.alarm_id, "repeats": 1, "occurrences": 2, "peak": 104.5,
                             "last_at": repeat_at.isoformat(timespec="minutes")}
    assert event.note.startswith("报警持续：新增 1 次，最高 104.5 µg/m³")
    alarm = _alarm(store)
    assert (alarm.occurrences, alarm.noted_occurrences, alarm.noted_at, alarm.unnoted_peak) == (2, 2, repeat_at, None)
    # The seats' change feed carries it as a change of that case (desktop.live_apply reads case_id).
    with store.engine.connect() as connection:
        feed = read_changes(connection, before)
    assert any(c.table == "case_events" and c.op == "insert" and c.row_id == event.id
               and c.info["case_id"] == raised.case_id for c in feed)


def test_a_storm_of_500_repeats_is_one_event_per_interval_with_the_sums(store):
    station = _setup(store)  # default interval: 60 minutes
    engine = AlarmEngine()
    [raised] = _fire(store, engine, station, T0, 80.0)
    # 500 real-time readings above the limit, one every 5 s: 41 min 40 s, all within one interval.
    times = [T0 + timedelta(seconds=5 * (i + 1)) for i in range(500)]
    values = [LIMIT + 1 + (i * 37) % 113 + (i % 7) / 10 for i in range(500)]
    outcomes = [o for at, value in zip(times, values) for o in _fire(store, engine, station, at, value)]
    assert [o.action for o in outcomes] == ["merged"] * 500
    assert [o.occurrences for o in outcomes] == list(range(2, 502))
    written = [o.event_id for o in outcomes if o.event_id is not None]
    assert written == [outcomes[0].event_id]  # the first repeat only
    alarm = _alarm(store)
    assert (alarm.occurrences, alarm.noted_occurrences, alarm.last_value, alarm.last_at) == (
        501, 2, values[-1], times[-1])
    assert alarm.unnoted_peak == max(values[1:])

    # The next repeat after the interval tells the rest: 499 tallied + itself.
    late_at = times[0] + timedelta(minutes=60)
    [late] = _fire(store, engine, station, late_at, 90.0)
    events = _repeat_events(store, raised.case_id)
    assert [e.id for e in events] == written + [late.event_id]
    assert events[1].payload["repeats"] == 500 and events[1].payload["occurrences"] == 502
    assert events[1].payload["peak"] == max(values[1:] + [90.0])
    assert f"新增 500 次，最高 {value_text('air', 'a34004', max(values[1:]))}" in events[1].note
    assert "累计 502 次" in events[1].note
    assert all(b.at - a.at >= timedelta(minutes=60) for a, b in zip(events, events[1:]))
    # Every firing is accounted for exactly once across the events (the raising counts as one).
    assert 1 + sum(e.payload["repeats"] for e in events) == _alarm(store).occurrences


def test_a_storm_that_stops_is_told_once_its_interval_has_passed(store):
    station = _setup(store, repeat_minutes=30)
    engine = AlarmEngine()
    [raised] = _fire(store, engine, station, T0, 80.0)
    values = [100.0 + (i * 13) % 41 for i in range(120)]
    times = [T0 + timedelta(seconds=10 * (i + 1)) for i in range(120)]
    for at, value in zip(times, values):
        _fire(store, engine, station, at, value)
    first = times[0]
    # The periodic check (the receiver's offline check, alarms evaluate) within the interval: nothing yet.
    with store.engine.begin() as connection:
        assert engine.evaluate_offline(connection, first + timedelta(minutes=29), now=first + timedelta(minutes=29)) == []
    assert len(_repeat_events(store, raised.case_id)) == 1
    with store.engine.begin() as connection:
        [noted] = engine.evaluate_offline(connection, first + timedelta(minutes=30), now=first + timedelta(minutes=30))
        assert engine.evaluate_offline(connection, first + timedelta(minutes=90), now=first + timedelta(minutes=90)) == []
    assert (noted.action, noted.alarm_id, noted.occurrences) == ("noted", raised.alarm_id, 121)
    events = _repeat_events(store, raised.case_id)
    assert [e.payload["repeats"] for e in events] == [1, 119]
    assert events[1].payload["peak"] == max(values[1:]) and events[1].at == first + timedelta(minutes=30)
    alarm = _alarm(store)
    assert (alarm.noted_occurrences, alarm.unnoted_peak) == (121, None)


def test_repeat_minutes_zero_records_every_repeat(store):
    station = _setup(store, repeat_minutes=0)
    engine = AlarmEngine()
    [raised] = _fire(store, engine, station, T0, 80.0)
    for second in (1, 2, 3):
        _fire(store, engine, station, T0 + timedelta(seconds=second), 85.0 + second)
    assert [e.payload["occurrences"] for e in _repeat_events(store, raised.case_id)] == [2, 3, 4]


def test_a_finished_case_gets_no_more_repeat_events(store):
    station = _setup(store)
    engine = AlarmEngine()
    [raised] = _fire(store, engine, station, T0, 80.0)
    for minute in (1, 2):  # the first is an event, the second waits in the tally
        _fire(store, engine, station, T0 + timedelta(minutes=minute), 85.0 + minute)
    assert [e.payload["occurrences"] for e in _repeat_events(store, raised.case_id)] == [2]
    with store.engine.begin() as connection:
        apply_action(connection, raised.case_id, "误报", "测试员", reason="仪器校准", now=T0 + timedelta(minutes=3))
    # The next firing opens a new alarm (and case); the finished case's history stays as it was.
    [again] = _fire(store, engine, station, T0 + timedelta(minutes=4), 95.0)
    assert again.action == "raised" and again.case_id != raised.case_id
    with store.engine.begin() as connection:
        assert engine.evaluate_offline(connection, T0 + timedelta(hours=3), now=T0 + timedelta(hours=3)) == []
    assert len(_repeat_events(store, raised.case_id)) == 1


def test_repeat_minutes_is_checked_with_the_rule():
    [rule] = parse_rules([{"code": "x", "kind": "offline", "minutes": 60, "repeat_minutes": 15}])
    assert rule.repeat_interval == timedelta(minutes=15)
    assert parse_rules([{"code": "y", "kind": "offline", "minutes": 60}])[0].repeat_interval == timedelta(hours=1)
    with pytest.raises(RuleError, match="repeat_minutes"):
        parse_rules([{"code": "z", "kind": "offline", "minutes": 60, "repeat_minutes": -5}])


def test_values_are_told_in_their_units():
    assert value_text("air", "a34004", 135.0) == "135 µg/m³"
    assert value_text("air", "a21005", 2.1) == "2.1 mg/m³"
    assert value_text("water", "w01018", 18.0) == "18 mg/L"
    assert value_text("outlet", "a21026", 60.0) == "60 mg/m³"
    assert value_text("air", "AQI", 160.0) == "AQI 160"
    assert value_text("air", "离线", 185.0) == "185 分钟"
