"""Pure viewport arithmetic (no widget)."""
import math

import pytest

from desktop.widgets.map_viewport import MapViewport


def test_zoom_keeps_the_anchor_point_fixed():
    vp = MapViewport(cx=12_560_000.0, cy=4_230_000.0, res=20.0, width=800, height=600)
    anchor = (123.0, 456.0)
    before = vp.screen_to_world(*anchor)
    for factor in (2.0, 0.5, 1.37):
        zoomed = vp.zoomed(factor, anchor)
        assert zoomed.res == pytest.approx(vp.res / factor)
        assert zoomed.screen_to_world(*anchor) == pytest.approx(before, abs=1e-6)


def test_pan_moves_content_with_the_mouse():
    vp = MapViewport(cx=0.0, cy=0.0, res=10.0, width=400, height=300)
    world = vp.screen_to_world(100, 100)
    moved = vp.panned(30, -20)
    assert moved.world_to_screen(*world) == pytest.approx((130, 80))


def test_fit_shows_the_whole_box_centred():
    vp = MapViewport(width=400, height=200).fitted((1000.0, 2000.0, 5000.0, 3000.0), margin=0.0)
    assert vp.extent == pytest.approx((1000.0, 1500.0, 5000.0, 3500.0))
    assert (vp.cx, vp.cy) == (3000.0, 2500.0)


def test_scale_denominator_accounts_for_mercator_stretch():
    at_equator = MapViewport(cy=0.0, res=1.0).scale_denominator()
    assert at_equator == pytest.approx(1 / (0.0254 / 96))
    at_35n = MapViewport(cy=4_232_000.0, res=1.0).scale_denominator()  # y of latitude 35.4997°
    assert at_35n == pytest.approx(at_equator * math.cos(math.radians(35.4997)), rel=1e-5)
