"""Coordinate reference systems for EnvGrid.

EnvGrid stores every coordinate as longitude/latitude in CGCS2000
(EPSG:4490), which for mapping purposes equals WGS84 (EPSG:4326): the two
frames differ by centimetres, far below the accuracy of the source data.

Chinese web maps do not publish WGS84. Amap/Gaode and Tencent use GCJ-02,
a deliberately distorted datum that shifts points by roughly 100-700 m;
Baidu adds a second distortion on top of it, BD-09. Both must be undone
before anything is stored or measured, which is what this module does.

It also holds the ellipsoidal area computation and the CGCS2000
3-degree Gauss-Krueger zone helpers used whenever metric coordinates are
needed (buffering, subdividing grids).

This module is pure Python (numpy, shapely, pyproj) and must never import
Qt, so that it can run in workers, scripts and tests without a display.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from pyproj.exceptions import CRSError, ProjError

__all__ = [
    "GCJ02",
    "BD09",
    "WGS84",
    "CGCS2000",
    "gcj02_to_wgs84",
    "wgs84_to_gcj02",
    "bd09_to_gcj02",
    "gcj02_to_bd09",
    "bd09_to_wgs84",
    "wgs84_to_bd09",
    "out_of_china",
    "parse_src_crs",
    "to_wgs84",
    "geodesic_area_m2",
    "gk3_epsg",
    "gk3_zone_epsg",
    "project_to_gk",
    "gk_to_lonlat",
]

#: Canonical names returned by :func:`parse_src_crs` for the Chinese offset datums.
GCJ02 = "gcj02"
BD09 = "bd09"
#: Canonical pyproj strings for the two (practically identical) storage frames.
WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"

# --- GCJ-02 constants ---------------------------------------------------------
# The published GCJ-02 algorithm is built on the Krasovsky 1940 ellipsoid,
# not on WGS84; using WGS84 values here would shift results by centimetres
# and break agreement with every other implementation.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323

# The rough bounding box every open GCJ-02 implementation uses. Amap applies
# no offset outside China, so outside this box input is returned unchanged.
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271

# --- BD-09 constant -----------------------------------------------------------
_X_PI = math.pi * 3000.0 / 180.0

# --- Fixed-point inversion settings --------------------------------------------
# 1e-9 degrees is about 0.1 mm on the ground: far below anything a user can
# see, yet well above float64 noise (~1e-14 deg at lon 137), so the loop
# terminates reliably.
_INVERSE_TOL_DEG = 1e-9
_INVERSE_MAX_ITER = 30

# GRS80 is the CGCS2000 ellipsoid; it differs from WGS84 only in the 11th
# digit of the flattening, which is irrelevant for areas.
_GEOD = Geod(ellps="GRS80")

# Central meridians of the official CGCS2000 3-degree Gauss-Krueger series.
_GK3_CM_MIN, _GK3_CM_MAX = 75, 135
_GK3_CM_FIRST_EPSG = 4534  # "CGCS2000 / 3-degree Gauss-Kruger CM 75E"
_GK3_ZONE_FIRST_EPSG = 4513  # "CGCS2000 / 3-degree Gauss-Kruger zone 25" (CM 75E)
# Longitudes accepted by gk3_epsg: a little wider than the series itself so
# that all of China (west tip ~73.5E, GCJ-02 box 72.0-137.8E) gets a zone.
_GK3_LON_MIN, _GK3_LON_MAX = 72.0, 138.0

# =============================================================================
# Array plumbing
# =============================================================================


def _as_float_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    """Convert coordinate inputs to float64 arrays.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitudes and latitudes in degrees; must broadcast together.

    Returns
    -------
    lon, lat : numpy.ndarray
        Broadcast float64 copies (never views of the caller's data).
    scalar : bool
        True when both inputs were scalars, so results can be returned as
        plain floats again.
    """
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_a, lat_a = np.broadcast_arrays(
        np.array(lon, dtype=np.float64), np.array(lat, dtype=np.float64)
    )
    # broadcast_arrays returns read-only views; copy so callers may mutate.
    return lon_a.copy(), lat_a.copy(), scalar


def _restore(lon: np.ndarray, lat: np.ndarray, scalar: bool):
    """Return plain floats for scalar input and arrays otherwise."""
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    target_x: np.ndarray,
    target_y: np.ndarray,
    start_x: np.ndarray,
    start_y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x, y) == target`` by fixed-point iteration.

    Both Chinese offsets are the identity plus a small, smooth perturbation
    whose derivative is of order 1e-3, so the update
    ``p <- p - (forward(p) - target)`` is a strong contraction and reaches
    1e-9 degrees in a handful of steps.

    Parameters
    ----------
    forward : callable
        Vectorised map ``(x, y) -> (x', y')`` on float64 arrays.
    target_x, target_y : numpy.ndarray
        The values ``forward`` must produce.
    start_x, start_y : numpy.ndarray
        Initial guess, same shape as the targets.

    Returns
    -------
    x, y : numpy.ndarray
        The solution; elements that have not converged after
        ``_INVERSE_MAX_ITER`` steps (none in practice) keep their last iterate.
    """
    x, y = start_x.copy(), start_y.copy()
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = forward(x, y)
        dx = fx - target_x
        dy = fy - target_y
        x -= dx
        y -= dy
        # Written as "not >= tol" so NaN/inf inputs count as settled instead
        # of forcing all 30 iterations on the whole array.
        if not np.any((np.abs(dx) >= _INVERSE_TOL_DEG) | (np.abs(dy) >= _INVERSE_TOL_DEG)):
            break
    return x, y


# =============================================================================
# GCJ-02
# =============================================================================


def out_of_china(lon, lat):
    """Tell whether points lie outside the GCJ-02 bounding box.

    Parameters
    ----------
    lon, lat : float or array_like
        Coordinates in degrees.

    Returns
    -------
    bool or numpy.ndarray of bool
        True where no GCJ-02 offset is applied. NaN coordinates count as
        outside, so they pass through the transforms untouched.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    inside = (
        (lon_a >= _CHINA_LON_MIN)
        & (lon_a <= _CHINA_LON_MAX)
        & (lat_a >= _CHINA_LAT_MIN)
        & (lat_a <= _CHINA_LAT_MAX)
    )
    result = ~inside
    return bool(result) if result.ndim == 0 else result


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Latitude polynomial of GCJ-02 (x, y are lon-105, lat-35), in metres-ish units."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Longitude polynomial of GCJ-02 (x, y are lon-105, lat-35), in metres-ish units."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj02_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 in degrees at WGS84 points; zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    dlat = _transform_lat(x, y)
    dlon = _transform_lon(x, y)
    # Turn the polynomial "metres" into degrees with the Krasovsky radii of
    # curvature (meridian M and prime vertical N) at the point's latitude.
    radlat = np.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = np.asarray(out_of_china(lon, lat))
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _wgs84_to_gcj02_arrays(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Array-only forward GCJ-02 transform (shared with the inverse solver)."""
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def wgs84_to_gcj02(lon, lat):
    """Convert WGS84 (or CGCS2000) lon/lat to GCJ-02 with the standard formula.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 coordinates in degrees; arrays must broadcast together.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        GCJ-02 coordinates; floats for scalar input. Points outside the
        China bounding box are returned unchanged.
    """
    lon_a, lat_a, scalar = _as_float_arrays(lon, lat)
    return _restore(*_wgs84_to_gcj02_arrays(lon_a, lat_a), scalar)


def gcj02_to_wgs84(lon, lat):
    """Convert GCJ-02 lon/lat to WGS84 by iterating the forward formula.

    The widespread one-step inverse (subtract the offset evaluated at the
    GCJ-02 point) is off by metres (up to ~5 m inside China) because the
    offset varies in space. Here
    the forward formula is inverted by fixed-point iteration until the
    update is below 1e-9 degrees, so ``wgs84_to_gcj02(gcj02_to_wgs84(p))``
    reproduces ``p`` to about 0.1 mm.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 coordinates in degrees; arrays must broadcast together.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        WGS84 coordinates; floats for scalar input. Points outside the
        China bounding box are returned unchanged.
    """
    lon_a, lat_a, scalar = _as_float_arrays(lon, lat)
    # The one-step approximation is already within a few metres: a good start.
    dlon, dlat = _gcj02_offset(lon_a, lat_a)
    x, y = _invert(_wgs84_to_gcj02_arrays, lon_a, lat_a, lon_a - dlon, lat_a - dlat)
    return _restore(x, y, scalar)


# =============================================================================
# BD-09
# =============================================================================


def _bd09_to_gcj02_arrays(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Array-only standard closed-form BD-09 -> GCJ-02."""
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _gcj02_to_bd09_closed_form(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The widely published closed-form GCJ-02 -> BD-09 (used as a start point)."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat):
    """Convert Baidu BD-09 lon/lat to GCJ-02 with the standard closed form.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 coordinates in degrees; arrays must broadcast together.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        GCJ-02 coordinates; floats for scalar input.

    Notes
    -----
    Unlike GCJ-02, BD-09 has no "outside China" exemption: Baidu shifts
    every point, so neither does this function.
    """
    lon_a, lat_a, scalar = _as_float_arrays(lon, lat)
    return _restore(*_bd09_to_gcj02_arrays(lon_a, lat_a), scalar)


def gcj02_to_bd09(lon, lat):
    """Convert GCJ-02 lon/lat to Baidu BD-09, exactly inverting :func:`bd09_to_gcj02`.

    The two published closed forms are not inverses of each other: a round
    trip through them drifts by up to about 0.2 m. Because EnvGrid
    reads Baidu data through the standard :func:`bd09_to_gcj02`, this
    direction is defined as that function's exact inverse (fixed-point
    iteration from the closed form, to 1e-9 degrees), so exporting and
    re-importing a point returns it unchanged.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 coordinates in degrees; arrays must broadcast together.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        BD-09 coordinates; floats for scalar input.
    """
    lon_a, lat_a, scalar = _as_float_arrays(lon, lat)
    start_x, start_y = _gcj02_to_bd09_closed_form(lon_a, lat_a)
    return _restore(*_invert(_bd09_to_gcj02_arrays, lon_a, lat_a, start_x, start_y), scalar)


def bd09_to_wgs84(lon, lat):
    """Convert Baidu BD-09 lon/lat to WGS84 (via GCJ-02).

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 coordinates in degrees.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        WGS84 coordinates; floats for scalar input.
    """
    lon_a, lat_a, scalar = _as_float_arrays(lon, lat)
    gx, gy = _bd09_to_gcj02_arrays(lon_a, lat_a)
    return _restore(*gcj02_to_wgs84(gx, gy), scalar)


def wgs84_to_bd09(lon, lat):
    """Convert WGS84 lon/lat to Baidu BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 coordinates in degrees.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        BD-09 coordinates; floats for scalar input.
    """
    lon_a, lat_a, scalar = _as_float_arrays(lon, lat)
    gx, gy = _wgs84_to_gcj02_arrays(lon_a, lat_a)
    return _restore(*gcj02_to_bd09(gx, gy), scalar)


# =============================================================================
# Source CRS parsing and geometry conversion
# =============================================================================

# Separators users type inside datum names: "GCJ-02", "gcj_02", "BD 09".
_SEPARATORS = re.compile(r"[\s_\-.]+")
_ALIASES = {
    "gcj02": GCJ02,
    "gcj": GCJ02,
    "bd09": BD09,
    "bd09ll": BD09,  # Baidu's API calls its lon/lat flavour "bd09ll"
    "bd": BD09,
    "wgs84": WGS84,
    "cgcs2000": CGCS2000,
}
_EPSG_SHORTHAND = re.compile(r"^\s*epsg\s*:\s*(\d+)\s*$", re.IGNORECASE)


def _describe_bad(text) -> str:
    """Render a rejected user value for an error message (truncated WKT etc.)."""
    shown = repr(text)
    return shown if len(shown) <= 120 else shown[:117] + "..."


def _parse_pyproj(text: str) -> str:
    """Validate ``text`` with pyproj and return a canonical pyproj string."""
    match = _EPSG_SHORTHAND.match(text)
    candidate = f"EPSG:{int(match.group(1))}" if match else text
    try:
        crs = CRS.from_user_input(candidate)
    except CRSError as exc:
        raise ValueError(
            f"Unknown source CRS {_describe_bad(text)}: expected 'gcj02', 'bd09' "
            f"or a CRS pyproj understands (e.g. 'EPSG:4490')."
        ) from exc
    # Only CRSs with a horizontal lon/lat or easting/northing component can
    # be mapped onto 2D geometries; geocentric or purely vertical ones cannot.
    if not (crs.is_geographic or crs.is_projected):
        raise ValueError(
            f"Source CRS {_describe_bad(text)} ({crs.name}) is neither geographic "
            f"nor projected, so 2D geometries cannot be converted from it."
        )
    if match:
        return candidate
    # Collapse WKT/PROJ text to "AUTH:CODE" only on an exact (100 %) match,
    # so that custom parameters (towgs84, odd axes) are never silently lost.
    authority = crs.to_authority(min_confidence=100)
    return f"{authority[0]}:{authority[1]}" if authority else text


def parse_src_crs(text) -> str:
    """Normalise a user-supplied source CRS name.

    Parameters
    ----------
    text : str
        What the user typed or a file declared: ``'GCJ02'``, ``'gcj-02'``,
        ``'BD09'``, ``'WGS84'``, ``'CGCS2000'``, ``'epsg:4490'``, a PROJ
        string, WKT, ...

    Returns
    -------
    str
        ``'gcj02'`` or ``'bd09'`` for the Chinese offset datums, otherwise a
        string pyproj accepts: ``'EPSG:<code>'`` when the CRS is exactly an
        authority code, else the stripped input.

    Raises
    ------
    ValueError
        If ``text`` is not a string, is empty, or is not a CRS; the message
        quotes the offending value. (ValueError rather than TypeError for
        non-strings so a UI can catch a single exception type.)
    """
    if not isinstance(text, str):
        raise ValueError(f"Source CRS must be a string, got {_describe_bad(text)}.")
    stripped = text.strip()
    if not stripped:
        raise ValueError("Source CRS is empty: expected 'gcj02', 'bd09' or e.g. 'EPSG:4490'.")
    alias = _ALIASES.get(_SEPARATORS.sub("", stripped).lower())
    if alias is not None:
        return alias
    return _parse_pyproj(stripped)


@functools.lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    """Build (once) a lon/lat-ordered pyproj transformer between two CRSs."""
    try:
        return Transformer.from_crs(src, dst, always_xy=True)
    except (CRSError, ProjError) as exc:
        raise ValueError(f"Cannot transform from {_describe_bad(src)} to {dst}: {exc}") from exc


def _xy_fn(fn: Callable) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap ``fn(x, y) -> (x, y)`` for :func:`shapely.transform`, keeping any Z column."""

    def apply(coords: np.ndarray) -> np.ndarray:
        out = coords.astype(np.float64, copy=True)
        x, y = fn(coords[:, 0], coords[:, 1])
        out[:, 0] = x
        out[:, 1] = y
        return out

    return apply


def _transform_geom(geom, fn: Callable):
    """Apply a vectorised ``fn(x, y)`` to every vertex, preserving Z values."""
    # include_z=None keeps each geometry's own dimensionality; heights are
    # passed through untouched because every transform here is horizontal.
    return shapely.transform(geom, _xy_fn(fn), include_z=None)


def _pyproj_fn(src: str, dst: str) -> Callable:
    """Vectorised ``(x, y) -> (x, y)`` for a pyproj transformation."""
    transformer = _transformer(src, dst)

    def fn(x: np.ndarray, y: np.ndarray):
        return transformer.transform(x, y, errcheck=True)

    return fn


def to_wgs84(geom, src_crs: str):
    """Convert a shapely geometry from ``src_crs`` to WGS84 lon/lat.

    Parameters
    ----------
    geom : shapely.Geometry or array_like of shapely.Geometry
        Input geometry (or array of them) in ``src_crs``.
    src_crs : str
        ``'gcj02'`` (Amap/Gaode, Tencent), ``'bd09'`` (Baidu), or anything
        :func:`parse_src_crs` accepts, e.g. ``'EPSG:4490'``, ``'EPSG:4547'``,
        ``'EPSG:3857'`` or a WKT string.

    Returns
    -------
    shapely.Geometry or numpy.ndarray
        The geometry in EPSG:4326 lon/lat order (equal to CGCS2000 for
        EnvGrid's purposes). Z values, if any, are kept unchanged.

    Raises
    ------
    ValueError
        If ``src_crs`` is unknown (the message names it) or a projected
        coordinate cannot be transformed.
    """
    src = parse_src_crs(src_crs)
    if src == GCJ02:
        return _transform_geom(geom, gcj02_to_wgs84)
    if src == BD09:
        return _transform_geom(geom, bd09_to_wgs84)
    if src == WGS84:
        return geom  # shapely geometries are immutable; no copy needed
    try:
        return _transform_geom(geom, _pyproj_fn(src, WGS84))
    except ProjError as exc:
        raise ValueError(f"Could not transform geometry from {src}: {exc}") from exc


# =============================================================================
# Area
# =============================================================================


def _check_lonlat(geom) -> None:
    """Reject geometries whose coordinates cannot be degrees (e.g. metres)."""
    minx, miny, maxx, maxy = shapely.bounds(geom)
    if minx < -180.0 or maxx > 180.0 or miny < -90.0 or maxy > 90.0:
        raise ValueError(
            f"Geometry bounds ({minx:.6g}, {miny:.6g}, {maxx:.6g}, {maxy:.6g}) are not "
            f"lon/lat degrees; convert it with to_wgs84() or gk_to_lonlat() first."
        )


def geodesic_area_m2(geom) -> float:
    """Area of a lon/lat geometry on the CGCS2000 (GRS80) ellipsoid.

    Parameters
    ----------
    geom : shapely.Geometry
        Geometry in lon/lat degrees (EPSG:4490 or EPSG:4326). Polygons and
        multipolygons (with holes) and the polygonal parts of geometry
        collections contribute; points and lines have zero area.

    Returns
    -------
    float
        Area in square metres, never negative.

    Raises
    ------
    ValueError
        If the coordinates are outside lon/lat ranges (projected input).
    """
    if geom is None or geom.is_empty:
        return 0.0
    _check_lonlat(geom)
    total = 0.0
    for polygon in _polygonal_parts(geom):
        # pyproj sums signed ring areas and treats lines as closed rings, so
        # orient each polygon (exterior CCW, holes CW) to make holes subtract
        # and keep mixed-orientation multipolygon parts from cancelling out.
        oriented = shapely.orient_polygons(polygon)
        area, _ = _GEOD.geometry_area_perimeter(oriented)
        total += abs(area)
    return total


def _polygonal_parts(geom) -> list:
    """Polygons inside ``geom``, descending into nested collections."""
    if isinstance(geom, shapely.Polygon):
        return [] if geom.is_empty else [geom]
    if isinstance(geom, (shapely.MultiPolygon, shapely.GeometryCollection)):
        return [poly for part in shapely.get_parts(geom) for poly in _polygonal_parts(part)]
    return []


# =============================================================================
# CGCS2000 3-degree Gauss-Krueger zones
# =============================================================================


def _gk3_central_meridian(lon: float) -> int:
    """Nearest official 3-degree central meridian (75E..135E) to ``lon``."""
    lon = float(lon)
    if not (_GK3_LON_MIN <= lon <= _GK3_LON_MAX):  # also rejects NaN
        raise ValueError(
            f"Longitude {lon!r} is outside China ({_GK3_LON_MIN}-{_GK3_LON_MAX}E); "
            f"CGCS2000 3-degree Gauss-Kruger zones only cover 75E-135E."
        )
    # floor(x + 0.5) rounds halves up deterministically (Python's round()
    # would send 115.5E and 118.5E to different sides).
    cm = 3 * math.floor(lon / 3.0 + 0.5)
    # The series stops at 75E/135E; the westernmost and easternmost slivers
    # of China (<1.5 degrees beyond) use the edge zone, which GK handles well.
    return min(max(cm, _GK3_CM_MIN), _GK3_CM_MAX)


def gk3_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree GK CRS (no zone prefix) for ``lon``.

    Parameters
    ----------
    lon : float
        Longitude in degrees east, within about 72E-138E.

    Returns
    -------
    int
        One of EPSG:4534 (CM 75E) ... EPSG:4554 (CM 135E), for the central
        meridian nearest to ``lon``. Eastings carry no zone prefix
        (false easting 500 000 m).

    Raises
    ------
    ValueError
        If ``lon`` is not a longitude in or near China.
    """
    return _GK3_CM_FIRST_EPSG + (_gk3_central_meridian(lon) - _GK3_CM_MIN) // 3


def gk3_zone_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree GK CRS with zone prefix for ``lon``.

    Parameters
    ----------
    lon : float
        Longitude in degrees east, within about 72E-138E.

    Returns
    -------
    int
        One of EPSG:4513 (zone 25, CM 75E) ... EPSG:4533 (zone 45, CM 135E).
        Zone number is CM / 3, and eastings start with it
        (false easting ``zone * 1e6 + 500 000`` m).

    Raises
    ------
    ValueError
        If ``lon`` is not a longitude in or near China.
    """
    return _GK3_ZONE_FIRST_EPSG + (_gk3_central_meridian(lon) - _GK3_CM_MIN) // 3


def project_to_gk(geom, epsg: int | None = None):
    """Project a lon/lat geometry into metres in a CGCS2000 3-degree GK zone.

    Parameters
    ----------
    geom : shapely.Geometry
        Geometry in CGCS2000 lon/lat (EPSG:4490).
    epsg : int, optional
        GK CRS to use. By default the CM zone (no prefix) nearest to the
        geometry's centroid, via :func:`gk3_epsg`; pass it explicitly to put
        several geometries into one common zone.

    Returns
    -------
    geom_m : shapely.Geometry
        The projected geometry, coordinates in metres.
    epsg : int
        The EPSG code used; give it to :func:`gk_to_lonlat` to come back.

    Raises
    ------
    ValueError
        If the geometry is empty or outside China.
    """
    if geom is None or geom.is_empty:
        raise ValueError("Cannot choose a Gauss-Kruger zone for an empty geometry.")
    _check_lonlat(geom)
    if epsg is None:
        epsg = gk3_epsg(geom.centroid.x)
    return _transform_geom(geom, _pyproj_fn(CGCS2000, f"EPSG:{int(epsg)}")), int(epsg)


def gk_to_lonlat(geom, epsg: int):
    """Bring a geometry in a GK projection back to CGCS2000 lon/lat.

    Parameters
    ----------
    geom : shapely.Geometry
        Geometry in metres, in the CRS ``EPSG:<epsg>``.
    epsg : int
        The code returned by :func:`project_to_gk`.

    Returns
    -------
    shapely.Geometry
        The geometry in EPSG:4490 lon/lat order.
    """
    return _transform_geom(geom, _pyproj_fn(f"EPSG:{int(epsg)}", CGCS2000))


# =============================================================================
# Status-bar text for a cursor position in CGCS2000 3-degree GK
# =============================================================================


@functools.cache
def _gk3_zone_transformer(epsg: int) -> Transformer:
    return Transformer.from_crs(CGCS2000, f"EPSG:{epsg}", always_xy=True)


def gk3_coordinates(lon: float, lat: float) -> tuple[int, float, float]:
    """Zone and surveyors' X/Y of a lon/lat point in its CGCS2000 3-degree GK zone.

    Parameters
    ----------
    lon, lat : float
        CGCS2000 (or WGS84) degrees, ``lon`` within about 72E-138E.

    Returns
    -------
    zone : int
        3-degree zone number (central meridian / 3), 25-45.
    x : float
        Northing in metres (Chinese surveying calls it X).
    y : float
        Easting in metres with the zone number in front (Y), as in EPSG:4513-4533.

    Raises
    ------
    ValueError
        If ``lon`` is outside the zones or ``lat`` is not a latitude.
    """
    if not -90.0 <= float(lat) <= 90.0:
        raise ValueError(f"Latitude {lat!r} is not within -90..90 degrees.")
    epsg = gk3_zone_epsg(lon)
    easting, northing = _gk3_zone_transformer(epsg).transform(float(lon), float(lat))
    return epsg - _GK3_ZONE_FIRST_EPSG + _GK3_CM_MIN // 3, float(northing), float(easting)


def format_gk3(lon: float, lat: float) -> str:
    """``CGCS2000 3°带 38带 X=3930673.60 Y=38395658.90`` (X north, Y east with zone prefix).

    Returns the label with a dash instead of numbers for points no zone covers,
    so a status bar can show it for any cursor position.
    """
    try:
        zone, x, y = gk3_coordinates(lon, lat)
    except (ValueError, TypeError):
        return "CGCS2000 3°带 —"
    if not (math.isfinite(x) and math.isfinite(y)):
        return "CGCS2000 3°带 —"
    return f"CGCS2000 3°带 {zone}带 X={x:.2f} Y={y:.2f}"
