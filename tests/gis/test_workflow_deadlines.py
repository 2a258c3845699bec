"""Deadlines in hours and working days, the seeded 2026 calendar, overdue cases and 督办."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from gis.domain import CaseAction, CaseSource, CaseState, CaseSummary
from gis.workflow.cases import apply_action, create_case, read_case_detail, resolve_category
from gis.workflow.deadlines import (DeadlineRule, WorkCalendar, describe_time_left, load_calendar, overdue_cases,
                                    read_deadline_rules, remind, remind_overdue, set_calendar_days,
                                    set_deadline_rule, time_left)
from gis.workflow.transitions import WorkflowError
from test_workflow_world import T0, build_world

A, S = CaseAction, CaseState


def test_workdays_skip_the_weekend():
    calendar = WorkCalendar()
    friday = datetime(2026, 3, 13, 15, 0)
    assert calendar.add_workdays(friday, 2) == datetime(2026, 3, 17, 15, 0)  # Tuesday
    assert calendar.add_workdays(datetime(2026, 3, 14, 10, 0), 1) == datetime(2026, 3, 17, 0, 0)  # Sat → end of Mon
    assert calendar.add_workdays(datetime(2026, 3, 16, 9, 30), 5) == datetime(2026, 3, 23, 9, 30)


def test_workdays_skip_holidays_and_count_makeup_days():
    calendar = WorkCalendar({date(2026, 9, 25): False, date(2026, 9, 20): True})
    # Thursday before 中秋 (Fri 25 – Sun 27 off): Thu 14 h + Mon 24 h + Tue 10 h.
    assert calendar.add_workdays(datetime(2026, 9, 24, 10, 0), 2) == datetime(2026, 9, 29, 10, 0)
    # Saturday 19th: Sunday 20th is a 调休 working day, so one working day ends Monday 00:00.
    assert calendar.add_workdays(datetime(2026, 9, 19, 10, 0), 1) == datetime(2026, 9, 21, 0, 0)
    with pytest.raises(WorkflowError, match="工作日历"):
        WorkCalendar({date(2030, 1, 1) + timedelta(days=i): False for i in range(3700)}).add_workdays(
            datetime(2030, 1, 1), 1)


def test_seeded_calendar_and_rules(store):
    with store.engine.begin() as connection:
        calendar = load_calendar(connection)
        rules = read_deadline_rules(connection)
        set_calendar_days(connection, [(date(2027, 1, 1), False, "元旦"), (date(2026, 10, 10), True, "国庆节调休上班")])
        assert load_calendar(connection).overrides[date(2027, 1, 1)] is False
    assert not calendar.is_workday(date(2026, 10, 1)) and not calendar.is_workday(date(2026, 2, 16))
    assert calendar.is_workday(date(2026, 10, 10)) and calendar.is_workday(date(2026, 2, 14))  # Saturdays, 调休
    assert calendar.is_workday(date(2026, 10, 9)) and not calendar.is_workday(date(2026, 10, 11))
    assert sum(1 for on in calendar.overrides.values() if not on) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert {(r.source, r.hours) for r in rules} == {("监测报警", 24), ("群众举报", 72), ("巡查上报", 168),
                                                    ("上级交办", 120)}
    assert all(r.category_id is None and r.workdays is None for r in rules)


def test_category_rule_in_working_days_across_the_mid_autumn_holiday(store):
    world = build_world(store)
    lon, lat = world.centre("T2S2")
    thursday = datetime(2026, 9, 24, 10, 0)
    with store.engine.begin() as connection:
        dust, _ = resolve_category(connection, "扬尘污染")
        set_deadline_rule(connection, CaseSource.COMPLAINT, dust, workdays=2)
        with pytest.raises(WorkflowError, match="之一"):
            set_deadline_rule(connection, CaseSource.COMPLAINT, dust, hours=1, workdays=1)
        by_workdays = create_case(connection, source="群众举报", category="扬尘污染", description="x", actor="a",
                                  lon=lon, lat=lat, now=thursday)
        by_hours = create_case(connection, source="群众举报", category="噪声扰民", description="x", actor="a",
                               lon=lon, lat=lat, now=thursday)
        set_deadline_rule(connection, CaseSource.COMPLAINT, dust, workdays=3)  # replaces, not adds
        rules = [r for r in read_deadline_rules(connection) if r.category_id == dust]
    assert by_workdays.due_at == datetime(2026, 9, 29, 10, 0)
    assert by_hours.due_at == thursday + timedelta(hours=72)
    assert rules == [DeadlineRule("群众举报", dust, None, 3)] and rules[0].describe() == "3 个工作日"


def _dispatched(store, world, code, at, **extra):
    lon, lat = world.centre(code)
    with store.engine.begin() as connection:
        new = create_case(connection, source="监测报警", category="监测超标", description="PM2.5 超标", actor="系统",
                          lon=lon, lat=lat, now=at, **extra)
        apply_action(connection, new.id, A.DISPATCH, "坐席", now=at + timedelta(minutes=10))
    return new


def test_overdue_cases_and_reminders_name_the_leader_and_phone(store):
    world = build_world(store)
    late = _dispatched(store, world, "T2N1", T0)  # alarm: due in 24 h
    village = _dispatched(store, world, "T1S1", T0 + timedelta(hours=1))
    on_time = _dispatched(store, world, "T2N2", T0 + timedelta(hours=30))  # due after every "now" below
    closed = _dispatched(store, world, "T2S1", T0)
    with store.engine.begin() as connection:
        apply_action(connection, village.id, A.ESCALATE, "网格员", now=T0 + timedelta(hours=2))
        for action, extra in ((A.ACCEPT, {}), (A.RECTIFY, {"note": "ok"}), (A.SUBMIT_RECHECK, {}), (A.CLOSE, {})):
            apply_action(connection, closed.id, action, "网格员", now=T0 + timedelta(hours=3), **extra)
    now = T0 + timedelta(hours=26)
    with store.engine.begin() as connection:
        overdue = overdue_cases(connection, now)
        assert [o.number for o in overdue] == [late.number, village.number]
        first, second = overdue
        assert first.overdue_by == timedelta(hours=2) and first.leader.phone == world.people["T2N1"].phone
        assert first.holder == f"{world['T2N1'].name} 网格长 {world.people['T2N1'].name}"
        # At a village the 第一网格长 (the town cadre) answers for it (seed 001).
        assert second.grid_id == world["T1S"].id and second.leader.name == "包村干部"
        assert second.leader_role == "第一网格长"
        results = remind_overdue(connection, "督办员", now)
        assert [r.number for r in results] == [late.number, village.number]
        assert remind_overdue(connection, "督办员", now + timedelta(hours=23)) == []
        assert len(remind_overdue(connection, "督办员", now + timedelta(hours=24))) == 2
        detail = read_case_detail(connection, late.id)
    reminder = next(e for e in detail.events if e.action == A.REMIND)
    assert reminder.payload["phone"] == world.people["T2N1"].phone
    assert reminder.payload["leader"] == world.people["T2N1"].name and reminder.internal
    assert world.people["T2N1"].phone in reminder.note and "超期 2小时" in reminder.note
    assert reminder.from_state == reminder.to_state == S.DISPATCHED and detail.version == 2  # no state change
    with store.engine.connect() as connection:
        assert overdue_cases(connection, now)[0].last_reminded_at == now + timedelta(hours=24)
        assert on_time.number not in {o.number for o in overdue_cases(connection, now)}


def test_reminding_a_case_that_is_not_overdue_or_finished(store):
    world = build_world(store)
    new = _dispatched(store, world, "T1N2", T0)
    with store.engine.begin() as connection:
        assert remind(connection, new.number, "领导", T0 + timedelta(hours=1)).action == A.REMIND
        apply_action(connection, new.id, A.FALSE_REPORT, "网格员", reason="设备故障", now=T0 + timedelta(hours=2))
        with pytest.raises(WorkflowError, match="误报 的案件不能执行「督办」"):
            remind(connection, new.number, "领导", T0 + timedelta(hours=3))


def _summary(state, due_at):
    return CaseSummary(1, "AJ1", "群众举报", "其他", state, None, "", None, None, T0, due_at, None)


def test_time_left_counts_down_and_stops_when_finished():
    due = T0 + timedelta(hours=30)
    assert time_left(_summary(S.IN_PROGRESS, due), T0) == timedelta(hours=30)
    assert time_left(_summary(S.IN_PROGRESS, due), due + timedelta(minutes=90)) == -timedelta(minutes=90)
    assert time_left(_summary(S.CLOSED, due), T0) is None
    assert time_left(_summary(S.PENDING, None), T0) is None
    assert describe_time_left(timedelta(hours=30)) == "剩余 1天6小时"
    assert describe_time_left(-timedelta(minutes=90)) == "超期 1小时30分"
    assert describe_time_left(timedelta(minutes=5)) == "剩余 5分"
    assert describe_time_left(None) == "—"
