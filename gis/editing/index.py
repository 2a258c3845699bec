"""Which grids share a vertex or an edge, by exact coordinates.

Topological editing finds the sharers of a vertex by identical floats, never by distance: in an
exact coverage (as our imports, splits and the demo produce) a shared vertex is the same pair of
floats in every grid, so an exact index is both fast and free of the "nearly the same, but not
quite" failures QGIS has after splits. A split or an avoid-overlap clip inserts its new vertices
into every grid along the edge (see `topology.glue`), which keeps this true.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from shapely.geometry.base import BaseGeometry

from gis.editing.rings import Key, to_rings, vertices


class VertexIndex:
    """vertex → ids of the grids having it; kept current as grids change."""

    def __init__(self) -> None:
        self._grids: dict[Key, set[int]] = defaultdict(set)
        self._keys: dict[int, set[Key]] = {}

    def add(self, grid_id: int, geom: BaseGeometry) -> None:
        keys = {k for *_, k in vertices(to_rings(geom))}
        self._keys[grid_id] = keys
        for k in keys:
            self._grids[k].add(grid_id)

    def remove(self, grid_id: int) -> None:
        for k in self._keys.pop(grid_id, ()):
            holders = self._grids.get(k)
            if holders is not None:
                holders.discard(grid_id)
                if not holders:
                    del self._grids[k]

    def replace(self, grid_id: int, geom: BaseGeometry | None) -> None:
        self.remove(grid_id)
        if geom is not None:
            self.add(grid_id, geom)

    def grids_at(self, xy: Key) -> set[int]:
        """Ids of the grids with a vertex at exactly ``xy`` (a copy)."""
        return set(self._grids.get((float(xy[0]), float(xy[1])), ()))

    def grids_with_all(self, points: Iterable[Key]) -> set[int]:
        """Ids of the grids having every one of ``points`` as a vertex."""
        result: set[int] | None = None
        for xy in points:
            here = self.grids_at(xy)
            result = here if result is None else result & here
            if not result:
                return set()
        return result or set()

    def __contains__(self, xy) -> bool:
        return (float(xy[0]), float(xy[1])) in self._grids
