"""An edit session: working copies of the grids, an undo stack, and one save for all of it.

Grid objects in a session are never changed in place: an edit replaces a grid by a new `Grid`
(``dataclasses.replace``), so the snapshots commands keep for undo stay exact.
"""
from __future__ import annotations

import dataclasses
import getpass
from collections.abc import Callable, Iterable, Mapping

import shapely
from shapely.geometry.base import BaseGeometry

from gis.domain import Grid
from gis.editing.commands import Command, UndoStack
from gis.editing.flags import FourBoundsTracker
from gis.editing.index import VertexIndex

POLYGON_LEVELS = (1, 2, 3, 4)
TOPOLOGY_SCOPES = ("hierarchy", "level", "off")


class GridEditSession:
    """Working copies of the grids (by id), dirty tracking, undo, 四至 flags and saving.

    Parameters
    ----------
    grids : iterable of Grid
        The whole hierarchy as loaded (all levels: shared vertices and parents are looked up
        among them).
    outside : str
        What lies beyond the outermost border, for 四至 suggestions ("泽州县").
    user : str, optional
        Who edits, for the audit log (default: the OS user).
    topology : str
        ``"hierarchy"`` (default): a vertex or edge moves in every polygon grid that has it, of any
        level, so parents keep their children's borders; ``"level"``: only in grids of the edited
        grid's level; ``"off"``: only in the edited grid.
    """

    def __init__(self, grids: Iterable[Grid], *, outside: str = "", user: str | None = None,
                 topology: str = "hierarchy"):
        if topology not in TOPOLOGY_SCOPES:
            raise ValueError(f"topology must be one of {TOPOLOGY_SCOPES}, got {topology!r}")
        self.grids: dict[int, Grid] = {g.id: g for g in grids}
        self.original: dict[int, Grid] = dict(self.grids)
        self.outside = outside
        self.user = user or getpass.getuser()
        self.topology = topology
        self.undo_stack = UndoStack()
        self.merged_into: dict[int, int] = {}
        self.touched: set[int] = set()
        self.listeners: list[Callable[[set[int]], None]] = []
        self.index = VertexIndex()
        for grid in self.grids.values():
            if _is_polygon_grid(grid):
                self.index.add(grid.id, grid.boundary)
        self._next_temp = -1
        self.four_bounds = FourBoundsTracker(self)

    @classmethod
    def load(cls, connection, *, outside: str | None = None, user: str | None = None,
             topology: str = "hierarchy") -> GridEditSession:
        """A session over every grid of the workspace behind ``connection``.

        Without ``outside``, the name the top-level grids' 四至 agree on is used (the demo's
        城区 is enclosed by 泽州县), so border grids get a full suggestion.
        """
        from gis.storage.grids import read_grids

        grids = read_grids(connection)
        if outside is None:
            named = {getattr(g, side) for g in grids if g.parent_id is None
                     for side in ("east", "south", "west", "north")} - {""}
            outside = named.pop() if len(named) == 1 else ""
        session = cls(grids, outside=outside, user=user, topology=topology)
        session.four_bounds.load_pending(_read_review(connection))
        return session

    # -- reading -----------------------------------------------------------------------

    def grid(self, grid_id: int) -> Grid:
        try:
            return self.grids[grid_id]
        except KeyError:
            raise KeyError(f"no grid with id {grid_id} in this edit session") from None

    def polygon_grids(self, level: int | None = None) -> list[Grid]:
        return [g for g in self.grids.values() if _is_polygon_grid(g) and (level is None or g.level == level)]

    def children_of(self, grid_id: int) -> list[Grid]:
        return [g for g in self.grids.values() if g.parent_id == grid_id]

    def same_level_near(self, level: int, region: BaseGeometry, exclude: Iterable[int] = ()) -> list[Grid]:
        """Polygon grids of ``level`` whose boundary intersects ``region`` (or touches it)."""
        skip = set(exclude)
        candidates = [g for g in self.polygon_grids(level) if g.id not in skip]
        if not candidates:
            return []
        hits = shapely.STRtree([g.boundary for g in candidates]).query(region, predicate="intersects")
        return [candidates[i] for i in sorted(hits.tolist())]

    def editable_ids(self, grid_id: int) -> set[int]:
        """Grids an edit starting at ``grid_id`` may change, following the topology scope."""
        if self.topology == "off":
            return {grid_id}
        level = self.grid(grid_id).level
        return {g.id for g in self.polygon_grids(None if self.topology == "hierarchy" else level)}

    def geoms(self) -> Mapping[int, BaseGeometry]:
        return {g.id: g.boundary for g in self.grids.values() if _is_polygon_grid(g)}

    def dirty_ids(self) -> set[int]:
        """Grids that differ from what was loaded (new, removed or changed)."""
        return {i for i in self.touched if not _same(self.grids.get(i), self.original.get(i))}

    @property
    def is_dirty(self) -> bool:
        return bool(self.dirty_ids())

    # -- editing -----------------------------------------------------------------------

    def new_id(self) -> int:
        """A temporary (negative) id for a grid that exists only in this session so far."""
        self._next_temp -= 1
        return self._next_temp + 1

    def next_code(self, parent_id: int | None, taken: Iterable[str] = ()) -> str:
        """Parent code + the next free three-digit sequence (codes follow GB/T 2260 + sequence)."""
        used = {g.code for g in self.grids.values()} | set(taken)
        prefix = self.grid(parent_id).code if parent_id is not None else ""
        for n in range(1, 1000):
            code = f"{prefix}{n:03d}"
            if code not in used:
                return code
        raise ValueError(f"no free code under {prefix!r}")

    def push(self, command: Command) -> None:
        """Do ``command`` and put it on the undo stack."""
        self.undo_stack.push(command)

    def undo(self) -> None:
        self.undo_stack.undo()

    def redo(self) -> None:
        self.undo_stack.redo()

    def apply(self, changes: Mapping[int, Grid | None]) -> None:
        """Replace grids (None removes one); used by commands, not by the user interface."""
        before = {i: self.grids.get(i) for i in changes}
        for grid_id, grid in changes.items():
            if grid is None:
                self.grids.pop(grid_id, None)
            else:
                self.grids[grid_id] = grid
            self.index.replace(grid_id, grid.boundary if grid is not None and _is_polygon_grid(grid) else None)
            self.touched.add(grid_id)
        self.four_bounds.update(before, changes)
        for listener in list(self.listeners):
            listener(set(changes))

    def replaced(self, grid_id: int, boundary: BaseGeometry, **fields) -> Grid:
        """A copy of a grid with a new boundary (area recomputed) and other fields."""
        from gis.crs import geodesic_area_m2

        return dataclasses.replace(self.grid(grid_id), boundary=boundary, area_m2=geodesic_area_m2(boundary),
                                   **fields)

    def save(self, connection, **options):
        """Write every change in one transaction; see `gis.editing.save.save_session`."""
        from gis.editing.save import save_session

        return save_session(self, connection, **options)


def _read_review(connection) -> dict:
    from sqlalchemy import select

    from gis.four_bounds import FourBounds
    from gis.storage.schema import four_bounds_review as R

    rows = connection.execute(select(R.c.grid_id, R.c.east, R.c.south, R.c.west, R.c.north)).all()
    return {row.grid_id: FourBounds(row.east, row.south, row.west, row.north) for row in rows}


def _is_polygon_grid(grid: Grid) -> bool:
    return grid.level in POLYGON_LEVELS and isinstance(grid.boundary, (shapely.Polygon, shapely.MultiPolygon))


def _same(a: Grid | None, b: Grid | None) -> bool:
    if a is None or b is None:
        return a is b
    if a is b:
        return True
    fields = [f.name for f in dataclasses.fields(Grid) if f.name not in ("boundary", "area_m2")]
    return (all(getattr(a, f) == getattr(b, f) for f in fields)
            and shapely.to_wkb(a.boundary) == shapely.to_wkb(b.boundary))
