"""Validate a whole grid hierarchy (or one level of it, or the part an edit touched)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date

import shapely
from sqlalchemy import Connection

from gis.domain import LEVEL_NAMES, Grid
from gis.validation.coverage import check_level_overlaps, check_siblings
from gis.validation.geometry import POLYGON_LEVELS, check_geometry
from gis.validation.problems import (
    DEFAULT_TOLERANCE_M2,
    ERROR,
    Problem,
    label,
    location_of,
    sort_problems,
)
from gis.validation.staff import check_staff


def validate_grids(grids: Sequence[Grid], *, roles: Mapping[int, Collection[str]] | None = None,
                   tolerance_m2: float = DEFAULT_TOLERANCE_M2, level: int | None = None,
                   focus: Collection[int] | None = None) -> list[Problem]:
    """Every problem of a grid hierarchy, errors first.

    Parameters
    ----------
    grids : sequence of Grid
        The whole hierarchy (parents are looked up among them), with ids.
    roles : mapping, optional
        grid id → roles held today; without it staff is not checked.
    tolerance_m2 : float
        Gaps, overlaps and parts outside the parent up to this geodesic area are accepted.
    level : int, optional
        Only problems of grids of this level (their validity, their coverage of their parents,
        their staff).
    focus : collection of int, optional
        Only what these grids take part in: their own validity and staff, and the sibling groups
        they belong to or parent. An edit session validates what it changed this way, so old
        problems elsewhere never block a save.

    Returns
    -------
    list of Problem
    """
    if tolerance_m2 < 0:
        raise ValueError(f"tolerance_m2 must be >= 0, got {tolerance_m2!r}")
    by_id = {g.id: g for g in grids}
    focus = set(focus) if focus is not None else None
    chosen = [g for g in grids if (level is None or g.level == level) and (focus is None or g.id in focus)]
    chosen_ids = {g.id for g in chosen}

    problems: list[Problem] = []
    usable = {}
    for grid in grids:
        found, geom = check_geometry(grid)
        usable[grid.id] = geom
        if grid.id in chosen_ids:
            problems += found

    groups: dict[int | None, list[Grid]] = defaultdict(list)
    for grid in grids:
        if grid.level in POLYGON_LEVELS and (level is None or grid.level == level):
            groups[grid.parent_id].append(grid)
    for parent_id, children in groups.items():
        if focus is not None and parent_id not in focus and not focus & {c.id for c in children}:
            continue
        problems += _group(parent_id, children, by_id, usable, tolerance_m2)
    for lvl in sorted({g.level for g in chosen if g.level in POLYGON_LEVELS}):
        same = [g for g in grids if g.level == lvl]
        if focus is not None:
            near = [g for g in same if g.id in focus]
            same = _near(same, near, usable) if near else []
        problems += check_level_overlaps(same, usable, tolerance_m2)

    points = [g for g in chosen if g.level not in POLYGON_LEVELS and g.parent_id in by_id]
    problems += _units_outside(points, by_id, usable)
    if roles is not None:
        problems += check_staff(chosen, roles)
    return sort_problems(problems)


def _near(same: Sequence[Grid], focused: Sequence[Grid], usable) -> list[Grid]:
    """``same`` grids whose extent meets the focused ones' (the only possible new overlaps)."""
    boxes = [shapely.box(*usable[g.id].bounds) for g in focused if usable.get(g.id) is not None]
    if not boxes:
        return []
    region = shapely.union_all(boxes)
    return [g for g in same if usable.get(g.id) is not None and shapely.intersects(region, shapely.box(*usable[g.id].bounds))]


def _group(parent_id, children, by_id, usable, tolerance_m2) -> list[Problem]:
    parent = by_id.get(parent_id)
    if parent_id is not None and parent is None:
        return [Problem("parent_missing", ERROR, c.level, (c.code,), 0.0, location_of(c.boundary),
                        f"{label(c)}的上级网格（id {parent_id}）不存在", (c.id,)) for c in children]
    problems = []
    by_level: dict[int, list[Grid]] = defaultdict(list)
    for child in children:
        by_level[child.level].append(child)
    for lvl, kids in sorted(by_level.items()):
        if parent is not None and parent.level != lvl - 1:
            problems += [Problem("wrong_level", ERROR, k.level, (k.code, parent.code), 0.0, location_of(k.boundary),
                                 f"{label(k)}的上级网格{label(parent)}应为{LEVEL_NAMES.get(lvl - 1, '')}", (k.id, parent.id))
                         for k in kids]
        problems += check_siblings(parent, kids, usable, tolerance_m2)
    return problems


def _units_outside(units: Iterable[Grid], by_id, usable) -> list[Problem]:
    """五级网格点 (points or small polygons) must lie in their parent grid."""
    out = []
    for unit in units:
        parent, geom = by_id[unit.parent_id], usable.get(unit.id)
        outer = usable.get(parent.id)
        if geom is None or outer is None or outer.covers(geom):
            continue
        outside = geom.difference(outer) if geom.area else geom
        out.append(Problem("outside_parent", ERROR, unit.level, (unit.code, parent.code), 0.0,
                           location_of(outside), f"{label(unit)}不在上级网格{label(parent)}内", (unit.id, parent.id),
                           outside))
    return out


def validate_workspace(connection: Connection, *, level: int | None = None,
                       tolerance_m2: float = DEFAULT_TOLERANCE_M2, on: date | None = None) -> list[Problem]:
    """Read the grids and today's staff from a workspace and validate them (see `validate_grids`)."""
    from gis.storage.grids import read_grids
    from gis.storage.people import current_staff

    grids = read_grids(connection)
    staff = current_staff(connection, on=on)
    roles = {grid_id: {role for role, _ in entries} for grid_id, entries in staff.items()}
    return validate_grids(grids, roles=roles, tolerance_m2=tolerance_m2, level=level)

