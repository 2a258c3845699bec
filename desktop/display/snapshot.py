"""Everything the wall shows, read in one go off the UI thread (no Qt here)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import Connection, func, select

from desktop.display.privacy import mask_phone
from gis.domain import AlarmStatus, CaseState
from gis.storage.case_queries import CaseFilter, overdue_condition
from gis.storage.case_stats import GridCount, top_grids
from gis.storage.schema import alarms, case_events, cases, grids, stations


@dataclass(frozen=True, slots=True)
class Kpis:
    new: int
    dispatched: int
    closed: int
    overdue: int
    alarms: int
    on_time_share: float | None   # closed today on or before the deadline / closed today


@dataclass(frozen=True, slots=True)
class AlarmTask:
    id: int
    station: str
    pollutant: str
    grid: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime
    kpis: Kpis
    alarms: list[AlarmTask] = field(default_factory=list)
    top_overdue: list[GridCount] = field(default_factory=list)
    top_open: list[GridCount] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def _count(connection: Connection, query) -> int:
    return int(connection.execute(query).scalar() or 0)


def read_kpis(connection: Connection, now: datetime) -> Kpis:
    start = datetime.combine(now.date(), time())
    end = start + timedelta(days=1)
    count = select(func.count()).select_from
    new = _count(connection, count(cases).where(cases.c.created_at >= start, cases.c.created_at < end))
    dispatched = _count(connection, select(func.count(func.distinct(case_events.c.case_id))).where(
        case_events.c.to_state == str(CaseState.DISPATCHED), case_events.c.at >= start, case_events.c.at < end))
    closed_today = (cases.c.closed_at >= start, cases.c.closed_at < end, cases.c.state == str(CaseState.CLOSED))
    closed = _count(connection, count(cases).where(*closed_today))
    on_time = _count(connection, count(cases).where(*closed_today, cases.c.due_at.is_not(None),
                                                   cases.c.closed_at <= cases.c.due_at))
    overdue = _count(connection, count(cases).where(overdue_condition(now, connection.dialect.name)))
    alarm_count = _count(connection, count(alarms).where(alarms.c.raised_at >= start, alarms.c.raised_at < end))
    return Kpis(new, dispatched, closed, overdue, alarm_count, on_time / closed if closed else None)


def read_open_alarms(connection: Connection, limit: int = 8) -> list[AlarmTask]:
    query = (select(alarms.c.id, stations.c.name.label("station"), alarms.c.pollutant, grids.c.name.label("grid"),
                    alarms.c.due_at)
             .join(stations, stations.c.id == alarms.c.station_id)
             .outerjoin(grids, grids.c.id == alarms.c.grid_id)
             .where(alarms.c.status == str(AlarmStatus.AWAITING))
             .order_by(alarms.c.due_at, alarms.c.id).limit(limit))
    return [AlarmTask(r.id, r.station, r.pollutant, r.grid or "", r.due_at) for r in connection.execute(query)]


def read_events(connection: Connection, limit: int = 6) -> list[str]:
    """The latest case events as one-liners: number, state, grid; no names, phones masked."""
    query = (select(case_events.c.at, cases.c.number, case_events.c.action, case_events.c.to_state,
                    grids.c.name.label("grid"))
             .join(cases, cases.c.id == case_events.c.case_id)
             .outerjoin(grids, grids.c.id == cases.c.grid_id)
             .where(case_events.c.internal.is_(False))
             .order_by(case_events.c.id.desc()).limit(limit))
    return [mask_phone(f"{r.at:%H:%M} {r.number} {r.to_state or r.action} {r.grid or ''}".strip())
            for r in connection.execute(query)]


def read_snapshot(connection: Connection, now: datetime | None = None) -> Snapshot:
    now = now or datetime.now()
    f = CaseFilter(now=now)
    levels = connection.execute(select(func.max(grids.c.level))).scalar() or 1
    level = min(3, int(levels))
    return Snapshot(now, read_kpis(connection, now), read_open_alarms(connection),
                    top_grids(connection, f, by="overdue", level=level, limit=5),
                    top_grids(connection, f, by="open", level=level, limit=5), read_events(connection))
