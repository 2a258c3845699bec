"""Boundaries as editable ring arrays, and back.

A grid boundary (Polygon or MultiPolygon) becomes ``parts → rings → (n, 2) float arrays``, each
ring closed (first row == last row). Edits work on these arrays and rebuild the geometry with the
same type, so a MultiPolygon stays a MultiPolygon and untouched rings keep their exact floats.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

Key = tuple[float, float]
Rings = list[list[np.ndarray]]


def key(xy) -> Key:
    """Hashable exact coordinate: shared vertices are found by identical floats, not distance."""
    return (float(xy[0]), float(xy[1]))


def to_rings(geom: BaseGeometry) -> Rings:
    """Per polygon part: exterior first, then holes, as closed coordinate arrays (copies)."""
    out = []
    for poly in shapely.get_parts(geom):
        if not isinstance(poly, shapely.Polygon) or poly.is_empty:
            continue
        rings = [shapely.get_coordinates(poly.exterior)]
        rings += [shapely.get_coordinates(hole) for hole in poly.interiors]
        out.append([np.array(r, dtype=float) for r in rings])
    return out


def from_rings(rings: Rings, like: BaseGeometry) -> BaseGeometry:
    """Rebuild a geometry of ``like``'s type (Polygon or MultiPolygon) from ring arrays."""
    polys = [shapely.Polygon(part[0], part[1:]) for part in rings if len(part)]
    if isinstance(like, shapely.Polygon) and len(polys) == 1:
        return polys[0]
    return shapely.MultiPolygon(polys)


def as_like(geom: BaseGeometry, like: BaseGeometry) -> BaseGeometry:
    """``geom`` (polygonal) in the geometry type of ``like``: grids keep their stored type."""
    polys = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and not p.is_empty]
    if isinstance(like, shapely.Polygon) and len(polys) == 1:
        return polys[0]
    return shapely.MultiPolygon(polys)


def vertices(rings: Rings) -> Iterator[tuple[int, int, int, Key]]:
    """``(part, ring, position, key)`` of every vertex, the closing duplicate left out."""
    for p, part in enumerate(rings):
        for r, ring in enumerate(part):
            for i in range(len(ring) - 1):
                yield p, r, i, key(ring[i])


def set_vertex(ring: np.ndarray, index: int, xy) -> None:
    """Move vertex ``index`` in place; the first and last rows move together (closed ring)."""
    ring[index] = xy
    last = len(ring) - 1
    if index == 0:
        ring[last] = xy
    elif index == last:
        ring[0] = xy


def insert_after(ring: np.ndarray, index: int, xy) -> np.ndarray:
    """A new ring with ``xy`` between vertex ``index`` and ``index + 1``."""
    return np.insert(ring, index + 1, np.asarray(xy, dtype=float), axis=0)


def remove_vertex(ring: np.ndarray, index: int) -> np.ndarray:
    """A new closed ring without vertex ``index`` (removing the start re-closes on the next)."""
    open_ring = np.delete(ring[:-1], index % (len(ring) - 1), axis=0)
    return np.vstack([open_ring, open_ring[:1]])


def ring_keys(ring: np.ndarray) -> list[Key]:
    return [key(xy) for xy in ring[:-1]]
