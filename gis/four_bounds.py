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


def _facing_segments(polygon: shapely.Geometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Midpoints, lengths (local metres) and facing sector of every boundary segment.

    A segment faces where its outward normal points — so the whole east side of a tall,
    narrow grid counts as east, which the direction from the centre would not give.
    """
    oriented = shapely.orient_polygons(polygon)  # exteriors counter-clockwise, holes clockwise
    scale = np.cos(np.radians(polygon.centroid.y))
    mids, lengths, sectors = [], [], []
    for part in shapely.get_parts(oriented):
        for ring in [part.exterior, *part.interiors]:
            xy = shapely.get_coordinates(ring)
            dx = np.diff(xy[:, 0]) * scale
            dy = np.diff(xy[:, 1])
            # Outward normal of a counter-clockwise ring is (dy, -dx); the same holds for holes.
            angle = np.degrees(np.arctan2(-dx, dy)) % 360  # 0 = east, counter-clockwise
            mids.append((xy[:-1] + xy[1:]) / 2)
            lengths.append(np.hypot(dx, dy))
            sectors.append((((angle + 45) % 360) // 90).astype(int))  # 0 east, 1 north, 2 west, 3 south
    return np.concatenate(mids), np.concatenate(lengths), np.concatenate(sectors)


_SECTOR_OF_INDEX = ("east", "north", "west", "south")
_TOUCH = 1e-9  # degrees: shared edges are vertex-identical, so midpoints lie on both boundaries


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
    boundaries = [g.boundary.boundary for g in grids]
    tree = shapely.STRtree(boundaries)
    result = {}
    for index, grid in enumerate(grids):
        mids, lengths, sectors = _facing_segments(grid.boundary)
        points = shapely.points(mids)
        owner = np.full(len(points), -1)
        hits = tree.query(points, predicate="dwithin", distance=_TOUCH)
        for point_index, grid_index in hits.T:
            if grid_index != index:
                owner[point_index] = grid_index
        votes: dict[str, dict[str, float]] = {s: defaultdict(float) for s in SECTORS}
        for neighbour, length, sector in zip(owner, lengths, sectors):
            name = grids[neighbour].name if neighbour >= 0 else outside
            if name:
                votes[_SECTOR_OF_INDEX[sector]][name] += float(length)
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
