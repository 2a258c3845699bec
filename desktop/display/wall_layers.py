"""The app's map layers dressed for the wall: dark, thick, big — same renderer, same layer classes.

Grid outlines are restyled copies of the app's ``GridLayer`` (levels 1–3 only; names on the
second level), the way ``map_styling.restyle`` does it; stations and case pins are the app's live
layers whose snapshots carry symbols scaled by the wall's ``scale``. Sizes are logical pixels
times ``scale`` (the window's ``unit = height / 1080`` times a reading-distance factor), so a 4K
wall draws the same picture as a 1080p one, twice as large.
"""
from __future__ import annotations

import copy

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from desktop.display.theme import BG
from desktop.widgets.map_build import grid_layers
from desktop.widgets.map_canvas import MapCanvas
from desktop.widgets.map_labels import CELL_PX, HALO_PX, LABEL_FONTS, PADDING_PX, SPRITES
from desktop.widgets.map_layers import GridFillLayer, GridLabelLayer, GridLayer, GridStyle, MapLayer
from desktop.widgets.map_points import point_rects
from desktop.widgets.pin_layer import CasePinLayer, PinSnapshot
from desktop.widgets.station_layer import LABEL_MAX_RES, StationLayer, StationSnapshot

WALL_LEVELS = (1, 2, 3)      # finer grids are a carpet at 5 m
MAP_BG = QColor(BG)          # the window's background: the map has no frame of another colour
SYMBOL_FACTOR = 1.8          # symbols at 1080p are this much larger than on a seat's screen
PX_TO_PT = 72 / 96           # map images are painted at 96 dpi


def wall_grid_styles(unit: float, min_text_px: float) -> dict[int, GridStyle]:
    """Dark grid styles for ``unit = height / 1080``; second-level names at least ``min_text_px``."""
    label_px = max(min_text_px, 27 * unit)
    return {
        1: GridStyle("#5cc8ff", 3.5 * unit, fill="#13223b"),
        2: GridStyle("#3d8bd9", 2.2 * unit, label_pt=label_px * PX_TO_PT, label_min_px=90 * unit,
                     label_colour="#dce8ff", names_on_top=True),   # towns: always named, above pins (as the app)
        3: GridStyle("#2b4669", 1.2 * unit, min_feature_px=26 * unit),
    }


def wall_grid_layers(grids, unit: float, min_text_px: float) -> list[MapLayer]:
    """Bottom first: the district's fill, outlines finest first, second-level names."""
    styles = wall_grid_styles(unit, min_text_px)
    built = grid_layers(grids, levels=WALL_LEVELS, prepare=True)
    outlines: list[GridLayer] = []
    for layer in built.outlines:
        dark = copy.copy(layer)   # geometry shared, style replaced (as map_styling.restyle does)
        dark.style = styles[layer.level]
        outlines.append(dark)
    fills = [GridFillLayer(layer) for layer in outlines if layer.style.fill]
    labels = [GridLabelLayer(layer) for layer in sorted(outlines, key=lambda grid: grid.level) if layer.style.label_pt]
    return [*fills, *outlines, *labels]


def _scaled(symbols, scale: float) -> tuple:
    return tuple((shape, rgba, size * scale) for shape, rgba, size in symbols)


class WallStationSnapshot(StationSnapshot):
    """Stations with scaled symbols; their AQI numbers are a static layer of their own (``WallAqiNumbers``)."""

    def __init__(self, snapshot: StationSnapshot, scale: float, number_px: float):
        super().__init__(snapshot.key, snapshot.title, snapshot.xy, snapshot.classes, snapshot.aqi,
                         _scaled(snapshot.symbols, scale))
        self.scale, self.number_px = scale, number_px

    def _paint_numbers(self, painter: QPainter, screen, inside) -> None:
        pass   # WallAqiNumbers places them after the towns' names, which outrank them

    def block_labels(self, ctx) -> None:
        """Names keep off stations: an air station with an AQI value is a hard obstacle (only a town's
        name with no other place covers it), other stations are soft ones, like the wall's case pins."""
        if not len(self.xy):
            return
        half = max(size for _shape, _rgba, size in self.symbols) / 2 + 1
        rects = point_rects(ctx.viewport.to_screen(self.xy), half, half)
        numbered = self.aqi >= 0
        ctx.labels.block(rects[numbered])
        ctx.labels.block(rects[~numbered], soft=True)


class WallAqiNumbers(MapLayer):
    """The AQI beside each air station, placed like a name and after the towns' names, which outrank
    it: right of the dot, else left, above or below it, wherever no name nor other number is; drawn
    above the case pins (``RenderContext.on_top``). The worst air first; a number with no free place
    is left out. Static, from one snapshot of the station layer: the panel builds a new one when
    the readings change (hourly)."""

    key = "aqi-numbers"
    title = "空气站 AQI 数值"

    def __init__(self, snapshot: WallStationSnapshot):
        numbered = snapshot.aqi >= 0
        self.xy, self.aqi = snapshot.xy[numbered], snapshot.aqi[numbered]
        self.half = max((size for _shape, _rgba, size in snapshot.symbols), default=0.0) / 2   # scaled already
        self.scale, self.number_px = snapshot.scale, snapshot.number_px

    def paint(self, painter: QPainter, ctx) -> None:
        vp = ctx.viewport
        if vp.res > LABEL_MAX_RES or not len(self.xy):
            return
        font = QFont()
        font.setFamilies(LABEL_FONTS)
        font.setPixelSize(round(self.number_px))
        font.setBold(True)
        metrics = QFontMetricsF(font)
        font_key, ink = font.key(), QColor("#ffffff")
        aside = 7.0 * self.scale   # from the dot's centre to the number, as beside a seat's station
        height = metrics.height()
        screen = vp.to_screen(self.xy)
        drawn = 0
        for n in sorted(range(len(self.aqi)), key=lambda i: (-self.aqi[i], i)):
            text = str(int(self.aqi[n]))
            width = SPRITES.width(font_key, metrics, text)
            x, y = screen[n]
            top = y - (metrics.ascent() - metrics.capHeight() / 2)   # digits centred on the dot
            places = [(x + aside, top), (x - aside - width, top),
                      (x - width / 2, y - self.half - height), (x - width / 2, y + self.half)]
            # A town's name over the dot: the number reads as part of it, "北街街道 290".
            for name in (r for r in ctx.labels.placed if r.contains(x, y)):
                middle, apart = name.center().y() - height / 2, 2 * PADDING_PX + CELL_PX   # clear of its cells
                places += [(name.right() + apart, middle), (name.left() - apart - width, middle)]
            for left, upper in places:
                rect = QRectF(left, upper, width, height)
                if ctx.labels.try_place(rect, over_symbols=True):
                    sprite = SPRITES.sprite(font, font_key, metrics, text, ink, vp.dpr)
                    ctx.on_top.append((QPointF(left - HALO_PX, upper - HALO_PX), sprite, ctx.opacity))
                    drawn += 1
                    break
        ctx.stats[self.key] = drawn


class WallPinSnapshot(PinSnapshot):
    def block_labels(self, ctx) -> None:
        """Soft obstacles, as for stations: with dozens of big pins a hard rule would leave no name."""
        layout = self.layout(ctx.viewport)
        if layout is not None:
            ctx.labels.block(layout.obstacle_rects(self.symbols)[0], soft=True)


class WallStationLayer(StationLayer):
    def __init__(self, stations, latest, *, scale: float, number_px: float):
        self.scale, self.number_px = scale, number_px
        super().__init__(stations, latest)

    def snapshot(self) -> WallStationSnapshot:
        return WallStationSnapshot(super().snapshot(), self.scale, self.number_px)


class WallPinLayer(CasePinLayer):
    """Open cases by status, every case a pin (no count bubbles: their numbers would be tiny)."""

    def __init__(self, cases, *, scale: float):
        self.scale = scale
        super().__init__(cases)
        self.cluster = None

    def _make_snapshot(self) -> PinSnapshot:
        s = super()._make_snapshot()
        return WallPinSnapshot(s.key, s.title, s.xy, s.classes, _scaled(s.symbols, self.scale), s.pulsing, None)


class DarkBackdrop:
    """Painted under the map image (the canvas' basemap hook): the wall's dark ground."""

    def paint(self, painter: QPainter, viewport) -> None:
        painter.fillRect(0, 0, round(viewport.width) + 1, round(viewport.height) + 1, MAP_BG)


class WallMapCanvas(MapCanvas):
    """The app's canvas without its seat furniture (scale bar, north arrow: small text, no use at 5 m)
    and without interaction: mouse and keys go to the wall window."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.set_basemap(DarkBackdrop())

    def _draw_overlays(self, painter) -> None:
        pass
