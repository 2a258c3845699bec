"""Split a grid by a drawn line, the new edge shared exactly by both parts.

Where the line crosses the boundary, the crossing points are first inserted into the grid *and*
into every grid along that edge (the neighbour, the parent whose border it is, …); then the grid
is cut along the line carrying those same points. Both parts and the neighbours therefore hold
the crossing as one identical vertex, and the next topological edit moves them together — the
case that breaks in QGIS after a split.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import split

from gis.crs import geodesic_area_m2
from gis.domain import Grid
from gis.editing.checks import check_edit
from gis.editing.commands import GridChangeCommand
from gis.editing.grid_commands import require_valid
from gis.editing.rings import as_like, key, to_rings
from gis.editing.session import GridEditSession
from gis.editing.topology import TopologyError, insert_points

_SAME_POINT_DEG = 1e-12  # GEOS returns input vertices exactly; this only catches last-bit noise


class SplitGridCommand(GridChangeCommand):
    """Split ``grid_id`` along ``line``; the largest part keeps id, code and attributes.

    Each other part becomes a new grid (same level and parent, next free code, name
    ``new_name`` or "<name>（拆分）"). Children go to the part that holds most of them.
    """

    def __init__(self, session: GridEditSession, grid_id: int, line: Sequence[Sequence[float]] | BaseGeometry,
                 *, new_name: str | None = None):
        grid = session.grid(grid_id)
        require_valid([grid], "网格几何无效，不能拆分")
        line = line if isinstance(line, shapely.LineString) else shapely.LineString(line)
        crossings = _crossings(grid, line)
        allowed = session.editable_ids(grid_id) | {grid_id}
        region = shapely.box(*line.bounds)
        along = [g.id for g in session.polygon_grids() if g.id in allowed
                 and shapely.intersects(shapely.box(*g.boundary.bounds), region)]
        geoms = session.geoms()
        inserted = insert_points({i: geoms[i] for i in along}, crossings, along)
        whole = inserted.pop(grid_id, grid.boundary)
        cut = _line_through(line, crossings)
        keeper, others = _cut(whole, cut)

        after: dict[int, Grid | None] = {i: session.replaced(i, g) for i, g in inserted.items()}
        after[grid_id] = session.replaced(grid_id, as_like(keeper, grid.boundary))
        pieces = {grid_id: keeper}
        taken: list[str] = []
        for n, piece in enumerate(others, start=1):
            new_id = session.new_id()
            code = session.next_code(grid.parent_id, taken) if grid.parent_id is not None else f"{grid.code}{n:02d}"
            taken.append(code)
            name = new_name or f"{grid.name}（拆分{'' if len(others) == 1 else n}）"
            boundary = as_like(piece, grid.boundary)
            after[new_id] = dataclasses.replace(grid, id=new_id, code=code, name=name, boundary=boundary,
                                                area_m2=geodesic_area_m2(boundary), east="", south="", west="",
                                                north="", valid_from=date.today(), valid_to=None, version=1)
            pieces[new_id] = piece
        for child in session.children_of(grid_id):
            current = after.get(child.id) or child  # may have received a crossing point above
            home = _home(current.boundary, pieces)
            if home != grid_id:
                after[child.id] = dataclasses.replace(current, parent_id=home)
        check_edit(session, after, hierarchy=False)
        super().__init__(session, f"拆分网格“{grid.name}”", after)
        self.new_ids = [i for i in pieces if i != grid_id]


def _crossings(grid: Grid, line: shapely.LineString) -> np.ndarray:
    touch = shapely.intersection(line, grid.boundary.boundary)
    if any(not isinstance(p, shapely.Point) for p in shapely.get_parts(touch)):
        raise TopologyError(f"拆分线不能沿网格“{grid.name}”的边界走，请让它穿过网格")
    points = shapely.get_coordinates(touch)
    if len(points) < 2:
        raise TopologyError(f"拆分线必须完整穿过网格“{grid.name}”（两端都在网格之外）")
    return points


def _line_through(line: shapely.LineString, points: np.ndarray) -> shapely.LineString:
    """``line`` with ``points`` (which lie on it) inserted as vertices in order."""
    coords = shapely.get_coordinates(line)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    at = shapely.line_locate_point(line, shapely.points(points))
    rows = sorted([(d, 0, c) for d, c in zip(along, coords)] + [(d, 1, p) for d, p in zip(at, points)],
                  key=lambda item: (item[0], item[1]))
    out: list[tuple[int, np.ndarray]] = []
    for _, is_crossing, xy in rows:
        if out and np.hypot(*(xy - out[-1][1])) <= _SAME_POINT_DEG:
            if is_crossing:  # the crossing is what went into the boundary: it must win
                out[-1] = (is_crossing, xy)
            continue
        out.append((is_crossing, xy))
    out = [xy for _, xy in out]
    return shapely.LineString(out)


def _cut(whole: BaseGeometry, cut: shapely.LineString) -> tuple[BaseGeometry, list[BaseGeometry]]:
    """Split the parts the line crosses; the largest piece and the uncrossed parts stay together."""
    parts = list(shapely.get_parts(whole))
    crossed = [p for p in parts if shapely.intersects(cut, p) and not shapely.touches(cut, p)]
    if not crossed:
        raise TopologyError("拆分线没有把网格分开")
    pieces = [p for part in crossed for p in shapely.get_parts(split(part, cut))]
    if len(pieces) <= len(crossed):
        raise TopologyError("拆分线没有把网格分开（请让拆分线两端都在网格之外）")
    known = {k for part in to_rings(whole) for ring in part for k in map(key, ring[:-1])}
    known |= set(map(key, shapely.get_coordinates(cut)))
    pieces = [_onto_known(p, known) for p in pieces]
    pieces.sort(key=lambda p: -p.area)
    untouched = [p for p in parts if not any(p is c for c in crossed)]
    keeper = shapely.MultiPolygon([pieces[0], *untouched]) if untouched else pieces[0]
    return keeper, pieces[1:]


def _onto_known(piece: shapely.Polygon, known: set) -> shapely.Polygon:
    """Put every vertex exactly onto the input vertex it stands for (guards last-bit noise)."""
    coords = shapely.get_coordinates(piece)
    if all(key(c) in known for c in coords):
        return piece
    pts = np.array(sorted(known))
    tree = shapely.STRtree(shapely.points(pts))

    def fix(ring: np.ndarray) -> np.ndarray:
        out = ring.copy()
        for i, xy in enumerate(ring):
            if key(xy) not in known:
                nearest = pts[int(tree.nearest(shapely.Point(xy)))]
                if np.hypot(*(nearest - xy)) <= _SAME_POINT_DEG:
                    out[i] = nearest
        return out

    return shapely.Polygon(fix(shapely.get_coordinates(piece.exterior)),
                           [fix(shapely.get_coordinates(h)) for h in piece.interiors])


def _home(boundary: BaseGeometry, pieces: dict[int, BaseGeometry]) -> int:
    """The piece holding most of a child (a level-5 point: the piece containing it)."""
    if boundary.area == 0:
        point = boundary if isinstance(boundary, shapely.Point) else shapely.point_on_surface(boundary)
        return next((i for i, p in pieces.items() if p.covers(point)), next(iter(pieces)))
    return max(pieces, key=lambda i: shapely.area(shapely.intersection(pieces[i], boundary)))
