"""Legend entries and the little symbols shared by the map and the layer panel.

One drawing routine (:func:`draw_symbol`) makes both the sprites the render jobs
stamp onto the map and the swatches in the layer panel, so the legend always shows
exactly what the map draws.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QIcon,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)

Rgba = tuple[int, int, int, int]
PIN_HEIGHT_RATIO = 1.6  # a pin ``size`` wide is this much taller; its tip is the location
SWATCH_SIZE = QSize(26, 18)  # legend swatches in the layer panel, logical px


@dataclass(frozen=True, slots=True)
class LegendEntry:
    key: str               # class key ("" for a layer drawn in one style)
    label: str
    shape: str             # line, fill, text, dot, pin, square, triangle, ring
    colour: Rgba
    width: float = 1.0     # line width for "line", symbol size otherwise
    dashed: bool = False
    checkable: bool = False  # the class can be hidden on its own
    visible: bool = True
    editable: bool = False   # the colour can be changed in the panel
    count: int | None = None
    icon: QImage | None = None  # a ready-made swatch (layers that draw their own legend)


def rgba_of(colour: str, alpha: int = 255) -> Rgba:
    value = QColor(colour)
    return value.red(), value.green(), value.blue(), alpha


def hex_of(rgba: Rgba) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgba[:3])


def draw_symbol(painter: QPainter, shape: str, centre: QPointF, size: float, rgba: Rgba) -> None:
    """One point symbol ``size`` px wide centred on ``centre`` (a pin's tip sits below it)."""
    colour = QColor(*rgba)
    r = size / 2
    x, y = centre.x(), centre.y()
    painter.setBrush(colour)
    if shape == "pin":
        # A teardrop whose tip is the anchor: the case location is the tip, not the blob.
        height = size * PIN_HEIGHT_RATIO
        top = y - height / 2
        path = QPainterPath()
        path.moveTo(x, top + height)
        path.arcTo(QRectF(x - r, top, size, size), 225, -270)
        path.closeSubpath()
        painter.setPen(QPen(QColor(255, 255, 255, rgba[3]), 1.2))
        painter.drawPath(path)
        painter.setBrush(QColor(255, 255, 255, min(230, rgba[3])))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QPointF(x, top + r), r * 0.38, r * 0.38)
        return
    painter.setPen(QPen(colour.darker(170), max(0.8, size / 12)))
    if shape == "square":
        painter.drawRect(QRectF(x - r, y - r, size, size))
    elif shape == "triangle":
        painter.drawPolygon(QPolygonF([QPointF(x, y - r), QPointF(x + r, y + r * 0.8), QPointF(x - r, y + r * 0.8)]))
    elif shape == "ring":
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(colour, max(1.5, size / 6)))
        painter.drawEllipse(centre, r * 0.8, r * 0.8)
    else:
        painter.drawEllipse(centre, r, r)


@functools.lru_cache(maxsize=512)
def symbol_sprite(shape: str, rgba: Rgba, size: float, dpr: float) -> tuple[QImage, float, float]:
    """A cached sprite and the offset of its anchor (stamping beats drawing each symbol)."""
    pad = 2.0
    height = size * PIN_HEIGHT_RATIO if shape == "pin" else size
    image = QImage(int((size + 2 * pad) * dpr + 0.999), int((height + 2 * pad) * dpr + 0.999),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    centre = QPointF(pad + size / 2, pad + height / 2)
    draw_symbol(painter, shape, centre, size, rgba)
    painter.end()
    anchor_y = pad + height if shape == "pin" else centre.y()
    return image, centre.x(), anchor_y


def swatch_pixmap(entry: LegendEntry, size: int = SWATCH_SIZE.height(), dpr: float = 1.0) -> QPixmap:
    w, h = SWATCH_SIZE.width() * size / SWATCH_SIZE.height(), float(size)
    pixmap = QPixmap(int(w * dpr), int(h * dpr))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(*entry.colour)
    if not entry.visible:
        colour.setAlpha(max(40, colour.alpha() // 3))
    if entry.shape == "line":
        pen = QPen(colour, min(entry.width, h / 3))
        if entry.dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRect(QRectF(2, 3, w - 4, h - 6))
    elif entry.shape == "fill":
        painter.setPen(QPen(colour.darker(130), 1))
        painter.setBrush(colour)
        painter.drawRect(QRectF(2, 3, w - 4, h - 6))
    elif entry.shape == "text":
        painter.setPen(colour)
        painter.drawText(QRectF(0, 0, w, h), Qt.AlignmentFlag.AlignCenter, "注")
    else:
        # Symbols as large as the row allows (a 5-px map dot would be unreadable in a legend).
        symbol = (h - 2) / PIN_HEIGHT_RATIO if entry.shape == "pin" else min(max(entry.width, h * 0.6), h - 3)
        draw_symbol(painter, entry.shape, QPointF(w / 2, h / 2), symbol, (*colour.getRgb()[:3], max(colour.alpha(), 150)))
    painter.end()
    return pixmap


def swatch_icon(entry: LegendEntry, size: int = SWATCH_SIZE.height()) -> QIcon:
    if entry.icon is not None:
        return QIcon(QPixmap.fromImage(entry.icon))
    return QIcon(swatch_pixmap(entry, size, 2.0))
