"""Everything the wall shows, read in one go off the UI thread (no Qt here).

Besides the statistics, a snapshot carries what the map needs to follow the change feed: the
cases a batch of changes named, read again (``read_cases_by_id``), and — when readings may have
changed — the stations' latest hourly values, each air station's AQI over the last 24 hours and
each station's newest reading (how fresh the data is: ``desktop.display.health``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import Connection, func, select

from desktop.display.privacy import mask_phone
from gis.domain import AlarmStatus, CaseState, CaseSummary
from gis.storage.case_queries import CaseFilter, overdue_condition
from gis.storage.case_stats import GridCount, station_aqi_series, top_grids
from gis.storage.live_reads import read_cases_by_id
from gis.storage.readings import latest_hourly_by_station
from gis.storage.schema import alarms, case_events, cases, grids, stations
from gis.storage.schema import readings as readings_table

ALARM_ROWS = 5           # rows of the alarm task panel; with more tasks the last one says "及其他 N 条"
AQI_HOURS = 24


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
class StationSeries:
    """Hourly AQI of one air station; ``aqi`` is None for an hour without usable values."""

    station_id: int
    name: str
    points: tuple[tuple[datetime, int | None], ...]

    @property
    def latest(self) -> int | None:
        return next((aqi for _at, aqi in reversed(self.points) if aqi is not None), None)


@dataclass(frozen=True, slots=True)
class AlarmPlace:
    """The grid of the newest alarm, for the map playlist."""

    alarm_id: int
    grid_id: int
    name: str
    boundary: object   # shapely geometry, lon/lat


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime
    kpis: Kpis
    alarms: list[AlarmTask] = field(default_factory=list)
    top_overdue: list[GridCount] = field(default_factory=list)
    top_open: list[GridCount] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    alarm_total: int = 0                          # open alarm tasks, of which ``alarms`` are the first
    newest_alarm: AlarmPlace | None = None
    cases: dict[int, CaseSummary] = field(default_factory=dict)   # the cases asked for (absent: deleted)
    latest: dict[int, dict[str, float]] | None = None             # None: readings were not read this time
    aqi: list[StationSeries] | None = None
    newest: list[tuple[str, datetime]] | None = None              # each reporting station's newest (cn, data time)


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


def read_open_alarms(connection: Connection, limit: int = ALARM_ROWS) -> tuple[list[AlarmTask], int]:
    """The ``limit`` open alarm tasks due first, and how many are open in all."""
    awaiting = alarms.c.status == str(AlarmStatus.AWAITING)
    query = (select(alarms.c.id, stations.c.name.label("station"), alarms.c.pollutant, grids.c.name.label("grid"),
                    alarms.c.due_at)
             .join(stations, stations.c.id == alarms.c.station_id)
             .outerjoin(grids, grids.c.id == alarms.c.grid_id)
             .where(awaiting)
             .order_by(alarms.c.due_at, alarms.c.id).limit(limit))
    tasks = [AlarmTask(r.id, r.station, r.pollutant, r.grid or "", r.due_at) for r in connection.execute(query)]
    if len(tasks) < limit:
        return tasks, len(tasks)
    return tasks, _count(connection, select(func.count()).select_from(alarms).where(awaiting))


def read_newest_alarm_place(connection: Connection) -> AlarmPlace | None:
    """The grid of the most recently raised alarm that has one."""
    row = connection.execute(
        select(alarms.c.id, grids.c.id.label("grid_id"), grids.c.name, grids.c.boundary)
        .join(grids, grids.c.id == alarms.c.grid_id)
        .order_by(alarms.c.raised_at.desc(), alarms.c.id.desc()).limit(1)).first()
    return None if row is None or row.boundary is None else AlarmPlace(row.id, row.grid_id, row.name, row.boundary)


def read_aqi_series(connection: Connection, now: datetime, hours: int = AQI_HOURS) -> list[StationSeries]:
    """Every active air station's hourly AQI over the last ``hours`` (stations without data: no points)."""
    query = (select(stations.c.id, stations.c.name)
             .where(stations.c.kind == "air", stations.c.active.is_(True)).order_by(stations.c.id))
    start = now - timedelta(hours=hours)
    return [StationSeries(r.id, r.name, tuple((p.at, p.aqi) for p in
                                              station_aqi_series(connection, r.id, start, now + timedelta(seconds=1))))
            for r in connection.execute(query).all()]


def read_newest_readings(connection: Connection) -> list[tuple[str, datetime]]:
    """Each active station's newest reading as ``(cn, data_time)``, stations that never reported left out.

    Two index lookups a station (``readings(station_id, data_time)``), however many readings there are.
    """
    def newest(column):
        return (select(column).where(readings_table.c.station_id == stations.c.id)
                .order_by(readings_table.c.data_time.desc()).limit(1).scalar_subquery())

    query = select(newest(readings_table.c.cn).label("cn"), newest(readings_table.c.data_time).label("at")) \
        .where(stations.c.active.is_(True))
    return [(r.cn, r.at) for r in connection.execute(query) if r.at is not None]


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


def read_snapshot(connection: Connection, now: datetime | None = None, *, case_ids: Iterable[int] = (),
                  readings: bool = True, top: int = 5) -> Snapshot:
    """The statistics; the cases ``case_ids`` as they are now; with ``readings``, the stations' values."""
    now = now or datetime.now()
    f = CaseFilter(now=now)
    levels = connection.execute(select(func.max(grids.c.level))).scalar() or 1
    level = min(3, int(levels))
    tasks, total = read_open_alarms(connection)
    return Snapshot(now, read_kpis(connection, now), tasks,
                    top_grids(connection, f, by="overdue", level=level, limit=top),
                    top_grids(connection, f, by="open", level=level, limit=top), read_events(connection),
                    alarm_total=total, newest_alarm=read_newest_alarm_place(connection),
                    cases=read_cases_by_id(connection, case_ids) if case_ids else {},
                    latest=latest_hourly_by_station(connection, since=now - timedelta(hours=AQI_HOURS))
                    if readings else None,
                    aqi=read_aqi_series(connection, now) if readings else None,
                    newest=read_newest_readings(connection) if readings else None)
