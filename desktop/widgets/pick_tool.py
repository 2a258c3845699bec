"""Picking one location on the map for a form (新建案件 → 在地图上点选), and the pin that marks it.

:class:`PickLocationTool` is an ordinary map tool: a click hands (lon, lat) to the form's
callback; a drag still pans, so the seat can move the map to the spot first. It does not
emit ``canvas.clicked``, so the window does not identify features under a pick.
:class:`LocationMarker` is a canvas overlay (``canvas.add_overlay``) drawn above the layers.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.map_tools import CLICK_SLOP_PX, LEFT, MapMouseEvent, MapTool

PIN_COLOUR = QColor("#d81b60")


class PickLocationTool(MapTool):
    """Click: ``on_pick(lon, lat)``. Drag: pan. Esc: ``on_cancel()`` (the form restores the previous tool)."""

    id = "pick_location"
    text = "点选位置"
    tooltip = "在地图上单击案件发生位置；拖动可平移地图；Esc 取消"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, canvas, on_pick: Callable[[float, float], None],
                 on_cancel: Callable[[], None] | None = None):
        super().__init__(canvas)
        self._on_pick, self._on_cancel = on_pick, on_cancel
        self._press: tuple[MapMouseEvent, object] | None = None  # event, viewport at press
        self._dragging = False

    @property
    def busy(self) -> bool:
        return self._dragging

    def press(self, event: MapMouseEvent) -> None:
        if event.button == LEFT:
            self._press, self._dragging = (event, self.canvas.viewport()), False

    def move(self, event: MapMouseEvent) -> None:
        if self._press is None:
            return
        start, viewport = self._press
        delta = event.pos - start.pos
        if self._dragging or delta.manhattanLength() >= CLICK_SLOP_PX:
            self._dragging = True
            self.canvas.preview_viewport(viewport.panned(delta.x(), delta.y()))

    def release(self, event: MapMouseEvent) -> None:
        if self._press is None or event.button != LEFT:
            return
        (start, viewport), self._press = self._press, None
        delta = event.pos - start.pos
        if self._dragging:
            self._dragging = False
            self.canvas.set_viewport(viewport.panned(delta.x(), delta.y()))
            return
        self._on_pick(start.lon, start.lat)

    def double_click(self, event: MapMouseEvent) -> None:
        pass  # a double click is two picks of the same spot, not a zoom

    def deactivate(self) -> None:
        self._abandon_drag()  # switching tools is not a cancel: the form keeps its pick button state

    def cancel(self) -> None:
        """Esc: abandon a drag, or else stop picking."""
        if self._dragging:
            self._abandon_drag()
        elif self._on_cancel is not None:
            self._on_cancel()

    def _abandon_drag(self) -> None:
        if self._press is not None and self._dragging:
            self.canvas.preview_viewport(self._press[1])
        self._press, self._dragging = None, False


class LocationMarker:
    """A drop pin at one lon/lat, painted by the canvas above everything else."""

    def __init__(self, lon: float, lat: float):
        self.move_to(lon, lat)

    def move_to(self, lon: float, lat: float) -> None:
        self.lon, self.lat = lon, lat
        x, y = lonlat_to_mercator(lon, lat)
        self._xy = (float(x), float(y))

    def paint(self, painter: QPainter, viewport) -> None:
        sx, sy = viewport.world_to_screen(*self._xy)
        tip = QPointF(sx, sy)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = QPainterPath(tip)
        path.cubicTo(QPointF(sx - 4, sy - 10), QPointF(sx - 11, sy - 16), QPointF(sx - 11, sy - 24))
        path.arcTo(QRectF(sx - 11, sy - 35, 22, 22), 180, -180)
        path.cubicTo(QPointF(sx + 11, sy - 16), QPointF(sx + 4, sy - 10), tip)
        painter.setPen(QPen(QColor("white"), 2))
        painter.setBrush(PIN_COLOUR)
        painter.drawPath(path)
        painter.setBrush(QColor("white"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QPointF(sx, sy - 24), 4, 4)
        painter.restore()
