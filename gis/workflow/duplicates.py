"""重复件: open cases of the same category close by and recent, offered to the seat to link."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from gis.domain import OPEN_STATES
from gis.storage.schema import cases, grids
from gis.workflow.geo import degrees_around, distances_m

DEFAULT_RADIUS_M = 200.0
DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class DuplicateSuggestion:
    case_id: int
    number: str
    state: str
    created_at: datetime
    distance_m: float
    description: str
    grid_name: str


def suggest_duplicates(connection: Connection, *, lon: float, lat: float, category_id: int, now: datetime,
                       radius_m: float = DEFAULT_RADIUS_M, days: int = DEFAULT_DAYS,
                       exclude_case_id: int | None = None) -> list[DuplicateSuggestion]:
    """Open cases of ``category_id`` within ``radius_m`` of the point, created in the last ``days``
    days up to ``now``; nearest first."""
    dlon, dlat = degrees_around(lat, radius_m * 1.01)
    query = (
        select(cases.c.id, cases.c.number, cases.c.state, cases.c.created_at, cases.c.lon, cases.c.lat,
               cases.c.description, grids.c.name.label("grid_name"))
        .outerjoin(grids, grids.c.id == cases.c.grid_id)
        .where(cases.c.category_id == category_id, cases.c.state.in_(sorted(OPEN_STATES)),
               cases.c.created_at >= now - timedelta(days=days), cases.c.created_at <= now,
               cases.c.lon.between(lon - dlon, lon + dlon), cases.c.lat.between(lat - dlat, lat + dlat))
    )
    if exclude_case_id is not None:
        query = query.where(cases.c.id != exclude_case_id)
    rows = connection.execute(query).all()
    distances = distances_m(lon, lat, [r.lon for r in rows], [r.lat for r in rows])
    found = [DuplicateSuggestion(r.id, r.number, r.state, r.created_at, float(d), r.description, r.grid_name or "")
             for r, d in zip(rows, distances) if d <= radius_m]
    return sorted(found, key=lambda s: (s.distance_m, s.created_at))
