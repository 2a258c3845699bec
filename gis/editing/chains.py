"""The shared edge ("公共边") between two grids, and replacing it everywhere at once.

A shared edge is a maximal chain of consecutive vertices along which two grids have the same
edges. Reshaping it must also reshape every other grid that runs along it: the parents whose
border it is, and the children whose borders end on it. Vertices where some grid's edge leaves
the chain are *anchors*; they are kept (moved onto the new line at the same fraction of its
length) so every grid keeps meeting the chain where it did. The other old vertices are replaced
by the new line's.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from itertools import pairwise

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.editing.index import VertexIndex
from gis.editing.rings import Key, from_rings, key, to_rings
from gis.editing.topology import TopologyError


def _edges(geom) -> set[frozenset]:
    return {frozenset((key(ring[i]), key(ring[i + 1])))
            for part in to_rings(geom) for ring in part for i in range(len(ring) - 1)}


def shared_chains(a: BaseGeometry, b: BaseGeometry) -> list[list[Key]]:
    """Every stretch of common boundary of ``a`` and ``b``, as vertex keys in ``a``'s ring order."""
    common = _edges(a) & _edges(b)
    chains = []
    for part in to_rings(a):
        for ring in part:
            keys = [key(p) for p in ring[:-1]]
            n = len(keys)
            shared = [frozenset((keys[i], keys[(i + 1) % n])) in common for i in range(n)]
            if all(shared):
                raise TopologyError("两个网格的公共边是一个闭合环（一个网格被另一个包围），请逐个移动顶点")
            if not any(shared):
                continue
            # Start at the beginning of a run of shared edges, so no run wraps around.
            start = next(i for i in range(n) if shared[i] and not shared[i - 1])
            chain: list[Key] = []
            for step in range(n):
                i = (start + step) % n
                if shared[i]:
                    chain = chain or [keys[i]]
                    chain.append(keys[(i + 1) % n])
                elif chain:
                    chains.append(chain)
                    chain = []
            if chain:
                chains.append(chain)
    return chains


def pick_chain(chains: Sequence[list[Key]], near=None) -> list[Key]:
    """The only chain, or the one nearest to ``near`` (lon, lat)."""
    if not chains:
        raise TopologyError("这两个网格没有公共边")
    if len(chains) == 1 or near is None:
        if len(chains) > 1:
            raise TopologyError("这两个网格有多段公共边，请指明要编辑哪一段")
        return chains[0]
    point = shapely.Point(near)
    return min(chains, key=lambda c: shapely.LineString(c).distance(point))


def replace_chain(geoms: Mapping[int, BaseGeometry], index: VertexIndex, chain: Sequence[Key],
                  new_line: Sequence[Sequence[float]], allowed: Collection[int]) -> dict[int, BaseGeometry]:
    """Replace the linework ``chain`` by ``new_line`` in every allowed grid that runs along it.

    ``new_line`` must start at the chain's first vertex and end at its last (the junctions with
    the other grids stay where they are); its ends are set to them exactly.
    """
    chain = [key(k) for k in chain]
    line = np.asarray(new_line, dtype=float)
    if len(line) < 2 or len(chain) < 2:
        raise TopologyError("公共边至少需要两个点")
    if np.hypot(*(line[0] - chain[0])) > 1e-7 or np.hypot(*(line[-1] - chain[-1])) > 1e-7:
        raise TopologyError("新的公共边必须从原公共边的端点开始、在另一端点结束")
    line[0], line[-1] = chain[0], chain[-1]
    if len(chain) == 2:  # one segment: no vertex to replace, the new line's points go between its ends
        return _replace_segment(geoms, index, chain, line, allowed)
    interior = {k: i for i, k in enumerate(chain[1:-1], start=1)}
    holders = {g for k in interior for g in index.grids_at(k)} & set(allowed)
    anchors = _anchors(geoms, holders, chain, interior)
    new_chain = _new_chain(chain, line, anchors)
    out = {}
    for grid_id in holders:
        rings = to_rings(geoms[grid_id])
        for part in rings:
            for r, ring in enumerate(part):
                part[r] = _replace_runs(ring, chain, interior, new_chain)
        out[grid_id] = from_rings(rings, geoms[grid_id])
    return out


def _replace_segment(geoms, index: VertexIndex, chain, line: np.ndarray, allowed) -> dict[int, BaseGeometry]:
    """``line``'s inner points inserted into the edge ``chain[0]–chain[1]`` of every allowed grid having it."""
    u, v = chain
    inner = line[1:-1]
    out = {}
    for grid_id in index.grids_with_all([u, v]) & set(allowed):
        rings = to_rings(geoms[grid_id])
        changed = False
        for part in rings:
            for r, ring in enumerate(part):
                keys = [key(p) for p in ring]
                rows = [ring[0]]
                for i in range(len(keys) - 1):
                    if (keys[i], keys[i + 1]) == (u, v):
                        rows.extend(inner)
                        changed = True
                    elif (keys[i], keys[i + 1]) == (v, u):
                        rows.extend(inner[::-1])
                        changed = True
                    rows.append(ring[i + 1])
                part[r] = np.array(rows, dtype=float)
        if changed:
            out[grid_id] = from_rings(rings, geoms[grid_id])
    return out


def _anchors(geoms, holders, chain, interior) -> set[int]:
    """Chain positions where some grid's boundary leaves the chain."""
    anchors = set()
    for grid_id in holders:
        for part in to_rings(geoms[grid_id]):
            for ring in part:
                keys = [key(p) for p in ring[:-1]]
                n = len(keys)
                for i, k in enumerate(keys):
                    pos = interior.get(k)
                    if pos is None:
                        continue
                    along = {chain[pos - 1], chain[pos + 1]}
                    if keys[i - 1] not in along or keys[(i + 1) % n] not in along:
                        anchors.add(pos)
    return anchors


def _new_chain(chain, line, anchors) -> list[tuple[float, int | None, np.ndarray]]:
    """``(fraction, old position or None, point)`` along the new line, in order."""
    old = np.asarray(chain, dtype=float)
    old_frac = _fractions(old)
    new_frac = _fractions(line)
    shape = shapely.LineString(line)
    items = [(0.0, 0, line[0]), (1.0, len(chain) - 1, line[-1])]
    for pos in sorted(anchors):
        point = shapely.line_interpolate_point(shape, old_frac[pos], normalized=True)
        items.append((float(old_frac[pos]), pos, np.array([point.x, point.y])))
    for frac, point in zip(new_frac[1:-1], line[1:-1]):
        items.append((float(frac), None, point))
    return sorted(items, key=lambda item: (item[0], item[1] is None))


def _fractions(coords: np.ndarray) -> np.ndarray:
    lengths = np.hypot(*np.diff(coords, axis=0).T)
    total = lengths.sum()
    if total == 0:
        raise TopologyError("公共边长度为零")
    return np.concatenate([[0.0], np.cumsum(lengths) / total])


def _replace_runs(ring: np.ndarray, chain: Sequence[Key], interior: Mapping[Key, int], new_chain) -> np.ndarray:
    keys = [key(p) for p in ring[:-1]]
    n = len(keys)
    inside = [k in interior for k in keys]
    if not any(inside):
        return ring
    if all(inside):
        raise TopologyError("网格的边界全部位于公共边上，无法替换")
    start = inside.index(False)  # rotate so no run wraps around the ring's start
    order = [(start + s) % n for s in range(n)]
    rows, run = [], []
    for step, i in enumerate(order + [order[0]]):
        if step < n and inside[i]:
            run.append(interior[keys[i]])
            continue
        if run:
            before, after = keys[order[step - len(run) - 1]], keys[i]
            rows.extend(_run_points(run, before, after, chain, new_chain))
            run = []
        if step < n:
            rows.append(ring[i])
    rows.append(rows[0])
    return np.array(rows, dtype=float)


def _run_points(run: list[int], before: Key, after: Key, chain: Sequence[Key], new_chain) -> list[np.ndarray]:
    """New points for a run of old chain positions, in the ring's direction.

    Where the ring comes from (goes on to) the chain's end vertex, the new line's points up to
    the first (from the last) anchor belong to this ring too; where it comes from off the chain,
    the run starts at an anchor.
    """
    if any(abs(b - a) != 1 for a, b in pairwise(run)):
        raise TopologyError("公共边在某个网格中不连续，无法整体替换")
    descending = len(run) > 1 and run[1] < run[0]
    if len(run) == 1:  # direction from the neighbours: coming from further along, or going back
        descending = before == chain[run[0] + 1] or after == chain[run[0] - 1]
    if descending:
        run, before, after, descending = run[::-1], after, before, True
    lo_pos, hi_pos = run[0], run[-1]
    frac = {pos: f for f, pos, _ in new_chain if pos is not None}
    lo = 0.0 if before == chain[lo_pos - 1] else frac.get(lo_pos)
    hi = 1.0 if after == chain[hi_pos + 1] else frac.get(hi_pos)
    if lo is None or hi is None:
        raise TopologyError("公共边与其他网格的交点无法对应到新公共边上")
    points = [p for f, pos, p in new_chain
              if (pos is not None and lo_pos <= pos <= hi_pos) or (pos is None and lo < f < hi)]
    return points[::-1] if descending else points
