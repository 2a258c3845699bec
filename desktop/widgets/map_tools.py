"""Map tools, QGIS style: one active tool, handlers that get events in map coordinates.

The canvas turns each Qt mouse event into a :class:`MapMouseEvent` (screen
position, Web Mercator metres and lon/lat) and hands it to the active tool; a
tool never converts coordinates itself. Tool metadata are class attributes
(glue's ``Tool``): the window builds its actions, menus and the 快捷键 list
from them.

Tools only ask the canvas to do things (preview a pan, show a rubber band, zoom,
emit ``clicked`` / ``rectangleSelected``); what a click *means* — identify,
select — is decided by whoever listens to those signals.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt

from desktop.widgets.map_geometry import lonlat_to_mercator, mercator_to_lonlat

if TYPE_CHECKING:
    from desktop.widgets.map_canvas import MapCanvas
    from desktop.widgets.map_viewport import MapViewport

CLICK_SLOP_PX = 4  # a press and release closer than this is a click, not a drag
LEFT = Qt.MouseButton.LeftButton


def is_click(pressed: QPointF, released: QPointF) -> bool:
    return (released - pressed).manhattanLength() < CLICK_SLOP_PX


def span(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    """The box with these two corners: min x, min y, max x, max y."""
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


@dataclass(frozen=True, slots=True)
class MapMouseEvent:
    """A mouse event as tools see it: where on screen and where on the map."""

    pos: QPointF                  # logical pixels in the canvas
    x: float                      # EPSG:3857 metres
    y: float
    lon: float
    lat: float
    button: Qt.MouseButton = Qt.MouseButton.NoButton
    buttons: Qt.MouseButton = Qt.MouseButton.NoButton
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier

    @classmethod
    def at_screen(cls, viewport: MapViewport, sx: float, sy: float, **kwargs) -> MapMouseEvent:
        x, y = viewport.screen_to_world(sx, sy)
        lon, lat = mercator_to_lonlat(x, y)
        return cls(QPointF(sx, sy), x, y, lon, lat, **kwargs)

    @classmethod
    def at_lonlat(cls, viewport: MapViewport, lon: float, lat: float, **kwargs) -> MapMouseEvent:
        """For tests and scripts: an event at a map position (tools are driven by map coordinates)."""
        x, y = (float(v) for v in lonlat_to_mercator(lon, lat))
        return cls(QPointF(*viewport.world_to_screen(x, y)), x, y, float(lon), float(lat), **kwargs)


class MapTool:
    """Base class: does nothing, zooms in on double-click, Esc cancels what is under way."""

    id = "tool"
    text = "工具"
    tooltip = ""
    shortcut = ""
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, canvas: MapCanvas):
        self.canvas = canvas

    def activate(self) -> None:
        self.canvas.setCursor(self.cursor)

    def deactivate(self) -> None:
        self.cancel()

    def cancel(self) -> None:
        """Abandon a drag in progress (Esc, tool switch)."""

    @property
    def busy(self) -> bool:
        """True while a drag is in progress (hover tooltips keep quiet then)."""
        return False

    def press(self, event: MapMouseEvent) -> None:
        pass

    def move(self, event: MapMouseEvent) -> None:
        pass

    def release(self, event: MapMouseEvent) -> None:
        pass

    def double_click(self, event: MapMouseEvent) -> None:
        if event.button == LEFT:
            self.canvas.zoom_by(2.0, (event.pos.x(), event.pos.y()))


class PanTool(MapTool):
    """Drag moves the map (only the last image while dragging; one render at release).

    A click does not pan: the canvas emits ``clicked`` (the window identifies what
    is there). Shift+drag zooms to a box, as in QGIS.
    """

    id = "pan"
    text = "平移"
    tooltip = "拖动平移地图；单击查看要素信息；Shift+拖动拉框放大"
    shortcut = "P"
    cursor = Qt.CursorShape.OpenHandCursor

    def __init__(self, canvas: MapCanvas):
        super().__init__(canvas)
        self._drag: tuple[QPointF, MapViewport] | None = None
        self._box: ZoomBoxTool | None = None

    @property
    def busy(self) -> bool:
        return self._drag is not None or (self._box is not None and self._box.busy)

    def press(self, event: MapMouseEvent) -> None:
        if event.button == LEFT and event.modifiers & Qt.KeyboardModifier.ShiftModifier:
            self._box = ZoomBoxTool(self.canvas)
            self._box.press(event)
        elif event.button in (LEFT, Qt.MouseButton.MiddleButton):
            self._drag = (event.pos, self.canvas.viewport())
            self.canvas.setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, event: MapMouseEvent) -> None:
        if self._box is not None:
            self._box.move(event)
        elif self._drag is not None:
            start, viewport = self._drag
            delta = event.pos - start
            self.canvas.preview_viewport(viewport.panned(delta.x(), delta.y()))

    def release(self, event: MapMouseEvent) -> None:
        if self._box is not None:
            box, self._box = self._box, None
            box.release(event)
            return
        if self._drag is None or event.button not in (LEFT, Qt.MouseButton.MiddleButton):
            return
        start, viewport = self._drag
        self._drag = None
        self.canvas.setCursor(self.cursor)
        delta = event.pos - start
        if is_click(start, event.pos):
            if self.canvas.viewport() is not viewport:
                self.canvas.preview_viewport(viewport)  # undo a jitter of a pixel or two
            if event.button == LEFT:
                self.canvas.clicked.emit(*mercator_to_lonlat(*viewport.screen_to_world(start.x(), start.y())))
            return
        self.canvas.set_viewport(viewport.panned(delta.x(), delta.y()))

    def cancel(self) -> None:
        if self._drag is not None:
            self.canvas.preview_viewport(self._drag[1])
            self._drag = None
            self.canvas.setCursor(self.cursor)
        if self._box is not None:
            self._box.cancel()
            self._box = None


class IdentifyTool(PanTool):
    """Click shows what is there in the info panel; dragging still pans, so it is never in the way."""

    id = "identify"
    text = "识别"
    tooltip = "单击地图查看网格、污染源、案件或站点的信息"
    shortcut = "I"
    cursor = Qt.CursorShape.WhatsThisCursor


class _RubberBandTool(MapTool):
    """Drag a rectangle, or click: subclasses say what it means in :meth:`finished`."""

    band = "zoom"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, canvas: MapCanvas):
        super().__init__(canvas)
        self._start: MapMouseEvent | None = None

    @property
    def busy(self) -> bool:
        return self._start is not None

    def press(self, event: MapMouseEvent) -> None:
        if event.button == LEFT:
            self._start = event

    def move(self, event: MapMouseEvent) -> None:
        if self._start is not None:
            self.canvas.set_rubber_band(QRectF(self._start.pos, event.pos).normalized(), self.band)

    def release(self, event: MapMouseEvent) -> None:
        if self._start is None or event.button != LEFT:
            return
        start, self._start = self._start, None
        self.canvas.set_rubber_band(None)
        click = is_click(start.pos, event.pos)
        self.finished(start, start if click else event, event.modifiers, click)

    def cancel(self) -> None:
        if self._start is not None:
            self._start = None
            self.canvas.set_rubber_band(None)

    def double_click(self, event: MapMouseEvent) -> None:
        self.press(event)  # Qt sends this instead of the second press: make it one more click

    def finished(self, start: MapMouseEvent, end: MapMouseEvent, modifiers: Qt.KeyboardModifier,
                 click: bool) -> None:
        """The band from ``start`` to ``end`` was released (a click: ``end`` is ``start``)."""


class ZoomBoxTool(_RubberBandTool):
    """Drag a box to zoom into it; a click zooms in 2× there, Alt+click zooms out."""

    id = "zoom_box"
    text = "拉框放大"
    tooltip = "拖出矩形框放大到该范围；单击放大一级，Alt+单击缩小"
    shortcut = "Z"

    def finished(self, start, end, modifiers, click) -> None:
        if click:
            out = modifiers & Qt.KeyboardModifier.AltModifier
            self.canvas.zoom_by(0.5 if out else 2.0, (start.pos.x(), start.pos.y()))
        else:
            self.canvas.zoom_to_mercator(*span(start.x, start.y, end.x, end.y))


class SelectRectTool(_RubberBandTool):
    """Drag a rectangle to select the grids it touches; Shift adds, Ctrl removes; a click selects one."""

    id = "select_rect"
    text = "框选网格"
    tooltip = "拖出矩形框选择网格（Shift 追加，Ctrl 移除）；单击选择一个网格"
    shortcut = "S"
    band = "select"

    def finished(self, start, end, modifiers, click) -> None:
        self.canvas.rectangleSelected.emit(*span(start.lon, start.lat, end.lon, end.lat), modifiers.value)


TOOL_CLASSES = (PanTool, ZoomBoxTool, IdentifyTool, SelectRectTool)
