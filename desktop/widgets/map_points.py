"""Point layers: pollution sources by category (with clustering) and generic class-coloured points.

Both stamp pre-drawn sprites at whole pixels. Before stamping, points that would land on
the same pixel with the same symbol are collapsed (``np.unique`` over pixel keys), so a
zoomed-out view never draws more sprites than can be told apart.

Key sources stand out (bigger, red-outlined) and stay symbols of their own — while they are
sparse: once a view holds more than one per ``key_spacing_px`` square (the demo's district
overview holds ~180), they join the clusters like the others. Otherwise the overview would be a
carpet of red-outlined symbols competing with the case pins, which must stay the loudest thing.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen

from desktop.widgets.map_base import MapLayer
from desktop.widgets.map_cluster import (
    SOURCE_LOOK, ClusterStyle, bubble_image, bubble_rects, choose_clusters, draw_bubbles,
)
from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.map_symbols import KEY_SCALE, Symbol, SymbolSprites, legend_icon, symbol_legend_icon

SPRITES_PER_CANCEL_CHECK = 5000
LABELS_AVOID_ALL_UNDER = 300  # fewer sources drawn one by one than this: names avoid every one of them
SOURCE_CLUSTER = ClusterStyle(look=SOURCE_LOOK)
KEY_SPACING_PX = 110.0  # key sources stay apart from clusters while sparser than one per this square


def point_rects(screen: np.ndarray, half_w: float, half_h: float, lift: float = 0.0) -> np.ndarray:
    """(N, 4) rectangles of symbols centred ``lift`` px above screen points (for label avoidance)."""
    if not len(screen):
        return np.empty((0, 4))
    x, y = screen[:, 0], screen[:, 1] - lift
    return np.column_stack([x - half_w, y - half_h, x + half_w, y + half_h])


def _mercator_xy(lon, lat) -> np.ndarray:
    lon, lat = np.atleast_1d(np.asarray(lon, dtype=float)), np.atleast_1d(np.asarray(lat, dtype=float))
    if not len(lon):
        return np.empty((0, 2))
    x, y = lonlat_to_mercator(lon, lat)
    return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])


def _in_view(xy: np.ndarray, extent, margin: float) -> np.ndarray:
    min_x, min_y, max_x, max_y = extent
    x, y = xy[:, 0], xy[:, 1]
    return np.nonzero((x >= min_x - margin) & (x <= max_x + margin) & (y >= min_y - margin) & (y <= max_y + margin))[0]


def _stamp(painter: QPainter, ctx, screen: np.ndarray, groups: np.ndarray, sprite_of) -> None:
    """Draw one sprite per (pixel, group); ``groups`` sorted ascending ends up bottom to top."""
    if not len(screen):
        return
    vp = ctx.viewport
    ix = np.floor(screen[:, 0]).astype(np.int64) + 64
    iy = np.floor(screen[:, 1]).astype(np.int64) + 64
    stride_x, stride_y = vp.width + 128, vp.height + 128
    keys, first = np.unique((groups * stride_y + iy) * stride_x + ix, return_index=True)
    groups, ix, iy = groups[first], ix[first] - 64, iy[first] - 64
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    bounds = np.r_[starts, len(groups)]
    draw = painter.drawImage
    for g in range(len(starts)):
        start, stop = bounds[g], bounds[g + 1]
        sprite, ax, ay = sprite_of(int(groups[start]))
        left = (ix[start:stop] - int(round(ax))).tolist()
        top = (iy[start:stop] - int(round(ay))).tolist()
        for n in range(0, len(left), SPRITES_PER_CANCEL_CHECK):
            if ctx.cancelled:
                return
            for px, py in zip(left[n:n + SPRITES_PER_CANCEL_CHECK], top[n:n + SPRITES_PER_CANCEL_CHECK]):
                draw(px, py, sprite)


class _Points(MapLayer):
    """Points in ``xy`` (N, 2 Web Mercator metres): their count and extent."""

    xy: np.ndarray

    def __len__(self) -> int:
        return len(self.xy)

    def extent(self):
        if not len(self.xy):
            return None
        return (float(self.xy[:, 0].min()), float(self.xy[:, 1].min()),
                float(self.xy[:, 0].max()), float(self.xy[:, 1].max()))


class SourceLayer(_Points):
    """Pollution sources: symbol per category, key sources larger and outlined, clusters when zoomed out."""

    key = "sources"
    title = "污染源"

    def __init__(self, lon, lat, classes, is_key, symbols: list[Symbol], *, ids=None, size: float = 7.0,
                 cluster: ClusterStyle | None = SOURCE_CLUSTER, key_spacing_px: float = KEY_SPACING_PX):
        self.xy = _mercator_xy(lon, lat)
        self.classes = np.asarray(classes, dtype=np.int64).reshape(-1)
        self.is_key = np.asarray(is_key, dtype=bool).reshape(-1)
        self.symbols = list(symbols)
        self.ids = None if ids is None else np.asarray(ids, dtype=np.int64)
        self.size, self.cluster, self.key_spacing_px = size, cluster, key_spacing_px
        self.sprites = SymbolSprites(self.symbols, size)

    def legend(self, dpr: float = 1.0) -> list[tuple[str, QImage]]:
        """(label, icon) rows drawn exactly as the map draws them: categories present, key sources, clusters."""
        used = set(np.unique(self.classes).tolist())
        rows = [(s.label, symbol_legend_icon(s, self.size, False, dpr)) for i, s in enumerate(self.symbols) if i in used]
        if self.is_key.any():
            rows.append(("重点污染源（放大、红框）", symbol_legend_icon(Symbol("", "circle", "#9e9e9e"), self.size, True, dpr)))
        if self.cluster is not None:
            bubble = bubble_image(25, self.cluster.look, dpr)
            rows.append(("聚合（数字为污染源个数）",
                         legend_icon(lambda p, s: p.drawImage(QRectF(0, 0, s, s), bubble), 20, dpr)))
        return rows

    def keys_stand_apart(self, n_keys: int, viewport) -> bool:
        """Whether ``n_keys`` key sources in view are sparse enough to stay symbols of their own."""
        return n_keys <= viewport.width * viewport.height / self.key_spacing_px ** 2

    def paint(self, painter: QPainter, ctx) -> None:
        vp = ctx.viewport
        if not len(self.xy):
            return
        margin = (self.size * KEY_SCALE + 24) * vp.res
        inside = _in_view(self.xy, vp.extent, margin)
        if not len(inside):
            return
        singles = inside
        keys = self.is_key[inside]
        apart = keys if self.keys_stand_apart(int(keys.sum()), vp) else None
        clusters = choose_clusters(self.cluster, self.xy[inside, 0], self.xy[inside, 1], vp.res, apart)
        if clusters is not None:
            ctx.stats[self.key] = clusters
            singles = inside[clusters.singles]
            if len(clusters.counts):
                screen = vp.to_screen(np.column_stack([clusters.x, clusters.y]))
                look = self.cluster.look
                draw_bubbles(painter, screen[:, 0], screen[:, 1], clusters.counts, look, vp.dpr)
                ctx.labels.block(bubble_rects(screen[:, 0], screen[:, 1], clusters.counts, look), soft=True)
        # Grid names painted later keep off key sources, and off the others while few are drawn
        # one by one (soft: only a town's name, finding no free place, may cover them).
        key = singles[self.is_key[singles]]
        if len(key):
            half = self.size * KEY_SCALE / 2 + 1
            ctx.labels.block(point_rects(vp.to_screen(self.xy[key]), half, half), soft=True)
        plain = singles[~self.is_key[singles]]
        if len(plain) and (clusters is not None or len(plain) <= LABELS_AVOID_ALL_UNDER):
            half = self.size / 2 + 1
            ctx.labels.block(point_rects(vp.to_screen(self.xy[plain]), half, half), soft=True)
        n_symbols = len(self.symbols)
        groups = self.classes[singles] + n_symbols * self.is_key[singles]  # key sources drawn last, on top

        def sprite_of(group: int):
            image, centre = self.sprites.get(group % n_symbols, group >= n_symbols, vp.dpr)
            return image, centre, centre

        _stamp(painter, ctx, vp.to_screen(self.xy[singles]), groups, sprite_of)


def marker_image(shape: str, rgba: tuple[int, int, int, int], size: float, dpr: float) -> tuple[QImage, float, float]:
    """A small sprite and the offset of its anchor; stamping sprites beats drawing ellipses."""
    pad = 2.0
    height = size * 1.6 if shape == "pin" else size
    image = QImage(int((size + 2 * pad) * dpr + 0.999), int((height + 2 * pad) * dpr + 0.999),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(*rgba)
    outline = QColor(255, 255, 255, rgba[3]) if shape == "pin" else colour.darker(160)
    painter.setPen(QPen(outline, 1.2 if shape == "pin" else 0.8))
    painter.setBrush(colour)
    if shape == "pin":
        # A teardrop whose tip is the anchor: the case location is the tip, not the blob.
        r = size / 2
        path = QPainterPath()
        path.moveTo(pad + r, pad + height)
        path.arcTo(QRectF(pad, pad, size, size), 225, -270)
        path.closeSubpath()
        painter.drawPath(path)
        anchor = (pad + r, pad + height)
    else:
        painter.drawEllipse(QRectF(pad, pad, size, size))
        anchor = (pad + size / 2, pad + size / 2)
    painter.end()
    return image, anchor[0], anchor[1]


class PointLayer(_Points):
    """Many points coloured by class (case state, …); ``classes[i]`` indexes ``palette``.

    Classes are drawn in palette order, so put what matters most last (it ends up on top).
    """

    def __init__(self, key: str, title: str, lon, lat, classes, palette: list[tuple[str, tuple]],
                 *, marker: str = "dot", size: float = 7.0, ids=None,
                 class_markers: dict[int, tuple[str, float]] | None = None, cluster: ClusterStyle | None = None):
        self.key, self.title = key, title
        self.class_markers = dict(class_markers or {})  # class → (marker, size) overrides
        self.xy = _mercator_xy(lon, lat)
        self.classes = np.asarray(classes, dtype=np.int64).reshape(-1)
        self.palette = list(palette)  # (legend text, rgba)
        self.marker, self.size, self.cluster = marker, size, cluster
        self.ids = None if ids is None else np.asarray(ids, dtype=np.int64)
        self._sprites: dict[tuple[int, float], tuple[QImage, float, float]] = {}

    def sprite(self, cls: int, dpr: float) -> tuple[QImage, float, float]:
        found = self._sprites.get((cls, dpr))
        if found is None:
            marker, size = self.class_markers.get(cls, (self.marker, self.size))
            found = self._sprites[(cls, dpr)] = marker_image(marker, self.palette[cls][1], size, dpr)
        return found

    def paint(self, painter: QPainter, ctx) -> None:
        vp = ctx.viewport
        if not len(self.xy):
            return
        inside = _in_view(self.xy, vp.extent, self.size * 2 * vp.res)
        clusters = choose_clusters(self.cluster, self.xy[inside, 0], self.xy[inside, 1], vp.res)
        if clusters is not None:
            ctx.stats[self.key] = clusters
            if len(clusters.counts):
                screen = vp.to_screen(np.column_stack([clusters.x, clusters.y]))
                draw_bubbles(painter, screen[:, 0], screen[:, 1], clusters.counts, self.cluster.look, vp.dpr)
            inside = inside[clusters.singles]
        _stamp(painter, ctx, vp.to_screen(self.xy[inside]), self.classes[inside],
               lambda cls: self.sprite(cls, vp.dpr))

