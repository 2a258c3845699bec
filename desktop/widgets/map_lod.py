"""Level of detail for polygon layers: simplified copies per zoom band, in spatial buckets.

Each grid level keeps its geometry in Web Mercator metres and builds, on first need, a
copy simplified by a tolerance from a short ladder (1, 4, 16, 64, 256 m). A view of
``res`` metres per pixel uses the coarsest copy whose tolerance is at most half a pixel,
so no outline moves by more than that. Grid levels are coverages, so they are simplified
with ``shapely.coverage_simplify``: an edge shared by two grids is simplified once and
stays shared — no slivers or gaps open between neighbours at small scales. (A layer that
is not a valid coverage falls back to per-polygon ``simplify(preserve_topology=True)``.)

Features are grouped into buckets of ~48 neighbours (Z-order), each bucket one
QPainterPath in metres with its bounding box. Culling is a numpy mask over the bucket
boxes; drawing is one ``QTransform.map`` and one ``drawPath`` per visible bucket, so
10,000 polygons cost ~200 Qt calls instead of 10,000.

Qt's antialiased stroker is slow for pens wider than one pixel (a 2-px pen over 10,000
vertices takes ~130 ms against ~2 ms at 1 px). Wide outlines are therefore drawn as a
few 1-px strokes offset by half a pixel (:func:`stamp_offsets`), which looks the same.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import shapely
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtCore import Qt

from desktop.widgets.map_geometry import RingArrays, boxes_in_view, morton_order, qpolygonf, ring_arrays, to_mercator

LOD_TOLERANCES_M = (1.0, 4.0, 16.0, 64.0, 256.0)
PIXEL_TOLERANCE = 0.5   # simplify by at most this many pixels of the view
BUCKET_FEATURES = 48
SKIP_FACTOR = 4.0       # no simplified copy while the typical edge is this many tolerances long


def tolerance_for(res: float) -> float:
    """The simplification tolerance (metres) to draw at ``res`` metres per pixel; 0: raw."""
    usable = [t for t in LOD_TOLERANCES_M if t <= res * PIXEL_TOLERANCE]
    return usable[-1] if usable else 0.0


@dataclass(frozen=True, eq=False, slots=True)
class LodGeometry:
    """One simplified copy of a layer: rings in metres plus buckets of neighbouring features."""

    tolerance: float
    rings: RingArrays
    bucket_bbox: np.ndarray               # (B, 4) metres
    bucket_features: tuple[np.ndarray, ...]
    bucket_paths: tuple[QPainterPath, ...]  # all rings of the bucket's features, metres

    def buckets_in_view(self, extent) -> np.ndarray:
        return boxes_in_view(self.bucket_bbox, extent) if len(self.bucket_bbox) else np.empty(0, np.int64)

    def feature_path(self, features) -> QPainterPath:
        """One path (odd-even, so holes stay holes) of the rings of ``features``."""
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.OddEvenFill)
        rings = self.rings
        for r in np.nonzero(np.isin(rings.ring_feature, features))[0]:
            path.addPolygon(qpolygonf(rings.ring(r)))
        _settle(path)
        return path


def _settle(path: QPainterPath) -> None:
    # QPainterPath caches its bounds lazily; fill the cache now, in the building thread,
    # so render jobs that share the path later only ever read it.
    path.boundingRect()
    path.controlPointRect()


def build_lod(projected: np.ndarray, tolerance: float) -> LodGeometry:
    """Bucket the (already simplified) metre geometries ``projected``."""
    rings = ring_arrays(projected, projected=True)
    box = rings.feature_bbox
    valid = np.nonzero(~np.isnan(box).any(axis=1))[0]
    order = valid[morton_order((box[valid, 0] + box[valid, 2]) / 2, (box[valid, 1] + box[valid, 3]) / 2)]
    groups = tuple(order[i:i + BUCKET_FEATURES] for i in range(0, len(order), BUCKET_FEATURES))
    bucket_of_feature = np.full(len(box), -1, dtype=np.int64)
    for b, features in enumerate(groups):
        bucket_of_feature[features] = b
    paths = [QPainterPath() for _ in groups]
    for r in range(rings.ring_count):  # ring order: a feature's shell and holes stay together
        b = bucket_of_feature[rings.ring_feature[r]]
        if b >= 0:
            paths[b].addPolygon(qpolygonf(rings.ring(r)))
    for path in paths:
        path.setFillRule(Qt.FillRule.OddEvenFill)
        _settle(path)
    bucket_bbox = np.array([[box[f, 0].min(), box[f, 1].min(), box[f, 2].max(), box[f, 3].max()] for f in groups]
                           ) if groups else np.empty((0, 4))
    return LodGeometry(tolerance, rings, bucket_bbox, groups, tuple(paths))


class CoverageLod:
    """Simplified copies of one layer's polygons, built on first use and kept."""

    def __init__(self, geometries, *, projected: bool = False):
        geometries = np.asarray(geometries, dtype=object)
        self.projected = geometries if projected else to_mercator(geometries)
        self._versions: dict[float, LodGeometry] = {}
        self._lock = threading.Lock()
        self._is_coverage: bool | None = None
        self._segment: float | None = None

    def at(self, res: float) -> LodGeometry:
        return self.version(tolerance_for(res))

    def version(self, tolerance: float) -> LodGeometry:
        found = self._versions.get(tolerance)
        if found is not None:
            return found
        if tolerance > 0 and self.typical_segment_m >= SKIP_FACTOR * tolerance:
            return self.version(0.0)  # edges already longer than the tolerance: nothing to gain
        with self._lock:  # two render jobs asking at once build it once
            found = self._versions.get(tolerance)
            if found is None:
                found = self._versions[tolerance] = build_lod(self.simplified(tolerance), tolerance)
            return found

    @property
    def typical_segment_m(self) -> float:
        """Median edge length: simplifying by much less than this changes (almost) nothing."""
        if self._segment is None:
            xy = shapely.get_coordinates(shapely.get_exterior_ring(
                shapely.get_parts(self.projected[:2000]))) if len(self.projected) else np.empty((0, 2))
            steps = np.hypot(*np.diff(xy, axis=0).T) if len(xy) > 1 else np.zeros(1)
            self._segment = float(np.median(steps[steps > 0])) if (steps > 0).any() else 0.0
        return self._segment

    def prepare(self, tolerances=(0.0, *LOD_TOLERANCES_M)) -> None:
        """Build copies ahead of time (the loader thread does, so zooming never waits)."""
        for tolerance in tolerances:
            self.version(tolerance)

    @property
    def is_coverage(self) -> bool:
        if self._is_coverage is None:
            polygons = self.projected[shapely.get_type_id(self.projected) >= 3] if len(self.projected) else []
            self._is_coverage = bool(len(polygons) and shapely.coverage_is_valid(polygons))
        return self._is_coverage

    def simplified(self, tolerance: float) -> np.ndarray:
        if tolerance <= 0 or not len(self.projected):
            return self.projected
        if self.is_coverage:
            return shapely.coverage_simplify(self.projected, tolerance)
        return shapely.simplify(self.projected, tolerance, preserve_topology=True)


def stamp_offsets(width: float) -> list[tuple[float, float]]:
    """Offsets (px) of 1-px strokes that together cover a line ``width`` pixels wide."""
    radius = max(0.0, (width - 1.0) / 2)
    if radius < 0.25:
        return [(0.0, 0.0)]
    steps = int(np.ceil(radius / 0.5))
    grid = np.arange(-steps, steps + 1) * (radius / steps)
    return [(float(dx), float(dy)) for dx in grid for dy in grid if dx * dx + dy * dy <= radius * radius + 1e-9]


def outline_pen(colour: str | QColor, width: float) -> tuple[QPen, list[tuple[float, float]]]:
    """The pen to stroke with and where to stamp it, for an outline ``width`` pixels wide."""
    pen = QPen(QColor(colour), 1.0)  # thinner-looking lines get a lighter colour: sub-pixel pens are slower
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen, stamp_offsets(width)


def stroke_stamped(painter: QPainter, path: QPainterPath, offsets) -> None:
    """Stroke a screen-space ``path`` with the current pen once per offset."""
    if len(offsets) == 1:
        painter.drawPath(path)
        return
    for dx, dy in offsets:
        painter.drawPath(path.translated(dx, dy))
