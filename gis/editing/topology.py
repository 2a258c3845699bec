"""Pure topological edits on a set of boundaries that share vertices exactly.

Every function takes the current boundaries (grid id → geometry), the `VertexIndex` over them
and the ids allowed to change, and returns new geometries for the grids it changed. Nothing is
mutated. Because sharers are found by identical coordinates, an edit applied to all of them keeps
the coverage glued: no gap, no overlap, no sliver.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.editing.index import VertexIndex
from gis.editing.rings import (
    Key,
    from_rings,
    insert_after,
    key,
    remove_vertex,
    set_vertex,
    to_rings,
)

# Degrees. A point this close to an edge lies on it (a split or clip computes such points with a
# rounding error of ~1e-15°); far below survey precision (1e-9° ≈ 0.1 mm).
ON_EDGE_DEG = 1e-9


class TopologyError(ValueError):
    """An edit that cannot be done without breaking the coverage; the message says why."""


def move_vertices(geoms: Mapping[int, BaseGeometry], index: VertexIndex, moves: Mapping[Key, Sequence[float]],
                  allowed: Collection[int]) -> dict[int, BaseGeometry]:
    """Move each vertex ``key → new xy`` in every allowed grid that has it."""
    moves = {key(k): np.asarray(v, dtype=float) for k, v in moves.items()}
    targets = {g for k in moves for g in index.grids_at(k)} & set(allowed)
    if not targets:
        raise TopologyError("没有找到要移动的顶点")
    out = {}
    for grid_id in targets:
        rings = to_rings(geoms[grid_id])
        for part in rings:
            for ring in part:
                for i in range(len(ring) - 1):
                    new = moves.get(key(ring[i]))
                    if new is not None:
                        set_vertex(ring, i, new)
        out[grid_id] = from_rings(rings, geoms[grid_id])
    return out


def insert_points(geoms: Mapping[int, BaseGeometry], points: Sequence[Sequence[float]], candidates: Collection[int],
                  tolerance: float = ON_EDGE_DEG) -> dict[int, BaseGeometry]:
    """Insert each point into every edge of the candidate grids that it lies on.

    The point goes in exactly as given, so all grids along an edge receive the same floats.
    Points that already are a vertex of a grid, or lie near a segment's end, are not inserted.
    """
    pts = np.asarray(list(dict.fromkeys(key(p) for p in points)), dtype=float).reshape(-1, 2)
    if not len(pts):
        return {}
    tree = shapely.STRtree(shapely.points(pts))
    out = {}
    for grid_id in candidates:
        rings = to_rings(geoms[grid_id])
        changed = False
        for part in rings:
            for r, ring in enumerate(part):
                new_ring = _insert_into_ring(ring, pts, tree, tolerance)
                if new_ring is not None:
                    part[r], changed = new_ring, True
        if changed:
            out[grid_id] = from_rings(rings, geoms[grid_id])
    return out


def _insert_into_ring(ring, pts, tree, tolerance):
    starts, ends = ring[:-1], ring[1:]
    segments = shapely.linestrings(np.stack([starts, ends], axis=1))
    seg_idx, pt_idx = tree.query(segments, predicate="dwithin", distance=tolerance)
    if not len(seg_idx):
        return None
    a, b, p = starts[seg_idx], ends[seg_idx], pts[pt_idx]
    ab = b - a
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((p - a) * ab).sum(axis=1) / (ab * ab).sum(axis=1)
    near_end = (np.hypot(*(p - a).T) <= tolerance) | (np.hypot(*(p - b).T) <= tolerance)
    keep = ~near_end & (t > 0) & (t < 1)
    if not keep.any():
        return None
    by_segment = defaultdict(list)
    for s, tt, point in zip(seg_idx[keep].tolist(), t[keep].tolist(), p[keep]):
        by_segment[s].append((tt, point))
    rows = []
    for s in range(len(starts)):
        rows.append(starts[s])
        rows.extend(point for _, point in sorted(by_segment.get(s, []), key=lambda item: item[0]))
    rows.append(ring[-1])
    return np.array(rows)


def insert_vertex(geoms, index: VertexIndex, edge: tuple[Key, Key], xy, allowed) -> dict[int, BaseGeometry]:
    """Insert ``xy`` into the edge ``u–v`` of every allowed grid that has that edge."""
    u, v = key(edge[0]), key(edge[1])
    out = {}
    for grid_id in index.grids_with_all([u, v]) & set(allowed):
        rings = to_rings(geoms[grid_id])
        changed = False
        for part in rings:
            for r, ring in enumerate(part):
                keys = [key(p) for p in ring]
                for i in range(len(keys) - 1):
                    if {keys[i], keys[i + 1]} == {u, v}:
                        part[r], changed = insert_after(ring, i, xy), True
                        break
        if changed:
            out[grid_id] = from_rings(rings, geoms[grid_id])
    if not out:
        raise TopologyError("所选位置不在网格的边上")
    return out


def delete_vertex(geoms, index: VertexIndex, xy, allowed) -> dict[int, BaseGeometry]:
    """Remove the vertex ``xy`` from every allowed grid that has it."""
    k = key(xy)
    out = {}
    for grid_id in index.grids_at(k) & set(allowed):
        rings = to_rings(geoms[grid_id])
        for part in rings:
            for r, ring in enumerate(part):
                positions = [i for i in range(len(ring) - 1) if key(ring[i]) == k]
                for i in reversed(positions):
                    if len(ring) <= 4:
                        raise TopologyError("删除该顶点后边界少于三个点，不能删除")
                    ring = remove_vertex(ring, i)
                part[r] = ring
        out[grid_id] = from_rings(rings, geoms[grid_id])
    if not out:
        raise TopologyError("没有找到要删除的顶点")
    return out


def glue(new: Mapping[int, BaseGeometry], others: Mapping[int, BaseGeometry]) -> dict[int, BaseGeometry]:
    """Make ``new`` boundaries and their neighbours ``others`` share vertices on common edges.

    Both ways: points a split or clip created on a neighbour's edge go into the neighbour, and
    neighbours' vertices lying on a new edge go into the new boundary. Returns every boundary
    that changed plus all of ``new``.
    """
    others = {i: g for i, g in others.items() if i not in new}
    # Every new vertex, not only unknown ones: a neighbour may lack a vertex another grid has.
    points = [k for g in new.values() for part in to_rings(g) for ring in part for k in map(key, ring[:-1])]
    out = insert_points(others, points, list(others)) if points else {}
    updated = {**others, **out}
    known = [k for g in updated.values() for part in to_rings(g) for ring in part for k in map(key, ring[:-1])]
    mine = insert_points(dict(new), known, list(new)) if known else {}
    return {**out, **{i: mine.get(i, g) for i, g in new.items()}}
