"""What every map layer shares: the base class and the render context it paints with."""
from __future__ import annotations

import threading

from PySide6.QtGui import QPainter

from desktop.widgets.map_viewport import MapViewport


class RenderContext:
    """What a layer may know while painting: the frozen view, whether to give up, and
    what the layers of this one render share (label occupancy, counts for tests/benchmarks)."""

    def __init__(self, viewport: MapViewport, cancel: threading.Event | None = None):
        self.viewport = viewport
        self._cancel = cancel or threading.Event()
        self._labels = None
        self.stats: dict[str, object] = {}
        # (QPointF, QImage, opacity) sprites that go above every layer, live ones included (the names
        # of towns): the render job draws them last, or into an image of their own (``MapRenderJob``).
        self.on_top: list = []
        self.opacity = 1.0  # group opacity of the layer painting now (``with_opacity``), for on_top sprites

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def labels(self):
        """The label placer of this render: labels painted later avoid those placed earlier."""
        if self._labels is None:
            from desktop.widgets.map_labels import LabelPlacer

            self._labels = LabelPlacer(self.viewport.width, self.viewport.height)
        return self._labels


class MapLayer:
    """Base class: a key for visibility toggles, a Chinese title, an extent in metres."""

    key = "layer"
    title = "图层"

    def extent(self) -> tuple[float, float, float, float] | None:
        return None

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
