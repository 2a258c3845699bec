"""The district overview stays readable: town names always show (above pins, inside their town,
the smaller town losing a true collision), source clusters read as background, not as cases, and
key sources join the clusters once they crowd the view."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFontMetricsF

from desktop.widgets.map_build import grid_layers, source_layer
from desktop.widgets.map_canvas import MapCanvas
from desktop.widgets.map_cluster import CASE_LOOK, SOURCE_LOOK, bubble_image
from desktop.widgets.map_geometry import mercator_to_lonlat
from desktop.widgets.map_labels import label_font
from desktop.widgets.map_layers import GRID_STYLES
from desktop.widgets.map_obstacles import LabelObstacles
from desktop.widgets.map_render import MAP_BACKGROUND, MapRenderJob, RenderSignals
from desktop.widgets.map_viewport import MapViewport
from desktop.widgets.pin_layer import PIN_CLASSES, PIN_CLUSTER, CasePinLayer
from gis.domain import CaseState
from map_render_data import CELL, SOUTH, WEST, Row, lattice, paint
from test_map_declutter import CATEGORIES, NOW, case, view_of

TOWN_INK = QColor(GRID_STYLES[2].colour).darker(135)  # what GridLayer writes town names in


def carpet_of_pins(view: MapViewport, step_px: float = 9.0) -> CasePinLayer:
    """A pin every ``step_px`` pixels over the whole view: no free place for any name."""
    xs = np.arange(step_px / 2, view.width, step_px)
    ys = np.arange(step_px, view.height + 18, step_px)  # a pin stands above its tip
    cases = []
    for sx in xs:
        for sy in ys:
            lon, lat = mercator_to_lonlat(*view.screen_to_world(float(sx), float(sy)))
            cases.append(case(len(cases) + 1, CaseState.DISPATCHED, float(lon), float(lat)))
    pins = CasePinLayer(cases, now=NOW)
    pins.cluster = None  # every case a pin: hard obstacles everywhere, no soft bubbles
    return pins


def ink_pixels(image, rect: QRectF, ink: QColor = TOWN_INK, tolerance: int = 12) -> int:
    """How many pixels inside ``rect`` are (nearly) the colour ``ink``."""
    count = 0
    for y in range(max(0, int(rect.top())), min(image.height(), int(rect.bottom()) + 1)):
        for x in range(max(0, int(rect.left())), min(image.width(), int(rect.right()) + 1)):
            c = image.pixelColor(x, y)
            count += all(abs(a - b) <= tolerance for a, b in zip(c.getRgb()[:3], ink.getRgb()[:3]))
    return count


def test_town_names_show_above_a_carpet_of_pins_and_lower_names_give_way(qapp):
    grids = grid_layers(lattice(12))
    view = view_of((WEST, SOUTH, WEST + 12 * CELL, SOUTH + 12 * CELL))
    pins = carpet_of_pins(view)
    layers = [*grids.outlines, *grids.labels]
    _, ctx = paint([LabelObstacles([pins.snapshot()]), *layers], view)
    towns = grids.by_level()[2]
    assert ctx.stats["grid-2-labels"] == len(towns.ids)  # both towns named …
    assert len(ctx.on_top) == len(towns.ids)            # … on top, not in the layer's image
    assert len(ctx.labels.placed) == len(towns.ids)     # villages and fourth-level names give way to the pins
    # A render job draws them after everything, pins included: the name's ink is on the final image.
    job = MapRenderJob(0, view, (LabelObstacles([pins.snapshot()]), *layers, pins), MAP_BACKGROUND, RenderSignals())
    image = job.render()
    for placed in ctx.labels.placed:
        assert ink_pixels(image, placed) > 20
    without_names = MapRenderJob(0, view, (LabelObstacles([pins.snapshot()]), *grids.outlines, pins),
                                 MAP_BACKGROUND, RenderSignals()).render()
    assert ink_pixels(without_names, ctx.labels.placed[0]) < ink_pixels(image, ctx.labels.placed[0]) / 4


def test_town_names_move_off_a_pin_when_they_can_and_stay_in_their_town(qapp):
    grids = grid_layers(lattice(12))
    towns = grids.by_level()[2]
    view = view_of((WEST, SOUTH, WEST + 12 * CELL, SOUTH + 12 * CELL))
    # A pin on each town's label point and one just above and below it.
    cases, metres_per_line = [], 20 * view.res
    for x, y in towns._label_xy:
        for dy in (-metres_per_line, 0.0, metres_per_line):
            lon, lat = mercator_to_lonlat(x, y + dy)
            cases.append(case(len(cases) + 1, CaseState.DISPATCHED, float(lon), float(lat)))
    pins = CasePinLayer(cases, now=NOW)
    labels = [layer for layer in grids.labels if layer.grids.level == 2]
    _, ctx = paint([*grids.outlines, LabelObstacles([pins.snapshot()]), *labels], view)
    assert ctx.stats["grid-2-labels"] == len(towns.ids)
    pin_rects = pins.snapshot().layout(view).obstacle_rects(pins.snapshot().symbols)[0]
    for placed in ctx.labels.placed:
        for left, top, right, bottom in pin_rects.tolist():
            assert not placed.intersects(QRectF(left, top, right - left, bottom - top))
        middle = view.screen_to_world(placed.center().x(), placed.center().y())
        assert shapely.contains_xy(towns.lod.projected, *middle).sum() == 1  # inside one town …
    anchors = view.to_screen(towns._label_xy)
    for placed in ctx.labels.placed:  # … its own, and not far from where it would be without pins
        own = np.argmin(np.hypot(anchors[:, 0] - placed.center().x(), anchors[:, 1] - placed.center().y()))
        centre = view.screen_to_world(placed.center().x(), placed.center().y())
        assert shapely.contains_xy(towns.lod.projected[own], *centre)
        assert np.hypot(*(anchors[own] - (placed.center().x(), placed.center().y()))) < 6 * placed.height()


def test_when_two_town_names_truly_collide_the_smaller_town_loses(qapp):
    view = MapViewport(0.0, 0.0, 10.0, 1200, 800)
    metrics = QFontMetricsF(label_font(GRID_STYLES[2].label_pt, True))
    big_name, small_name = "东城区甲子街道办事处", "乙丑街道"
    big_w, small_w = metrics.horizontalAdvance(big_name), metrics.horizontalAdvance(small_name)
    strip = metrics.height() * 1.3  # too low to move a name up or down and stay inside

    def town(grid_id, name, left_px, width_px):
        (x0, y0), (x1, y1) = (view.screen_to_world(left_px, 400 + strip / 2),
                              view.screen_to_world(left_px + width_px, 400 - strip / 2))
        (lon0, lat0), (lon1, lat1) = mercator_to_lonlat(x0, y0), mercator_to_lonlat(x1, y1)
        return Row(grid_id, name, 2, shapely.box(lon0, lat0, lon1, lat1))

    # Each town just wide enough for its name: the two names end up closer than label padding allows.
    big = town(2, big_name, 300, big_w / 0.95 + 0.05)
    small = town(1, small_name, 300 + big_w / 0.95 + 0.05, small_w / 0.95 + 0.05)
    grids = grid_layers([small, big])  # the smaller town first in the data: area decides, not order
    _, ctx = paint([*grids.outlines, *grids.labels], view)
    assert ctx.stats["grid-2-labels"] == 1
    (placed,), (_at, sprite, _opacity) = ctx.labels.placed, ctx.on_top[0]
    assert placed.width() == pytest.approx(big_w)
    assert sprite.width() > metrics.horizontalAdvance(small_name) + 20  # the big town's name was drawn


def test_source_clusters_are_quiet_and_case_bubbles_loud(qapp):
    overdue = next(c for c in PIN_CLASSES if c.key == "overdue")
    loud = bubble_image(25, PIN_CLUSTER.look.with_fill(QColor(overdue.colour).getRgb()), 1.0)
    quiet = bubble_image(25, SOURCE_LOOK, 1.0)
    assert quiet.width() < loud.width()
    assert all(SOURCE_LOOK.radius_of(n) < CASE_LOOK.radius_of(n) for n in (8, 25, 400, 20_000))

    def ring_fill(image):  # between the ring and the number
        side = image.width()
        return image.pixelColor(side // 2, round(side / 2 - 0.55 * (side / 2)))

    assert ring_fill(quiet).hslSaturation() < 60 and ring_fill(quiet).lightness() > 200
    assert ring_fill(quiet).alpha() < 235  # translucent: the grid underneath shows through
    assert ring_fill(loud).hslSaturation() > 150
    def digits(image):  # the middle row, inside the ring
        side = image.width()
        return [image.pixelColor(x, side // 2) for x in range(side // 4, side - side // 4)]

    assert min(c.lightness() for c in digits(quiet)) < 110   # dark grey digits …
    assert max(c.lightness() for c in digits(loud)) > 240    # … against white ones


def test_key_sources_join_the_clusters_once_they_crowd_the_view(qapp):
    rng = np.random.default_rng(4)
    n = 2000
    lon, lat = rng.uniform(WEST, WEST + 0.12, n), rng.uniform(SOUTH, SOUTH + 0.1, n)
    far = view_of((WEST, SOUTH, WEST + 0.12, SOUTH + 0.1))
    for share, crowded in ((0.01, False), (0.12, True)):
        keys = rng.random(n) < share
        layer = source_layer(np.arange(n), lon, lat, rng.integers(1, 14, n), keys, CATEGORIES)
        assert layer.keys_stand_apart(int(keys.sum()), far) is not crowded
        _, ctx = paint([layer], far)
        clusters = ctx.stats["sources"]
        keys_alone = int(layer.is_key[clusters.singles].sum())
        if crowded:  # most key sources are counted in the bubbles; only those in sparse cells stand alone
            assert keys_alone < keys.sum() / 2
        else:        # few: every one of them is a symbol of its own
            assert keys_alone == keys.sum()
        assert clusters.total == n


def test_the_canvas_draws_town_names_above_its_live_pins(qtbot):
    rows = lattice(12)
    grids = grid_layers(rows)
    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(600, 400)
    canvas.show()
    qtbot.waitExposed(canvas)
    box = (WEST, SOUTH, WEST + 12 * CELL, SOUTH + 12 * CELL)
    with qtbot.waitSignal(canvas.renderFinished, timeout=10_000):
        canvas.set_layers([*grids.outlines, *grids.labels])
        canvas.zoom_to_bbox(box)
    pins = carpet_of_pins(canvas.viewport())
    with qtbot.waitSignal(canvas.renderFinished, timeout=10_000):
        canvas.set_layers([*grids.outlines, *grids.labels, pins])
    top = canvas.top_image()
    assert top is not None
    opaque = [(x, y) for y in range(0, top.height(), 2) for x in range(0, top.width(), 2)
              if top.pixelColor(x, y).alpha() > 200]
    assert opaque  # the town names went into the image above the pins
    xs, ys = zip(*opaque)
    names = QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    live = canvas.live_renderer.image
    assert any(live.pixelColor(x, y).alpha() > 200 for x, y in opaque[:200])  # pins are under them …
    assert ink_pixels(canvas.grab().toImage(), names) > 20                       # … yet the names show
    canvas.shutdown()
