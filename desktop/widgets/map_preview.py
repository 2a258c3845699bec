"""Keeping the GUI thread free while the map moves: cheap previews and polite render threads.

While a render is pending, every paintEvent of a drag or a zoom shows the last images moved
or scaled (``draw_preview``); that runs on the GUI thread, so it must stay cheap — a pan is
a blit at whole pixels, a zoom preview is scaled without smoothing (bilinear scaling of a
full-screen image costs several milliseconds; the preview lasts only until the new image
arrives). Render workers lower their own priority (``BackgroundRenderJob``), so on a busy
2-core machine the scheduler runs event handling and painting first (measured by
``benchmarks/bench_ui_latency.py``).
"""
from __future__ import annotations

import os
import sys
import threading

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter

from desktop.widgets.map_render import MapRenderJob
from desktop.widgets.map_viewport import MapViewport

RENDER_NICE = 5  # render threads yield the CPU to the GUI thread (Linux: per-thread nice value)
_render_thread = threading.local()


def lower_render_thread_priority() -> None:
    """Once per worker thread: make it nicer than the GUI thread, so that on a busy 2-core
    machine the scheduler runs event handling and paint first and renders in what is left.
    (Qt's QThread priorities are no-ops under Linux' default scheduler, hence the nice value.)"""
    if getattr(_render_thread, "lowered", False):
        return
    _render_thread.lowered = True
    if hasattr(os, "setpriority") and sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + RENDER_NICE))
        except OSError:
            pass


class BackgroundRenderJob(MapRenderJob):
    def run(self) -> None:
        lower_render_thread_priority()
        super().run()


def draw_preview(painter: QPainter, image: QImage, shown: MapViewport, now: MapViewport) -> None:
    """Draw an image rendered for view ``shown`` where it belongs in view ``now``."""
    if (shown.cx, shown.cy, shown.res, shown.width, shown.height) == (now.cx, now.cy, now.res, now.width, now.height):
        painter.drawImage(QPointF(0, 0), image)
        return
    left, top = now.world_to_screen(*shown.screen_to_world(0, 0))
    k = shown.res / now.res
    if abs(k - 1.0) < 1e-9:
        painter.drawImage(QPointF(round(left), round(top)), image)
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    painter.drawImage(QRectF(left, top, shown.width * k, shown.height * k), image)
    painter.restore()
