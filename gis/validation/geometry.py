"""Validity of single grid boundaries, with the place of each problem.

GEOS names the first problem it finds and where (``Self-intersection[112.85 35.49]``); we keep
that point so the desktop can zoom to it, and say in Chinese what it means.
"""
from __future__ import annotations

import re

import shapely
from shapely.geometry.base import BaseGeometry

from gis.domain import Grid
from gis.validation.problems import ERROR, Problem, label, location_of

# GEOS reasons (IsValidOp) and how a GIS user would say them.
_REASONS = {
    "Self-intersection": "边界自相交",
    "Ring Self-intersection": "边界环自相交",
    "Too few points in geometry component": "边界点数过少",
    "Hole lies outside shell": "内洞位于外边界之外",
    "Nested holes": "内洞相互嵌套",
    "Interior is disconnected": "内部被内洞分割为不连通的部分",
    "Nested shells": "多边形部件相互嵌套",
    "Duplicate Rings": "存在重复的环",
    "Invalid Coordinate": "坐标无效（非数值）",
    "Ring is not closed": "边界环未闭合",
}
_REASON = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>\S+) (?P<y>[^\]]+)\]")
POLYGON_LEVELS = (1, 2, 3, 4)


def check_geometry(grid: Grid) -> tuple[list[Problem], BaseGeometry | None]:
    """Check one grid's boundary.

    Parameters
    ----------
    grid : Grid
        Levels 1–4 must be polygonal; a level-5 unit may be a point or a polygon.

    Returns
    -------
    problems : list of Problem
        ``empty`` or ``invalid`` errors, with the location GEOS reports.
    usable : shapely geometry or None
        The boundary itself when valid, a ``make_valid`` repair when not (so coverage checks
        can still measure gaps and overlaps around a broken grid), None when nothing is left.
    """
    geom = grid.boundary
    if geom is None or geom.is_empty:
        message = f"{label(grid)}没有边界（几何为空）"
        return [Problem("empty", ERROR, grid.level, (grid.code,), 0.0, (float("nan"), float("nan")),
                        message, (grid.id,))], None
    polygonal = isinstance(geom, (shapely.Polygon, shapely.MultiPolygon))
    if grid.level in POLYGON_LEVELS and not polygonal:
        message = f"{label(grid)}的边界应为面，实际为{geom.geom_type}"
        return [Problem("invalid", ERROR, grid.level, (grid.code,), 0.0, location_of(geom), message,
                        (grid.id,), geom)], None
    reason = shapely.is_valid_reason(geom)
    if reason == "Valid Geometry":
        return [], geom
    what, location = _parse_reason(reason, geom)
    message = f"{label(grid)}几何无效：{_REASONS.get(what, what)}（{what}）"
    repaired = shapely.make_valid(geom, method="structure", keep_collapsed=False) if polygonal else None
    if repaired is not None and repaired.is_empty:
        repaired = None
    problem = Problem("invalid", ERROR, grid.level, (grid.code,), 0.0, location, message, (grid.id,),
                      shapely.Point(location))
    return [problem], repaired


def _parse_reason(reason: str, geom: BaseGeometry) -> tuple[str, tuple[float, float]]:
    match = _REASON.match(reason)
    if not match:
        return reason, location_of(geom)
    try:
        return match["what"].strip(), (float(match["x"]), float(match["y"]))
    except ValueError:  # "nan" coordinates of an invalid coordinate
        return match["what"].strip(), location_of(geom)
