"""A native map canvas: Web Mercator view over lon/lat layers, rendered off the GUI thread.

QGIS' rules, in small: ``refresh()`` only schedules (a 0-ms single-shot timer
coalesces every request of one event-loop turn); the render job paints a frozen
viewport and layer tuple into a QImage in a QThreadPool; a newer job cancels the
older one and stale results are dropped by job id. Until the new image arrives,
pan and zoom only move and scale the last image, so interaction never waits for
painting.
"""
from __future__ import annotations

import math
import threading

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QKeyEvent, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from desktop.widgets.map_geometry import mercator_bbox, mercator_to_lonlat, lonlat_to_mercator
from desktop.widgets.map_layers import HighlightLayer, MapLayer
from desktop.widgets.map_render import MapRenderJob, RenderSignals
from desktop.widgets.map_viewport import EARTH_RADIUS_M, MapViewport

BACKGROUND = QColor("#e6eaee")
WHEEL_NOTCH = 120
ZOOM_PER_NOTCH = math.sqrt(2)
KEY_ZOOM = 2.0
KEY_PAN_FRACTION = 0.25
CLICK_SLOP_PX = 4  # a press and release closer than this is a click, not a drag


def format_lonlat(lon: float, lat: float) -> str:
    """Status-bar text for a cursor position (5 decimals ≈ 1 m)."""
    return f"经度 {lon:.5f}°  纬度 {lat:.5f}°"


def format_scale(denominator: float) -> str:
    """``比例尺 1:25,000`` rounded to three significant digits, as paper maps read."""
    if not math.isfinite(denominator) or denominator <= 0:
        return "比例尺 —"
    digits = max(0, int(math.floor(math.log10(denominator))) - 2)
    rounded = round(denominator / 10 ** digits) * 10 ** digits
    return f"比例尺 1:{rounded:,.0f}"


def _nice_length(metres: float) -> float:
    """The largest 1/2/5 × 10^k not above ``metres``."""
    power = 10 ** math.floor(math.log10(metres))
    for step in (5, 2, 1):
        if step * power <= metres:
            return step * power
    return power


class MapCanvas(QWidget):
    cursorMoved = Signal(float, float)  # lon, lat
    renderFinished = Signal()
    scaleChanged = Signal(float)        # N of 1:N
    renderFailed = Signal(str)
    clicked = Signal(float, float)      # lon, lat of a left click that did not drag

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 150)
        self._viewport = MapViewport(width=max(1, self.width()), height=max(1, self.height()))
        self._layers: list[MapLayer] = []
        self._hidden: set[str] = set()
        self._highlight: HighlightLayer | None = None
        self._fit_bbox: tuple[float, float, float, float] | None = None  # refit on resize until the user moves
        self._image: QImage | None = None
        self._image_viewport: MapViewport | None = None
        self._message = ""
        self._last_scale = 0.0
        self._drag: tuple[QPointF, MapViewport] | None = None

        self._job_id = 0
        self._active_cancel: threading.Event | None = None  # flag of the job whose image we want
        self.stale_results = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)  # a cancelled job may still be winding down
        self._signals = RenderSignals()
        self._signals.finished.connect(self._on_job_finished)
        self._signals.failed.connect(self._on_job_failed)
        self._schedule = QTimer(self)
        self._schedule.setSingleShot(True)
        self._schedule.setInterval(0)
        self._schedule.timeout.connect(self._start_render)

    # -- layers ---------------------------------------------------------------------
    def layers(self) -> list[MapLayer]:
        return list(self._layers)

    def set_layers(self, layers: list[MapLayer], *, zoom_to_full: bool | None = None) -> None:
        """Replace all layers (bottom first); the first time, zoom to their extent."""
        first = not self._layers
        self._layers = list(layers)
        if zoom_to_full or (zoom_to_full is None and first):
            self.zoom_to_full()
        self.refresh()

    def layer(self, key: str) -> MapLayer | None:
        return next((layer for layer in self._layers if layer.key == key), None)

    def set_layer_visible(self, key: str, visible: bool) -> None:
        (self._hidden.discard if visible else self._hidden.add)(key)
        self.refresh()

    def is_layer_visible(self, key: str) -> bool:
        return key not in self._hidden

    def highlight(self) -> HighlightLayer | None:
        return self._highlight

    def set_highlight(self, layer: HighlightLayer | None) -> None:
        self._highlight = layer
        self.refresh()

    def full_extent(self) -> tuple[float, float, float, float] | None:
        boxes = [box for layer in self._layers if (box := layer.extent()) is not None]
        if not boxes:
            return None
        return (min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes))

    # -- view -----------------------------------------------------------------------
    def viewport(self) -> MapViewport:
        return self._viewport

    def set_viewport(self, viewport: MapViewport) -> None:
        self._fit_bbox = None
        self._apply_viewport(viewport)

    def zoom_to_full(self) -> None:
        extent = self.full_extent()
        if extent is not None:
            self._fit(extent)

    def zoom_to_bbox(self, bbox: tuple[float, float, float, float]) -> None:
        """Show a lon/lat bbox (min_lon, min_lat, max_lon, max_lat) whole."""
        self._fit(mercator_bbox(bbox))

    def zoom_to_point(self, lon: float, lat: float, scale: float = 5000.0) -> None:
        """Centre on a lon/lat point at about 1:``scale`` (keeps a closer zoom)."""
        x, y = lonlat_to_mercator(lon, lat)
        vp = self._viewport
        target_res = scale * 0.0254 / 96 / math.cos(math.radians(lat))
        self.set_viewport(MapViewport(float(x), float(y), min(vp.res, target_res), vp.width, vp.height, vp.dpr))

    def zoom_by(self, factor: float, anchor: tuple[float, float] | None = None) -> None:
        """Zoom in by ``factor`` (< 1 zooms out), keeping the map point under ``anchor`` still."""
        self.set_viewport(self._viewport.zoomed(factor, anchor))

    def pan_by(self, dx_px: float, dy_px: float) -> None:
        self.set_viewport(self._viewport.panned(dx_px, dy_px))

    def lonlat_at(self, sx: float, sy: float) -> tuple[float, float]:
        return mercator_to_lonlat(*self._viewport.screen_to_world(sx, sy))

    def scale_denominator(self) -> float:
        return self._viewport.scale_denominator()

    def message(self) -> str:
        return self._message

    def set_message(self, text: str) -> None:
        """A line shown over the map (e.g. "正在加载…"); empty hides it."""
        self._message = text
        self.update()

    def _fit(self, mercator_extent) -> None:
        self._fit_bbox = mercator_extent
        self._apply_viewport(self._viewport.fitted(mercator_extent))

    def _apply_viewport(self, viewport: MapViewport, *, render: bool = True) -> None:
        self._viewport = viewport
        scale = viewport.scale_denominator()
        if abs(scale - self._last_scale) > 1e-6 * max(scale, 1.0):
            self._last_scale = scale
            self.scaleChanged.emit(scale)
        self.update()  # shows the last image moved/scaled right away
        if render:
            self.refresh()

    # -- rendering ------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask for a new image; returns at once, rendering happens in a worker."""
        if self._active_cancel is not None:
            self._active_cancel.set()  # its view is already out of date
        self._schedule.start()

    @property
    def render_pending(self) -> bool:
        return self._schedule.isActive() or self._active_cancel is not None

    @property
    def last_job_id(self) -> int:
        """How many render jobs were started; a coalesced burst of refresh() counts once."""
        return self._job_id

    def last_image(self) -> tuple[QImage | None, MapViewport | None]:
        return self._image, self._image_viewport

    def _start_render(self) -> None:
        if self._active_cancel is not None:
            self._active_cancel.set()
        self._job_id += 1
        layers = tuple(layer for layer in self._layers if layer.key not in self._hidden)
        if self._highlight is not None:
            layers += (self._highlight,)
        job = MapRenderJob(self._job_id, self._viewport, layers, BACKGROUND, self._signals)
        self._active_cancel = job.cancel_flag
        # autoDelete stays on: the pool owns the runnable, the canvas keeps only its flag.
        self._pool.start(job)

    def _on_job_finished(self, job_id: int, image: QImage, viewport: MapViewport) -> None:
        if job_id != self._job_id:
            self.stale_results += 1  # a newer view was requested meanwhile
            return
        self._active_cancel = None
        self._image, self._image_viewport = image, viewport
        self.update()
        if not self._schedule.isActive():  # else a newer view is already asked for: not finished yet
            self.renderFinished.emit()

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if job_id == self._job_id:
            self._active_cancel = None
            self.renderFailed.emit(message)

    def shutdown(self) -> None:
        """Cancel and wait for render jobs; call before the layers' owner goes away."""
        self._schedule.stop()
        if self._active_cancel is not None:
            self._active_cancel.set()
        self._pool.waitForDone(10_000)
        self._active_cancel = None

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    # -- Qt events ------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        viewport = self._viewport.resized(self.width(), self.height(), self.devicePixelRatioF())
        if self._fit_bbox is not None:
            viewport = viewport.fitted(self._fit_bbox)
        self._apply_viewport(viewport)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._image is not None:
            self._draw_last_image(painter)
        self._draw_scale_bar(painter)
        if self._message:
            self._draw_message(painter)
        painter.end()

    def _draw_last_image(self, painter: QPainter) -> None:
        old, new = self._image_viewport, self._viewport
        if (old.cx, old.cy, old.res, old.width, old.height) == (new.cx, new.cy, new.res, new.width, new.height):
            painter.drawImage(QPointF(0, 0), self._image)
            return
        left, top = new.world_to_screen(*old.screen_to_world(0, 0))
        k = old.res / new.res
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(QRectF(left, top, old.width * k, old.height * k), self._image)

    def _draw_scale_bar(self, painter: QPainter) -> None:
        vp = self._viewport
        lat = math.atan(math.sinh(vp.cy / EARTH_RADIUS_M))
        ground_per_px = vp.res * math.cos(lat)
        if not self._layers or ground_per_px <= 0:
            return
        length = _nice_length(ground_per_px * 120)
        bar = length / ground_per_px
        text = f"{length / 1000:g} 公里" if length >= 1000 else f"{length:g} 米"
        x, y = 14.0, self.height() - 16.0
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(QRectF(x - 6, y - 22, bar + 12, 30), QColor(255, 255, 255, 190))
        painter.setPen(QPen(QColor("#263238"), 2))
        painter.drawLine(QPointF(x, y), QPointF(x + bar, y))
        painter.drawLine(QPointF(x, y), QPointF(x, y - 6))
        painter.drawLine(QPointF(x + bar, y), QPointF(x + bar, y - 6))
        painter.drawText(QRectF(x, y - 22, bar, 16), Qt.AlignmentFlag.AlignCenter, text)

    def _draw_message(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        painter.setFont(font)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        room = QRect(0, 0, max(60, self.width() - 60), self.height())
        rect = painter.fontMetrics().boundingRect(room, flags, self._message).adjusted(-16, -10, 16, 10)
        rect.moveCenter(self.rect().center())
        painter.fillRect(rect, QColor(255, 255, 255, 220))
        painter.setPen(QColor("#37474f"))
        painter.drawText(rect, flags, self._message)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = (event.position(), self._viewport)
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = event.position()
        self.cursorMoved.emit(*self.lonlat_at(position.x(), position.y()))
        if self._drag is not None:
            start, viewport = self._drag
            delta = position - start
            self._fit_bbox = None
            # Only move the last image while dragging; one render at release, as QGIS does.
            self._apply_viewport(viewport.panned(delta.x(), delta.y()), render=False)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._drag is not None:
            start, viewport = self._drag
            delta = event.position() - start
            self._drag = None
            self.unsetCursor()
            if delta.manhattanLength() < CLICK_SLOP_PX:
                if self._viewport is not viewport:
                    self._apply_viewport(viewport, render=False)
                self.clicked.emit(*self.lonlat_at(start.x(), start.y()))
                return
            self.set_viewport(viewport.panned(delta.x(), delta.y()))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.zoom_by(KEY_ZOOM, (event.position().x(), event.position().y()))

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / WHEEL_NOTCH
        if steps:
            position = event.position()
            self.zoom_by(ZOOM_PER_NOTCH ** steps, (position.x(), position.y()))
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        step_x, step_y = self.width() * KEY_PAN_FRACTION, self.height() * KEY_PAN_FRACTION
        actions = {
            Qt.Key.Key_Plus: lambda: self.zoom_by(KEY_ZOOM),
            Qt.Key.Key_Equal: lambda: self.zoom_by(KEY_ZOOM),
            Qt.Key.Key_Minus: lambda: self.zoom_by(1 / KEY_ZOOM),
            Qt.Key.Key_Left: lambda: self.pan_by(step_x, 0),
            Qt.Key.Key_Right: lambda: self.pan_by(-step_x, 0),
            Qt.Key.Key_Up: lambda: self.pan_by(0, step_y),
            Qt.Key.Key_Down: lambda: self.pan_by(0, -step_y),
            Qt.Key.Key_Home: self.zoom_to_full,
        }
        action = actions.get(key)
        if action is None:
            super().keyPressEvent(event)
            return
        action()
        event.accept()
