"""The guard every geometric command passes before it is pushed: no edit may break a coverage.

Around the grids an edit changes (same level, everything their old or new extent touches) the
grids must stay valid, stay a valid coverage (no overlap, edges matching vertex for vertex) and
enclose no new hole. Where the neighbourhood was already broken (imported data, say), only the
validity of the changed grids is enforced, so repairs stay possible.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import shapely

from gis.domain import Grid
from gis.editing.topology import TopologyError
from gis.validation.geometry import check_geometry
from gis.validation.problems import label, names

if TYPE_CHECKING:
    from gis.editing.session import GridEditSession

_POLYGON_LEVELS = (1, 2, 3, 4)


def check_edit(session: GridEditSession, after: Mapping[int, Grid | None], *, allow_gaps: bool = False,
               hierarchy: bool = True) -> None:
    """Raise `TopologyError` if applying ``after`` would break the coverage around it.

    Parameters
    ----------
    session : GridEditSession
        Its current grids are the state before the edit.
    after : mapping
        grid id → grid after the edit (None: removed).
    allow_gaps : bool
        Removing a grid or drawing one with holes leaves a gap on purpose.
    hierarchy : bool
        Also require that every parent the children tiled before is still tiled exactly
        (vertex edits); grid-level edits (add, split, merge, delete) change the structure on
        purpose and leave that to validation.
    """
    by_level: dict[int, list[int]] = defaultdict(list)
    for grid_id, grid in after.items():
        old = session.grids.get(grid_id)
        level = (grid or old).level
        if level in _POLYGON_LEVELS:
            by_level[level].append(grid_id)
        if grid is not None and level in _POLYGON_LEVELS:
            _check_valid(grid, old)
    for level, changed in by_level.items():
        _check_level(session, level, changed, after, allow_gaps)
    if hierarchy:
        _check_hierarchy(session, after)


def _check_valid(grid: Grid, old: Grid | None) -> None:
    problems, _ = check_geometry(grid)
    was_valid = old is None or not check_geometry(old)[0]
    if problems and was_valid:
        raise TopologyError(f"编辑后{problems[0].message}，此次编辑未执行")


def _check_level(session, level, changed, after, allow_gaps) -> None:
    old = [session.grids[i] for i in changed if i in session.grids]
    new = [after[i] for i in changed if after[i] is not None]
    extent = shapely.box(*shapely.total_bounds([g.boundary for g in old + new]))
    neighbours = session.same_level_near(level, extent, exclude=changed)
    before = [g.boundary for g in old + neighbours]
    now = [g.boundary for g in new + neighbours]
    if not now or not shapely.coverage_is_valid(before):
        return
    if not shapely.coverage_is_valid(now):
        edges = shapely.coverage_invalid_edges(now)
        bad = [g for g, e in zip(new + neighbours, edges) if e is not None and not e.is_empty]
        raise TopologyError(f"编辑会使{names(bad) or label(new[0])}与相邻网格重叠或公共边不一致，此次编辑未执行")
    if not allow_gaps and _holes(now) > _holes(before):
        raise TopologyError(f"编辑会在{names(new)}与相邻网格之间留下空隙，此次编辑未执行")


def _check_hierarchy(session, after) -> None:
    parents = set()
    for grid_id, grid in after.items():
        for g in (grid, session.grids.get(grid_id)):
            if g is not None and g.level in _POLYGON_LEVELS:
                parents.add(g.id)
                if g.parent_id is not None:
                    parents.add(g.parent_id)
    for parent_id in parents:
        old_parent = session.grids.get(parent_id)
        new_parent = after.get(parent_id, old_parent) if parent_id in after else old_parent
        old_kids = [g for g in session.grids.values() if g.parent_id == parent_id and g.level in _POLYGON_LEVELS]
        if old_parent is None or new_parent is None or not old_kids or not _tiles(old_parent, old_kids):
            continue
        new_kids = [after.get(k.id, k) if k.id in after else k for k in old_kids]
        new_kids = [k for k in new_kids if k is not None and k.parent_id == parent_id]
        new_kids += [g for i, g in after.items() if g is not None and i not in session.grids and g.parent_id == parent_id]
        if not _tiles(new_parent, new_kids):
            raise TopologyError(f"编辑后{label(new_parent)}的下级网格不再恰好覆盖它（出现缝隙、重叠或超出），此次编辑未执行")


def _tiles(parent: Grid, kids) -> bool:
    """Children form a valid coverage inside the parent's frame and their areas add up to it."""
    outer = parent.boundary
    if not kids or not outer.is_valid:
        return False
    x0, y0, x1, y1 = outer.bounds
    pad = max(x1 - x0, y1 - y0, 1e-6)
    frame = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad).difference(outer)
    geoms = [k.boundary for k in kids]
    if not shapely.coverage_is_valid(geoms + [frame]):
        return False
    return abs(outer.area - float(shapely.area(geoms).sum())) <= 1e-9 * outer.area


def _holes(geoms) -> int:
    union = shapely.coverage_union_all(np.asarray(geoms, dtype=object))
    return int(sum(shapely.get_num_interior_rings(shapely.get_parts(union))))
