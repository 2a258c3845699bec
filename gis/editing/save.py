"""Saving an edit session: validate what changed, check versions, write it all in one transaction.

Optimistic locking: every grid row carries ``version``. Before writing, the versions of all
grids the session changes are compared with the versions it loaded; any difference (someone
else saved in between, or deleted the grid) raises `GridConflict` with their row and ours for
each conflicting grid, and nothing is written. Each UPDATE/DELETE also says ``WHERE version = ?``,
so a change that slips in between the check and the write is caught the same way.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from gis.domain import Grid
from gis.editing import save_rows
from gis.storage.schema import grids as T
from gis.validation import DEFAULT_TOLERANCE_M2, Problem, validate_grids

if TYPE_CHECKING:
    from gis.editing.session import GridEditSession


@dataclass(frozen=True, slots=True)
class Conflict:
    """One grid changed by someone else: their current row (None: deleted) and our version."""

    grid_id: int
    code: str
    theirs: Grid | None
    mine: Grid | None


class GridConflict(Exception):
    """Someone else saved some of the same grids since they were loaded; nothing was written."""

    def __init__(self, conflicts: list[Conflict]):
        self.conflicts = conflicts
        codes = "、".join(c.code for c in conflicts)
        super().__init__(f"以下网格已被他人修改或删除，未保存任何内容：{codes}")


class SaveRefused(Exception):
    """Validation found errors in what the session changed; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.is_error]
        super().__init__(f"有 {len(errors)} 个错误，不能保存：" + "；".join(p.message for p in errors[:5]))


class SaveError(Exception):
    """The database refused the change (e.g. a code someone else took meanwhile)."""


@dataclass
class SaveResult:
    inserted: dict[int, int] = field(default_factory=dict)  # temporary id → new id
    updated: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    reassigned: list[save_rows.Reassignment] = field(default_factory=list)


def changed_problems(session: GridEditSession, tolerance_m2: float = DEFAULT_TOLERANCE_M2) -> list[Problem]:
    """Validation of what the session changed: the changed grids and the sibling groups they touch."""
    dirty = session.dirty_ids()
    focus = set(dirty)
    for grid_id in dirty:
        for grid in (session.grids.get(grid_id), session.original.get(grid_id)):
            if grid is not None and grid.parent_id is not None:
                focus.add(grid.parent_id)
    focus |= set(session.merged_into.values())
    return validate_grids(list(session.grids.values()), tolerance_m2=tolerance_m2, focus=focus)


def save_session(session: GridEditSession, connection: Connection, *,
                 tolerance_m2: float = DEFAULT_TOLERANCE_M2, actor=None) -> SaveResult:
    """Write all changes of ``session`` in one transaction (a savepoint if one is already open).

    Raises
    ------
    SaveRefused
        Validation errors in the changed grids (warnings do not block; they are returned).
    GridConflict
        Another writer changed or deleted some of the grids since they were loaded.
    SaveError
        The database refused a row (duplicate code, a grid still referenced elsewhere).
    PermissionDenied
        ``actor`` (else ``session.actor``; a logged-in Session) may not edit grids, or a changed
        grid lies outside its data scope (gis.security.edit_guard). None or a name: trusted caller.
    """
    dirty = session.dirty_ids()
    if not dirty:
        return SaveResult()
    problems = changed_problems(session, tolerance_m2)
    if any(p.is_error for p in problems):
        raise SaveRefused(problems)
    transaction = connection.begin_nested() if connection.in_transaction() else connection.begin()
    try:
        from gis.security.edit_guard import check_grid_save

        check_grid_save(connection, actor if actor is not None else getattr(session, "actor", None), session, dirty)
        result = _write(session, connection, dirty)
    except BaseException as exc:
        transaction.rollback()
        if isinstance(exc, IntegrityError):
            raise SaveError(f"数据库拒绝保存：{exc.orig}") from exc
        raise
    transaction.commit()
    result.warnings = [p for p in problems if not p.is_error]
    _rebase(session, result)
    return result


def _write(session: GridEditSession, connection: Connection, dirty: set[int]) -> SaveResult:
    existing = sorted(i for i in dirty if i in session.original)
    _check_versions(session, connection, existing)
    now = datetime.now()
    result = SaveResult()
    new = sorted((session.grids[i] for i in dirty if i not in session.original), key=lambda g: (g.level, -g.id))
    for grid in new:
        parent = result.inserted.get(grid.parent_id, grid.parent_id)
        result.inserted[grid.id] = save_rows.insert_grid(connection, grid, parent, now)
    for grid_id in existing:
        mine = session.grids.get(grid_id)
        if mine is not None:
            parent = result.inserted.get(mine.parent_id, mine.parent_id)
            if not save_rows.update_grid(connection, mine, parent, session.original[grid_id].version, now):
                raise GridConflict([_conflict(connection, session, grid_id)])
            save_rows.write_history(connection, session.original[grid_id], "修改", session.user, now)
            result.updated.append(grid_id)
    ids = {**{i: i for i in existing}, **result.inserted}
    result.reassigned = save_rows.reassign_points(connection, session, ids, now)
    gone = sorted((i for i in existing if i not in session.grids), key=lambda i: -session.original[i].level)
    for grid_id in gone:
        successor = session.merged_into.get(grid_id)
        result.reassigned += save_rows.hand_over(connection, grid_id, ids.get(successor, successor), now)
        save_rows.write_history(connection, session.original[grid_id], "合并" if successor else "删除",
                                session.user, now, staff=True)
        if not save_rows.delete_grid(connection, grid_id, session.original[grid_id].version):
            raise GridConflict([_conflict(connection, session, grid_id)])
        result.deleted.append(grid_id)
    save_rows.write_four_bounds_review(connection, session, ids, now)
    save_rows.write_audit(connection, session, ids, now)
    return result


def _check_versions(session: GridEditSession, connection: Connection, ids: list[int]) -> None:
    if not ids:
        return
    query = select(T.c.id, T.c.version).where(T.c.id.in_(ids))
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()  # hold the rows: nobody saves them between check and write
    current = dict(connection.execute(query).all())
    stale = [i for i in ids if current.get(i) != session.original[i].version]
    if stale:
        raise GridConflict([_conflict(connection, session, i) for i in stale])


def _conflict(connection: Connection, session: GridEditSession, grid_id: int) -> Conflict:
    theirs = save_rows.read_grid(connection, grid_id)
    mine = session.grids.get(grid_id)
    return Conflict(grid_id, (mine or theirs or session.original[grid_id]).code, theirs, mine)


def _rebase(session: GridEditSession, result: SaveResult) -> None:
    """Make the saved state the session's new starting point (real ids, new versions)."""
    mapping = result.inserted
    grids = {}
    for grid_id, grid in session.grids.items():
        new_id = mapping.get(grid_id, grid_id)
        parent = mapping.get(grid.parent_id, grid.parent_id)
        if grid_id in result.updated:
            grid = dataclasses.replace(grid, version=session.original[grid_id].version + 1)
        if new_id != grid_id or parent != grid.parent_id:
            grid = dataclasses.replace(grid, id=new_id, parent_id=parent)
        grids[new_id] = grid
    for temp_id, new_id in mapping.items():
        session.index.replace(temp_id, None)
        session.index.replace(new_id, grids[new_id].boundary if grids[new_id].level <= 4 else None)
    session.grids = grids
    session.original = dict(grids)
    session.touched.clear()
    session.merged_into.clear()
    session.undo_stack.clear()
    session.four_bounds.rebase(mapping)
