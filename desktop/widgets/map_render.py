"""The off-thread half of the canvas: paint a frozen view into a QImage.

Like QGIS' QgsMapRendererJob: the job owns copies of everything it reads (the
viewport value and a tuple of immutable layers), paints into a QImage (allowed
outside the GUI thread, unlike QPixmap), and reports through a queued signal. A
newer request sets the older job's cancel flag; layers look at it between
features, and a result that arrives anyway is ignored by job id.

What layers put ``on_top`` of the context (names of towns) is drawn after every layer; with
``top_apart`` (the canvas, whose live pins and stations are a second image above this one)
into a transparent image of its own, sent by ``top_finished`` just before ``finished``.
"""
from __future__ import annotations

import logging
import threading
import traceback

from PySide6.QtCore import QObject, QRunnable, Signal
from PySide6.QtGui import QColor, QImage, QPainter

from desktop.widgets.map_layers import MapLayer, RenderContext
from desktop.widgets.map_viewport import MapViewport

log = logging.getLogger(__name__)
MAP_BACKGROUND = QColor("#e6eaee")  # behind everything, when no basemap covers it


class RenderSignals(QObject):
    """Lives in the GUI thread; emitting from the worker queues the call there."""

    finished = Signal(int, QImage, object)  # job id, image, the MapViewport it shows
    failed = Signal(int, str)
    top_finished = Signal(int, object)      # job id, QImage or None: what goes above the live layers


class MapRenderJob(QRunnable):
    def __init__(self, job_id: int, viewport: MapViewport, layers: tuple[MapLayer, ...],
                 background: QColor, signals: RenderSignals, *, top_apart: bool = False):
        super().__init__()
        self.job_id = job_id
        self.viewport = viewport
        self.layers = layers
        self.background = QColor(background)
        self.signals = signals  # a Python reference keeps it alive until the job ends
        self.cancel_flag = threading.Event()
        self.top_apart = top_apart
        self.top_image: QImage | None = None  # with top_apart: the on-top sprites, if there were any

    def cancel(self) -> None:
        self.cancel_flag.set()

    def run(self) -> None:
        try:
            image = self.render()
        except Exception:  # a broken layer must not leave the canvas waiting forever
            log.exception("map render job %s failed", self.job_id)
            self.signals.failed.emit(self.job_id, traceback.format_exc(limit=3))
            return
        if image is not None:
            try:
                if self.top_apart:
                    self.signals.top_finished.emit(self.job_id, self.top_image)
                self.signals.finished.emit(self.job_id, image, self.viewport)
            except RuntimeError:  # the canvas (and its signals object) was deleted while this job ran
                log.debug("map render job %s finished after its canvas was closed", self.job_id)

    def render(self) -> QImage | None:
        """Paint all layers; ``None`` when cancelled part-way."""
        vp = self.viewport
        image = QImage(max(1, round(vp.width * vp.dpr)), max(1, round(vp.height * vp.dpr)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(vp.dpr)
        image.fill(self.background)
        ctx = RenderContext(vp, self.cancel_flag)
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            for layer in self.layers:
                if ctx.cancelled:
                    break
                painter.save()
                layer.paint(painter, ctx)
                painter.restore()
            if not self.top_apart:
                draw_on_top(painter, ctx.on_top)
        finally:
            painter.end()
        if self.top_apart and ctx.on_top and not ctx.cancelled:
            self.top_image = QImage(image.size(), QImage.Format.Format_ARGB32_Premultiplied)
            self.top_image.setDevicePixelRatio(vp.dpr)
            self.top_image.fill(0)
            top = QPainter(self.top_image)
            try:
                draw_on_top(top, ctx.on_top)
            finally:
                top.end()
        return None if ctx.cancelled else image


def draw_on_top(painter: QPainter, sprites) -> None:
    """Draw ``RenderContext.on_top`` sprites, ``(point, image, opacity)``, in order."""
    for at, sprite, opacity in sprites:
        painter.setOpacity(opacity)
        painter.drawImage(at, sprite)
    painter.setOpacity(1.0)
