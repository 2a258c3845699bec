"""Permission checks for grid edits and for people/assignments, at the service entry points.

Kept apart from gis.editing and gis.storage.people so those modules gain one call each. As in
:func:`gis.security.permissions.authorize`, an actor that is not a Session or User (None, a
name) is a trusted system caller (the demo builder, imports, tests) and is not checked.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from gis.security.permissions import Permission, authorize, require_in_scope

if TYPE_CHECKING:
    from gis.editing.session import GridEditSession
    from gis.security.users import Session


def check_grid_save(connection: Connection, actor, session: GridEditSession, dirty: Iterable[int]) -> Session | None:
    """GIS 编辑/管理员 only; a scoped user only changes, deletes or adds grids inside the subtree.

    A changed or deleted grid is checked by its id; a new grid by its parent (a new grid under a
    new grid is covered by the check of the first one). Raises PermissionDenied; returns the
    re-read session (None for a trusted caller).
    """
    checked = authorize(connection, actor, Permission.GRIDS_WRITE)
    if checked is None or checked.user.scope_grid_id is None:
        return checked
    for grid_id in sorted(dirty):
        if grid_id in session.original:
            require_in_scope(checked, grid_id, Permission.GRIDS_WRITE, connection=connection)
            continue
        grid = session.grids.get(grid_id)
        if grid is not None and grid.parent_id is not None and grid.parent_id in session.grids \
                and grid.parent_id not in session.original:
            continue  # under a new grid: that grid's own parent is checked
        require_in_scope(checked, grid.parent_id if grid is not None else None, Permission.GRIDS_WRITE,
                         connection=connection)
    return checked


def check_people_write(connection: Connection, actor, grid_ids: Iterable[int | None] = ()) -> Session | None:
    """GIS 编辑/管理员 only; a scoped user assigns people only to grids inside the subtree."""
    checked = authorize(connection, actor, Permission.PEOPLE_WRITE)
    if checked is not None and checked.user.scope_grid_id is not None:
        for grid_id in sorted(set(grid_ids), key=lambda g: (g is None, g or 0)):
            require_in_scope(checked, grid_id, Permission.PEOPLE_WRITE, connection=connection)
    return checked


def check_alarm_rules_write(connection: Connection, actor) -> Session | None:
    """Alarm rules are settings: 管理员 only (gis.monitoring.rules.save_rules should call this first)."""
    return authorize(connection, actor, Permission.SETTINGS_WRITE)
