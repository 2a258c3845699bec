"""What validation reports: one `Problem` per thing a GIS user has to look at.

A problem names the grids by code, says where (a lon/lat point to zoom to), how big (m² on the
ellipsoid) and what is wrong, in Chinese, so the same record feeds the CLI's JSON, the problem
panel and the save dialog. ``grid_ids`` and ``geometry`` are for the desktop and the quick fixes;
they stay out of the JSON.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry

from gis.crs import geodesic_area_m2
from gis.domain import LEVEL_NAMES, Grid

ERROR = "error"
WARNING = "warning"
DEFAULT_TOLERANCE_M2 = 1.0

# An upper bound of square metres per square degree anywhere on Earth (111.7 km × 111.4 km):
# a planar area in degrees times this can only overestimate, so it safely skips the slower
# geodesic computation for parts that are certainly below the tolerance.
_M2_PER_DEG2_MAX = 1.25e10


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of validation.

    Attributes
    ----------
    kind : str
        ``invalid``, ``empty``, ``gap``, ``overlap``, ``outside_parent``, ``edge_mismatch``,
        ``wrong_level``, ``parent_missing``, ``missing_leader`` or ``missing_staff``.
    severity : str
        ``error`` (blocks saving) or ``warning``.
    level : int
        Level of the grids concerned (for a gap: the level of the children that leave it).
    grids : tuple of str
        Codes of the grids involved, the one to act on first.
    area_m2 : float
        Area of the problem region on the ellipsoid; 0 for problems without an area.
    location : tuple of float
        ``(lon, lat)`` of a point on the problem, for zoom-to.
    message : str
        A sentence in Chinese naming the grids.
    """

    kind: str
    severity: str
    level: int
    grids: tuple[str, ...]
    area_m2: float
    location: tuple[float, float]
    message: str
    grid_ids: tuple[int, ...] = field(default=(), compare=False)
    geometry: BaseGeometry | None = field(default=None, compare=False, repr=False)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict:
        """The JSON form: exactly the keys of ``envgrid validate --json``."""
        return {"kind": self.kind, "severity": self.severity, "level": self.level,
                "grids": list(self.grids), "area_m2": round(float(self.area_m2), 2),
                "location": [round(float(self.location[0]), 7), round(float(self.location[1]), 7)],
                "message": self.message}


def problems_to_json(problems: Iterable[Problem]) -> dict:
    """``{"problems": [...]}`` for ``--json`` and for anything that stores a report."""
    return {"problems": [p.to_dict() for p in problems]}


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.is_error for p in problems)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Errors first, then by level, kind and the first grid code (stable for tests and diffs)."""
    return sorted(problems, key=lambda p: (p.severity != ERROR, p.level, p.kind, p.grids, p.location))


def label(grid: Grid) -> str:
    """``三级网格“古寨村”（140502001001）`` — how messages name a grid."""
    return f"{LEVEL_NAMES.get(grid.level, '网格')}“{grid.name}”（{grid.code}）"


def names(grids: Iterable[Grid]) -> str:
    return "、".join(f"“{g.name}”（{g.code}）" for g in grids)


def location_of(geom: BaseGeometry) -> tuple[float, float]:
    """A point guaranteed to lie on ``geom`` (a centroid may fall outside a sliver)."""
    if geom is None or geom.is_empty:
        return (float("nan"), float("nan"))
    point = shapely.point_on_surface(geom)
    return (float(point.x), float(point.y))


def significant_parts(geom: BaseGeometry, tolerance_m2: float) -> list[tuple[BaseGeometry, float]]:
    """Polygonal parts of ``geom`` whose geodesic area exceeds ``tolerance_m2``, largest first.

    Lines and points (where two grids merely touch) have no area and never count.
    """
    if geom is None or geom.is_empty:
        return []
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon)]
    nested = [g for g in shapely.get_parts(geom) if isinstance(g, (shapely.MultiPolygon, shapely.GeometryCollection))]
    for collection in nested:
        parts.extend(p for p in shapely.get_parts(collection) if isinstance(p, shapely.Polygon))
    out = []
    for part in parts:
        if part.area * _M2_PER_DEG2_MAX <= tolerance_m2:
            continue
        area = geodesic_area_m2(part)
        if area > tolerance_m2:
            out.append((part, area))
    return sorted(out, key=lambda item: -item[1])


def may_exceed(planar_area_deg2: float, tolerance_m2: float) -> bool:
    """False when an area in square degrees is certainly below ``tolerance_m2``."""
    return abs(planar_area_deg2) * _M2_PER_DEG2_MAX > tolerance_m2
