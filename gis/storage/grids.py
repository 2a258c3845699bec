"""Reading and writing grids."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import shapely
from sqlalchemy import Connection, func, select

from gis.crs import geodesic_area_m2
from gis.domain import Grid
from gis.storage.rows import insert_returning_ids
from gis.storage.schema import grids as T

_FIELDS = ("id", "code", "name", "level", "parent_id", "boundary", "area_m2", "east", "south", "west",
           "north", "duties", "valid_from", "valid_to", "version")


def _row(grid: Grid, now: datetime) -> dict:
    min_lon, min_lat, max_lon, max_lat = grid.boundary.bounds
    area = grid.area_m2 or geodesic_area_m2(grid.boundary)
    return {
        "code": grid.code, "name": grid.name, "level": grid.level, "parent_id": grid.parent_id,
        "boundary": grid.boundary, "area_m2": area, "min_lon": min_lon, "min_lat": min_lat,
        "max_lon": max_lon, "max_lat": max_lat, "east": grid.east, "south": grid.south,
        "west": grid.west, "north": grid.north, "duties": grid.duties, "valid_from": grid.valid_from,
        "valid_to": grid.valid_to, "version": grid.version, "created_at": now, "updated_at": now,
    }


def insert_grids(connection: Connection, new: Sequence[Grid]) -> list[int]:
    """Insert grids in order (parents before children) and return their ids.

    ``parent_id`` of each grid must already be set; callers that build a tree insert it
    level by level. The caller owns the transaction.
    """
    now = datetime.now()
    ids = insert_returning_ids(connection, T, [_row(g, now) for g in new])
    for grid, grid_id in zip(new, ids):
        grid.id = grid_id
    return ids


def read_grids(connection: Connection, *, levels: Iterable[int] | None = None,
               bbox: tuple[float, float, float, float] | None = None) -> list[Grid]:
    """Grids ordered by level then code, optionally only some levels or those touching ``bbox``."""
    query = select(*(T.c[f] for f in _FIELDS)).order_by(T.c.level, T.c.code)
    if levels is not None:
        query = query.where(T.c.level.in_(list(levels)))
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        query = query.where(T.c.max_lon >= min_lon, T.c.min_lon <= max_lon,
                            T.c.max_lat >= min_lat, T.c.min_lat <= max_lat)
    return [Grid(**row._mapping) for row in connection.execute(query)]


def grid_ids_by_code(connection: Connection) -> dict[str, int]:
    return dict(connection.execute(select(T.c.code, T.c.id)).all())


def count_by_level(connection: Connection) -> dict[int, int]:
    counts = dict(connection.execute(select(T.c.level, func.count()).group_by(T.c.level)).all())
    return {level: counts.get(level, 0) for level in range(1, 6)}


def lowest_grid_at(lon: float, lat: float, candidates: Sequence[Grid]) -> Grid | None:
    """The deepest grid whose boundary covers the point (level-5 points excluded)."""
    point = shapely.Point(lon, lat)
    best = None
    for grid in candidates:
        if grid.level < 5 and grid.boundary.covers(point) and (best is None or grid.level > best.level):
            best = grid
    return best
