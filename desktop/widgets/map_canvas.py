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
import time

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QWidget

from desktop.widgets.live_layers import LiveLayerRenderer, with_opacity
from desktop.widgets.map_geometry import mercator_bbox, mercator_to_lonlat, lonlat_to_mercator
from desktop.widgets.map_layers import HighlightLayer, MapLayer
from desktop.widgets.map_obstacles import label_obstacles
from desktop.widgets.map_preview import BackgroundRenderJob, draw_preview
from desktop.widgets.map_overlays import (
    FLASH, HOVER, MapMarker, draw_marker, draw_north_arrow, draw_rubber_band, draw_scale_bar, flash_strength,
)
from desktop.widgets.map_render import MAP_BACKGROUND, MapRenderJob, RenderSignals
from desktop.widgets.map_tools import MapMouseEvent, MapTool, PanTool
from desktop.widgets.map_viewport import MapViewport

BACKGROUND = MAP_BACKGROUND  # one colour for the window and envgrid render
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


class MapCanvas(QWidget):
    cursorMoved = Signal(float, float)  # lon, lat
    renderFinished = Signal()
    scaleChanged = Signal(float)        # N of 1:N
    renderFailed = Signal(str)
    clicked = Signal(float, float)      # lon, lat of a left click that did not drag
    rectangleSelected = Signal(float, float, float, float, int)  # lon/lat box, Qt keyboard modifiers
    viewChanged = Signal()              # the user (or code) moved the view; not emitted for resizes
    cursorLeft = Signal()
    toolChanged = Signal(object)        # the new MapTool
    layerStyleChanged = Signal(str)     # key of a layer whose visibility or opacity changed

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
        self._top: QImage | None = None       # names that outrank pins: drawn above the live image
        self._next_top: QImage | None = None  # the newest job's, until its main image arrives
        self._message = ""
        self._last_scale = 0.0
        self._tool: MapTool = PanTool(self)
        self._middle_pan = PanTool(self)  # the middle button pans whatever the active tool
        self._rubber_band: tuple[QRectF, str] | None = None
        self._hover_marker: MapMarker | None = None
        self._selection_layer: MapLayer | None = None
        self._flash: tuple[MapMarker, float, float] | None = None  # marker, start, duration
        self._flash_timer = QTimer(self)
        self._flash_timer.setInterval(40)
        self._flash_timer.timeout.connect(self._flash_tick)

        self._job_id = 0
        self._active_cancel: threading.Event | None = None  # flag of the job whose image we want
        self.stale_results = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)  # a cancelled job may still be winding down
        self._signals = RenderSignals()
        self._signals.finished.connect(self._on_job_finished)
        self._signals.failed.connect(self._on_job_failed)
        self._signals.top_finished.connect(self._on_top_finished)
        self._schedule = QTimer(self)
        self._schedule.setSingleShot(True)
        self._schedule.setInterval(0)
        self._schedule.timeout.connect(self._start_render)
        # Basemap tiles under the layers, live layers (case pins, stations) in their own
        # image above them, extra overlays (alarm pulses) on top: see live_layers, basemap.
        self._basemap = None                # paint(painter, viewport) before the map image
        self._opacity: dict[str, float] = {}
        self._extra_overlays: list = []     # paint(painter, viewport) after the layers
        self._live = LiveLayerRenderer(self)
        self._live.rendered.connect(self._on_live_rendered)

    # -- layers ---------------------------------------------------------------------
    def layers(self) -> list[MapLayer]:
        return list(self._layers)

    def set_layers(self, layers: list[MapLayer], *, zoom_to_full: bool | None = None) -> None:
        """Replace all layers (bottom first); the first time, zoom to their extent."""
        first = not self._layers
        self._layers = list(layers)
        for layer in self._layers:
            if getattr(layer, "live", False):  # a live layer re-renders itself (only) when it changes
                layer.add_listener(self.refresh_live)
        if zoom_to_full or (zoom_to_full is None and first):
            self.zoom_to_full()
        self.refresh()

    def layer(self, key: str) -> MapLayer | None:
        return next((layer for layer in self._layers if layer.key == key), None)

    def set_layer_visible(self, key: str, visible: bool) -> None:
        if visible == self.is_layer_visible(key):
            return
        (self._hidden.discard if visible else self._hidden.add)(key)
        self._refresh_for(key)
        self.layerStyleChanged.emit(key)

    def is_layer_visible(self, key: str) -> bool:
        return key not in self._hidden

    def set_layer_opacity(self, key: str, opacity: float) -> None:
        """Group opacity of one layer, 0 … 1 (the layer is composed as a whole, then faded)."""
        opacity = min(max(float(opacity), 0.0), 1.0)
        if abs(opacity - self.layer_opacity(key)) < 1e-4:
            return
        if opacity >= 0.999:
            self._opacity.pop(key, None)
        else:
            self._opacity[key] = opacity
        self._refresh_for(key)
        self.layerStyleChanged.emit(key)

    def layer_opacity(self, key: str) -> float:
        return self._opacity.get(key, 1.0)

    def _refresh_for(self, key: str) -> None:
        layer = self.layer(key)
        if layer is not None and getattr(layer, "live", False):
            self.refresh_live()  # the static image underneath stays as it is
        else:
            self.refresh()

    def refresh_live(self) -> None:
        """Re-render only the live layers (a pin was added, moved, restyled …)."""
        self._live.schedule(self._viewport, [
            (layer, self._opacity.get(layer.key, 1.0)) for layer in self._layers
            if getattr(layer, "live", False) and layer.key not in self._hidden])

    @property
    def live_renderer(self) -> LiveLayerRenderer:
        return self._live

    def basemap(self):
        return self._basemap

    def set_basemap(self, basemap) -> None:
        """Tiles under the layers: an object with ``paint(painter, viewport)``, or None for plain."""
        self._basemap = basemap
        self.refresh()  # the map image turns transparent around the features (or opaque again)
        self.update()

    def add_overlay(self, overlay) -> None:
        """Something drawn above the layers each paint, ``overlay.paint(painter, viewport)``."""
        if overlay not in self._extra_overlays:
            self._extra_overlays.append(overlay)
        self.update()

    def remove_overlay(self, overlay) -> None:
        if overlay in self._extra_overlays:
            self._extra_overlays.remove(overlay)
        self.update()

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

    def _apply_viewport(self, viewport: MapViewport, *, render: bool = True, navigated: bool = True) -> None:
        self._viewport = viewport
        scale = viewport.scale_denominator()
        if abs(scale - self._last_scale) > 1e-6 * max(scale, 1.0):
            self._last_scale = scale
            self.scaleChanged.emit(scale)
        self.update()  # shows the last image moved/scaled right away
        if render:
            self.refresh()
            if navigated:
                self.viewChanged.emit()

    # -- interaction: tools, overlays ----------------------------------------------
    def map_tool(self) -> MapTool:
        return self._tool

    def set_map_tool(self, tool: MapTool) -> None:
        """Make ``tool`` the one tool that gets mouse events (QGIS: QgsMapCanvas::setMapTool)."""
        if tool is self._tool:
            return
        self._tool.deactivate()
        self._tool = tool
        tool.activate()
        self.toolChanged.emit(tool)

    def preview_viewport(self, viewport: MapViewport) -> None:
        """Show a view by moving the last image only (during a drag); no render, no history."""
        self._fit_bbox = None
        self._apply_viewport(viewport, render=False)

    def zoom_to_mercator(self, min_x: float, min_y: float, max_x: float, max_y: float) -> None:
        self._fit((min_x, min_y, max_x, max_y))

    def zoom_to_scale(self, denominator: float) -> None:
        """Keep the centre, show it at 1:``denominator`` (96-dpi convention, as the label)."""
        current = self.scale_denominator()
        if denominator > 0 and math.isfinite(denominator) and current > 0:
            self.zoom_by(current / denominator)

    def set_rubber_band(self, rect: QRectF | None, kind: str = "zoom") -> None:
        self._rubber_band = None if rect is None else (QRectF(rect), kind)
        self.update()

    def rubber_band(self) -> tuple[QRectF, str] | None:
        return self._rubber_band

    def set_hover_marker(self, marker: MapMarker | None) -> None:
        if marker is self._hover_marker:
            return
        # Repaint only where the old and new markers are: hovering must stay cheap on a 4K wall.
        dirty = QRectF()
        for shown in (self._hover_marker, marker):
            if shown is not None:
                dirty = dirty.united(shown.screen_bounds(self._viewport))
        self._hover_marker = marker
        if not dirty.isEmpty():
            self.update(dirty.toAlignedRect())

    def hover_marker(self) -> MapMarker | None:
        return self._hover_marker

    def flash(self, marker: MapMarker, duration: float = 2.4) -> None:
        """Make a feature blink a few times so the eye finds it after a jump."""
        self._flash = (marker, time.monotonic(), duration)
        self._flash_timer.start()
        self.update()

    @property
    def flashing(self) -> bool:
        return self._flash is not None

    def _flash_tick(self) -> None:
        if self._flash is not None and time.monotonic() - self._flash[1] >= self._flash[2]:
            self._flash = None
            self._flash_timer.stop()
        self.update()

    def set_selection_layer(self, layer: MapLayer | None) -> None:
        """Selected grids, rendered with the map (thousands of outlines are no GUI-thread job)."""
        self._selection_layer = layer
        self.refresh()

    def selection_layer(self) -> MapLayer | None:
        return self._selection_layer

    # -- rendering ------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask for a new image; returns at once, rendering happens in a worker."""
        if self._active_cancel is not None:
            self._active_cancel.set()  # its view is already out of date
        self._schedule.start()

    @property
    def render_pending(self) -> bool:
        return self._schedule.isActive() or self._active_cancel is not None or self._live.pending

    @property
    def last_job_id(self) -> int:
        """How many render jobs were started; a coalesced burst of refresh() counts once."""
        return self._job_id

    def last_image(self) -> tuple[QImage | None, MapViewport | None]:
        return self._image, self._image_viewport

    def top_image(self) -> QImage | None:
        """What the last render put above the live layers (names of towns), for the last image's view."""
        return self._top

    def _start_render(self) -> None:
        if self._active_cancel is not None:
            self._active_cancel.set()
        self._job_id += 1
        layers = tuple(with_opacity(layer, self._opacity.get(layer.key, 1.0)) for layer in self._layers
                       if layer.key not in self._hidden and not getattr(layer, "live", False))
        obstacles = label_obstacles([layer for layer in self._layers  # names keep off pins and stations
                                     if getattr(layer, "live", False) and layer.key not in self._hidden])
        if obstacles is not None:
            layers = (obstacles, *layers)
        if self._selection_layer is not None:
            layers += (self._selection_layer,)
        if self._highlight is not None:
            layers += (self._highlight,)
        background = BACKGROUND if self._basemap is None else QColor(0, 0, 0, 0)  # tiles show through
        job = BackgroundRenderJob(self._job_id, self._viewport, layers, background, self._signals, top_apart=True)
        self._active_cancel = job.cancel_flag
        # autoDelete stays on: the pool owns the runnable, the canvas keeps only its flag.
        self._pool.start(job)
        self.refresh_live()  # same view for the live layers (skipped if nothing of theirs changed)

    def _on_top_finished(self, job_id: int, image: QImage | None) -> None:
        if job_id == self._job_id:  # sent just before the job's ``finished``
            self._next_top = image

    def _on_job_finished(self, job_id: int, image: QImage, viewport: MapViewport) -> None:
        if job_id != self._job_id:
            self.stale_results += 1  # a newer view was requested meanwhile
            return
        self._active_cancel = None
        self._image, self._image_viewport = image, viewport
        self._top, self._next_top = self._next_top, None
        self.update()
        # Not finished while a newer view is asked for, or the live layers are still rendering it.
        if not self._schedule.isActive() and not self._live.pending:
            self.renderFinished.emit()

    def _on_live_rendered(self) -> None:
        self.update()
        if self._image is not None and not self._schedule.isActive() and self._active_cancel is None:
            self.renderFinished.emit()  # the live layers were the last part of the map to arrive

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
        self._live.shutdown()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    # -- Qt events ------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        viewport = self._viewport.resized(self.width(), self.height(), self.devicePixelRatioF())
        if self._fit_bbox is not None:
            viewport = viewport.fitted(self._fit_bbox)
        self._apply_viewport(viewport, navigated=False)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._basemap is not None:
            self._basemap.paint(painter, self._viewport)
        if self._image is not None:
            self._draw_last_image(painter)
        if self._live.image is not None and self._live.viewport is not None:
            draw_preview(painter, self._live.image, self._live.viewport, self._viewport)
        if self._top is not None and self._image_viewport is not None:
            draw_preview(painter, self._top, self._image_viewport, self._viewport)
        for overlay in self._extra_overlays:
            overlay.paint(painter, self._viewport)
        self._draw_overlays(painter)
        if self._message:
            self._draw_message(painter)
        painter.end()

    def _draw_last_image(self, painter: QPainter) -> None:
        draw_preview(painter, self._image, self._image_viewport, self._viewport)

    def _draw_overlays(self, painter: QPainter) -> None:
        vp = self._viewport
        if self._hover_marker is not None:
            draw_marker(painter, vp, self._hover_marker, HOVER, fill_alpha=25)
        if self._flash is not None:
            marker, started, duration = self._flash
            strength = flash_strength(time.monotonic() - started, duration)
            if strength > 0:
                draw_marker(painter, vp, marker, FLASH, strength, radius=16.0, fill_alpha=90)
        if self._rubber_band is not None:
            draw_rubber_band(painter, *self._rubber_band)
        if self._layers:
            draw_scale_bar(painter, vp, 16.0, self.height() - 12.0, self.font())
            draw_north_arrow(painter, self.width() - 18.0, 16.0, self.font())

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

    # Mouse events go to the active tool in map coordinates (QgsMapMouseEvent); the
    # middle button always pans, so no tool ever traps the user.
    def _map_event(self, event: QMouseEvent) -> MapMouseEvent:
        position = event.position()
        return MapMouseEvent.at_screen(self._viewport, position.x(), position.y(), button=event.button(),
                                       buttons=event.buttons(), modifiers=event.modifiers())

    def is_interacting(self) -> bool:
        """A drag is under way (hover feedback waits until it ends)."""
        return self._tool.busy or self._middle_pan.busy

    def mousePressEvent(self, event: QMouseEvent) -> None:
        map_event = self._map_event(event)
        if event.button() == Qt.MouseButton.MiddleButton:
            self._middle_pan.press(map_event)
        else:
            self._tool.press(map_event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        map_event = self._map_event(event)
        self.cursorMoved.emit(map_event.lon, map_event.lat)
        if self._middle_pan.busy:
            self._middle_pan.move(map_event)
        else:
            self._tool.move(map_event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        map_event = self._map_event(event)
        if event.button() == Qt.MouseButton.MiddleButton:
            self._middle_pan.release(map_event)
            self.setCursor(self._tool.cursor)
        else:
            self._tool.release(map_event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self._tool.double_click(self._map_event(event))

    def leaveEvent(self, event) -> None:
        self.cursorLeft.emit()
        super().leaveEvent(event)

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
            Qt.Key.Key_Escape: self._tool.cancel,
        }
        action = actions.get(key)
        chord = event.modifiers() & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ControlModifier)
        if action is None or chord:  # Alt+←/→ are back/forward, Ctrl+… belong to the window
            super().keyPressEvent(event)
            return
        action()
        event.accept()
