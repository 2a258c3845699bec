"""Grid layers: outlines per level with level of detail, statistic fills and names.

A layer's geometry never changes after construction — the canvas replaces the layer
instead — so a render job can read it from a worker thread while the GUI thread builds
the next one. The one mutable part, the statistic fill, is swapped in as a whole object
(``set_fill_values``), so a job sees either the old fill or the new one.

Level of detail, per level: a level is drawn only while its typical grid is at least
``min_feature_px`` wide on screen (districts and towns always, villages when closer,
fourth-level grids when close), its names only from ``label_min_px``; outlines come from
the simplified copy that suits the zoom (see ``map_lod``).
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field

import numpy as np
import shapely
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath

from desktop.widgets.map_base import MapLayer, RenderContext
from desktop.widgets.map_geometry import bbox_union, qpolygonf, ring_arrays, screen_transform
from desktop.widgets.map_labels import label_font, place_labels
from desktop.widgets.map_lod import CoverageLod, outline_pen, stroke_stamped
from desktop.widgets.map_points import PointLayer, SourceLayer, marker_image
from desktop.widgets.map_symbols import legend_icon
from gis.domain import LEVEL_NAMES

__all__ = ["CANCEL_CHECK_EVERY", "GRID_STYLES", "FILL_RAMP", "GridFillLayer", "GridLabelLayer", "GridLayer", "GridStyle", "HighlightLayer",
           "MapLayer", "PointLayer", "RenderContext", "SourceLayer", "marker_image"]


@dataclass(frozen=True, slots=True)
class GridStyle:
    colour: str
    width: float
    min_feature_px: float = 0.0  # level of detail: hide while the median grid is narrower
    label_pt: float = 0.0        # 0: no labels
    label_min_px: float = 60.0   # names only while the median grid is at least this wide
    fill: str | None = None
    dashed: bool = False
    label_colour: str | None = None  # default: the line colour, darker
    names_on_top: bool = False  # names outrank every symbol (pins too) and are drawn above them


# Upper levels are drawn on top and thicker, so the hierarchy reads at a glance.
GRID_STYLES = {
    1: GridStyle("#6a1b9a", 3.0, fill="#fbfaf4"),
    2: GridStyle("#1565c0", 2.0, label_pt=11.0, label_min_px=60, names_on_top=True),  # towns: always named
    3: GridStyle("#2e7d32", 1.0, min_feature_px=26, label_pt=9.0, label_min_px=110),
    4: GridStyle("#9ccc65", 1.0, min_feature_px=34, label_pt=8.0, label_min_px=90, label_colour="#4e7a24"),
}
# Yellow → dark red (ColorBrewer YlOrRd, 5 classes), translucent so outlines stay visible.
FILL_RAMP = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
FILL_ALPHA = 150
PARTIAL_LABELS_MAX = 60  # grids cut by the view edge whose label point is recomputed per render
CANCEL_CHECK_EVERY = 500  # features between looks at the cancel flag (other layers use it too)


_FILL_SERIAL = itertools.count(1)


@dataclass(frozen=True, eq=False, slots=True)
class FillState:
    classes: np.ndarray          # per feature: ramp class, -1 for no value
    colours: tuple[QColor, ...]
    breaks: tuple[float, ...]    # upper bound of each class
    # Keys the cached class paths: unlike id(), never reused by a later fill (the live feed swaps them often).
    serial: int = field(default_factory=lambda: next(_FILL_SERIAL))


def fill_classes(values: np.ndarray, classes: int = len(FILL_RAMP)) -> tuple[np.ndarray, tuple[float, ...]]:
    """Quantile classes of ``values`` (NaN → -1); ties never split one value over two classes."""
    result = np.full(len(values), -1, dtype=np.int64)
    known = ~np.isnan(values)
    if not known.any():
        return result, ()
    breaks = np.unique(np.quantile(values[known], np.linspace(0, 1, classes + 1)[1:]))
    result[known] = np.minimum(np.searchsorted(breaks, values[known], side="left"), len(breaks) - 1)
    return result, tuple(float(b) for b in breaks)


class GridLayer(MapLayer):
    """All grids of one level as outlines; names and fills come through companion layers."""

    def __init__(self, level: int, ids, names, geometries, style: GridStyle | None = None, *,
                 always_visible: bool = False):
        self.level = level
        self.key = f"grid-{level}"
        self.title = LEVEL_NAMES.get(level, f"{level}级网格")
        self.ids = np.asarray(ids, dtype=np.int64)
        self.names = list(names)
        self.style = style or GRID_STYLES.get(level, GRID_STYLES[4])
        self.always_visible = always_visible  # the user asked for this level: no level of detail
        self.lod = CoverageLod(geometries)
        self.rings = ring_arrays(self.lod.projected, projected=True)
        box = self.rings.feature_bbox
        sizes = np.fmax(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) if len(box) else np.empty(0)
        self.median_size_m = float(np.nanmedian(sizes)) if len(sizes) and not np.isnan(sizes).all() else 0.0
        self._label_xy, self._label_order = self._label_points(self.lod.projected)
        self._fill: FillState | None = None
        self._fill_paths: dict[tuple, list[tuple[int, QPainterPath]]] = {}
        self._fill_lock = threading.Lock()

    @staticmethod
    def _label_points(projected) -> tuple[np.ndarray, np.ndarray]:
        if not len(projected):
            return np.empty((0, 2)), np.empty(0, dtype=np.int64)
        xy = shapely.get_coordinates(shapely.point_on_surface(projected))
        return xy, np.argsort(-shapely.area(projected), kind="stable")  # big grids get their names first

    def extent(self):
        return bbox_union(self.rings.feature_bbox)

    def visible_at(self, viewport) -> bool:
        return self.always_visible or self.median_size_m / viewport.res >= self.style.min_feature_px

    # -- statistic fill ----------------------------------------------------------------
    def set_fill_values(self, ids, values) -> None:
        """Fill grids by a statistic (e.g. open cases) in 5 quantile classes; ``values=None`` clears.

        Grids not in ``ids`` (or with NaN) stay unfilled. Call the canvas' ``refresh()`` after.
        """
        if values is None:
            self._fill = None
            return
        ids, values = np.asarray(ids, dtype=np.int64).reshape(-1), np.asarray(values, dtype=float).reshape(-1)
        per_feature = np.full(len(self.ids), np.nan)
        if len(self.ids) and len(ids):
            order = np.argsort(self.ids, kind="stable")
            at = np.minimum(np.searchsorted(self.ids, ids, sorter=order), len(order) - 1)
            known = self.ids[order[at]] == ids
            per_feature[order[at[known]]] = values[known]
        classes, breaks = fill_classes(per_feature)
        picks = np.linspace(0, len(FILL_RAMP) - 1, len(breaks)).round().astype(int) if breaks else []
        old = self._fill
        if old is not None and old.breaks == breaks and np.array_equal(old.classes, classes):
            return  # unchanged: keep the object, and the class paths cached for it
        colours = [QColor(FILL_RAMP[p]) for p in picks]  # few distinct values: spread over the ramp
        for colour in colours:
            colour.setAlpha(FILL_ALPHA)
        self._fill = FillState(classes, tuple(colours), breaks)

    def fill_state(self) -> FillState | None:
        return self._fill

    def fill_legend(self, dpr: float = 1.0) -> list[tuple[str, QImage]]:
        """(label, swatch) per class of the current fill: ``≤ 3``, ``4–7``, …"""
        fill = self._fill
        if fill is None:
            return []
        rows, low = [], None
        for colour, high in zip(fill.colours, fill.breaks):
            text = f"≤ {high:g}" if low is None else f"{low:g} – {high:g}"
            rows.append((text, legend_icon(lambda p, s, c=colour: p.fillRect(2, 2, s - 4, s - 4, c), 18, dpr)))
            low = high
        return rows

    def _class_paths(self, lod, bucket: int, fill: FillState) -> list[tuple[int, QPainterPath]]:
        key = (lod.tolerance, fill.serial, bucket)
        found = self._fill_paths.get(key)
        if found is None:
            features = lod.bucket_features[bucket]
            classes = fill.classes[features]
            found = [(int(c), lod.feature_path(features[classes == c])) for c in np.unique(classes) if c >= 0]
            with self._fill_lock:
                if len(self._fill_paths) > 20_000:
                    self._fill_paths.clear()
                self._fill_paths[key] = found
        return found

    # -- painting ------------------------------------------------------------------------
    def paint(self, painter: QPainter, ctx: RenderContext) -> None:
        vp = ctx.viewport
        if not self.visible_at(vp) or not self.rings.ring_count:
            return
        lod = self.lod.at(vp.res)
        buckets = lod.buckets_in_view(vp.extent)
        ctx.stats[self.key] = lod.bucket_features[0][:0] if not len(buckets) else \
            np.concatenate([lod.bucket_features[b] for b in buckets])
        pen, offsets = outline_pen(self.style.colour, self.style.width)
        if self.style.dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        transform = screen_transform(vp)
        for n, b in enumerate(buckets.tolist()):
            if n % 16 == 0 and ctx.cancelled:
                return
            stroke_stamped(painter, transform.map(lod.bucket_paths[b]), offsets)

    def paint_fill(self, painter: QPainter, ctx: RenderContext) -> None:
        vp, fill = ctx.viewport, self._fill
        if fill is None and not self.style.fill:
            return
        if not self.visible_at(vp) or not self.rings.ring_count:
            return
        lod = self.lod.at(vp.res)
        transform = screen_transform(vp)
        painter.setPen(Qt.PenStyle.NoPen)
        plain = QColor(self.style.fill) if self.style.fill else None
        for n, b in enumerate(lod.buckets_in_view(vp.extent).tolist()):
            if n % 16 == 0 and ctx.cancelled:
                return
            if fill is None:
                painter.fillPath(transform.map(lod.bucket_paths[b]), plain)
                continue
            for cls, path in self._class_paths(lod, b, fill):
                painter.fillPath(transform.map(path), fill.colours[cls])

    def paint_labels(self, painter: QPainter, ctx: RenderContext) -> None:
        vp, style = ctx.viewport, self.style
        if not style.label_pt or not self.names or not self.visible_at(vp):
            return
        if self.median_size_m / vp.res < style.label_min_px:
            return
        box = self.rings.feature_bbox
        min_x, min_y, max_x, max_y = vp.extent
        x, y = self._label_xy[:, 0], self._label_xy[:, 1]
        width_px = (box[:, 2] - box[:, 0]) / vp.res
        inside = (x >= min_x) & (x <= max_x) & (y >= min_y) & (y <= max_y)
        anchors_xy = self._label_xy
        # A big grid whose label point is off screen still gets its name, on its visible part.
        partial = np.nonzero(~inside & (width_px >= 24) & (box[:, 2] >= min_x) & (box[:, 0] <= max_x)
                             & (box[:, 3] >= min_y) & (box[:, 1] <= max_y))[0]
        if 0 < len(partial) <= PARTIAL_LABELS_MAX:
            visible = shapely.clip_by_rect(self.lod.projected[partial], *vp.extent)
            found = ~shapely.is_empty(visible)
            anchors_xy = anchors_xy.copy()
            anchors_xy[partial[found]] = shapely.get_coordinates(shapely.point_on_surface(visible[found]))
            inside[partial[found]] = True
            width_px = width_px.copy()
            clipped = shapely.bounds(visible[found])
            width_px[partial[found]] = (clipped[:, 2] - clipped[:, 0]) / vp.res
        ok = inside & (width_px >= 24)
        order = self._label_order[ok[self._label_order]]
        if not len(order):
            return
        anchors = np.zeros_like(anchors_xy)
        anchors[order] = vp.to_screen(anchors_xy[order])
        ink = QColor(style.label_colour) if style.label_colour else QColor(style.colour).darker(135)
        ctx.stats[f"{self.key}-labels"] = place_labels(
            painter, ctx.labels, names=self.names, order=order, anchors=anchors, fits_px=width_px * 0.95,
            font=label_font(style.label_pt, self.level <= 2), ink=ink, dpr=vp.dpr,
            cancelled=lambda: ctx.cancelled, may_cover_soft=self.level <= 2,
            on_top=ctx.on_top if style.names_on_top else None, opacity=ctx.opacity,
            within=self._within(vp) if style.names_on_top else None)

    def _within(self, vp):
        """Whether screen points all lie in grid ``feature`` (a name pushed aside stays in its grid)."""
        def within(feature: int, points: np.ndarray) -> bool:
            x, y = vp.screen_to_world(points[:, 0], points[:, 1])
            return bool(shapely.contains_xy(self.lod.projected[feature], x, y).all())
        return within


class GridFillLayer(MapLayer):
    """The fill of a grid layer, drawn at the bottom so it never hides finer outlines."""

    def __init__(self, grids: GridLayer):
        self.grids = grids
        self.key = f"{grids.key}-fill"
        self.title = f"{grids.title}底色"

    def extent(self):
        return self.grids.extent()

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:
        self.grids.paint_fill(painter, ctx)


class GridLabelLayer(MapLayer):
    """Names of a grid layer, drawn above the points so pins never hide them."""

    def __init__(self, grids: GridLayer):
        self.grids = grids
        self.key = f"{grids.key}-labels"
        self.title = f"{grids.title}名称"

    def paint(self, painter: QPainter, ctx: RenderContext) -> None:
        self.grids.paint_labels(painter, ctx)


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
        pen, offsets = outline_pen(QColor(*self.outline), self.width)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        stroke_stamped(painter, path, offsets)
