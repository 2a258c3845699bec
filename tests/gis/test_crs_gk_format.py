"""format_gk3 / gk3_coordinates: the status bar's Gauss-Krüger text."""
from __future__ import annotations

import pytest
from pyproj import Transformer

from gis.crs import format_gk3, gk3_coordinates


def test_jincheng_is_zone_38_with_prefixed_easting():
    zone, x, y = gk3_coordinates(112.85, 35.5)
    assert zone == 38  # central meridian 114E
    # Independent check against the no-prefix CRS (EPSG:4547, CM 114E): only the prefix differs.
    east, north = Transformer.from_crs("EPSG:4490", "EPSG:4547", always_xy=True).transform(112.85, 35.5)
    assert x == pytest.approx(north, abs=1e-3)
    assert y == pytest.approx(38_000_000 + east, abs=1e-3)
    assert 3_900_000 < x < 4_000_000 and str(int(y)).startswith("38")


def test_central_meridian_has_false_easting_only():
    zone, x, y = gk3_coordinates(117.0, 30.0)
    assert zone == 39
    assert y == pytest.approx(39_500_000, abs=1e-6)


@pytest.mark.parametrize("lon, zone", [(73.6, 25), (87.6, 29), (112.5, 38), (113.5, 38), (115.4999, 38),
                                       (115.5, 39), (116.5, 39), (134.7, 45)])
def test_zone_follows_the_nearest_central_meridian(lon, zone):
    assert gk3_coordinates(lon, 40.0)[0] == zone


def test_format_reads_like_a_surveyor_writes_it():
    text = format_gk3(112.85, 35.5)
    zone, x, y = gk3_coordinates(112.85, 35.5)
    assert text == f"CGCS2000 3°带 38带 X={x:.2f} Y={y:.2f}"
    assert "Y=38" in text


@pytest.mark.parametrize("lon, lat", [(10.0, 50.0), (float("nan"), 30.0), (112.0, 95.0), (112.0, float("nan"))])
def test_outside_the_zones_is_a_dash(lon, lat):
    assert format_gk3(lon, lat) == "CGCS2000 3°带 —"
