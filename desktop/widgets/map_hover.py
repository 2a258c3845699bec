"""Hover feedback: a marker on the feature under the cursor and, after a short dwell, a tooltip.

Mouse moves arrive far faster than anyone reads; a 0-ms single-shot timer
coalesces all moves of one event-loop turn into one hit-test (each well under a
millisecond with :mod:`map_hit`), so the GUI thread never queues work behind
the mouse. The tooltip waits ``TOOLTIP_DELAY_MS`` on the same feature, as
Qt's own tooltips do, and follows at once while one is already showing.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, QTimer
from PySide6.QtWidgets import QToolTip

from desktop.widgets.map_canvas import MapCanvas
from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.map_hit import Hit
from desktop.widgets.map_overlays import MapMarker

TOOLTIP_DELAY_MS = 350


class HoverController(QObject):
    """``pick(lon, lat) → Hit | None``; ``describe(hit) → (tooltip text, marker)``."""

    def __init__(self, canvas: MapCanvas, pick: Callable[[float, float], Hit | None],
                 describe: Callable[[Hit], tuple[str, MapMarker | None]]):
        super().__init__(canvas)
        self.canvas = canvas
        self._pick, self._describe = pick, describe
        self.enabled = True
        self.hit: Hit | None = None
        self.text = ""
        self._cursor: tuple[float, float] | None = None
        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(0)
        self._coalesce.timeout.connect(self._update)
        self._dwell = QTimer(self)
        self._dwell.setSingleShot(True)
        self._dwell.setInterval(TOOLTIP_DELAY_MS)
        self._dwell.timeout.connect(self._show_tooltip)
        canvas.cursorMoved.connect(self._on_moved)
        canvas.cursorLeft.connect(self.reset)
        canvas.viewChanged.connect(self._hide_tooltip)

    def _on_moved(self, lon: float, lat: float) -> None:
        self._cursor = (lon, lat)
        if self.canvas.is_interacting():
            self.reset()
            return
        if self.enabled:
            self._coalesce.start()

    def _update(self) -> None:
        if self._cursor is None or self.canvas.is_interacting():
            return
        hit = self._pick(*self._cursor)
        if hit == self.hit:
            return
        self.hit = hit
        if hit is None:
            self.text = ""
            self.canvas.set_hover_marker(None)
            self._hide_tooltip()
            return
        self.text, marker = self._describe(hit)
        self.canvas.set_hover_marker(marker)
        if QToolTip.isVisible():
            self._show_tooltip()
        else:
            self._dwell.start()

    def _screen_pos(self) -> QPoint:
        x, y = lonlat_to_mercator(*self._cursor)
        sx, sy = self.canvas.viewport().world_to_screen(float(x), float(y))
        return self.canvas.mapToGlobal(QPoint(round(sx) + 14, round(sy) + 18))

    def _show_tooltip(self) -> None:
        if self.text and self._cursor is not None and not self.canvas.is_interacting():
            QToolTip.showText(self._screen_pos(), self.text, self.canvas)

    def _hide_tooltip(self) -> None:
        self._dwell.stop()
        if QToolTip.isVisible():
            QToolTip.hideText()

    def reset(self) -> None:
        """Forget the hovered feature (cursor left, drag started, data replaced)."""
        self._coalesce.stop()
        self.hit = None
        self.text = ""
        self.canvas.set_hover_marker(None)
        self._hide_tooltip()
