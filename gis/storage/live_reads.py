"""Small reads for a view that follows the change feed: just the rows a batch of changes names.

A window that has loaded the workspace once learns from :mod:`gis.storage.changes` *which* rows
changed; these functions read those rows again, one query per kind for a whole batch, so applying
a batch costs the same whether it names one case or two hundred.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Connection, select

from gis.domain import CaseSummary, Grid
from gis.storage.case_queries import summary_query
from gis.storage.schema import alarms, cases, grids, stations

_GRID_FIELDS = tuple(f.name for f in fields(Grid))
CHUNK = 500  # ids per IN (…): well under SQLite's bound-parameter limit


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    ordered = sorted({int(i) for i in ids})
    return [ordered[n:n + CHUNK] for n in range(0, len(ordered), CHUNK)]


def read_cases_by_id(connection: Connection, case_ids: Iterable[int]) -> dict[int, CaseSummary]:
    """The cases among ``case_ids`` that exist, as the table and the pins show them (missing: deleted)."""
    found: dict[int, CaseSummary] = {}
    for chunk in _chunks(case_ids):
        for row in connection.execute(summary_query().where(cases.c.id.in_(chunk))):
            found[row.id] = CaseSummary(row.id, row.number, row.source, row.category, row.state, row.grid_id,
                                        row.grid_name or "", row.lon, row.lat, row.created_at, row.due_at,
                                        row.closed_at, row.description,
                                        {"address": row.address, "category_id": row.category_id})
    return found


def read_grids_by_id(connection: Connection, grid_ids: Iterable[int]) -> dict[int, Grid]:
    """The grids among ``grid_ids`` that exist (missing: deleted)."""
    found: dict[int, Grid] = {}
    for chunk in _chunks(grid_ids):
        query = select(*(grids.c[f] for f in _GRID_FIELDS)).where(grids.c.id.in_(chunk))
        for row in connection.execute(query):
            found[row.id] = Grid(**row._mapping)
    return found


@dataclass(frozen=True, slots=True)
class AlarmNotice:
    """What a seat is told about a new alarm: where, what, how much, and its case."""

    id: int
    station_id: int
    station_name: str
    station_mn: str
    pollutant: str
    value: float
    threshold: float
    raised_at: datetime
    lon: float | None
    lat: float | None
    case_id: int | None
    case_number: str
    grid_id: int | None = None  # the grid the alarm was routed to (a scoped seat hears only its own)


def read_alarm_notices(connection: Connection, alarm_ids: Iterable[int]) -> list[AlarmNotice]:
    """The alarms among ``alarm_ids`` with their station and case, oldest first."""
    found: list[AlarmNotice] = []
    for chunk in _chunks(alarm_ids):
        query = (select(alarms.c.id, alarms.c.station_id, stations.c.name, stations.c.mn, alarms.c.pollutant,
                        alarms.c.value, alarms.c.threshold, alarms.c.raised_at, stations.c.lon, stations.c.lat,
                        alarms.c.case_id, cases.c.number, alarms.c.grid_id)
                 .join(stations, stations.c.id == alarms.c.station_id)
                 .outerjoin(cases, cases.c.id == alarms.c.case_id)
                 .where(alarms.c.id.in_(chunk)))
        found += [AlarmNotice(row.id, row.station_id, row.name or "", row.mn or "", row.pollutant,
                              float(row.value), float(row.threshold), row.raised_at, row.lon, row.lat, row.case_id,
                              row.number or "", row.grid_id) for row in connection.execute(query)]
    return sorted(found, key=lambda a: a.id)
