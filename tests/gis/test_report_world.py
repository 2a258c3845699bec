"""A small, hand-checkable workspace for the period report (imported by the other test_report_* modules).

The report week is Mon 2026-09-14 … Sun 09-20 (end 09-21 00:00); the week before is 09-07 … 09-13.
Grids and leaders come from ``test_workflow_world`` (towns T1 西镇 / T2 东镇, villages T1S …, areas T1S1 …).

=====  ==========  ======  ======  =========================================  ==========================
case   source      grid    made    what happens                               at the report's end
=====  ==========  ======  ======  =========================================  ==========================
A      群众举报     T1S1    09-14   派发 09-14, 销号 09-15 10:00 (due 09-17)     closed on time
B      巡查上报     T1S2    09-15   派发 09-15 (due 09-22 09:00, 168 h)         open; due moved to 09-18
C      监测报警     T2N1    09-16   — (due 09-17 09:00, 24 h)                    待受理, 4 days overdue
D      巡查上报     T1S1    09-19   —                                           open, not due
E      群众举报     T2N2    09-08   派发 09-08, 销号 09-15 (due 09-11)           closed late (this week)
F      群众举报     T1N1    09-10   派发 09-10, 销号 09-11                       closed on time (last week)
G      群众举报     T2S1    09-20   派发 09-22, 销号 09-22 (after the end)       open at the end, not due
H      上级交办     T1N1    09-01   派发 09-01, 销号 09-16 (due 09-06)           closed late (this week)
=====  ==========  ======  ======  =========================================  ==========================

B's deadline is set to 09-18 09:00 in the table (a 72 h rule), so it is 3 days overdue at the end
(2 days 15 h, rounded up). A, B, D are 扬尘污染 in village T1S: a recurring problem (3 times).
Alarms: this week 4 (3 answered within 24 h, one after 30 h); last week 2 (one answered, one not).
Air station 城区空气站: 09-15 PM2.5 80 µg/m³ all day (AQI 107, 轻度污染), 09-16 only 13 hours (no data:
under 20 hours for the means, under 14 valid 8-hour O3 means), 09-17 PM2.5 30 (AQI 43, 优); no other days.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import shapely
from sqlalchemy import update

from gis.domain import CaseAction
from gis.report.period import period_containing
from gis.storage import schema
from gis.workflow.cases import apply_action, create_case
from test_workflow_world import build_world

A = CaseAction
WEEK = period_containing("week", date(2026, 9, 14))
END = WEEK.end
GENERATED = datetime(2026, 11, 2, 8, 0)


def _at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute)


def _close(connection, number, start: datetime, closed: datetime) -> None:
    apply_action(connection, number, A.ACCEPT, "网格员", now=start + timedelta(minutes=30))
    apply_action(connection, number, A.RECTIFY, "网格员", note="已整改", now=closed - timedelta(minutes=20))
    apply_action(connection, number, A.SUBMIT_RECHECK, "网格员", now=closed - timedelta(minutes=10))
    apply_action(connection, number, A.CLOSE, "指挥中心", note="复查合格", now=closed)


def build_report_world(store):
    world = build_world(store)
    numbers = {}
    plan = [  # key, source, category, grid, created, dispatched, closed
        ("H", "上级交办", "散煤燃烧", "T1N1", datetime(2026, 9, 1, 9), datetime(2026, 9, 1, 10), _at(16, 11)),
        ("E", "群众举报", "噪声扰民", "T2N2", _at(8), _at(8, 10), _at(15, 15)),
        ("F", "群众举报", "餐饮油烟", "T1N1", _at(10), _at(10, 10), _at(11, 12)),
        ("A", "群众举报", "扬尘污染", "T1S1", _at(14), _at(14, 9, 30), _at(15, 10)),
        ("B", "巡查上报", "扬尘污染", "T1S2", _at(15), _at(15, 10), None),
        ("C", "监测报警", "监测超标", "T2N1", _at(16), None, None),
        ("D", "巡查上报", "扬尘污染", "T1S1", _at(19), None, None),
        ("G", "群众举报", "噪声扰民", "T2S1", _at(20, 23), _at(22, 8), _at(22, 12)),
    ]
    for key, source, category, code, created, dispatched, closed in plan:
        lon, lat = world.centre(code)
        with store.engine.begin() as connection:
            new = create_case(connection, source=source, category=category, description=f"{category}（{key}）",
                              actor="坐席王", lon=lon, lat=lat, grid_id=world[code].id, now=created)
            numbers[key] = new.number
            if dispatched:
                apply_action(connection, new.number, A.DISPATCH, "指挥中心", now=dispatched)
            if closed:
                _close(connection, new.number, dispatched, closed)
    with store.engine.begin() as connection:
        connection.execute(update(schema.cases).where(schema.cases.c.number == numbers["B"])
                           .values(due_at=datetime(2026, 9, 18, 9)))
        station = connection.execute(schema.stations.insert().values(
            mn="MN0001", name="城区空气站", kind="air", location=shapely.Point(112.85, 35.45), lon=112.85, lat=35.45,
            grid_id=world["T1"].id, active=True, created_at=datetime(2026, 1, 1)).returning(schema.stations.c.id)
        ).scalar_one()
        alarms = [  # raised, answered
            (_at(14, 8), _at(14, 20)), (_at(15, 8), _at(16, 7)), (_at(17, 8), _at(18, 14)), (_at(20, 22), _at(21, 9)),
            (_at(8, 8), _at(8, 9)), (_at(12, 8), None),
        ]
        connection.execute(schema.alarms.insert(), [
            {"station_id": station, "pollutant": "a34004", "value": 120.0, "threshold": 75.0, "raised_at": raised,
             "grid_id": world["T1"].id, "status": "已反馈" if answered else "待反馈",
             "due_at": raised + timedelta(hours=24), "feedback_at": answered, "feedback": "已核查" if answered else ""}
            for raised, answered in alarms])
        rows = []
        for day, hours, pm25, others in ((15, range(24), 80.0, True), (16, range(13), 80.0, True),
                                         (17, range(24), 30.0, False)):
            for hour in hours:
                at = datetime(2026, 9, day, hour)
                values = {"a34004": pm25}
                if others:
                    values |= {"a34002": 50.0, "a21026": 10.0, "a21004": 20.0, "a21005": 0.5, "a05024": 100.0}
                # A maintenance value is not data: 09-17 keeps 23 usable PM2.5 hours (still a valid day).
                maintenance = (day, hour) == (17, 5)
                rows += [{"station_id": station, "mn": "MN0001", "cn": "2061", "data_time": at, "pollutant": code,
                          "avg": 999.0 if maintenance else value, "flag": "M" if maintenance else "N",
                          "received_at": at} for code, value in values.items()]
        connection.execute(schema.readings.insert(), rows)
    return world, numbers


def test_world_has_the_planned_cases(store):
    world, numbers = build_report_world(store)
    with store.engine.connect() as connection:
        states = dict(connection.execute(
            schema.cases.select().with_only_columns(schema.cases.c.number, schema.cases.c.state)).all())
    assert states[numbers["A"]] == "已销号" and states[numbers["G"]] == "已销号"
    assert states[numbers["B"]] == "已派发" and states[numbers["C"]] == "待受理"
    assert WEEK.first == date(2026, 9, 14) and END == datetime(2026, 9, 21)
