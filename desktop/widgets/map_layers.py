"""Map layers: immutable numpy data plus a ``paint`` that runs in a render job.

A layer never changes after construction — the canvas replaces it instead — so a
render job can read it from a worker thread while the GUI thread builds the next
one. Painting only touches QPainter on a QImage and value types (QColor, QPen,
QPolygonF, QFont), which Qt allows off the GUI thread.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen

from desktop.widgets.map_geometry import (
    RingArrays, bbox_union, boxes_in_view, lonlat_to_mercator, qpolygonf, ring_arrays,
)
from desktop.widgets.map_viewport import MapViewport
from gis.domain import LEVEL_NAMES

CANCEL_CHECK_EVERY = 500  # features between looks at the cancel flag


class RenderContext:
    """What a layer may know while painting: the frozen view and whether to give up."""

    def __init__(self, viewport: MapViewport, cancel: threading.Event | None = None):
        self.viewport = viewport
        self._cancel = cancel or threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


class MapLayer:
    """Base class: a key for visibility toggles, a Chinese title, an extent in metres."""

    key = "layer"
    title = "图层"

    def extent(self) -> tuple[float, float, float, float] | None:
        return None

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class GridStyle:
    colour: str
    width: float
    min_feature_px: float = 0.0  # level of detail: hide while the median grid is smaller
    label_pt: float = 0.0        # 0: no labels
    label_min_px: float = 60.0   # label only grids at least this wide on screen
    fill: str | None = None
    dashed: bool = False


# Upper levels are drawn on top and thicker, so the hierarchy reads at a glance.
GRID_STYLES = {
    1: GridStyle("#6a1b9a", 3.2, fill="#fbfaf4"),
    2: GridStyle("#1565c0", 2.0, label_pt=10.5, label_min_px=50),
    3: GridStyle("#2e7d32", 1.1, min_feature_px=28, label_pt=8.5, label_min_px=110),
    4: GridStyle("#7cb342", 0.7, min_feature_px=40, dashed=True),
}


class GridLayer(MapLayer):
    """All grids of one level as outlines, with optional name labels."""

    def __init__(self, level: int, ids, names, geometries, style: GridStyle | None = None):
        self.level = level
        self.key = f"grid-{level}"
        self.title = LEVEL_NAMES.get(level, f"{level}级网格")
        self.ids = np.asarray(ids, dtype=np.int64)
        self.names = list(names)
        self.style = style or GRID_STYLES.get(level, GRID_STYLES[4])
        self.rings: RingArrays = ring_arrays(geometries)
        box = self.rings.feature_bbox
        sizes = np.fmax(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) if len(box) else np.empty(0)
        self.median_size_m = float(np.nanmedian(sizes)) if len(sizes) else 0.0
        self._label_xy = self._label_points(geometries)

    @staticmethod
    def _label_points(geometries) -> np.ndarray:
        if not len(geometries):
            return np.empty((0, 2))
        points = shapely.point_on_surface(np.asarray(geometries, dtype=object))
        coords = shapely.get_coordinates(points)
        x, y = lonlat_to_mercator(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def extent(self):
        return bbox_union(self.rings.feature_bbox)

    def visible_at(self, viewport: MapViewport) -> bool:
        return self.median_size_m / viewport.res >= self.style.min_feature_px

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:
        vp = ctx.viewport
        if not self.visible_at(vp) or not self.rings.ring_count:
            return
        rings = boxes_in_view(self.rings.ring_bbox, vp.extent)
        box = self.rings.ring_bbox[rings]
        rings = rings[np.fmax(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) >= vp.res]  # sub-pixel rings
        pen = QPen(QColor(self.style.colour), self.style.width)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        if self.style.dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        offsets, xy = self.rings.offsets, self.rings.xy
        for n, r in enumerate(rings):
            if n % CANCEL_CHECK_EVERY == 0 and ctx.cancelled:
                return
            painter.drawPolyline(qpolygonf(vp.to_screen(xy[offsets[r]:offsets[r + 1]])))

    def paint_labels(self, painter: QPainter, ctx: RenderContext) -> None:
        vp = ctx.viewport
        if not self.style.label_pt or not self.visible_at(vp) or not len(self.names):
            return
        box = self.rings.feature_bbox
        wide = (box[:, 2] - box[:, 0]) / vp.res >= self.style.label_min_px
        candidates = np.intersect1d(boxes_in_view(box, vp.extent), np.nonzero(wide)[0])
        if not len(candidates):
            return
        font = QFont()
        font.setFamilies(["Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "sans-serif"])
        font.setPointSizeF(self.style.label_pt)
        font.setBold(self.level <= 2)
        previous_font = painter.font()
        painter.setFont(font)
        metrics = painter.fontMetrics()
        halo = QPen(QColor(255, 255, 255, 230), 3.0)
        halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        ink = QColor(self.style.colour).darker(130)
        placed: list[QRectF] = []
        screen = vp.to_screen(self._label_xy[candidates])
        for n, (feature, (sx, sy)) in enumerate(zip(candidates, screen)):
            if n % CANCEL_CHECK_EVERY == 0 and ctx.cancelled:
                break
            text = self.names[feature]
            width = metrics.horizontalAdvance(text)
            rect = QRectF(sx - width / 2, sy - metrics.height() / 2, width, metrics.height())
            if any(rect.intersects(other) for other in placed):
                continue  # labels never overlap; the first (largest code order) wins
            placed.append(rect.adjusted(-4, -2, 4, 2))
            path = QPainterPath()
            path.addText(QPointF(rect.left(), rect.top() + metrics.ascent()), font, text)
            painter.strokePath(path, halo)
            painter.fillPath(path, ink)
        painter.setFont(previous_font)


class GridFillLayer(MapLayer):
    """The fill of a grid layer, drawn at the bottom so it never hides finer outlines."""

    def __init__(self, grids: GridLayer):
        self.grids = grids
        self.key = f"{grids.key}-fill"
        self.title = f"{grids.title}底色"

    def extent(self):
        return self.grids.extent()

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:
        vp, rings = ctx.viewport, self.grids.rings
        if not self.grids.style.fill:
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(self.grids.style.fill))
        visible = boxes_in_view(rings.ring_bbox, vp.extent)
        features = rings.ring_feature[visible]
        # One QPainterPath for everything fills slowly (0.35 s for 5,000 rings); a polygon per
        # single-ring feature is fast, and only features with holes pay for a path.
        counts = np.bincount(features, minlength=len(rings.feature_bbox))
        holed = np.nonzero(counts > 1)[0]
        for n, r in enumerate(visible[counts[features] == 1]):
            if n % CANCEL_CHECK_EVERY == 0 and ctx.cancelled:
                return
            painter.drawPolygon(qpolygonf(vp.to_screen(rings.ring(r))))
        for feature in holed:
            path = QPainterPath()
            path.setFillRule(Qt.FillRule.OddEvenFill)  # holes stay empty
            for r in visible[features == feature]:
                path.addPolygon(qpolygonf(vp.to_screen(rings.ring(r))))
            painter.drawPath(path)


class GridLabelLayer(MapLayer):
    """Names of a grid layer, drawn above the points so pins never hide them."""

    def __init__(self, grids: GridLayer):
        self.grids = grids
        self.key = f"{grids.key}-labels"
        self.title = f"{grids.title}名称"

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:
        self.grids.paint_labels(painter, ctx)


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


class PointLayer(MapLayer):
    """Many points coloured by class (source category, case state).

    ``classes[i]`` indexes ``palette``; classes are drawn in palette order, so put
    what matters most last (it ends up on top).
    """

    def __init__(self, key: str, title: str, lon, lat, classes, palette: list[tuple[str, tuple]],
                 *, marker: str = "dot", size: float = 7.0, ids=None,
                 class_markers: dict[int, tuple[str, float]] | None = None):
        self.key, self.title = key, title
        self.class_markers = dict(class_markers or {})  # class → (marker, size) overrides
        x, y = lonlat_to_mercator(lon, lat)
        self.xy = np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]) if np.size(x) else np.empty((0, 2))
        self.classes = np.asarray(classes, dtype=np.int64).reshape(-1)
        self.palette = list(palette)  # (legend text, rgba)
        self.marker, self.size = marker, size
        self.ids = None if ids is None else np.asarray(ids, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.xy)

    def extent(self):
        if not len(self.xy):
            return None
        return (float(self.xy[:, 0].min()), float(self.xy[:, 1].min()),
                float(self.xy[:, 0].max()), float(self.xy[:, 1].max()))

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:
        vp = ctx.viewport
        if not len(self.xy):
            return
        margin = self.size * 2 * vp.res
        min_x, min_y, max_x, max_y = vp.extent
        x, y = self.xy[:, 0], self.xy[:, 1]
        inside = np.nonzero((x >= min_x - margin) & (x <= max_x + margin)
                            & (y >= min_y - margin) & (y <= max_y + margin))[0]
        if not len(inside):
            return
        screen = vp.to_screen(self.xy[inside])
        ix = np.floor(screen[:, 0]).astype(np.int64)
        iy = np.floor(screen[:, 1]).astype(np.int64)
        # One marker per pixel and class: zoomed out, 100,000 points collapse to what
        # can be seen, and the sorted keys come out grouped by class for free.
        pad = int(self.size * 2) + 2
        stride_x, stride_y = vp.width + 2 * pad, vp.height + 2 * pad
        keys = (self.classes[inside] * stride_y + (iy + pad)) * stride_x + (ix + pad)
        keys, first = np.unique(keys, return_index=True)
        classes = self.classes[inside][first]
        sx, sy = screen[first, 0], screen[first, 1]
        bounds = np.searchsorted(classes, np.arange(len(self.palette) + 1))
        for cls, (_, rgba) in enumerate(self.palette):
            start, stop = bounds[cls], bounds[cls + 1]
            if start == stop:
                continue
            marker, size = self.class_markers.get(cls, (self.marker, self.size))
            sprite, ax, ay = marker_image(marker, rgba, size, vp.dpr)
            left = (sx[start:stop] - ax).tolist()
            top = (sy[start:stop] - ay).tolist()
            draw = painter.drawImage
            for n in range(0, len(left), CANCEL_CHECK_EVERY * 10):
                if ctx.cancelled:
                    return
                for px, py in zip(left[n:n + CANCEL_CHECK_EVERY * 10], top[n:n + CANCEL_CHECK_EVERY * 10]):
                    draw(QPointF(px, py), sprite)


class HighlightLayer(MapLayer):
    """The selected grid: translucent fill and a strong outline above everything else."""

    key = "highlight"
    title = "选中网格"

    def __init__(self, geometry, fill=(255, 193, 7, 70), outline=(230, 81, 0, 255), width: float = 3.0):
        self.rings = ring_arrays([geometry])
        self.fill, self.outline, self.width = fill, outline, width

    def extent(self):
        return bbox_union(self.rings.feature_bbox)

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:
        vp = ctx.viewport
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.OddEvenFill)
        for r in range(self.rings.ring_count):
            path.addPolygon(qpolygonf(vp.to_screen(self.rings.ring(r))))
            path.closeSubpath()
        painter.fillPath(path, QColor(*self.fill))
        pen = QPen(QColor(*self.outline), self.width)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.strokePath(path, pen)
