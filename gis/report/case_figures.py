"""Case and alarm figures of one period, read from the store.

Definitions (period = ``start <= t < end``):

- 新增案件: 上报时间 (created_at) in the period; 巡查上报 is the part with that source.
- 派发案件: cases with a 派发 event in the period (each case once).
- 办结案件: 销号时间 (closed_at) in the period; 按期办结 if closed by its deadline (no deadline: on time).
- 期末超期未办结: registered before the end, not finished at the end (its state then, read from the
  newest state-changing event before the end) and past its deadline at the end.
- 监测报警: raised in the period; 24小时内反馈 if feedback came within 24 h of raising.

The deadline is the case's current one (a later change of deadline is not replayed).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from gis.domain import OPEN_STATES, CaseAction, CaseSource
from gis.report.kpi import Kpi, share
from gis.report.period import Period
from gis.storage.schema import alarms, case_categories, case_events, cases, grids

NO_GRID = "未落网格"
ANSWER_WITHIN = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class GridInfo:
    id: int
    code: str
    name: str
    level: int
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case as the report needs it (state: the state at the end of the period)."""

    id: int
    number: str
    source: str
    category: str
    grid_id: int | None
    state: str
    lon: float | None
    lat: float | None
    created_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    department: str | None = None


class GridTree:
    """Grids by id, and the ancestor of a grid at a level (via parent links)."""

    def __init__(self, connection: Connection):
        query = select(grids.c.id, grids.c.code, grids.c.name, grids.c.level, grids.c.parent_id)
        self.by_id = {r.id: GridInfo(r.id, r.code, r.name, r.level, r.parent_id) for r in connection.execute(query)}

    def ancestor(self, grid_id: int | None, level: int) -> GridInfo | None:
        grid = self.by_id.get(grid_id)
        while grid is not None and grid.level > level:
            grid = self.by_id.get(grid.parent_id)
        return grid if grid is not None and grid.level == level else None

    def at_level(self, level: int) -> list[GridInfo]:
        return sorted((g for g in self.by_id.values() if g.level == level), key=lambda g: g.code)

    def district_name(self) -> str:
        tops = sorted((g for g in self.by_id.values() if g.parent_id is None), key=lambda g: (g.level, g.code))
        return tops[0].name if len(tops) == 1 else ""

    def name(self, grid_id: int | None) -> str:
        grid = self.by_id.get(grid_id)
        return grid.name if grid else NO_GRID


def _case_query():
    return (select(cases.c.id, cases.c.number, cases.c.source, case_categories.c.name.label("category"),
                   cases.c.grid_id, cases.c.state, cases.c.lon, cases.c.lat, cases.c.created_at, cases.c.due_at,
                   cases.c.closed_at, cases.c.department)
            .join(case_categories, case_categories.c.id == cases.c.category_id))


def _row(r, state: str | None = None) -> CaseRow:
    return CaseRow(r.id, r.number, r.source, r.category, r.grid_id, state or r.state, r.lon, r.lat, r.created_at,
                   r.due_at, r.closed_at, r.department)


def new_cases(connection: Connection, period: Period) -> list[CaseRow]:
    query = _case_query().where(cases.c.created_at >= period.start, cases.c.created_at < period.end) \
        .order_by(cases.c.created_at, cases.c.id)
    return [_row(r) for r in connection.execute(query)]


def closed_cases(connection: Connection, period: Period) -> list[CaseRow]:
    query = _case_query().where(cases.c.closed_at >= period.start, cases.c.closed_at < period.end) \
        .order_by(cases.c.closed_at, cases.c.id)
    return [_row(r) for r in connection.execute(query)]


def open_cases_at(connection: Connection, at: datetime) -> list[CaseRow]:
    """Cases open at ``at``: registered before it and in an open state then (see the module notes)."""
    e = case_events
    state_then = (select(e.c.to_state)
                  .where(e.c.case_id == cases.c.id, e.c.to_state.is_not(None), e.c.at < at)
                  .order_by(e.c.at.desc(), e.c.id.desc()).limit(1).scalar_subquery())
    query = (_case_query().add_columns(state_then.label("state_then"))
             .where(cases.c.created_at < at, (cases.c.closed_at.is_(None)) | (cases.c.closed_at >= at))
             .order_by(cases.c.id))
    rows = []
    for r in connection.execute(query):
        state = r.state_then or r.state  # a case without events (imported): its state now
        if state in OPEN_STATES:
            rows.append(_row(r, state))
    return rows


def overdue_at(open_rows: list[CaseRow], at: datetime) -> list[CaseRow]:
    """The open cases past their deadline at ``at``, the most overdue first."""
    late = [c for c in open_rows if c.due_at is not None and c.due_at < at]
    return sorted(late, key=lambda c: (c.due_at, c.id))


def days_overdue(case: CaseRow, at: datetime) -> int:
    """Whole days past the deadline at ``at``; part of a day counts as a day."""
    return max(1, math.ceil((at - case.due_at).total_seconds() / 86400))


def dispatched_count(connection: Connection, period: Period) -> int:
    e = case_events
    query = select(func.count(func.distinct(e.c.case_id))).where(
        e.c.action == str(CaseAction.DISPATCH), e.c.at >= period.start, e.c.at < period.end)
    return int(connection.execute(query).scalar_one())


def alarm_counts(connection: Connection, period: Period) -> tuple[int, int]:
    """(alarms raised in the period, of them answered within 24 h)."""
    query = select(alarms.c.raised_at, alarms.c.feedback_at).where(
        alarms.c.raised_at >= period.start, alarms.c.raised_at < period.end)
    rows = connection.execute(query).all()
    answered = sum(1 for r in rows if r.feedback_at is not None and r.feedback_at - r.raised_at <= ANSWER_WITHIN)
    return len(rows), answered


def on_time(case: CaseRow) -> bool:
    return case.due_at is None or (case.closed_at is not None and case.closed_at <= case.due_at)


@dataclass(frozen=True, slots=True)
class PeriodCases:
    """What one period's KPIs are computed from."""

    new: list[CaseRow]
    closed: list[CaseRow]
    open_at_end: list[CaseRow]
    overdue_at_end: list[CaseRow]
    dispatched: int
    alarms: int
    alarms_answered: int
    as_of: datetime

    @property
    def closed_on_time(self) -> int:
        return sum(1 for c in self.closed if on_time(c))

    @property
    def patrol(self) -> int:
        return sum(1 for c in self.new if c.source == CaseSource.PATROL)


def read_period_cases(connection: Connection, period: Period, as_of: datetime | None = None) -> PeriodCases:
    """The figures of ``period``; the open and overdue cases as of its end (or ``as_of`` if earlier:
    a period not over yet is reported as it stands)."""
    at = min(period.end, as_of) if as_of else period.end
    open_rows = open_cases_at(connection, at)
    raised, answered = alarm_counts(connection, period)
    return PeriodCases(new_cases(connection, period), closed_cases(connection, period), open_rows,
                       overdue_at(open_rows, at), dispatched_count(connection, period), raised, answered, at)


def kpis(now: PeriodCases, before: PeriodCases) -> list[Kpi]:
    rows = [
        ("新增案件", lambda p: len(p.new), "件", False),
        ("派发案件", lambda p: p.dispatched, "件", False),
        ("办结案件", lambda p: len(p.closed), "件", False),
        ("按期办结率", lambda p: share(p.closed_on_time, len(p.closed)), "%", True),
        ("期末超期未办结", lambda p: len(p.overdue_at_end), "件", False),
        ("监测报警", lambda p: p.alarms, "次", False),
        ("报警24小时内反馈率", lambda p: share(p.alarms_answered, p.alarms), "%", True),
        ("巡查上报", lambda p: p.patrol, "件", False),
    ]
    return [Kpi(name, get(now), get(before), unit=unit, rate=rate) for name, get, unit, rate in rows]


def count_by(values) -> list[tuple[str, int]]:
    """Counts, largest first (ties by name)."""
    return sorted(Counter(values).items(), key=lambda item: (-item[1], item[0]))


def by_source(rows: list[CaseRow]) -> list[tuple[str, int]]:
    """Every source in the fixed order (zeros kept: the meeting asks about each), then unknown ones."""
    counts = Counter(c.source for c in rows)
    known = [(str(s), counts.pop(str(s), 0)) for s in CaseSource]
    return known + sorted(counts.items())
