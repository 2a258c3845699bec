"""Grid outlines thinned for a web map's zoom range, in metres, keeping shared edges shared.

A briefing never shows the grids closer than ``max_zoom``; a vertex that moves an outline by
less than about a pixel there is weight in the file and nothing on screen. Each level is
simplified as a *coverage* (GEOS coverage simplification, Visvalingam–Whyatt on the shared
edges), so two neighbours keep one common edge and no slivers or gaps open between them. A
level that is not a clean coverage (overlaps, unmatched vertices) falls back to simplifying
each outline on its own with topology preserved. Coordinates are then rounded to 6 decimals
(~0.1 m), after the simplification, so equal vertices stay equal.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

EARTH_CIRCUMFERENCE_M = 40_075_016.686
METRES_PER_DEGREE_LAT = 110_574.0
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0
DECIMALS = 6


def metres_per_pixel(lat: float, zoom: int) -> float:
    """Ground size of one 256-px-tile pixel of Web Mercator at ``lat`` and ``zoom``."""
    return EARTH_CIRCUMFERENCE_M * math.cos(math.radians(lat)) / (256 * 2 ** zoom)


def _to_local_metres(geoms: np.ndarray, lat0: float, inverse: bool = False) -> np.ndarray:
    kx = METRES_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(lat0))
    ky = METRES_PER_DEGREE_LAT
    scale = np.array([1 / kx, 1 / ky]) if inverse else np.array([kx, ky])
    return shapely.transform(geoms, lambda xy: xy * scale)


def round_coordinates(geoms: Sequence[BaseGeometry] | np.ndarray, decimals: int = DECIMALS) -> np.ndarray:
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.round(xy, decimals))


def simplify_level(geoms: Sequence[BaseGeometry], tolerance_m: float) -> tuple[list[BaseGeometry], str]:
    """Simplify one level's outlines; returns them (same order) and how (``coverage``/``each``/``none``)."""
    array = np.asarray(list(geoms), dtype=object)
    if not len(array):
        return [], "none"
    polygonal = shapely.get_type_id(array)
    if tolerance_m <= 0 or not np.isin(polygonal, (3, 6)).all():  # points (level 5) are only rounded
        return list(round_coordinates(array)), "none"
    lat0 = float(np.mean(shapely.bounds(array)[:, [1, 3]]))
    local = _to_local_metres(array, lat0)
    how = "coverage"
    try:
        coverage_ok = bool(shapely.coverage_is_valid(local))
    except shapely.errors.GEOSException:
        coverage_ok = False
    if coverage_ok:
        simplified = shapely.coverage_simplify(local, tolerance_m)
    else:
        how = "each"
        simplified = shapely.simplify(local, tolerance_m / 2, preserve_topology=True)
    back = _to_local_metres(simplified, lat0, inverse=True)
    return list(round_coordinates(back)), how
