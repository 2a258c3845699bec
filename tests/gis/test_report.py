"""The period report's figures on both backends, against the hand-made week of ``test_report_world``."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest

from gis.report.build import build_report
from gis.report.period import PeriodError, period_containing, resolve_period
from test_report_world import END, GENERATED, WEEK, build_report_world


@pytest.fixture
def report(store):
    world, numbers = build_report_world(store)
    with store.engine.connect() as connection:
        built = build_report(connection, WEEK, generated_at=GENERATED)
    return built, numbers


def test_kpis_this_week_and_the_week_before(report):
    built, _ = report
    kpis = {k.name: k for k in built.kpis}
    expected = {  # name: (this week, week before, change)
        "新增案件": (5, 2, "↑150.0%"),
        "派发案件": (2, 2, "持平"),
        "办结案件": (3, 1, "↑200.0%"),
        "按期办结率": (33.3, 100.0, "↓66.7个百分点"),
        "期末超期未办结": (2, 2, "持平"),
        "监测报警": (4, 2, "↑100.0%"),
        "报警24小时内反馈率": (75.0, 50.0, "↑25.0个百分点"),
        "巡查上报": (2, 0, "新增"),
    }
    assert list(kpis) == list(expected)
    for name, (value, previous, change) in expected.items():
        assert (kpis[name].value, kpis[name].previous, kpis[name].change_text) == (value, previous, change), name


def test_breakdowns_by_category_source_grid_and_day(report):
    built, _ = report
    assert built.by_category == [("扬尘污染", 3), ("噪声扰民", 1), ("监测超标", 1)]  # ties by name
    assert built.by_source == [("巡查上报", 2), ("群众举报", 2), ("监测报警", 1), ("上级交办", 0)]
    grids = {r.name: (r.new, r.closed, r.open_at_end, r.overdue_at_end) for r in built.by_grid}
    assert grids == {"西镇": (3, 2, 2, 1), "东镇": (2, 1, 2, 1)}
    assert [(r.name, r.parent, r.new) for r in built.top_grids] == [
        ("西镇S村", "西镇", 3), ("东镇N村", "东镇", 1), ("东镇S村", "东镇", 1)]
    daily = {d.day.day: (d.new, d.closed) for d in built.daily}
    assert daily == {14: (1, 0), 15: (1, 2), 16: (1, 1), 17: (0, 0), 18: (0, 0), 19: (1, 0), 20: (1, 0)}


def test_overdue_list_uses_the_state_at_the_end_of_the_period(report):
    built, numbers = report
    rows = [(r.number, r.category, r.grid, r.state, r.leader, r.days) for r in built.overdue]
    assert rows == [
        (numbers["C"], "监测超标", "东镇N村一片", "待受理", "指挥中心", 4),
        (numbers["B"], "扬尘污染", "西镇S村二片", "已派发", "网格长 西镇S村二片网格长", 3),
    ]
    # G was closed after the end: it counts as open then, and is on the map of open cases.
    open_numbers = {c.number for c in built.open_at_end}
    assert open_numbers == {numbers[k] for k in "BCDG"}
    assert built.as_of == END and built.district == "测试区"


def test_recurring_problem_in_one_village(report):
    built, numbers = report
    assert len(built.recurring) == 1
    problem = built.recurring[0]
    assert (problem.category, problem.grid, problem.count) == ("扬尘污染", "西镇S村", 3)
    assert problem.sources == "巡查上报×2、群众举报×1"
    assert problem.numbers == "、".join(numbers[k] for k in "ABD")


def test_aqi_days_from_24_hour_means(report):
    built, _ = report
    station, district = built.aqi
    assert station.name == "城区空气站" and district.name == "全区"
    for entry in (station, district):
        assert entry.daily == {date(2026, 9, 15): 107, date(2026, 9, 17): 43}  # 09-16: 13 hours, not a valid day
        assert entry.levels == {3: 1, 1: 1} and entry.no_data == 5
        assert entry.good_days == 1 and entry.good_share == 50.0


def test_an_unfinished_period_counts_open_cases_as_of_now(store):
    world, numbers = build_report_world(store)
    with store.engine.connect() as connection:
        built = build_report(connection, WEEK, generated_at=datetime(2026, 9, 18, 12))
    assert built.as_of == datetime(2026, 9, 18, 12)
    # At 09-18 12:00 only C (due 09-17 09:00) and B (due 09-18 09:00) are late: 2 and 1 days (rounded up).
    assert [(r.number, r.days) for r in built.overdue] == [(numbers["C"], 2), (numbers["B"], 1)]


def test_empty_workspace_gives_zeros_not_errors(store):
    with store.engine.connect() as connection:
        built = build_report(connection, WEEK, generated_at=GENERATED)
    assert [k.value for k in built.kpis] == [0, 0, 0, None, 0, 0, None, 0]
    assert all(k.change_text in ("持平", "—") for k in built.kpis)
    assert built.aqi == [] and built.overdue == [] and built.recurring == []


@pytest.mark.parametrize("kind, day, first, last", [
    ("week", "2026-11-18", date(2026, 11, 16), date(2026, 11, 22)),
    ("week", "2026-11-16", date(2026, 11, 16), date(2026, 11, 22)),
    ("week", "2026-11-22", date(2026, 11, 16), date(2026, 11, 22)),
    ("month", "2024-02-10", date(2024, 2, 1), date(2024, 2, 29)),
    ("month", "2025/12/31", date(2025, 12, 1), date(2025, 12, 31)),
    ("quarter", "20261123", date(2026, 10, 1), date(2026, 12, 31)),
    ("quarter", "2026-03-31", date(2026, 1, 1), date(2026, 3, 31)),
])
def test_period_boundaries(kind, day, first, last):
    period = resolve_period(kind, day)
    assert (period.first, period.last) == (first, last)
    assert period.start == datetime.combine(first, time()) and period.end == datetime.combine(last + timedelta(days=1), time())
    assert period.days[0] == first and period.days[-1] == last and period.previous().end == period.start


def test_previous_and_default_periods():
    assert period_containing("quarter", date(2026, 1, 5)).previous().first == date(2025, 10, 1)
    assert period_containing("month", date(2026, 3, 15)).previous().last == date(2026, 2, 28)
    assert resolve_period("week", today=date(2026, 11, 23)).first == date(2026, 11, 16)  # a Monday: last week
    assert resolve_period("week", today=date(2026, 11, 22)).first == date(2026, 11, 9)
    assert resolve_period("month", today=date(2026, 1, 1)).label == "2025年12月"
    assert resolve_period("quarter", today=date(2026, 11, 23)).label == "2026年第三季度"
    assert period_containing("week", date(2026, 11, 18)).label == "2026年第47周"


@pytest.mark.parametrize("kind, day, message", [
    ("year", None, "--period: expected one of week, month, quarter, got 'year'"),
    ("week", "2026-02-30", "--date: expected a day such as 2026-11-20, got '2026-02-30'"),
    ("week", "next monday", "--date: expected a day"),
    ("month", "2026-12-01", "--date: the month of 2026-12-01 (2026年12月) has not begun yet (today is 2026-11-23)"),
])
def test_bad_period_or_date(kind, day, message):
    with pytest.raises(PeriodError, match=re.escape(message)):
        resolve_period(kind, day, today=date(2026, 11, 23))


def test_daily_means_follow_the_validity_rules():
    from gis.aqi import Pollutant
    from gis.report.air import daily_means

    o3_19_hours = {h: 100.0 + h for h in range(19)}  # 8-hour windows ending 07 … 20 have ≥ 6 hours: 14 valid
    pm_19_hours = {h: 50.0 for h in range(19)}
    means = daily_means({Pollutant.O3: o3_19_hours, Pollutant.PM25: pm_19_hours})
    assert list(means) == [Pollutant.O3]  # PM2.5 needs 20 hours
    assert means[Pollutant.O3] == pytest.approx(sum(range(113, 119)) / 6 + 0)  # window 13…20 holds hours 13…18
    assert daily_means({Pollutant.O3: {h: 100.0 for h in range(18)}}) == {}  # 13 valid windows only
    assert daily_means({Pollutant.PM10: {h: float(h) for h in range(20)}}) == {Pollutant.PM10: 9.5}
