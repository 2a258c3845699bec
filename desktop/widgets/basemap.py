"""The basemap under the vector layers: tiles drawn straight into the canvas' paint.

The canvas calls :meth:`BasemapController.paint` first in every paint event, at
the *current* view, so panning shows the tiles already in memory at once and the
vector image is drawn over them (transparent around the features). A tile that
arrives repaints only its own rectangle of the widget (``update(rect)``); the vector
layers are not rendered again for it. Missing tiles are filled from a coarser zoom
already in memory (scaled up, blurry but in place), else from a light placeholder.
"""
from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter

from desktop.widgets.map_viewport import MapViewport
from desktop.widgets.tile_cache import TileDiskCache
from desktop.widgets.tile_fetcher import TileLoader, tile_key
from gis.tile_sources import (
    NO_BASEMAP,
    Basemap,
    BasemapConfig,
    read_basemap_config,
    write_basemap_config,
)
from gis.tiles import tile_bounds, tiles_for_view, zoom_for_resolution

PLACEHOLDER = QColor("#eef0ec")
FALLBACK_LEVELS = 6  # look this many zooms up for a tile to stretch while the right one loads


def gcj02_notice(basemap: Basemap, lon: float | None = None, lat: float | None = None) -> str:
    """The warning shown while a GCJ-02 basemap is on (with the local offset, if a place is given)."""
    if not basemap.gcj02:
        return ""
    offset = ""
    if lon is not None and lat is not None:
        from gis.crs import wgs84_to_gcj02

        glon, glat = wgs84_to_gcj02(lon, lat)
        metres = math.hypot((glon - lon) * math.cos(math.radians(lat)), glat - lat) * 111_320
        if metres >= 1:
            offset = f"，此处约 {metres:,.0f} 米"
    return (f"底图「{basemap.name}」为 GCJ-02（火星坐标）：网格、污染源、案件等图层保持 CGCS2000/WGS84、未做偏移，"
            f"与底图存在 100–700 米偏差{offset}。请勿依据此底图判读位置。")


class BasemapController(QObject):
    """Which basemap is on, the tile loader behind it, and the painting of its tiles."""

    basemapChanged = Signal(str)       # id
    noticeChanged = Signal(str)        # GCJ-02 / missing-key warning, "" when none
    problem = Signal(str)              # a source refused (bad key …): for the status bar

    def __init__(self, canvas=None, *, config: BasemapConfig | None = None, config_path=None,
                 cache: TileDiskCache | None = None, timeout_ms: int = 8000, parent=None):
        super().__init__(parent)
        self.canvas = canvas
        self.config_path = config_path
        self.config = config if config is not None else read_basemap_config(config_path)
        self._cache = cache
        self._timeout_ms = timeout_ms
        self._loader: TileLoader | None = None
        self._basemap = NO_BASEMAP
        self._notice = ""

    # -- choice ------------------------------------------------------------------------------
    def basemaps(self) -> list[Basemap]:
        return self.config.basemaps()

    def current(self) -> Basemap:
        return self._basemap

    def notice(self) -> str:
        return self._notice

    @property
    def loader(self) -> TileLoader:
        if self._loader is None:  # created on first use: no cache folder unless a basemap is shown
            cache = self._cache if self._cache is not None else TileDiskCache()
            self._loader = TileLoader(cache, tokens=self.config.effective_tokens(), timeout_ms=self._timeout_ms,
                                      parent=self)
            self._loader.tileReady.connect(self._on_tile)
            self._loader.retryDue.connect(lambda: self.canvas is not None and self.canvas.update())
            self._loader.sourceProblem.connect(lambda name, text: self.problem.emit(f"{name}：{text}"))
        return self._loader

    def set_basemap(self, basemap: Basemap | str | None) -> bool:
        """Switch basemaps by object or id; False (and nothing changes) for an unknown id."""
        if basemap is None:
            basemap = NO_BASEMAP
        elif isinstance(basemap, str):
            found = self.config.find(basemap)
            if found is None:
                return False
            basemap = found
        self._basemap = basemap
        if self.canvas is not None:
            self.canvas.set_basemap(self if basemap.layers else None)
        self._update_notice()
        self.basemapChanged.emit(basemap.id)
        return True

    def add_basemap(self, basemap: Basemap, *, save: bool = True) -> Basemap:
        added = self.config.add(basemap)
        if save:
            write_basemap_config(self.config, self.config_path)
        return added

    def set_token(self, name: str, value: str, *, save: bool = True) -> None:
        self.config.tokens[name] = value.strip()
        if save:
            write_basemap_config(self.config, self.config_path)
        if self._loader is not None:
            self._loader.tokens = self.config.effective_tokens()
            self._loader.forget()
        self._update_notice()
        if self.canvas is not None:
            self.canvas.update()

    def _update_notice(self) -> None:
        missing = self._basemap.missing_tokens(self.config.effective_tokens())
        files = [layer.url for layer in self._basemap.layers if layer.kind == "mbtiles" and not Path(layer.url).is_file()]
        if missing:
            text = f"底图「{self._basemap.name}」需要天地图密钥（tk）：请在图层面板的“底图设置”中填写。"
        elif files:
            text = f"找不到离线底图文件 {files[0]}（底图「{self._basemap.name}」）。"
        else:
            lon = lat = None
            if self.canvas is not None:
                lon, lat = self.canvas.lonlat_at(self.canvas.width() / 2, self.canvas.height() / 2)
            text = gcj02_notice(self._basemap, lon, lat)
        if text != self._notice:
            self._notice = text
            self.noticeChanged.emit(text)

    # -- painting ----------------------------------------------------------------------------
    def paint(self, painter: QPainter, viewport: MapViewport) -> None:
        basemap = self._basemap
        if not basemap.layers or basemap.missing_tokens(self.config.effective_tokens()):
            return
        loader = self.loader
        wanted = []
        # Nearest-neighbour while a drag is under way (2-3× cheaper), smooth once the view rests.
        smooth = not getattr(self.canvas, "is_interacting", lambda: False)()
        self._dpr = painter.device().devicePixelRatioF()
        painter.save()
        for n, source in enumerate(basemap.layers):
            z = zoom_for_resolution(viewport.res, viewport.dpr, tile_size=source.tile_size,
                                    min_zoom=source.min_zoom, max_zoom=source.max_zoom)
            count = 2 ** z
            for x, y in tiles_for_view(viewport.extent, z):
                rect = _screen_rect(viewport, tile_bounds(z, x, y))
                key = tile_key(source, z, x % count, y)
                tile = loader.image(key)
                if tile is not None:
                    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth and self._scaled(rect, tile))
                    tile.draw(painter, rect)
                    continue
                wanted.append((source, z, x % count, y))
                if not self._draw_fallback(painter, loader, source, z, x % count, y, rect) and n == 0:
                    painter.fillRect(rect, PLACEHOLDER)
        painter.restore()
        loader.want(wanted)
        if basemap.attribution:
            self._draw_attribution(painter, viewport, basemap.attribution)

    def _scaled(self, rect: QRectF, tile) -> bool:
        return abs(rect.width() * self._dpr - tile.size) > 0.5

    @staticmethod
    def _draw_fallback(painter, loader, source, z, x, y, rect: QRectF) -> bool:
        for up in range(1, min(FALLBACK_LEVELS, z - source.min_zoom) + 1):
            parent = loader.peek(tile_key(source, z - up, x >> up, y >> up))
            if parent is None:
                continue
            part = parent.size / 2 ** up
            sub = QRectF((x - ((x >> up) << up)) * part, (y - ((y >> up) << up)) * part, part, part)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            parent.draw(painter, rect, sub)
            return True
        return False

    @staticmethod
    def _draw_attribution(painter: QPainter, viewport: MapViewport, text: str) -> None:
        painter.save()
        font = QFont(painter.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(text) + 10, metrics.height() + 4
        box = QRectF(viewport.width - width - 2, viewport.height - height - 2, width, height)
        painter.fillRect(box, QColor(255, 255, 255, 170))
        painter.setPen(QColor("#455a64"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _on_tile(self, key) -> None:
        if self.canvas is None or not self._basemap.layers:
            return
        _, z, x, y = key
        vp = self.canvas.viewport()
        rect = _screen_rect(vp, tile_bounds(z, x, y))
        count = 2 ** z
        # A tile near the antimeridian may be on screen one world to the left or right.
        for shift in (0, -count, count):
            shifted = rect.translated(shift * rect.width(), 0) if shift else rect
            if shifted.intersects(QRectF(0, 0, vp.width, vp.height)):
                self.canvas.update(shifted.toAlignedRect().adjusted(-1, -1, 1, 1))

    def shutdown(self) -> None:
        if self._loader is not None:
            self._loader.shutdown()


def _screen_rect(viewport: MapViewport, bounds) -> QRectF:
    """The tile's rectangle on screen, edges snapped to device pixels so neighbours never leave a seam."""
    min_x, min_y, max_x, max_y = bounds
    left, top = viewport.world_to_screen(min_x, max_y)
    right, bottom = viewport.world_to_screen(max_x, min_y)
    d = viewport.dpr or 1.0
    left, top, right, bottom = (round(v * d) / d for v in (left, top, right, bottom))
    return QRectF(left, top, right - left, bottom - top)


