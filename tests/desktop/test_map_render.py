"""Rendering: level of detail, culling, coverage simplification, labels, clusters, symbols, fills."""
from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from PySide6.QtGui import QColor

from desktop.widgets.map_build import grid_layers, source_layer
from desktop.widgets.map_cluster import cluster_points, count_text
from desktop.widgets.map_geometry import lonlat_to_mercator, mercator_bbox, to_mercator
from desktop.widgets.map_labels import LabelPlacer, short_name
from desktop.widgets.map_lod import CoverageLod, stamp_offsets, tolerance_for
from desktop.widgets.map_viewport import MapViewport
from gis.domain import SOURCE_CATEGORIES
from gis.palettes import SOURCE_COLOURS
from map_render_data import CELL, SOUTH, WEST, lattice, paint, wiggly_coverage

CATEGORIES = [(i + 1, code, name) for i, (code, name) in enumerate(SOURCE_CATEGORIES)]


def view_of(lonlat_box, width=1200, height=800) -> MapViewport:
    return MapViewport(width=width, height=height).fitted(mercator_bbox(lonlat_box), margin=0.02)


def zoomed(centre_lon, centre_lat, width_m, width=1200, height=800) -> MapViewport:
    x, y = lonlat_to_mercator(centre_lon, centre_lat)
    return MapViewport(float(x), float(y), width_m / width, width, height)


@pytest.fixture(scope="module")
def grids():
    return grid_layers(lattice(40))


def test_level_of_detail_shows_finer_levels_as_you_zoom_in(qapp, grids):
    by_level = grids.by_level()
    whole = view_of((WEST, SOUTH, WEST + 40 * CELL, SOUTH + 40 * CELL))
    close = zoomed(WEST + 10 * CELL, SOUTH + 10 * CELL, 2500)
    wide = whole.zoomed(1 / 32)  # the whole region around the district
    assert [by_level[level].visible_at(wide) for level in (2, 3, 4)] == [True, False, False]
    assert [by_level[level].visible_at(whole) for level in (2, 3, 4)] == [True, True, False]
    assert [by_level[level].visible_at(close) for level in (2, 3, 4)] == [True, True, True]
    _, ctx = paint(grids.outlines, whole)
    assert "grid-4" not in ctx.stats and len(ctx.stats["grid-3"]) == 8
    _, ctx = paint(grids.outlines, close)
    assert len(ctx.stats["grid-4"]) > 0
    forced = grid_layers(lattice(40), levels=(4,), forced=True).by_level()[4]
    assert forced.visible_at(wide)  # --levels 4: drawn whatever the scale


def test_culling_draws_only_buckets_that_touch_the_view(qapp, grids):
    layer = grids.by_level()[4]
    view = zoomed(WEST + 7.5 * CELL, SOUTH + 22.5 * CELL, 1500, 600, 400)
    _, ctx = paint([layer], view)
    drawn = set(ctx.stats["grid-4"].tolist())
    box = layer.rings.feature_bbox
    min_x, min_y, max_x, max_y = view.extent
    touching = set(np.nonzero((box[:, 2] >= min_x) & (box[:, 0] <= max_x)
                              & (box[:, 3] >= min_y) & (box[:, 1] <= max_y))[0].tolist())
    assert touching and touching <= drawn  # everything in view is drawn …
    assert len(drawn) < 0.2 * len(box)      # … and not much else: 1,600 grids, a handful of buckets
    lod = layer.lod.at(view.res)
    for b in lod.buckets_in_view(view.extent):
        bx = lod.bucket_bbox[b]
        assert bx[2] >= min_x and bx[0] <= max_x and bx[3] >= min_y and bx[1] <= max_y


def test_simplified_neighbours_still_share_their_edges():
    faces = wiggly_coverage()
    lod = CoverageLod(faces)
    raw = lod.version(0.0)
    coarse = lod.version(16.0)
    assert len(coarse.rings.xy) < 0.3 * len(raw.rings.xy)  # the wiggles are gone …
    simplified = lod.simplified(16.0)
    assert shapely.coverage_is_valid(simplified)           # … without overlaps …
    union = shapely.coverage_union_all(simplified)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0  # … or slivers between neighbours
    assert union.area == pytest.approx(shapely.area(simplified).sum(), rel=1e-9)
    # The control: simplifying each polygon on its own does open gaps or overlaps.
    alone = shapely.simplify(to_mercator(faces), 16.0, preserve_topology=True)
    assert not shapely.coverage_is_valid(alone) or shapely.coverage_union_all(alone).geom_type != "Polygon" \
        or len(shapely.coverage_union_all(alone).interiors) > 0


def test_tolerance_ladder_and_thick_line_stamps():
    assert tolerance_for(0.5) == 0.0 and tolerance_for(2.0) == 1.0 and tolerance_for(40.0) == 16.0
    assert stamp_offsets(1.0) == [(0.0, 0.0)]
    assert len(stamp_offsets(2.0)) == 5 and len(stamp_offsets(3.0)) >= 9
    assert max(math.hypot(*o) for o in stamp_offsets(3.0)) <= 1.0 + 1e-9


def test_labels_never_overlap_and_upper_levels_win(qapp, grids):
    layers = [*grids.outlines, *grids.labels]
    for view in (zoomed(WEST + 20 * CELL, SOUTH + 20 * CELL, 2200), zoomed(WEST + 8 * CELL, SOUTH + 30 * CELL, 900),
                 view_of((WEST, SOUTH, WEST + 40 * CELL, SOUTH + 40 * CELL))):
        _, ctx = paint(layers, view)
        placed = ctx.labels.placed
        assert placed, "some names should show"
        for i, a in enumerate(placed):
            assert 0 <= a.left() and a.right() <= view.width and 0 <= a.top() and a.bottom() <= view.height
            for b in placed[i + 1:]:
                assert not a.intersects(b), (a, b)
    _, ctx = paint(layers, zoomed(WEST + 10 * CELL, SOUTH + 10 * CELL, 2200))
    assert ctx.stats["grid-2-labels"] >= 1 and ctx.stats["grid-4-labels"] >= 1


def test_label_placer_and_short_names():
    from PySide6.QtCore import QRectF

    placer = LabelPlacer(200, 100)
    assert placer.try_place(QRectF(10, 10, 50, 12))
    assert not placer.try_place(QRectF(40, 14, 50, 12))    # overlaps
    assert not placer.try_place(QRectF(61, 10, 30, 12))    # too close: padding
    assert not placer.try_place(QRectF(180, 50, 50, 12))   # cut by the edge
    assert placer.try_place(QRectF(100, 60, 50, 12))
    assert short_name("北石庄村第12网格") == "第12网格" and short_name("第3网格") is None and short_name("西街") is None


def test_clusters_count_every_visible_point_once():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(1000, 30, 500), rng.uniform(0, 5000, 300)])
    y = np.concatenate([rng.normal(1000, 30, 500), rng.uniform(0, 5000, 300)])
    keep = np.zeros(len(x), bool)
    keep[::50] = True
    result = cluster_points(x, y, 400.0, 8, keep)
    assert result.total == len(x)
    assert len(result.counts) >= 1 and result.counts.min() >= 8
    assert set(np.nonzero(keep)[0]) <= set(result.singles.tolist())
    assert len(np.unique(result.singles)) == len(result.singles)
    assert cluster_points(x, y, 400.0, 10_000).total == len(x)
    assert len(cluster_points(x, y, 400.0, 10_000).counts) == 0
    assert count_text(12) == "12" and count_text(25_000) == "2.5万" and count_text(30_000) == "3万"


def test_sources_cluster_when_zoomed_out_and_stand_alone_when_close(qapp):
    rng = np.random.default_rng(2)
    n = 20_000
    lon, lat = rng.uniform(WEST, WEST + 0.1, n), rng.uniform(SOUTH, SOUTH + 0.1, n)
    is_key = rng.random(n) < 0.02
    layer = source_layer(np.arange(n), lon, lat, rng.integers(1, 14, n), is_key, CATEGORIES)
    far = view_of((WEST - 0.01, SOUTH - 0.01, WEST + 0.11, SOUTH + 0.11))
    _, ctx = paint([layer], far)
    clusters = ctx.stats["sources"]
    assert clusters.total == n and len(clusters.counts) > 10
    assert len(clusters.singles) < n / 10
    close = zoomed(WEST + 0.05, SOUTH + 0.05, 150)
    _, ctx = paint([layer], close)
    assert "sources" not in ctx.stats  # past 1:2,000 nothing is aggregated
    legend = layer.legend()
    labels = [label for label, _ in legend]
    assert "工业企业" in labels and any("重点" in label for label in labels) and any("聚合" in label for label in labels)
    assert all(not icon.isNull() for _, icon in legend)


def test_key_sources_are_bigger_and_categories_differ_in_shape_and_colour(qapp):
    from desktop.widgets.map_symbols import CATEGORY_SHAPES, category_symbols, symbol_image

    symbols = category_symbols(CATEGORIES)
    assert len({s.colour for s in symbols}) == len(symbols)
    assert len({s.shape for s in symbols}) >= 4
    assert set(CATEGORY_SHAPES) == set(SOURCE_COLOURS) == {code for code, _ in SOURCE_CATEGORIES}
    plain, _ = symbol_image(symbols[0], 7.0, False, 1.0)
    key, _ = symbol_image(symbols[0], 7.0, True, 1.0)
    assert key.width() > plain.width()


def test_fill_by_statistic_colours_grids_and_has_a_legend(qapp):
    layers = grid_layers(lattice(4))
    villages = layers.by_level()[3]
    values = np.arange(len(villages.ids), dtype=float)
    villages.set_fill_values(villages.ids, values)
    fill = villages.fill_state()
    assert fill.classes[0] == 0 and fill.classes[-1] == len(fill.breaks) - 1
    assert len(villages.fill_legend()) == len(fill.breaks)
    view = view_of((WEST, SOUTH, WEST + 4 * CELL, SOUTH + 4 * CELL), 400, 400)
    image, _ = paint([*layers.fills, *layers.outlines], view)
    x0, y0, x1, y1 = villages.lod.projected[-1].bounds
    sx, sy = view.world_to_screen(x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0))
    colour = QColor(image.pixel(int(sx), int(sy)))
    assert colour.red() > 200 and colour.blue() < 150  # the top class: dark red, translucent on white
    villages.set_fill_values(None, None)
    assert villages.fill_state() is None
