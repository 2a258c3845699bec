"""Saving an edit session from the window: refused with the list on an error, written with history and
audit otherwise, and a conflict when another connection saved the same grid first."""
from __future__ import annotations

import shapely
from sqlalchemy import func, select
from test_edit_support import (  # noqa: F401  (noded_store is a fixture)
    EAST, MID_LAT, MID_LON, NORTH, SOUTH, WEST, Answers, drag, edit_window, grids_by_code, noded_store,
    start_editing,
)

from gis.editing import GridEditSession, SetGridFieldsCommand
from gis.storage import schema
from gis.storage.grids import read_grids

SW, NW = "140502001001", "140502001002"


def stored(store) -> dict:
    with store.engine.connect() as connection:
        return {g.code: g for g in read_grids(connection)}


def count(store, table, *where) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def move_centre(qtbot, window):
    editing = start_editing(qtbot, window, level=3)
    window.canvas.zoom_to_bbox((WEST, SOUTH, EAST, NORTH))
    editing.actions["tool_edit_vertex"].trigger()
    drag(window.canvas, (MID_LON, MID_LAT), (MID_LON + 0.01, MID_LAT + 0.006))
    assert editing.undo_stack.count() == 1
    return editing


def test_save_is_refused_on_an_error_and_lists_it(qtbot, noded_store):
    store = noded_store.store
    window = edit_window(qtbot, store)
    editing = start_editing(qtbot, window, level=3)
    editing.set_chosen([noded_store.grids[NW].id])
    editing.actions["delete_grid"].trigger()  # leaves a gap in the west town: an error
    assert NW not in grids_by_code(editing.session)
    before = stored(store)
    assert editing.save() is False
    [(_, problems, refused)] = editing.prompts.of("problems")
    assert refused and any(p.kind == "gap" and p.is_error for p in problems)
    assert stored(store).keys() == before.keys() and editing.is_dirty and editing.editing
    editing.actions["undo"].trigger()
    assert not editing.is_dirty


def test_save_writes_geometry_versions_history_and_audit(qtbot, noded_store):
    store = noded_store.store
    window = edit_window(qtbot, store)
    editing = move_centre(qtbot, window)
    mine = {c: g.boundary for c, g in grids_by_code(editing.session).items()}
    changed = {editing.session.grid(i).code for i in editing.session.dirty_ids()}
    audits = count(store, schema.audit_log)
    with qtbot.waitSignal(editing.saved):
        editing.actions["save"].trigger()
    assert not editing.prompts.of("problems") or not editing.prompts.of("problems")[0][2]
    rows = stored(store)
    assert len(changed) == 6  # four villages and two towns
    for code in changed:
        assert shapely.equals_exact(rows[code].boundary, mine[code], 0), code
        assert rows[code].version == 2
    assert count(store, schema.grid_history) == len(changed)
    assert count(store, schema.audit_log) - audits == len(changed)
    assert editing.undo_stack.count() == 0 and not editing.is_dirty and editing.editing
    # Ending the session reads the saved workspace again: the window's data has the new boundary.
    with qtbot.waitSignal(window.dataLoaded, timeout=20_000):
        editing.actions["discard"].trigger()
    assert not editing.editing
    assert shapely.equals_exact(window.data.grid(rows[SW].id).boundary, mine[SW], 0)


def other_seat_renames(store, code, name="他人改名"):
    with store.engine.connect() as connection:
        other = GridEditSession.load(connection, user="另一席位")
        grid = grids_by_code(other)[code]
        other.push(SetGridFieldsCommand(other, grid.id, name=name))
        other.save(connection)
        connection.commit()  # loading began a transaction: the save was a savepoint inside it


def test_conflict_when_another_seat_saved_first_then_keep_mine(qtbot, noded_store):
    store = noded_store.store
    window = edit_window(qtbot, store, Answers(conflict="cancel"))
    editing = move_centre(qtbot, window)
    other_seat_renames(store, SW)
    theirs = stored(store)[SW]
    assert editing.save() is False  # cancel: nothing written, still editing
    [(_, conflicts)] = editing.prompts.of("conflict")
    assert [c.code for c in conflicts] == [SW] and conflicts[0].theirs.name == "他人改名"
    assert conflicts[0].mine.name != "他人改名" and editing.is_dirty
    assert stored(store)[SW].version == theirs.version == 2

    editing.prompts.answers["conflict"] = "mine"
    assert editing.save() is True
    rows = stored(store)
    assert rows[SW].version == 3 and rows[SW].name == grids_by_code(editing.session)[SW].name
    with store.engine.connect() as connection:  # their version is kept in the history, not lost
        names = connection.execute(select(schema.grid_history.c.name)
                                   .where(schema.grid_history.c.grid_id == rows[SW].id)).scalars().all()
    assert "他人改名" in names


def test_conflict_take_theirs_reloads_the_session(qtbot, noded_store):
    store = noded_store.store
    window = edit_window(qtbot, store, Answers(conflict="theirs"))
    editing = move_centre(qtbot, window)
    other_seat_renames(store, NW, "北边改名")
    assert editing.save() is False
    assert editing.editing and not editing.is_dirty and editing.undo_stack.count() == 0
    assert grids_by_code(editing.session)[NW].name == "北边改名"
    assert stored(store)[NW].version == 2
