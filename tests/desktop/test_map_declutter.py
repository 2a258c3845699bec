"""Decluttering the map: pins and sources aggregated by density, bubbles by worst status,
labels kept off symbols, cheap previews while panning."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from desktop.widgets.map_build import grid_layers, source_layer
from desktop.widgets.map_cluster import ClusterStyle, choose_clusters, cluster_points
from desktop.widgets.map_geometry import lonlat_to_mercator, mercator_bbox
from desktop.widgets.map_labels import LabelPlacer
from desktop.widgets.map_obstacles import LabelObstacles
from desktop.widgets.map_viewport import MapViewport
from desktop.widgets.pin_layer import CLASS_INDEX, PIN_CLASSES, CasePinLayer
from gis.domain import SOURCE_CATEGORIES, CaseSource, CaseState, CaseSummary
from map_render_data import CELL, SOUTH, WEST, lattice, paint

CATEGORIES = [(i + 1, code, name) for i, (code, name) in enumerate(SOURCE_CATEGORIES)]
NOW = datetime.now()


def view_of(lonlat_box, width=1200, height=800) -> MapViewport:
    return MapViewport(width=width, height=height).fitted(mercator_bbox(lonlat_box), margin=0.02)


def zoomed(lon, lat, width_m, width=1200, height=800) -> MapViewport:
    x, y = lonlat_to_mercator(lon, lat)
    return MapViewport(float(x), float(y), width_m / width, width, height)


def case(case_id, state, lon, lat, *, due_in_h=24.0, source=CaseSource.COMPLAINT, created_min_ago=600.0):
    return CaseSummary(case_id, f"AJ{case_id:06d}", source, "扬尘污染", state, None, "", lon, lat,
                       NOW - timedelta(minutes=created_min_ago), NOW + timedelta(hours=due_in_h), None)


def district_cases(n=3000, seed=5):
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(WEST, WEST + 0.1, n), rng.uniform(SOUTH, SOUTH + 0.1, n)
    states = [CaseState.DISPATCHED, CaseState.IN_PROGRESS, CaseState.PENDING]
    return [case(i + 1, states[i % 3], float(lon[i]), float(lat[i])) for i in range(n)]


def test_bubbles_carry_the_worst_class_of_their_points():
    x = np.array([10.0, 20, 30, 40, 510, 520, 530, 540, 2000])
    y = np.array([10.0, 20, 30, 40, 10, 20, 30, 40, 2000])
    classes = np.array([0, 1, 4, 2, 1, 1, 3, 0, 4])
    result = cluster_points(x, y, 500.0, 4, classes=classes)
    assert sorted(zip(result.counts.tolist(), result.worst.tolist())) == [(4, 3), (4, 4)]
    assert result.singles.tolist() == [8]


def test_density_not_scale_decides_whether_points_cluster():
    style = ClusterStyle(cell_px=64, min_count=8, max_res=0.6, min_points=3000, crowded_share=0.3)
    rng = np.random.default_rng(1)
    dense_x, dense_y = rng.uniform(0, 6000, 2000), rng.uniform(0, 4000, 2000)  # 2,000 points in 6 × 4 km
    # At 10 m/px the view is 12 km wide: 2,000 points crowd their cells — bubbles, although < min_points.
    assert choose_clusters(style, dense_x, dense_y, 10.0) is not None
    # The same points at 1 m/px (cells of 64 m hold ~1 each): symbols one by one.
    assert choose_clusters(style, dense_x, dense_y, 1.0) is None
    # Few points far apart never cluster, even far out; closer than max_res never.
    sparse_x, sparse_y = rng.uniform(0, 200_000, 300), rng.uniform(0, 200_000, 300)
    assert choose_clusters(style, sparse_x, sparse_y, 10.0) is None
    assert choose_clusters(style, dense_x, dense_y, 0.5) is None


def test_demo_sized_ledger_clusters_at_district_scale_not_when_closer(qapp):
    rng = np.random.default_rng(2)
    n = 2000  # the demo's ledger, spread over a district-sized area
    lon, lat = rng.uniform(WEST, WEST + 0.12, n), rng.uniform(SOUTH, SOUTH + 0.1, n)
    layer = source_layer(np.arange(n), lon, lat, rng.integers(1, 14, n), rng.random(n) < 0.03, CATEGORIES)
    _, ctx = paint([layer], view_of((WEST, SOUTH, WEST + 0.12, SOUTH + 0.1)))
    clusters = ctx.stats["sources"]
    assert len(clusters.counts) >= 10 and clusters.total == n
    _, ctx = paint([layer], zoomed(WEST + 0.06, SOUTH + 0.05, 1500))  # a 1.5 km view
    assert "sources" not in ctx.stats


def test_case_pins_cluster_zoomed_out_coloured_by_worst_status_and_pulsing_alarms_stay_pins(qapp):
    cases = district_cases()
    overdue_at = (WEST + 0.0503, SOUTH + 0.0503)
    cases.append(case(90_001, CaseState.IN_PROGRESS, *overdue_at, due_in_h=-3))
    alarm = case(90_002, CaseState.PENDING, WEST + 0.0701, SOUTH + 0.0301, source=CaseSource.ALARM,
                 created_min_ago=1)
    cases.append(alarm)
    pins = CasePinLayer(cases, now=NOW)
    assert alarm.id in pins.pulsing
    far = view_of((WEST, SOUTH, WEST + 0.1, SOUTH + 0.1))
    image, ctx = paint([pins], far)
    layout = ctx.stats["cases"]
    assert len(layout.bubble_counts) >= 20
    assert int(layout.bubble_counts.sum()) + len(layout.pin_xy) >= len(cases) - 50  # a few collapse per pixel
    assert CLASS_INDEX["overdue"] in layout.bubble_worst.tolist()  # the overdue case shows in its bubble
    worst = int(layout.bubble_worst.max())
    red = next(i for i, w in enumerate(layout.bubble_worst.tolist()) if w == worst)
    bx, by = layout.bubble_xy[red]
    assert QColor(image.pixelColor(round(bx) - 6, round(by))).red() > 180  # the bubble is red …
    assert set(layout.bubble_worst.tolist()) <= {CLASS_INDEX[k] for k in ("progress", "dispatched", "new", "overdue")}
    # … and the new alarm is still a pin of its own, where the pulse overlay draws its rings.
    ax, ay = far.world_to_screen(*lonlat_to_mercator(alarm.lon, alarm.lat))
    assert np.any(np.hypot(layout.pin_xy[:, 0] - ax, layout.pin_xy[:, 1] - ay) < 1.0)
    # Close in, every case is a pin again.
    _, ctx = paint([pins], zoomed(WEST + 0.05, SOUTH + 0.05, 800))
    assert len(ctx.stats["cases"].bubble_counts) == 0 and len(ctx.stats["cases"].pin_xy) > 0


def test_incremental_updates_change_the_bubbles(qapp):
    cases = district_cases(n=1500)
    pins = CasePinLayer(cases, now=NOW)
    far = view_of((WEST, SOUTH, WEST + 0.1, SOUTH + 0.1))
    before = paint([pins], far)[1].stats["cases"]
    assert CLASS_INDEX["overdue"] not in before.bubble_worst.tolist()
    version = pins.version
    pins.update_pin(case(cases[0].id, CaseState.IN_PROGRESS, cases[0].lon, cases[0].lat, due_in_h=-1))
    pins.move_pin(cases[1].id, WEST + 0.02, SOUTH + 0.02)
    pins.remove_pin(cases[2].id)
    pins.add_pin(case(99_999, CaseState.DISPATCHED, WEST + 0.03, SOUTH + 0.03))
    assert pins.version == version + 4 and len(pins) == 1500
    after = paint([pins], far)[1].stats["cases"]
    assert CLASS_INDEX["overdue"] in after.bubble_worst.tolist()
    pins.set_filter([c.id for c in cases[:10]])  # the case table's filter: ten pins, no bubbles
    filtered = paint([pins], far)[1].stats["cases"]
    assert len(filtered.bubble_counts) == 0 and len(filtered.pin_xy) <= 10


def test_label_placer_blocks_symbols_hard_and_soft():
    placer = LabelPlacer(300, 200)
    placer.block(np.array([[100.0, 50, 120, 70]]))                # a pin: no name covers it
    placer.block(np.array([[200.0, 50, 230, 80]]), soft=True)     # a bubble: only as a last resort
    assert not placer.try_place(QRectF(90, 55, 40, 12))
    assert not placer.try_place(QRectF(90, 55, 40, 12), over_soft=True)
    assert not placer.try_place(QRectF(195, 60, 40, 12))
    assert placer.try_place(QRectF(195, 60, 40, 12), over_soft=True)
    assert placer.try_place(QRectF(20, 150, 40, 12)) and placer.blocked == 2


def test_grid_names_keep_off_pins_and_key_sources(qapp):
    grids = grid_layers(lattice(12))
    village = grids.by_level()[3]
    view = zoomed(WEST + 1.5 * CELL, SOUTH + 3 * CELL, 1500)
    # A case on the label point of every village, and a key source beside it.
    anchors = village._label_xy
    lon = []
    from desktop.widgets.map_geometry import mercator_to_lonlat

    for x, y in anchors:
        lo, la = mercator_to_lonlat(x, y)
        lon.append((float(lo), float(la)))
    cases = [case(i + 1, CaseState.DISPATCHED, lo, la) for i, (lo, la) in enumerate(lon)]
    pins = CasePinLayer(cases, now=NOW)
    labels = [layer for layer in grids.labels if layer.grids.level == 3]
    _, ctx = paint([*grids.outlines, LabelObstacles([pins.snapshot()]), *labels], view)
    assert ctx.labels.blocked >= 1 and ctx.stats.get("grid-3-labels", 0) >= 1
    pin_rects = pins.snapshot().layout(view).obstacle_rects(pins.snapshot().symbols)[0]
    for placed in ctx.labels.placed:
        for left, top, right, bottom in pin_rects.tolist():
            assert not placed.intersects(QRectF(left, top, right - left, bottom - top))


def test_pan_preview_is_a_blit_and_zoom_preview_is_scaled(qapp):
    from desktop.widgets.map_preview import draw_preview

    source = QImage(100, 80, QImage.Format.Format_ARGB32_Premultiplied)
    source.fill(QColor("#ff0000"))
    shown = MapViewport(0.0, 0.0, 10.0, 100, 80)
    for now, inside, outside in ((shown.panned(10.4, 0), (12, 40), (5, 40)),
                                 (shown.zoomed(0.5), (50, 40), (10, 5))):  # zoomed out: the old image shrinks
        target = QImage(100, 80, QImage.Format.Format_ARGB32_Premultiplied)
        target.fill(QColor("#ffffff"))
        painter = QPainter(target)
        draw_preview(painter, source, shown, now)
        painter.end()
        assert target.pixelColor(*inside) == QColor("#ff0000")
        assert target.pixelColor(*outside) == QColor("#ffffff")
    assert PIN_CLASSES[-1].key == "overdue"


def test_render_threads_are_nicer_than_the_gui_thread():
    import os
    import sys
    import threading

    from desktop.widgets.map_preview import RENDER_NICE, lower_render_thread_priority

    if not sys.platform.startswith("linux"):
        return
    seen = {}

    def work():
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        lower_render_thread_priority()
        lower_render_thread_priority()  # once per thread, not once per job
        seen["change"] = os.getpriority(os.PRIO_PROCESS, tid) - before

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    main_tid = threading.get_native_id()
    assert seen["change"] == min(RENDER_NICE, 19 - os.getpriority(os.PRIO_PROCESS, main_tid))
