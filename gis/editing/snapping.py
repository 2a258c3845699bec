"""Snapping the cursor to vertices and edges of visible grids (the core of the snap marker).

The desktop converts its pixel tolerance to metres and asks `Snapper.snap`; vertices win over
edges within the tolerance, as in QGIS, so a click near a corner lands exactly on it (and the
vertex index then finds every grid sharing it).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from gis.domain import Grid

_M_PER_DEG = 111_320.0  # metres per degree of latitude (and of longitude at the equator)


@dataclass(frozen=True, slots=True)
class SnapResult:
    """Where the cursor snapped.

    ``point`` is exact: a vertex's own coordinates, or the closest point of an edge, whose two
    ends are in ``edge`` (for inserting a vertex there).
    """

    point: tuple[float, float]
    kind: str  # "vertex" or "edge"
    grid: Grid
    distance_m: float
    edge: tuple[tuple[float, float], tuple[float, float]] | None = None


class Snapper:
    """Spatial index over the vertices and edges of some grids; build once per visible set."""

    def __init__(self, candidates: Sequence[Grid]):
        self.grids = list(candidates)
        vertices, vertex_owner, starts, ends, edge_owner = [], [], [], [], []
        for n, grid in enumerate(self.grids):
            for ring in _rings(grid.boundary):
                vertices.append(ring if len(ring) == 1 else ring[:-1])
                vertex_owner.append(np.full(len(vertices[-1]), n))
                if len(ring) > 1:
                    starts.append(ring[:-1])
                    ends.append(ring[1:])
                    edge_owner.append(np.full(len(ring) - 1, n))
        self._vertices = np.concatenate(vertices) if vertices else np.empty((0, 2))
        self._vertex_owner = np.concatenate(vertex_owner) if vertex_owner else np.empty(0, int)
        self._starts = np.concatenate(starts) if starts else np.empty((0, 2))
        self._ends = np.concatenate(ends) if ends else np.empty((0, 2))
        self._edge_owner = np.concatenate(edge_owner) if edge_owner else np.empty(0, int)
        self._vertex_tree = shapely.STRtree(shapely.points(self._vertices))
        self._edge_tree = shapely.STRtree(shapely.linestrings(np.stack([self._starts, self._ends], axis=1))
                                          if len(self._starts) else [])

    def snap(self, lon: float, lat: float, tolerance_m: float) -> SnapResult | None:
        """The nearest vertex within ``tolerance_m`` metres, else the nearest edge point, else None."""
        scale = np.array([np.cos(np.radians(lat)) * _M_PER_DEG, _M_PER_DEG])  # local metres per degree
        here = np.array([lon, lat])
        window = shapely.box(*(here - tolerance_m / scale), *(here + tolerance_m / scale))
        hits = self._vertex_tree.query(window)
        if len(hits):
            d = np.hypot(*((self._vertices[hits] - here) * scale).T)
            best = int(np.argmin(d))
            if d[best] <= tolerance_m:
                i = int(hits[best])
                point = (float(self._vertices[i, 0]), float(self._vertices[i, 1]))
                return SnapResult(point, "vertex", self.grids[self._vertex_owner[i]], float(d[best]))
        hits = self._edge_tree.query(window) if len(self._starts) else []
        if not len(hits):
            return None
        a, b = (self._starts[hits] - here) * scale, (self._ends[hits] - here) * scale
        ab = b - a
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip(-(a * ab).sum(axis=1) / (ab * ab).sum(axis=1), 0.0, 1.0)
        t = np.nan_to_num(t)
        closest = a + t[:, None] * ab
        d = np.hypot(*closest.T)
        best = int(np.argmin(d))
        if d[best] > tolerance_m:
            return None
        i = int(hits[best])
        point = self._starts[i] + t[best] * (self._ends[i] - self._starts[i])
        edge = (tuple(map(float, self._starts[i])), tuple(map(float, self._ends[i])))
        return SnapResult((float(point[0]), float(point[1])), "edge", self.grids[self._edge_owner[i]],
                          float(d[best]), edge)


def snap_point(lon: float, lat: float, candidates: Sequence[Grid], tolerance_m: float) -> SnapResult | None:
    """Snap one point against ``candidates`` (builds the index each time; use `Snapper` for many)."""
    return Snapper(candidates).snap(lon, lat, tolerance_m)


def _rings(geom) -> list[np.ndarray]:
    if isinstance(geom, shapely.Point):
        return [shapely.get_coordinates(geom)]
    out = []
    for poly in shapely.get_parts(geom):
        if isinstance(poly, shapely.Polygon):
            out.append(shapely.get_coordinates(poly.exterior))
            out.extend(shapely.get_coordinates(h) for h in poly.interiors)
        elif isinstance(poly, shapely.LineString):
            out.append(shapely.get_coordinates(poly))
    return out
