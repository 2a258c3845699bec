"""Which grid a case belongs to: the lowest grid (levels 1–4) containing its point.

Near a border the answer is uncertain (a phone's GPS, an address geocoded to the street), so
the neighbours within ``border_m`` come back too and the seat confirms.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.strtree import STRtree
from sqlalchemy import Connection

from gis.domain import Grid
from gis.workflow.geo import degrees_around, to_local_metres

DEFAULT_BORDER_M = 50.0
ROUTED_LEVELS = (1, 2, 3, 4)  # level-5 units are points inside a level-4 grid, not areas to route to


@dataclass(slots=True)
class RouteResult:
    """``grid`` is None outside every grid; the candidates are then the grids within reach."""

    grid: Grid | None
    candidates_near_border: list[Grid] = field(default_factory=list)
    distance_to_border_m: float | None = None
    candidate_distances_m: list[float] = field(default_factory=list)

    @property
    def near_border(self) -> bool:
        return bool(self.candidates_near_border)


class GridIndex:
    """An STRtree over the grids of levels 1–4; build once per workspace, ask many times.

    Parameters
    ----------
    grids : sequence of Grid
        Any grids; those of level 5 are ignored.
    border_m : float
        Default distance to a border within which the neighbours are offered as alternatives.
    """

    def __init__(self, grids: Sequence[Grid], border_m: float = DEFAULT_BORDER_M):
        self.grids = [g for g in grids if g.level in ROUTED_LEVELS and g.boundary is not None]
        self.border_m = float(border_m)
        self._by_id = {g.id: g for g in self.grids}
        self._tree = STRtree([g.boundary for g in self.grids])

    @classmethod
    def from_connection(cls, connection: Connection, border_m: float = DEFAULT_BORDER_M) -> GridIndex:
        from gis.storage.grids import read_grids

        return cls(read_grids(connection, levels=ROUTED_LEVELS), border_m)

    def __len__(self) -> int:
        return len(self.grids)

    def grid(self, grid_id: int) -> Grid | None:
        return self._by_id.get(grid_id)

    def locate(self, lon: float, lat: float, border_m: float | None = None) -> RouteResult:
        """The lowest grid covering (lon, lat) and, near its border, the neighbours to choose from.

        Candidates are the lowest grids (not ancestors of the answer) within ``border_m``,
        nearest first.
        """
        reach = self.border_m if border_m is None else float(border_m)
        if not (np.isfinite(lon) and np.isfinite(lat)):
            raise ValueError(f"not a coordinate: lon={lon!r}, lat={lat!r}")
        point = shapely.Point(lon, lat)
        hits = [self.grids[i] for i in self._tree.query(point, predicate="intersects")]
        containing = sorted((g for g in hits if g.boundary.covers(point)), key=lambda g: (-g.level, g.code))
        grid = containing[0] if containing else None

        dlon, dlat = degrees_around(lat, max(reach, 1.0) * 1.01)
        box = shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
        near = {}
        for i in self._tree.query(box):
            other = self.grids[i]
            if grid is not None and other.id == grid.id:
                continue
            distance = to_local_metres(other.boundary, lon, lat).distance(shapely.Point(0, 0))
            if distance <= reach:
                near[other.id] = (other, distance)
        # Keep the lowest: drop the answer's ancestors and any grid whose child is also near.
        drop = {g.parent_id for g, _ in near.values()}
        drop |= {g.id for g in containing if grid is not None and g.level < grid.level}
        candidates = sorted((entry for gid, entry in near.items() if gid not in drop),
                            key=lambda entry: (entry[1], -entry[0].level, entry[0].code))
        if grid is not None:
            border = to_local_metres(grid.boundary.boundary, lon, lat).distance(shapely.Point(0, 0))
        else:
            border = candidates[0][1] if candidates else None
        return RouteResult(grid, [g for g, _ in candidates], border, [d for _, d in candidates])
