"""Grids nobody answers for: no 网格长, or (where patrols happen) no 网格员. Warnings only —
a vacancy is real life and must not block boundary edits."""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from gis.domain import Grid, Role
from gis.validation.problems import WARNING, Problem, label, location_of

# 网格员 patrol the village/community grids and their parts (levels 3 and 4); the district and
# town levels are led by officials, and a 五级网格点 is one unit under its own 负责人.
STAFF_LEVELS = (3, 4)
LEADER_LEVELS = (1, 2, 3, 4, 5)
_STAFF_ROLES = {Role.STAFF, Role.FULLTIME_STAFF}


def check_staff(grids: Iterable[Grid], roles: Mapping[int, Collection[str]], *,
                leader_levels: Collection[int] = LEADER_LEVELS,
                staff_levels: Collection[int] = STAFF_LEVELS) -> list[Problem]:
    """Warn about grids without a current 网格长 or 网格员.

    Parameters
    ----------
    grids : iterable of Grid
    roles : mapping
        grid id → the roles held there today (``Role`` values or their Chinese names).
    leader_levels, staff_levels : collection of int
        Levels at which a 网格长, respectively a 网格员 (or 专职网格员), is required.
    """
    out = []
    for grid in grids:
        held = {Role(r) for r in roles.get(grid.id, ())}
        where = location_of(grid.boundary)
        if grid.level in leader_levels and Role.LEADER not in held:
            out.append(Problem("missing_leader", WARNING, grid.level, (grid.code,), 0.0, where,
                               f"{label(grid)}没有在任的网格长", (grid.id,)))
        if grid.level in staff_levels and not held & _STAFF_ROLES:
            out.append(Problem("missing_staff", WARNING, grid.level, (grid.code,), 0.0, where,
                               f"{label(grid)}没有在任的网格员", (grid.id,)))
    return out
