"""New alarms pulse: a ring around the pin, redrawn twice a second, in its own small rectangle.

The pulse is a canvas overlay painted on the GUI thread over the finished map
images; a tick calls ``canvas.update(rect)`` for the few pixels around each pulsing
pin, so neither the map nor the pins are rendered again and Qt repaints only those
rectangles. The timer runs only while something pulses: with no new alarm the map
costs no CPU at all.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QPointF, QRect, QTimer
from PySide6.QtGui import QColor, QPainter, QPen

from desktop.widgets.legend import PIN_HEIGHT_RATIO
from desktop.widgets.map_viewport import MapViewport
from desktop.widgets.pin_layer import PIN_CLASSES, CasePinLayer

INTERVAL_MS = 500          # 2 Hz
RADII = (9.0, 16.0)        # ring radius per phase
ALPHAS = (235, 110)
REACH = 22                 # half the side of the rectangle a pulse repaints
FULL_UPDATE_OVER = 60      # more pulsing pins than this: one update of the whole canvas


class PulseOverlay(QObject):
    def __init__(self, canvas, pins: CasePinLayer | None = None, parent=None, *, scale: float = 1.0):
        super().__init__(parent or canvas)
        self.canvas = canvas
        self.scale = scale  # the wall draws its pins larger (desktop.display.wall_layers)
        self.pins: CasePinLayer | None = None
        self.phase = 0
        self.frames = 0
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self._tick)
        canvas.add_overlay(self)
        if pins is not None:
            self.set_pins(pins)

    def set_pins(self, pins: CasePinLayer | None) -> None:
        if self.pins is not None:
            self.pins.remove_listener(self._on_change)
        self.pins = pins
        if pins is not None:
            pins.add_listener(self._on_change)
        self._on_change()

    @property
    def active(self) -> bool:
        return self.timer.isActive()

    def _targets(self) -> list[tuple[float, float]]:
        pins = self.pins
        if pins is None or not pins.pulsing or not self.canvas.is_layer_visible(pins.key):
            return []
        return [xy for case_id in pins.pulsing if pins.is_shown(case_id) and (xy := pins.xy_of(case_id))]

    def _on_change(self) -> None:
        if self._targets():
            if not self.timer.isActive():
                self.timer.start()
        elif self.timer.isActive():
            self.timer.stop()
            self.canvas.update()  # wipe the last ring

    def _tick(self) -> None:
        pins = self.pins
        if pins is not None:
            now = time.monotonic()
            for case_id in [c for c, until in pins.pulsing.items() if until <= now]:
                del pins.pulsing[case_id]
        targets = self._targets()
        self.phase = (self.phase + 1) % len(RADII)
        self.frames += 1
        if not targets:
            self.timer.stop()
            self.canvas.update()
            return
        if len(targets) > FULL_UPDATE_OVER:
            self.canvas.update()
            return
        vp = self.canvas.viewport()
        reach = round(REACH * self.scale)
        for x, y in targets:
            sx, sy = vp.world_to_screen(x, y)
            head = sy - self._lift()
            self.canvas.update(QRect(int(sx) - reach, int(head) - reach, 2 * reach, 2 * reach))

    def _lift(self) -> float:
        pin = next(c for c in PIN_CLASSES if c.key == "new")
        return (pin.size * PIN_HEIGHT_RATIO - pin.size / 2) * self.scale  # from the tip to the centre of the head

    def paint(self, painter: QPainter, viewport: MapViewport) -> None:
        if not self.timer.isActive():
            return
        targets = self._targets()
        if not targets:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(0, 0, 0, 0))
        radius, alpha = RADII[self.phase] * self.scale, ALPHAS[self.phase]
        lift = self._lift()
        for x, y in targets:
            sx, sy = viewport.world_to_screen(x, y)
            centre = QPointF(sx, sy - lift)
            painter.setPen(QPen(QColor(255, 255, 255, alpha), 5.0 * self.scale))
            painter.drawEllipse(centre, radius, radius)
            painter.setPen(QPen(QColor(229, 57, 53, alpha), 2.5 * self.scale))
            painter.drawEllipse(centre, radius, radius)
        painter.restore()
