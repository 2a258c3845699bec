"""Point symbols: a shape per category group, a colour per category, key sources outlined.

Shapes carry the group so the map reads even for colour-blind users and in print:
squares for industrial emitters, a cross for medical and hazardous waste, circles for
services (restaurants, repair shops), triangles for dust, diamonds for water and farms.
Each (category, key) pair is drawn once into a small sprite; stamping sprites is what
keeps 100,000 points fast.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF

from gis.palettes import source_colour

# code → shape; codes are gis.domain.SOURCE_CATEGORIES. Colours: gis.palettes, shared with the briefing.
CATEGORY_SHAPES: dict[str, str] = {
    "industrial": "square", "vocs": "square", "boiler": "square", "sanluanwu": "square",
    "hazardous_waste": "cross", "medical": "cross",
    "catering": "circle", "auto_repair": "circle",
    "construction": "triangle", "road_dust": "triangle", "material_yard": "triangle",
    "water_source": "diamond", "livestock": "diamond",
}
FALLBACK_SHAPES = ("circle", "square", "triangle", "diamond")
KEY_SCALE = 1.45
KEY_OUTLINE = "#b71c1c"


@dataclass(frozen=True, slots=True)
class Symbol:
    label: str
    shape: str
    colour: str


def category_symbols(categories) -> list[Symbol]:
    """One symbol per ``(id, code, name)`` category, in order; unknown codes get fallbacks."""
    symbols = []
    for i, (_id, code, name) in enumerate(categories):
        shape = CATEGORY_SHAPES.get(code, FALLBACK_SHAPES[i % len(FALLBACK_SHAPES)])
        symbols.append(Symbol(name, shape, source_colour(i, code)))
    return symbols


def _shape_path(shape: str, x: float, y: float, size: float) -> QPainterPath:
    path = QPainterPath()
    r = size / 2
    if shape == "square":
        path.addRect(QRectF(x - r * 0.88, y - r * 0.88, r * 1.76, r * 1.76))
    elif shape == "triangle":
        path.addPolygon(QPolygonF([QPointF(x, y - r * 1.1), QPointF(x + r * 1.05, y + r * 0.8),
                                   QPointF(x - r * 1.05, y + r * 0.8)]))
        path.closeSubpath()
    elif shape == "diamond":
        path.addPolygon(QPolygonF([QPointF(x, y - r * 1.15), QPointF(x + r, y), QPointF(x, y + r * 1.15),
                                   QPointF(x - r, y)]))
        path.closeSubpath()
    elif shape == "cross":
        arm = r * 0.42
        path.addRect(QRectF(x - arm, y - r, 2 * arm, 2 * r))
        path.addRect(QRectF(x - r, y - arm, 2 * r, 2 * arm))
        path = path.simplified()
    else:
        path.addEllipse(QPointF(x, y), r, r)
    return path


def symbol_image(symbol: Symbol, size: float, key: bool, dpr: float) -> tuple[QImage, float]:
    """The sprite of ``symbol`` and the offset of its centre (logical px)."""
    if key:
        size *= KEY_SCALE
    pad = 3.0 if key else 1.5
    side = size * 1.25 + 2 * pad
    image = QImage(max(1, int(side * dpr + 0.999)), max(1, int(side * dpr + 0.999)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = _shape_path(symbol.shape, side / 2, side / 2, size)
    fill = QColor(symbol.colour)
    if key:  # a white ring then a dark red outline: visible on any fill and any basemap
        painter.strokePath(path, QPen(QColor("white"), 4.0))
        painter.fillPath(path, fill)
        painter.strokePath(path, QPen(QColor(KEY_OUTLINE), 1.8))
    else:
        painter.fillPath(path, fill)
        painter.strokePath(path, QPen(fill.darker(170), 0.8))
    painter.end()
    return image, side / 2


class SymbolSprites:
    """Sprites per (symbol index, key, dpr), made on first use in whichever thread paints."""

    def __init__(self, symbols: list[Symbol], size: float):
        self.symbols, self.size = symbols, size
        self._cache: dict[tuple[int, bool, float], tuple[QImage, float]] = {}
        self._lock = threading.Lock()

    def get(self, index: int, key: bool, dpr: float) -> tuple[QImage, float]:
        found = self._cache.get((index, key, dpr))
        if found is None:
            with self._lock:
                found = self._cache.setdefault((index, key, dpr),
                                               symbol_image(self.symbols[index], self.size, key, dpr))
        return found


def legend_icon(draw, size: int = 18, dpr: float = 1.0) -> QImage:
    """A ``size``-px legend swatch painted by ``draw(painter, size)``."""
    image = QImage(int(size * dpr), int(size * dpr), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    draw(painter, size)
    painter.end()
    return image


def symbol_legend_icon(symbol: Symbol, size: float, key: bool = False, dpr: float = 1.0) -> QImage:
    sprite, centre = symbol_image(symbol, size, key, dpr)
    return legend_icon(lambda p, s: p.drawImage(QPointF(s / 2 - centre, s / 2 - centre), sprite), 20, dpr)
