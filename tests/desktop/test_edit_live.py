"""The live feed during an edit session: another seat's grid changes rebuild the map's layers, but
the levels the session changed stay drawn from the session (in-progress edits stay visible); the
other seat's change to a grid being edited surfaces as a conflict at save, on both backends."""
from __future__ import annotations

from PySide6.QtCore import Qt
from test_edit_support import (  # noqa: F401  (noded_store is a fixture)
    MID_LAT, MID_LON, SOUTH, Answers, click, drag, edit_window, grids_by_code, key_click, noded_store,
    start_editing,
)

from gis.storage import schema
from gis.storage.store import open_store

SW, DISTRICT = "140502001001", "140502"
LIVE_MS = 5000


def loaded_layer(window, key):
    return next(layer for layer in window.data.layers if layer.key == key)


def test_feed_reloads_compose_with_the_session_and_their_edit_is_a_conflict_at_save(qtbot, noded_store):
    store = noded_store.store
    window = edit_window(qtbot, store, Answers(conflict="cancel"))
    qtbot.waitUntil(lambda: window.live.feed.state is not None and window.live.feed.state.connected,
                    timeout=LIVE_MS)
    editing = start_editing(qtbot, window, level=3)
    canvas = window.canvas
    canvas.zoom_to_bbox((MID_LON - 0.03, SOUTH - 0.005, MID_LON + 0.03, MID_LAT + 0.005))
    key_click(canvas, Qt.Key.Key_R)
    click(canvas, (MID_LON, 35.47))
    drag(canvas, (MID_LON, 35.475), (MID_LON + 0.01, 35.475))  # bend the edge between the two south villages
    assert editing.undo_stack.count() == 1
    session = editing.session
    mine = grids_by_code(session)
    sw_id, district_id = mine[SW].id, mine[DISTRICT].id
    assert canvas.layer("grid-3") is not loaded_layer(window, "grid-3")  # drawn from the session

    seat = open_store(store.url)  # another seat renames the village being edited, and the district
    try:
        with seat.engine.begin() as connection:
            for grid_id, name in ((sw_id, "他人改名"), (district_id, "他处城区")):
                connection.execute(schema.grids.update().where(schema.grids.c.id == grid_id)
                                   .values(name=name, version=schema.grids.c.version + 1))
    finally:
        seat.close()
    qtbot.waitUntil(lambda: window.data.grid(sw_id).name == "他人改名"
                    and "他处城区" in list(canvas.layer("grid-1").names), timeout=LIVE_MS)

    # The level untouched by the session shows their change; the edited levels still show the session.
    assert canvas.layer("grid-1") is loaded_layer(window, "grid-1")
    villages = canvas.layer("grid-3")
    assert villages is not loaded_layer(window, "grid-3")
    assert mine[SW].name in list(villages.names) and "他人改名" not in list(villages.names)
    assert "他人改名" in list(loaded_layer(window, "grid-3").names)  # what the feed read is kept underneath
    assert canvas.layer("grid-2") is not loaded_layer(window, "grid-2")  # the towns follow the bent edge
    assert editing.is_dirty and editing.undo_stack.count() == 1

    assert editing.save() is False  # their save came first: a conflict, nothing overwritten
    [(_, conflicts)] = editing.prompts.of("conflict")
    assert [c.code for c in conflicts] == [SW] and conflicts[0].theirs.name == "他人改名"
    assert conflicts[0].mine.boundary.equals(mine[SW].boundary)
    assert editing.editing and canvas.layer("grid-3") is villages

    editing.discard()
    assert canvas.layer("grid-3") is loaded_layer(window, "grid-3")
    assert "他人改名" in list(canvas.layer("grid-3").names)
