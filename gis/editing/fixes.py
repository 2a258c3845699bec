"""Quick fixes for the problems validation finds: pure functions returning new boundaries.

Each returns the boundaries it would change (grid id → geometry) and verifies its own result
(a fix that leaves the coverage broken raises `FixError` instead of making things worse);
`fix_command` wraps one as an undoable command for the problem panel.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.editing.grid_commands import (
    ReplaceBoundariesCommand,
    glued_after,
    require_valid,
)
from gis.editing.rings import key, to_rings
from gis.editing.session import GridEditSession
from gis.editing.topology import TopologyError, insert_points
from gis.validation import validate_grids
from gis.validation.problems import Problem

_M_PER_DEG = 111_320.0
_ON_EDGE_DEG = 1e-9


class FixError(TopologyError):
    """The fix cannot repair this case (the message says why); nothing was changed."""


def snap_edges(geoms: Mapping[int, BaseGeometry], tolerance_m: float = 1.0,
               fixed: Mapping[int, BaseGeometry] | None = None) -> dict[int, BaseGeometry]:
    """Make near-coincident edges identical: vertices within ``tolerance_m`` snap to the neighbour's.

    Grids are settled largest first; each is snapped (``shapely.snap``) to the settled ones near
    it and to ``fixed`` (e.g. the parent, which must not move). A second pass snaps the settled
    ones back, so vertices a smaller grid brought along an edge go into both. Then every vertex
    lying on another's edge is inserted there, and the result must be a valid coverage.

    Returns
    -------
    dict
        grid id → new boundary, for the grids that changed.
    """
    fixed = dict(fixed or {})
    if not geoms:
        return {}
    lat = float(np.mean([g.centroid.y for g in geoms.values()]))
    tol = tolerance_m / (_M_PER_DEG * max(np.cos(np.radians(lat)), 0.1))  # degrees, generous in longitude
    order = sorted(geoms, key=lambda i: -geoms[i].area)
    out = {i: geoms[i] for i in order}
    settled: list[int] = []
    for _ in range(2):
        for grid_id in order:
            others = [out[j] for j in settled if j != grid_id and out[j].distance(out[grid_id]) <= tol]
            others += [g for g in fixed.values() if g.distance(out[grid_id]) <= tol]
            if others:
                out[grid_id] = shapely.snap(out[grid_id], shapely.union_all([o.boundary for o in others]), tol)
            if grid_id not in settled:
                settled.append(grid_id)
    everything = list(out.values()) + list(fixed.values())
    points = {k for g in everything for part in to_rings(g) for ring in part for k in map(key, ring[:-1])}
    out.update(insert_points(out, list(points), list(out)))
    result = {i: g for i, g in out.items() if shapely.to_wkb(g) != shapely.to_wkb(geoms[i])}
    _verify(out, fixed, "吸附后")
    return result


def fill_gap(gap: BaseGeometry, receiver_id: int, geoms: Mapping[int, BaseGeometry]) -> dict[int, BaseGeometry]:
    """Give the gap to one neighbour: ``{receiver_id: receiver ∪ gap}``.

    Collinear vertices the union leaves where the gap met the receiver are dropped; the ones a
    neighbour needs come back when the result is glued to its surroundings.
    """
    receiver = geoms[receiver_id]
    if receiver.distance(gap) > _ON_EDGE_DEG:
        raise FixError("所选网格与空隙不相邻")
    return {receiver_id: shapely.simplify(shapely.union_all([receiver, gap]), 0)}


def remove_overlap(geoms: Mapping[int, BaseGeometry], keep_id: int | None = None) -> dict[int, BaseGeometry]:
    """Subtract the kept grid (default: the largest) from the others that overlap it."""
    keep_id = keep_id if keep_id is not None else max(geoms, key=lambda i: geoms[i].area)
    keeper = geoms[keep_id]
    out = {}
    for grid_id, geom in geoms.items():
        if grid_id != keep_id and shapely.intersection(geom, keeper).area > 0:
            out[grid_id] = shapely.difference(geom, keeper)
            if out[grid_id].is_empty:
                raise FixError("去除重叠后网格将不再有任何面积，请改为合并或删除该网格")
    return out


def best_receiver(gap: BaseGeometry, geoms: Mapping[int, BaseGeometry]) -> int:
    """The neighbour sharing the longest border with the gap (the natural owner of a sliver)."""
    ring = gap.boundary
    shared = {i: shapely.intersection(ring, g.buffer(_ON_EDGE_DEG)).length for i, g in geoms.items()}
    best = max(shared, key=shared.__getitem__, default=None)
    if best is None or shared[best] == 0:
        raise FixError("空隙没有相邻的网格")
    return best


def fix_command(session: GridEditSession, problem: Problem, *, receiver_id: int | None = None,
                keep_id: int | None = None, tolerance_m: float = 1.0) -> ReplaceBoundariesCommand:
    """The quick fix for ``problem`` as an undoable command (push it with ``session.push``).

    gap → give it to ``receiver_id`` (default: longest shared border); overlap → subtract
    ``keep_id`` (default: the largest) from the other; edge_mismatch → snap the grids named.
    The new boundaries are glued to everything around them and checked like any edit.
    """
    by_code = {g.code: g for g in session.grids.values()}
    grids = [by_code[c] for c in problem.grids if c in by_code]
    require_valid(grids, "快速修复涉及的网格几何无效")
    if problem.kind == "gap":
        neighbours = {g.id: g.boundary for g in grids if g.level == problem.level}  # not the parent
        receiver = receiver_id if receiver_id is not None else best_receiver(problem.geometry, neighbours)
        geoms = fill_gap(problem.geometry, receiver, dict(session.geoms()))
        label = f"空隙并入“{session.grid(receiver).name}”"
        return _command(session, geoms, label, problem)
    if problem.kind == "overlap":
        geoms = remove_overlap({g.id: g.boundary for g in grids}, keep_id)
        # The kept grid is glued too: it may lack the vertices its neighbours have.
        geoms = {g.id: g.boundary for g in grids} | geoms
        return _command(session, geoms, "消除重叠", problem)
    if problem.kind == "edge_mismatch":
        return snap_command(session, [g.id for g in grids], tolerance_m)
    raise FixError(f"“{problem.kind}”类问题没有自动修复")


def snap_command(session: GridEditSession, grid_ids, tolerance_m: float = 1.0) -> ReplaceBoundariesCommand:
    """Snap the edges of some grids of one level together (their parent, if named, stays fixed)."""
    grids = [session.grid(i) for i in grid_ids]
    require_valid(grids, "吸附涉及的网格几何无效")
    level = max(g.level for g in grids)
    movable = {g.id: g.boundary for g in grids if g.level == level}
    fixed = {g.id: g.boundary for g in grids if g.level != level}
    return _command(session, snap_edges(movable, tolerance_m, fixed), "吸附公共边")


def _command(session: GridEditSession, geoms: Mapping[int, BaseGeometry], label: str,
             problem: Problem | None = None) -> ReplaceBoundariesCommand:
    if not geoms:
        raise FixError("没有需要修改的地方")
    command = ReplaceBoundariesCommand(session, glued_after(session, geoms), label)
    remaining = _still_there(session, command, problem) if problem is not None else []
    if remaining:
        raise FixError(f"修复后问题仍然存在：{remaining[0].message}")
    return command


def _still_there(session: GridEditSession, command, problem: Problem) -> list[Problem]:
    """Validate the grids as the fix would leave them: is the problem (same kind, same place) gone?"""
    grids = [command.after.get(i, g) if i in command.after else g for i, g in session.grids.items()]
    focus = set(command.after) | {g.parent_id for g in command.after.values() if g is not None and g.parent_id}
    def same(p: Problem) -> bool:
        if p.kind != problem.kind or not p.is_error:
            return False
        if problem.kind == "overlap":
            return set(p.grids) == set(problem.grids)
        # A gap: any leftover of it (a neighbouring gap elsewhere is another problem).
        return p.geometry is None or problem.geometry is None or p.geometry.intersection(problem.geometry).area > 0

    return [p for p in validate_grids([g for g in grids if g is not None], focus=focus) if same(p)]


def _verify(geoms: Mapping[int, BaseGeometry], fixed: Mapping[int, BaseGeometry], when: str) -> None:
    members = list(geoms.values())
    for geom in members:
        if not geom.is_valid:
            raise FixError(f"{when}网格几何无效（{shapely.is_valid_reason(geom)}），请调小吸附距离或手工修改")
    if not shapely.coverage_is_valid(members):
        raise FixError(f"{when}公共边仍不一致，请调大吸附距离或手工修改")
