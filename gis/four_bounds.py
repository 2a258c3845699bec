"""四至: what lies east, south, west and north of a grid, derived from geometry.

A grid's public sign (公示牌) names its four neighbours ("东至东街街道"). We read them off
the shared boundary: every piece of edge a grid shares with another grid of its level votes,
weighted by its length, for the compass sector it faces. Since every level tiles the whole
district, an edge shared with nobody is on the district border and faces what lies outside.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from gis.domain import Grid

SECTORS = ("east", "south", "west", "north")
PREFIX = {"east": "东至", "south": "南至", "west": "西至", "north": "北至"}
_MAX_NAMES = 2  # a sign names the main neighbours, not every sliver of contact


@dataclass(frozen=True, slots=True)
class FourBounds:
    east: str
    south: str
    west: str
    north: str

    def phrases(self) -> list[str]:
        """``["东至…", "南至…", "西至…", "北至…"]`` as printed on a sign."""
        return [PREFIX[s] + getattr(self, s) for s in SECTORS]


def _sector_lengths(grid: shapely.Geometry, edge) -> dict[str, float]:
    """Length of ``edge`` facing each compass sector as seen from the grid's centre (local metres)."""
    centre = grid.centroid
    scale = np.cos(np.radians(centre.y))
    lengths: dict[str, float] = defaultdict(float)
    for line in shapely.get_parts(shapely.line_merge(edge) if edge.geom_type != "LineString" else edge):
        if line.geom_type not in ("LineString", "LinearRing"):
            continue
        xy = shapely.get_coordinates(line)
        dx = np.diff(xy[:, 0]) * scale
        dy = np.diff(xy[:, 1])
        seg = np.hypot(dx, dy)
        mid_x = ((xy[:-1, 0] + xy[1:, 0]) / 2 - centre.x) * scale
        mid_y = (xy[:-1, 1] + xy[1:, 1]) / 2 - centre.y
        angle = np.degrees(np.arctan2(mid_y, mid_x)) % 360  # 0 = east, counter-clockwise
        index = (((angle + 45) % 360) // 90).astype(int)  # 0 east, 1 north, 2 west, 3 south
        for i, name in ((0, "east"), (1, "north"), (2, "west"), (3, "south")):
            lengths[name] += float(seg[index == i].sum())
    return lengths



def suggest_four_bounds(grids: Sequence[Grid], *, outside: str = "") -> dict[int, FourBounds]:
    """Suggest 四至 for sibling grids of one level.

    Parameters
    ----------
    grids : sequence of Grid
        All grids of one level (with ids). Neighbours are found among them.
    outside : str
        What lies beyond the district border (e.g. the surrounding county).

    Returns
    -------
    dict
        grid id → FourBounds, names of the longest-shared neighbours first.
    """
    polygons = [g.boundary for g in grids]
    tree = shapely.STRtree(polygons)
    result = {}
    for grid in grids:
        votes: dict[str, dict[str, float]] = {s: defaultdict(float) for s in SECTORS}
        ring = grid.boundary.boundary
        touched = []
        for j in tree.query(grid.boundary, predicate="intersects"):
            other = grids[int(j)]
            if other.id == grid.id:
                continue
            shared = ring.intersection(other.boundary.boundary)
            if shared.is_empty or shared.length == 0:
                continue
            touched.append(shared)
            for sector, length in _sector_lengths(grid.boundary, shared).items():
                votes[sector][other.name] += length
        rest = ring.difference(shapely.union_all(touched)) if touched else ring
        if outside and not rest.is_empty:
            for sector, length in _sector_lengths(grid.boundary, rest).items():
                votes[sector][outside] += length
        result[grid.id] = FourBounds(**{s: _names(votes[s]) for s in SECTORS})
    return result


def _names(weights: Mapping[str, float]) -> str:
    ranked = sorted(weights.items(), key=lambda item: -item[1])
    total = sum(weights.values()) or 1.0
    # Keep neighbours with a real share of the side; a corner touch is not a neighbour.
    kept = [name for name, weight in ranked if weight / total >= 0.15][:_MAX_NAMES]
    return "、".join(kept)


def suggest_hierarchy(levels: Mapping[int, Sequence[Grid]], outside: str = "") -> dict[int, FourBounds]:
    """四至 for every polygon grid of levels 1–4, each level against its own neighbours."""
    result: dict[int, FourBounds] = {}
    for level, grids in levels.items():
        if level <= 4:
            result.update(suggest_four_bounds(grids, outside=outside))
    return result
