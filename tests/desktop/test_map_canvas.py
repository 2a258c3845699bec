"""MapCanvas: off-thread rendering, supersession, and interaction in map coordinates."""
from __future__ import annotations

import threading
import time

import pytest
import shapely
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from desktop.widgets.map_canvas import BACKGROUND, MapCanvas, format_lonlat, format_scale
from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.map_layers import GridLayer, GridStyle, MapLayer

BOX = (112.80, 35.45, 112.90, 35.55)
LINE = GridStyle("#0000ff", 3.0)


def _grid_layer() -> GridLayer:
    return GridLayer(2, [1], ["测试网格"], [shapely.box(*BOX)], style=LINE)


@pytest.fixture
def canvas(qtbot):
    widget = MapCanvas()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _render(qtbot, canvas, action=None):
    with qtbot.waitSignal(canvas.renderFinished, timeout=10_000):
        if action is not None:
            action()
    image, viewport = canvas.last_image()
    assert viewport == canvas.viewport()
    return image


def _is_line(colour: QColor) -> bool:
    return colour.blue() > 150 and colour.red() < 150 and colour.green() < 150


def _left_edge_px(canvas) -> tuple[int, int]:
    x, _ = lonlat_to_mercator(BOX[0], 0.0)
    sx, _ = canvas.viewport().world_to_screen(float(x), canvas.viewport().cy)
    return round(sx), canvas.height() // 2


class ProbeLayer(MapLayer):
    key = "probe"

    def __init__(self):
        self.threads: list[int] = []

    def paint(self, painter, ctx):
        self.threads.append(threading.get_ident())


def test_renders_off_the_gui_thread_and_draws_grid_lines(qtbot, canvas):
    probe = ProbeLayer()
    image = _render(qtbot, canvas, lambda: canvas.set_layers([_grid_layer(), probe]))
    assert probe.threads and threading.get_ident() not in probe.threads
    x, y = _left_edge_px(canvas)
    assert _is_line(image.pixelColor(x, y)), image.pixelColor(x, y).name()
    assert image.pixelColor(x + 30, y) == BACKGROUND  # inside the grid: no fill for level-2 style
    assert image.pixelColor(x - 8, y) == BACKGROUND   # outside the grid


def test_refresh_only_schedules_and_coalesces(qtbot, canvas):
    _render(qtbot, canvas, lambda: canvas.set_layers([_grid_layer()]))
    started = canvas.last_job_id
    for _ in range(10):
        canvas.refresh()
    assert canvas.render_pending and canvas.last_job_id == started
    _render(qtbot, canvas)
    assert canvas.last_job_id == started + 1


class BlockingLayer(MapLayer):
    """Blocks its first paint until released or cancelled; later paints return at once."""

    key = "blocking"

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.saw_cancel = threading.Event()
        self.calls = 0

    def paint(self, painter, ctx):
        self.calls += 1
        if self.calls > 1:
            return
        self.entered.set()
        while not self.release.is_set():
            if ctx.cancelled:
                self.saw_cancel.set()
                return
            time.sleep(0.002)


def test_newer_render_supersedes_older(qtbot, canvas):
    blocking = BlockingLayer()
    finished = []
    canvas.renderFinished.connect(lambda: finished.append(canvas.last_image()[1]))
    canvas.set_layers([_grid_layer(), blocking])
    qtbot.waitUntil(blocking.entered.is_set, timeout=5000)
    assert canvas.render_pending
    image = _render(qtbot, canvas, lambda: canvas.zoom_by(2.0))
    qtbot.waitUntil(blocking.saw_cancel.is_set, timeout=2000)  # the old job gave up by itself
    blocking.release.set()
    qtbot.wait(50)
    assert finished == [canvas.viewport()]  # the old view never arrived
    assert not canvas.render_pending
    assert image.width() == 400


def test_drag_pans_and_moves_last_image_before_rendering(qtbot, canvas):
    _render(qtbot, canvas, lambda: canvas.set_layers([_grid_layer()]))
    x, y = _left_edge_px(canvas)
    start = QPointF(200, 150)
    before = canvas.lonlat_at(200, 150)

    def send(kind, pos, button, buttons):
        QApplication.sendEvent(canvas, QMouseEvent(kind, pos, canvas.mapToGlobal(pos), button, buttons,
                                                   Qt.KeyboardModifier.NoModifier))

    left = Qt.MouseButton.LeftButton
    send(QEvent.Type.MouseButtonPress, start, left, left)
    send(QEvent.Type.MouseMove, QPointF(260, 110), Qt.MouseButton.NoButton, left)
    assert not canvas.render_pending  # dragging only moves the last image
    shown = canvas.grab().toImage()
    assert _is_line(shown.pixelColor(x + 60, y - 40))
    assert not _is_line(shown.pixelColor(x, y))
    send(QEvent.Type.MouseButtonRelease, QPointF(260, 110), left, Qt.MouseButton.NoButton)
    assert canvas.render_pending
    assert canvas.lonlat_at(260, 110) == pytest.approx(before, abs=1e-9)
    image = _render(qtbot, canvas)
    assert _is_line(image.pixelColor(x + 60, y - 40))


def test_wheel_zooms_at_the_cursor(qtbot, canvas):
    _render(qtbot, canvas, lambda: canvas.set_layers([_grid_layer()]))
    cursor = QPointF(90, 70)
    before_lonlat = canvas.lonlat_at(90, 70)
    before_res = canvas.viewport().res
    with qtbot.waitSignal(canvas.scaleChanged):
        QApplication.sendEvent(canvas, QWheelEvent(
            cursor, canvas.mapToGlobal(cursor), QPoint(0, 0), QPoint(0, 240), Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False))
    assert canvas.viewport().res == pytest.approx(before_res / 2)  # two notches, √2 each
    assert canvas.lonlat_at(90, 70) == pytest.approx(before_lonlat, abs=1e-9)


def test_keys_zoom_pan_and_home(qtbot, canvas):
    _render(qtbot, canvas, lambda: canvas.set_layers([_grid_layer()]))
    full = canvas.viewport()
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.viewport().res == pytest.approx(full.res / 2)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    assert canvas.viewport().res == pytest.approx(full.res)
    qtbot.keyClick(canvas, Qt.Key.Key_Right)  # look further east: the centre moves east
    assert canvas.viewport().cx == pytest.approx(full.cx + 100 * full.res)
    qtbot.keyClick(canvas, Qt.Key.Key_Up)
    assert canvas.viewport().cy == pytest.approx(full.cy + 75 * full.res)
    qtbot.keyClick(canvas, Qt.Key.Key_Home)
    assert canvas.viewport() == full


def test_zoom_to_bbox_and_point(qtbot, canvas):
    canvas.set_layers([_grid_layer()])
    small = (112.84, 35.49, 112.86, 35.50)
    canvas.zoom_to_bbox(small)
    min_x, min_y = lonlat_to_mercator(small[0], small[1])
    max_x, max_y = lonlat_to_mercator(small[2], small[3])
    ext = canvas.viewport().extent
    assert ext[0] <= min_x and ext[1] <= min_y and ext[2] >= max_x and ext[3] >= max_y
    assert (ext[2] - ext[0]) < 2 * (max_x - min_x) or (ext[3] - ext[1]) < 2 * (max_y - min_y)
    canvas.zoom_to_point(112.85, 35.5, scale=4000)
    assert canvas.lonlat_at(200, 150) == pytest.approx((112.85, 35.5), abs=1e-9)
    assert canvas.scale_denominator() == pytest.approx(4000, rel=1e-6)
    _render(qtbot, canvas)


def test_cursor_signal_and_status_texts(qtbot, canvas):
    _render(qtbot, canvas, lambda: canvas.set_layers([_grid_layer()]))
    pos = QPointF(120, 80)
    with qtbot.waitSignal(canvas.cursorMoved) as blocker:
        QApplication.sendEvent(canvas, QMouseEvent(QEvent.Type.MouseMove, pos, canvas.mapToGlobal(pos),
                                                   Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                                   Qt.KeyboardModifier.NoModifier))
    assert blocker.args == pytest.approx(list(canvas.lonlat_at(120, 80)))
    assert format_lonlat(112.851234, 35.5) == "经度 112.85123°  纬度 35.50000°"
    assert format_scale(80512.3) == "比例尺 1:80,500"
    assert format_scale(float("nan")) == "比例尺 —"


def test_click_reports_lonlat_without_panning(qtbot, canvas):
    _render(qtbot, canvas, lambda: canvas.set_layers([_grid_layer()]))
    viewport = canvas.viewport()
    pos = QPointF(150, 100)
    left = Qt.MouseButton.LeftButton
    with qtbot.waitSignal(canvas.clicked) as blocker:
        for kind, buttons in ((QEvent.Type.MouseButtonPress, left), (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)):
            QApplication.sendEvent(canvas, QMouseEvent(kind, pos, canvas.mapToGlobal(pos), left, buttons,
                                                       Qt.KeyboardModifier.NoModifier))
    assert blocker.args == pytest.approx(list(canvas.lonlat_at(150, 100)))
    assert canvas.viewport() == viewport


def test_hidden_layer_is_not_painted(qtbot, canvas):
    probe = ProbeLayer()
    _render(qtbot, canvas, lambda: canvas.set_layers([_grid_layer(), probe]))
    calls = len(probe.threads)
    _render(qtbot, canvas, lambda: canvas.set_layer_visible("probe", False))
    assert len(probe.threads) == calls
    assert not canvas.is_layer_visible("probe")
