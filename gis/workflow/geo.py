"""Metres around a point: a local scale for shapes, the ellipsoid for point-to-point distances.

Routing and duplicate checks look a few hundred metres around a case, where a local
equirectangular scale is within 0.1 % of a projected distance and needs no pyproj call per grid.
"""
from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import Geod

_GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid


def metres_per_degree(lat: float) -> tuple[float, float]:
    """(metres per degree of longitude, of latitude) at ``lat`` on GRS80 (series to 1 mm)."""
    phi = math.radians(lat)
    per_lat = 111132.954 - 559.822 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    per_lon = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi)
    return per_lon, per_lat


def to_local_metres(geom, lon0: float, lat0: float):
    """``geom`` (lon/lat) in metres east/north of (lon0, lat0), scaled at lat0."""
    kx, ky = metres_per_degree(lat0)
    return shapely.transform(geom, lambda xy: (xy - (lon0, lat0)) * (kx, ky))


def degrees_around(lat: float, metres: float) -> tuple[float, float]:
    """Half-widths (dlon, dlat) in degrees of a box reaching ``metres`` around a point at ``lat``."""
    kx, ky = metres_per_degree(lat)
    return metres / kx, metres / ky


def distances_m(lon: float, lat: float, lons, lats) -> np.ndarray:
    """Geodesic distances from one point to many, in metres."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    if lons.size == 0:
        return np.zeros(0)
    _, _, dist = _GEOD.inv(np.full(lons.shape, lon), np.full(lats.shape, lat), lons, lats)
    return np.asarray(dist, dtype=float)
