"""Lon/lat → Web Mercator once, into flat numpy arrays the render jobs can slice.

Layers keep every ring of every polygon in one (N, 2) array with offsets, so culling
is a numpy mask and drawing a ring is one memcpy into a QPolygonF — no per-vertex
Python, which is what keeps 10,000 polygons and 100,000 points fast.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import shapely
import shiboken6
from pyproj import Transformer
from PySide6.QtGui import QPolygonF, QTransform


@functools.cache
def _to_mercator() -> Transformer:
    # Data is CGCS2000 lon/lat; for display it equals WGS84 (DOMAIN.md, "Coordinates"),
    # and 4326 → 3857 is a pure formula, without a datum pipeline to look up.
    return Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


@functools.cache
def _to_lonlat() -> Transformer:
    return Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)


def lonlat_to_mercator(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    x, y = _to_mercator().transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def mercator_to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = _to_lonlat().transform(x, y)
    return float(lon), float(lat)


def mercator_bbox(lonlat_bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    min_lon, min_lat, max_lon, max_lat = lonlat_bbox
    xs, ys = lonlat_to_mercator([min_lon, max_lon], [min_lat, max_lat])
    return float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1])


def qpolygonf(points: np.ndarray) -> QPolygonF:
    """A QPolygonF holding ``points`` ((N, 2) float64), filled by one buffer copy.

    QPolygonF is a contiguous array of QPointF (two doubles), so numpy can write
    straight into it; building QPointF objects one by one is ~50x slower.
    """
    n = len(points)
    polygon = QPolygonF()
    polygon.resize(n)
    if n:
        buffer = shiboken6.VoidPtr(polygon.data(), n * 16, True)
        np.frombuffer(buffer, dtype=np.float64).reshape(n, 2)[:] = points
    return polygon


def screen_transform(viewport) -> QTransform:
    """Mercator metres → logical pixels of ``viewport`` (y down), as a QTransform."""
    k = 1.0 / viewport.res
    return QTransform(k, 0.0, 0.0, -k, viewport.width / 2 - viewport.cx * k, viewport.height / 2 + viewport.cy * k)


@dataclass(frozen=True, slots=True)
class RingArrays:
    """All rings of a list of (multi)polygons in mercator metres.

    ``xy[offsets[r]:offsets[r + 1]]`` is ring ``r``; it belongs to feature
    ``ring_feature[r]``. Bounding boxes are (min_x, min_y, max_x, max_y) rows.
    """

    xy: np.ndarray
    offsets: np.ndarray
    ring_feature: np.ndarray
    ring_bbox: np.ndarray
    feature_bbox: np.ndarray

    @property
    def ring_count(self) -> int:
        return len(self.ring_feature)

    def ring(self, r: int) -> np.ndarray:
        return self.xy[self.offsets[r]:self.offsets[r + 1]]

    def rings_of(self, feature: int) -> np.ndarray:
        return np.nonzero(self.ring_feature == feature)[0]


def to_mercator(geometries) -> np.ndarray:
    """Lon/lat shapely geometries → the same in EPSG:3857 metres (one vectorised pass)."""
    geometries = np.asarray(geometries, dtype=object)
    if not len(geometries):
        return geometries
    return shapely.transform(geometries, lambda xy: np.column_stack(lonlat_to_mercator(xy[:, 0], xy[:, 1])))


def ring_arrays(geometries, *, projected: bool = False) -> RingArrays:
    """Flatten shapely (multi)polygons into :class:`RingArrays` (vectorised, no per-vertex loop).

    Lon/lat input is projected to Web Mercator; pass ``projected=True`` for metres already.
    """
    geometries = np.asarray(geometries, dtype=object)
    parts, part_feature = shapely.get_parts(geometries, return_index=True)
    polygons = shapely.get_type_id(parts) == 3
    parts, part_feature = parts[polygons], part_feature[polygons]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(coord_ring, minlength=len(rings))
    offsets = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    if projected or not len(coords):
        x, y = (coords[:, 0].copy(), coords[:, 1].copy()) if len(coords) else (np.empty(0), np.empty(0))
    else:
        x, y = lonlat_to_mercator(coords[:, 0], coords[:, 1])
    xy = np.column_stack([x, y])
    ring_feature = part_feature[ring_part].astype(np.int64)
    ring_bbox = np.empty((len(rings), 4))
    feature_bbox = np.full((len(geometries), 4), np.nan)
    if len(rings):
        starts = offsets[:-1]
        ring_bbox[:, 0] = np.minimum.reduceat(x, starts)
        ring_bbox[:, 1] = np.minimum.reduceat(y, starts)
        ring_bbox[:, 2] = np.maximum.reduceat(x, starts)
        ring_bbox[:, 3] = np.maximum.reduceat(y, starts)
        for column, reduce in ((0, np.fmin), (1, np.fmin), (2, np.fmax), (3, np.fmax)):
            reduce.at(feature_bbox[:, column], ring_feature, ring_bbox[:, column])
    return RingArrays(xy, offsets, ring_feature, ring_bbox, feature_bbox)


def bbox_union(boxes: np.ndarray) -> tuple[float, float, float, float] | None:
    boxes = boxes[~np.isnan(boxes).any(axis=1)] if len(boxes) else boxes
    if not len(boxes):
        return None
    return (float(boxes[:, 0].min()), float(boxes[:, 1].min()),
            float(boxes[:, 2].max()), float(boxes[:, 3].max()))


def morton_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices that sort points along a Z-order curve: neighbours in the list are neighbours on the map."""
    if not len(x):
        return np.empty(0, dtype=np.int64)

    def scaled(v):
        span = float(v.max() - v.min()) or 1.0
        return np.clip(((v - v.min()) / span * 65535).astype(np.uint64), 0, 65535)

    def spread(v):  # 16 bits → every other bit of 32
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return np.argsort(spread(scaled(x)) | (spread(scaled(y)) << np.uint64(1)), kind="stable")


def boxes_in_view(boxes: np.ndarray, extent: tuple[float, float, float, float]) -> np.ndarray:
    """Indices of rows of ``boxes`` that touch ``extent``."""
    min_x, min_y, max_x, max_y = extent
    return np.nonzero((boxes[:, 2] >= min_x) & (boxes[:, 0] <= max_x)
                      & (boxes[:, 3] >= min_y) & (boxes[:, 1] <= max_y))[0]
