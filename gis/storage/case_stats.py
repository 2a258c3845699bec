"""Chart aggregates over a :class:`~gis.storage.case_queries.CaseFilter`, counted in SQL.

Each chart ignores the filter on its own dimension (the state chart keeps every state, the
pollutant chart every pollutant) so a clicked bar stays on screen beside the others, the way
linked dashboards usually behave; every other part of the filter applies.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, Date, and_, cast, func, select

from gis.aqi import Pollutant, hourly_aqi, parse_pollutant
from gis.domain import CaseState
from gis.storage.case_queries import (CaseFilter, _Columns, filter_conditions, grid_subtree, open_condition,
                                     overdue_condition, scans, subtree_ids)
from gis.storage.readings import HOURLY_CN, USABLE_FLAGS
from gis.storage.schema import alarms, cases, grids, readings

DEFAULT_TREND_DAYS = 30
STATE_ORDER = tuple(CaseState)


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    new: int
    closed: int


@dataclass(frozen=True, slots=True)
class GridCount:
    grid_id: int
    code: str
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class AqiPoint:
    at: datetime
    aqi: int | None
    primary: tuple[str, ...] = ()


def _day(column, dialect: str):
    # SQLite keeps DATETIME as ISO text: the first ten characters are the day, no parsing needed.
    return func.substr(column, 1, 10) if dialect == "sqlite" else cast(column, Date)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def trend_range(f: CaseFilter, days: int = DEFAULT_TREND_DAYS) -> tuple[datetime, datetime]:
    """The days a trend covers: the filter's time range, else the last ``days`` days up to today."""
    end = f.end or datetime.combine(f.at.date() + timedelta(days=1), time())
    start = f.start or datetime.combine(end.date() - timedelta(days=days), time())
    return start, end


def cases_by_state(connection: Connection, f: CaseFilter) -> dict[str, int]:
    """Cases per state (the filter's own state choice ignored), in workflow order, zeros left out."""
    f = f.without("states")
    scan = scans(f)
    where = filter_conditions(connection, f, scan=scan)
    # Unfiltered, the state index answers alone; filtered, walking it would look up every row
    # (as in top_grids), so the rows the covering index leaves are grouped in a b-tree instead.
    query = select(cases.c.state, func.count()).where(*where).group_by(
        _Columns(connection.dialect.name, scan and bool(where)).unindexed("state"))
    counts = dict(connection.execute(query).all())
    ordered = {str(s): counts.pop(str(s)) for s in STATE_ORDER if counts.get(str(s))}
    return {**ordered, **dict(sorted(counts.items()))}  # states this version does not know, last


def daily_new_vs_closed(connection: Connection, f: CaseFilter, *, days: int = DEFAULT_TREND_DAYS) -> list[DayCount]:
    """New (by 上报时间) and closed (by 销号时间) cases per day over :func:`trend_range`."""
    dialect = connection.dialect.name
    start, end = trend_range(f, days)
    where = filter_conditions(connection, f, time=False, scan=scans(f))
    counts: dict[date, list[int]] = {}
    for i, column in enumerate((cases.c.created_at, cases.c.closed_at)):
        day = _day(column, dialect).label("day")
        query = (select(day, func.count()).where(*where, column >= start, column < end)
                 .group_by(day))
        for value, n in connection.execute(query):
            counts.setdefault(_as_date(value), [0, 0])[i] = n
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [DayCount(first + timedelta(days=k), *counts.get(first + timedelta(days=k), (0, 0)))
            for k in range((last - first).days + 1)]


def top_grids(connection: Connection, f: CaseFilter, *, by: str = "open", level: int = 3,
              limit: int = 10) -> list[GridCount]:
    """The grids of ``level`` with the most open (or overdue) cases in them or below them."""
    if by not in ("open", "overdue"):
        raise ValueError(f"top_grids: by must be 'open' or 'overdue', got {by!r}")
    dialect, scan = connection.dialect.name, scans(f)
    where = filter_conditions(connection, f, scan=scan)
    where.append(overdue_condition(f.at, dialect, scan=scan) if by == "overdue" else open_condition(dialect, scan=scan))
    # SQLite would walk the grid_id index to group without sorting, a table lookup per case;
    # grouping the covering index's rows in a temporary b-tree is a hundred times faster.
    group = _Columns(dialect, scan).unindexed("grid_id")
    per_grid = (select(cases.c.grid_id, func.count().label("n")).where(*where, cases.c.grid_id.is_not(None))
                .group_by(group).subquery())
    own, ancestor = grids.alias("own"), grids.alias("ancestor")
    total = func.sum(per_grid.c.n).label("total")
    query = (
        select(ancestor.c.id, ancestor.c.code, ancestor.c.name, total)
        .select_from(per_grid)
        .join(own, own.c.id == per_grid.c.grid_id)
        .join(ancestor, and_(ancestor.c.level == level,
                             func.substr(own.c.code, 1, func.length(ancestor.c.code)) == ancestor.c.code))
        .group_by(ancestor.c.id, ancestor.c.code, ancestor.c.name)
        .order_by(total.desc(), ancestor.c.code)
        .limit(limit)
    )
    return [GridCount(r.id, r.code, r.name, int(r.total)) for r in connection.execute(query)]


def alarms_by_pollutant(connection: Connection, f: CaseFilter) -> dict[str, int]:
    """Alarms per HJ 212 pollutant code raised in the time range and in the filtered grids.

    Case fields (state, source, text…) do not describe alarms and are not applied.
    """
    where = []
    if f.start is not None:
        where.append(alarms.c.raised_at >= f.start)
    if f.end is not None:
        where.append(alarms.c.raised_at < f.end)
    if f.grid_ids:
        where.append(alarms.c.grid_id.in_(grid_subtree(connection, f.grid_ids)))
    if f.scope_grid_id is not None:  # a restricted user's data scope, as for the cases
        from gis.security.users import subtree_clause

        where.append(alarms.c.grid_id.in_(select(grids.c.id).where(subtree_clause(f.scope_grid_id))))
    query = (select(alarms.c.pollutant, func.count().label("n")).where(*where)
             .group_by(alarms.c.pollutant).order_by(func.count().desc(), alarms.c.pollutant))
    return {r.pollutant: int(r.n) for r in connection.execute(query)}


def _aqi_code(code: str) -> Pollutant | None:
    try:
        return parse_pollutant(code)
    except ValueError:
        return None  # temperature, NOx, COD…: not part of the AQI


def station_aqi_series(connection: Connection, station_id: int, start: datetime | None = None,
                       end: datetime | None = None) -> list[AqiPoint]:
    """Hourly AQI (HJ 633-2012 实时报) of a station from its CN 2061 hourly averages.

    PM10 and PM2.5 are evaluated on their hourly values (``pm_average="1h"``). Values flagged as
    not data are left out; a re-sent frame (higher id) replaces the earlier one. An SO2 hour above
    800 µg/m³ takes the SO2 IAQI from the mean of the last 24 hours, as note 2 of Table 1 asks.
    """
    R = readings
    query = (select(R.c.data_time, R.c.pollutant, R.c.avg, R.c.flag)
             .where(R.c.station_id == station_id, R.c.cn == HOURLY_CN)
             .order_by(R.c.data_time, R.c.id))
    if start is not None:
        query = query.where(R.c.data_time >= start)
    if end is not None:
        query = query.where(R.c.data_time < end)
    hours: dict[datetime, dict[Pollutant, float]] = {}
    for at, code, value, flag in connection.execute(query):
        pollutant = _aqi_code(code)
        if pollutant is None:
            continue
        values = hours.setdefault(at, {})
        if value is None or flag not in USABLE_FLAGS:
            values.pop(pollutant, None)
        else:
            values[pollutant] = float(value)
    return [_aqi_point(at, values, hours) for at, values in hours.items()]


def station_aqi_recent(connection: Connection, station_id: int, *, hours: int = 168) -> list[AqiPoint]:
    """:func:`station_aqi_series` over the last ``hours`` up to the station's newest hourly reading."""
    latest = connection.execute(select(func.max(readings.c.data_time)).where(
        readings.c.station_id == station_id, readings.c.cn == HOURLY_CN)).scalar()
    if latest is None:
        return []
    return station_aqi_series(connection, station_id, latest - timedelta(hours=hours), latest + timedelta(seconds=1))


def _aqi_point(at: datetime, values: dict[Pollutant, float], hours: dict) -> AqiPoint:
    if not values:
        return AqiPoint(at, None)
    so2_24h = None
    if values.get(Pollutant.SO2, 0) > 800:
        window = [v[Pollutant.SO2] for t, v in hours.items() if at - timedelta(hours=24) < t <= at
                  and Pollutant.SO2 in v]
        so2_24h = sum(window) / len(window)
    result = hourly_aqi({str(p): v for p, v in values.items()}, pm_average="1h", so2_24h=so2_24h)
    return AqiPoint(at, result.aqi, tuple(str(p) for p in result.primary))


def grid_levels_present(connection: Connection, within: Iterable[int] = ()) -> list[int]:
    """Levels that have grids (below ``within`` if given), for the top-grids level picker."""
    query = select(grids.c.level).distinct().order_by(grids.c.level)
    if within:
        query = query.where(grids.c.id.in_(subtree_ids(within)))
    return list(connection.execute(query).scalars())
