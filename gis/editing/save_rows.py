"""The rows an edit-session save writes: grids, their history, the audit trail, 四至 flags, and
the sources, stations and open cases whose containing grid changed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import shapely
from sqlalchemy import Connection, select

from gis.crs import geodesic_area_m2
from gis.domain import OPEN_STATES, Grid
from gis.storage import schema

if TYPE_CHECKING:
    from gis.editing.session import GridEditSession

T = schema.grids
_FIELDS = ("id", "code", "name", "level", "parent_id", "boundary", "area_m2", "east", "south", "west",
           "north", "duties", "valid_from", "valid_to", "version")
_TEXT = ("code", "name", "level", "parent_id", "east", "south", "west", "north", "duties")


@dataclass(frozen=True, slots=True)
class Reassignment:
    """A source, station or open case that now lies in another grid."""

    table: str
    row_id: int
    label: str
    old_grid_id: int | None
    new_grid_id: int


def _values(grid: Grid, parent_id: int | None, now: datetime) -> dict:
    min_lon, min_lat, max_lon, max_lat = grid.boundary.bounds
    return {"code": grid.code, "name": grid.name, "level": grid.level, "parent_id": parent_id,
            "boundary": grid.boundary, "area_m2": geodesic_area_m2(grid.boundary), "min_lon": min_lon,
            "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat, "east": grid.east, "south": grid.south,
            "west": grid.west, "north": grid.north, "duties": grid.duties, "valid_from": grid.valid_from,
            "valid_to": grid.valid_to, "updated_at": now}


def insert_grid(connection: Connection, grid: Grid, parent_id: int | None, now: datetime) -> int:
    values = {**_values(grid, parent_id, now), "version": 1, "created_at": now}
    return connection.execute(T.insert().values(values).returning(T.c.id)).scalar_one()


def update_grid(connection: Connection, grid: Grid, parent_id: int | None, version: int, now: datetime) -> bool:
    """UPDATE … WHERE id = ? AND version = ?; False when the row is not at that version."""
    statement = (T.update().where(T.c.id == grid.id, T.c.version == version)
                 .values(**_values(grid, parent_id, now), version=version + 1))
    return connection.execute(statement).rowcount == 1


def delete_grid(connection: Connection, grid_id: int, version: int) -> bool:
    statement = T.delete().where(T.c.id == grid_id, T.c.version == version)
    return connection.execute(statement).rowcount == 1


def read_grid(connection: Connection, grid_id: int) -> Grid | None:
    row = connection.execute(select(*(T.c[f] for f in _FIELDS)).where(T.c.id == grid_id)).first()
    return Grid(**row._mapping) if row is not None else None


def write_history(connection: Connection, old: Grid, change: str, user: str, now: datetime, *,
                  staff: bool = False) -> None:
    """Keep the version being replaced (``valid_to``: the day it was replaced); with ``staff`` its
    assignments too (they are deleted with the grid)."""
    people = None
    if staff:
        a = schema.assignments
        rows = connection.execute(select(a.c.person_id, a.c.role, a.c.start_date, a.c.end_date)
                                  .where(a.c.grid_id == old.id)).all()
        people = [{"person_id": r.person_id, "role": r.role, "start_date": _iso(r.start_date),
                   "end_date": _iso(r.end_date)} for r in rows]
    connection.execute(schema.grid_history.insert().values(
        grid_id=old.id, version=old.version, code=old.code, name=old.name, level=old.level,
        parent_id=old.parent_id, boundary=old.boundary, area_m2=old.area_m2 or geodesic_area_m2(old.boundary),
        east=old.east, south=old.south, west=old.west, north=old.north, duties=old.duties,
        valid_from=old.valid_from, valid_to=now.date(), change=change, changed_at=now, changed_by=user,
        staff=people))


def reassign_points(connection: Connection, session: GridEditSession, ids: dict[int, int],
                    now: datetime) -> list[Reassignment]:
    """Sources, stations and open cases in changed grids move to the grid of the same level that
    now contains them."""
    affected = [i for i in session.dirty_ids() if i in session.original and session.original[i].level <= 4]
    if not affected:
        return []
    trees = {}
    for level in range(1, 5):
        grids = session.polygon_grids(level)
        trees[level] = (shapely.STRtree([g.boundary for g in grids]), grids) if grids else None
    moved = []
    for table, label_column, extra in _POINT_TABLES:
        t = schema.metadata.tables[table]
        query = select(t.c.id, t.c[label_column], t.c.lon, t.c.lat, t.c.grid_id).where(
            t.c.grid_id.in_(affected), t.c.lon.is_not(None))
        if extra is not None:
            query = query.where(extra(t))
        for row in connection.execute(query).all():
            tree = trees.get(session.original[row.grid_id].level)
            if tree is None:
                continue
            hits = tree[0].query(shapely.Point(row.lon, row.lat), predicate="intersects")
            if not len(hits):
                continue
            target = ids.get(tree[1][int(min(hits))].id, tree[1][int(min(hits))].id)
            if target != row.grid_id:
                _set_grid(connection, t, row.id, target)
                moved.append(Reassignment(table, row.id, str(row[1]), row.grid_id, target))
    return moved


def hand_over(connection: Connection, grid_id: int, successor: int | None, now: datetime) -> list[Reassignment]:
    """Everything still pointing at a removed grid goes to the grid it was merged into."""
    if successor is None:
        return []
    moved = []
    for table, label_column, extra in _POINT_TABLES + (("alarms", "pollutant", None),):
        t = schema.metadata.tables[table]
        for row in connection.execute(select(t.c.id, t.c[label_column]).where(t.c.grid_id == grid_id)).all():
            _set_grid(connection, t, row.id, successor)
            moved.append(Reassignment(table, row.id, str(row[1]), grid_id, successor))
    return moved


def _set_grid(connection, table, row_id, grid_id) -> None:
    values = {"grid_id": grid_id}
    if "version" in table.c:
        values["version"] = table.c.version + 1  # whoever has the row open must see it changed
    connection.execute(table.update().where(table.c.id == row_id).values(**values))


_POINT_TABLES = (
    ("pollution_sources", "name", None),
    ("stations", "name", None),
    ("cases", "number", lambda t: t.c.state.in_(sorted(OPEN_STATES))),
)


def write_four_bounds_review(connection: Connection, session: GridEditSession, ids: dict[int, int],
                             now: datetime) -> None:
    """Replace the review rows of every grid this session looked at by its current flags."""
    review = schema.four_bounds_review
    tracker = session.four_bounds
    looked_at = {ids[i] for i in set(session.dirty_ids()) | set(tracker.flagged) | set(tracker.pending)
                 if i in ids}
    if looked_at:
        connection.execute(review.delete().where(review.c.grid_id.in_(sorted(looked_at))))
    rows = [{"grid_id": ids[i], "east": s.east, "south": s.south, "west": s.west, "north": s.north,
             "flagged_at": now} for i, s in tracker.flagged.items() if i in ids and i in session.grids]
    if rows:
        connection.execute(review.insert(), rows)


def write_audit(connection: Connection, session: GridEditSession, ids: dict[int, int], now: datetime) -> None:
    """One audit record per saved grid: who, when, before and after (fields and boundary)."""
    rows = []
    for grid_id in sorted(session.dirty_ids()):
        old, new = session.original.get(grid_id), session.grids.get(grid_id)
        action = "grid_insert" if old is None else "grid_delete" if new is None else "grid_update"
        rows.append({"at": now, "user_name": session.user, "host": "", "action": action, "table_name": "grids",
                     "row_id": ids.get(grid_id, grid_id), "before": _snapshot(old), "after": _snapshot(new)})
    if rows:
        connection.execute(schema.audit_log.insert(), rows)


def _snapshot(grid: Grid | None) -> dict | None:
    if grid is None:
        return None
    out = {f: getattr(grid, f) for f in _TEXT}
    out.update(valid_from=_iso(grid.valid_from), valid_to=_iso(grid.valid_to), version=grid.version,
               boundary=shapely.to_wkt(grid.boundary, rounding_precision=-1))
    return out


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None



