"""Layers that change while the map is open (case pins, station AQI), rendered on their own.

A *live* layer (``live = True``) is mutable on the GUI thread and hands the render
job an immutable ``snapshot()``; it calls its listeners after each change. The
canvas renders live layers into a second transparent image with this renderer, so
a pin that moves re-renders the pins only — the grids and sources underneath keep
their image. Both images are drawn in ``paintEvent``; live layers are therefore
always above the static ones (case pins and stations on top is what a command
center wants anyway).

``with_opacity`` gives any layer a group opacity for one render: the layer paints
into a scratch image that is then drawn translucent, so overlapping strokes of one
layer do not darken each other as ``QPainter.setOpacity`` alone would make them.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter

from desktop.widgets.map_base import MapLayer
from desktop.widgets.map_render import MapRenderJob, RenderSignals
from desktop.widgets.map_viewport import MapViewport

TRANSPARENT = QColor(0, 0, 0, 0)


class TranslucentLayer(MapLayer):
    def __init__(self, layer: MapLayer, opacity: float):
        self.layer, self.opacity = layer, opacity
        self.key, self.title = layer.key, layer.title

    def extent(self):
        return self.layer.extent()

    def paint(self, painter: QPainter, ctx) -> None:
        device = painter.device()
        scratch = QImage(device.width(), device.height(), QImage.Format.Format_ARGB32_Premultiplied)
        scratch.setDevicePixelRatio(device.devicePixelRatio())
        scratch.fill(Qt.GlobalColor.transparent)
        inner = QPainter(scratch)
        outer_opacity, ctx.opacity = ctx.opacity, ctx.opacity * self.opacity  # for what it puts on top
        try:
            inner.setRenderHints(painter.renderHints())
            self.layer.paint(inner, ctx)
        finally:
            inner.end()
            ctx.opacity = outer_opacity
        painter.setOpacity(painter.opacity() * self.opacity)
        painter.drawImage(QPointF(0, 0), scratch)


def with_opacity(layer: MapLayer, opacity: float) -> MapLayer:
    if opacity >= 0.999:
        return layer
    return TranslucentLayer(layer, max(0.0, opacity))


def draw_image_at(painter: QPainter, image: QImage, shown: MapViewport, now: MapViewport) -> None:
    """Draw an image rendered for ``shown`` where it belongs in view ``now`` (moved/scaled)."""
    if (shown.cx, shown.cy, shown.res, shown.width, shown.height) == (now.cx, now.cy, now.res, now.width, now.height):
        painter.drawImage(QPointF(0, 0), image)
        return
    left, top = now.world_to_screen(*shown.screen_to_world(0, 0))
    k = shown.res / now.res
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.drawImage(QRectF(left, top, shown.width * k, shown.height * k), image)
    painter.restore()


class LiveLayerRenderer(QObject):
    """Renders the canvas' live layers off the GUI thread; newest request wins."""

    # The live part is up to date for the newest request: a new image, none (the last live
    # layer was hidden), or unchanged (nothing live changed since the last one).
    rendered = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._signals = RenderSignals()
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._start)
        self._request: tuple[MapViewport, list[tuple[MapLayer, float]]] | None = None
        self._job_id = 0
        self._cancel: threading.Event | None = None
        self._state = None       # what the newest job (or image) shows
        self.image: QImage | None = None
        self.viewport: MapViewport | None = None
        self.jobs_started = 0

    @property
    def pending(self) -> bool:
        return self._timer.isActive() or self._cancel is not None

    def schedule(self, viewport: MapViewport, layers: list[tuple[MapLayer, float]]) -> None:
        """Ask for an image of ``layers`` ((layer, opacity), bottom first) at ``viewport``."""
        self._request = (viewport, layers)
        self._timer.start()

    def _start(self) -> None:
        viewport, layers = self._request
        state = (viewport, tuple((id(layer), getattr(layer, "version", 0), opacity) for layer, opacity in layers))
        if state == self._state:
            # e.g. a static layer was toggled: nothing live changed. Still say so: the static
            # image may have arrived while this request was pending, and waits for us to finish.
            self.rendered.emit()
            return
        if self._cancel is not None:
            self._cancel.set()
        self._state = state
        if not layers:
            self._cancel, self.image, self.viewport = None, None, None
            self.rendered.emit()  # repaint without it / let a waiting static image count as finished
            return
        self._job_id += 1
        self.jobs_started += 1
        snapshots = tuple(with_opacity(layer.snapshot(), opacity) for layer, opacity in layers)
        job = MapRenderJob(self._job_id, viewport, snapshots, TRANSPARENT, self._signals)
        self._cancel = job.cancel_flag
        self._pool.start(job)

    def _on_finished(self, job_id: int, image: QImage, viewport: MapViewport) -> None:
        if job_id != self._job_id:
            return
        self._cancel = None
        self.image, self.viewport = image, viewport
        self.rendered.emit()

    def _on_failed(self, job_id: int, _message: str) -> None:
        if job_id == self._job_id:
            self._cancel, self._state = None, None
            self.rendered.emit()

    def paint(self, painter: QPainter, viewport: MapViewport) -> None:
        if self.image is not None and self.viewport is not None:
            draw_image_at(painter, self.image, self.viewport, viewport)

    def shutdown(self) -> None:
        self._timer.stop()
        if self._cancel is not None:
            self._cancel.set()
        self._pool.waitForDone(10_000)
        self._cancel = None


class LiveLayer(MapLayer):
    """Base of mutable layers: a version number, listeners, and an immutable snapshot to render."""

    live = True

    def __init__(self):
        self.version = 0
        self._listeners: list = []

    def add_listener(self, callback) -> None:
        if callback not in self._listeners:
            self._listeners.append(callback)

    def remove_listener(self, callback) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def changed(self) -> None:
        """Call after every change (GUI thread): listeners re-render, re-index, repaint."""
        self.version += 1
        for callback in list(self._listeners):
            callback()

    def snapshot(self) -> MapLayer:  # pragma: no cover - abstract
        raise NotImplementedError

    def paint(self, painter: QPainter, ctx) -> None:
        # Lets a plain render job (envgrid render, tests) draw a live layer that is not changing.
        self.snapshot().paint(painter, ctx)
