"""What the canvas paints over the map image on the GUI thread: cheap, per frame.

North arrow, scale bar, the rubber band of a drag, a flashing feature after a
search and the hover marker. Each is a function of the painter and the current
viewport, so the last map image can move under them while a render is pending.
Markers keep their geometry in Web Mercator; converting a grid outline once
when the marker is made leaves only an affine transform per frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF

from desktop.widgets.map_geometry import lonlat_to_mercator, qpolygonf
from desktop.widgets.map_viewport import EARTH_RADIUS_M, MapViewport

INK = QColor("#263238")
PAPER = QColor(255, 255, 255, 238)
ZOOM_BAND = (QColor(21, 101, 192, 40), QColor("#1565c0"))
SELECT_BAND = (QColor(255, 160, 0, 45), QColor("#ef6c00"))
FLASH = QColor("#ff1744")
HOVER = QColor("#00b8d4")


def overlay_font(base: QFont, point_size: float, bold: bool = False) -> QFont:
    font = QFont(base)
    font.setFamilies(["Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", *base.families()])
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


# -- markers ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MapMarker:
    """A feature to draw over the map: polygon rings and/or one point, in mercator metres."""

    rings: tuple[np.ndarray, ...] = ()
    point: tuple[float, float] | None = None

    @classmethod
    def from_lonlat_geometry(cls, geometry) -> MapMarker:
        if geometry is None or geometry.is_empty:
            return cls()
        if shapely.get_type_id(geometry) in (0, 4):  # point, multipoint: mark the first point
            lon, lat = shapely.get_coordinates(geometry)[0]
            return cls.from_lonlat_point(lon, lat)
        rings = []
        for ring in shapely.get_rings(shapely.get_parts(geometry)):
            coords = shapely.get_coordinates(ring)
            x, y = lonlat_to_mercator(coords[:, 0], coords[:, 1])
            rings.append(np.column_stack([x, y]))
        return cls(rings=tuple(rings))

    @classmethod
    def from_lonlat_point(cls, lon: float, lat: float) -> MapMarker:
        x, y = lonlat_to_mercator(lon, lat)
        return cls(point=(float(x), float(y)))

    def path(self, viewport: MapViewport) -> QPainterPath:
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.OddEvenFill)
        for ring in self.rings:
            path.addPolygon(qpolygonf(viewport.to_screen(ring)))
            path.closeSubpath()
        return path

    def screen_point(self, viewport: MapViewport) -> QPointF | None:
        return None if self.point is None else QPointF(*viewport.world_to_screen(*self.point))

    def screen_bounds(self, viewport: MapViewport, radius: float = 20.0) -> QRectF:
        """Screen area the marker covers, pens included: what a repaint has to touch."""
        rect = self.path(viewport).boundingRect().adjusted(-4, -4, 4, 4) if self.rings else QRectF()
        centre = self.screen_point(viewport)
        if centre is not None:
            rect = rect.united(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius))
        return rect


def draw_marker(painter: QPainter, viewport: MapViewport, marker: MapMarker, colour: QColor,
                strength: float = 1.0, radius: float = 12.0, fill_alpha: int = 60) -> None:
    """Outline (and faint fill) of the rings, a ring around the point; ``strength`` fades it."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    ink = QColor(colour)
    ink.setAlphaF(max(0.0, min(1.0, strength)))
    halo = QColor(255, 255, 255, int(200 * strength))
    if marker.rings:
        path = marker.path(viewport)
        fill = QColor(colour)
        fill.setAlpha(int(fill_alpha * strength))
        painter.fillPath(path, fill)
        painter.strokePath(path, QPen(halo, 5.0))
        painter.strokePath(path, QPen(ink, 2.5))
    centre = marker.screen_point(viewport)
    if centre is not None:
        disc = QColor(colour)
        disc.setAlpha(int(fill_alpha * strength))
        painter.setBrush(disc)
        painter.setPen(QPen(halo, 6.0))
        painter.drawEllipse(centre, radius, radius)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(ink, 3.0))
        painter.drawEllipse(centre, radius, radius)
    painter.restore()


def flash_strength(elapsed: float, duration: float, pulses: int = 3) -> float:
    """0..1 brightness of a flash ``elapsed`` seconds in: ``pulses`` bright beats, then off."""
    if elapsed < 0 or elapsed >= duration:
        return 0.0
    return 0.35 + 0.65 * abs(math.sin(math.pi * pulses * elapsed / duration))


# -- rubber band ------------------------------------------------------------------------
def draw_rubber_band(painter: QPainter, rect: QRectF, kind: str) -> None:
    fill, line = SELECT_BAND if kind == "select" else ZOOM_BAND
    painter.save()
    painter.setBrush(fill)
    pen = QPen(line, 1.5)
    pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.drawRect(rect.normalized())
    painter.restore()


# -- north arrow and scale bar ----------------------------------------------------------
def draw_north_arrow(painter: QPainter, right: float, top: float, base_font: QFont) -> None:
    """A two-tone arrow with 北 under it; Web Mercator keeps north straight up everywhere."""
    w, h = 26.0, 40.0
    left = right - w
    cx = left + w / 2
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(PAPER)
    painter.drawRoundedRect(QRectF(left - 6, top - 6, w + 12, h + 30), 6, 6)
    tip, base, notch = QPointF(cx, top), top + h, top + h * 0.72
    painter.setPen(QPen(INK, 1.2))
    painter.setBrush(INK)
    painter.drawPolygon(QPolygonF([tip, QPointF(cx, notch), QPointF(left, base)]))
    painter.setBrush(QColor("white"))
    painter.drawPolygon(QPolygonF([tip, QPointF(left + w, base), QPointF(cx, notch)]))
    painter.setFont(overlay_font(base_font, 11, bold=True))
    painter.setPen(INK)
    painter.drawText(QRectF(left - 6, base, w + 12, 22), Qt.AlignmentFlag.AlignCenter, "北")
    painter.restore()


def nice_length(metres: float) -> float:
    """The largest 1/2/5 × 10^k not above ``metres``."""
    power = 10 ** math.floor(math.log10(metres))
    for step in (5, 2, 1):
        if step * power <= metres:
            return step * power
    return power


def ground_metres_per_pixel(viewport: MapViewport) -> float:
    lat = math.atan(math.sinh(viewport.cy / EARTH_RADIUS_M))
    return viewport.res * math.cos(lat)


def draw_scale_bar(painter: QPainter, viewport: MapViewport, left: float, bottom: float, base_font: QFont,
                   target_px: float = 140.0) -> None:
    """Two alternating segments, 0 / half / full numbers and the unit, true at the centre latitude."""
    per_px = ground_metres_per_pixel(viewport)
    if not math.isfinite(per_px) or per_px <= 0:
        return
    length = nice_length(per_px * target_px)
    bar, half = length / per_px, length / per_px / 2
    divisor, unit = (1000.0, "公里") if length >= 1000 else (1.0, "米")
    numbers = [f"{value / divisor:g}" for value in (0.0, length / 2, length)]
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(overlay_font(base_font, 9.5))
    metrics = painter.fontMetrics()
    unit_width = metrics.horizontalAdvance(unit)
    box = QRectF(left - 10, bottom - 36, bar + 26 + metrics.horizontalAdvance(numbers[2]) / 2 + unit_width, 42)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(PAPER)
    painter.drawRoundedRect(box, 5, 5)
    y = bottom - 12
    painter.setPen(QPen(INK, 1.0))
    painter.setBrush(INK)
    painter.drawRect(QRectF(left, y, half, 6))
    painter.setBrush(QColor("white"))
    painter.drawRect(QRectF(left + half, y, half, 6))
    painter.setPen(INK)
    for x, text in zip((left, left + half, left + bar), numbers):
        painter.drawText(QPointF(x - metrics.horizontalAdvance(text) / 2, y - 5), text)
    painter.drawText(QPointF(left + bar + metrics.horizontalAdvance(numbers[2]) / 2 + 5, y - 5), unit)
    painter.restore()
