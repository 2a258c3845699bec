"""The vertex tool with real mouse events: a shared vertex moves in every grid that has it (one undo
step, the coverage stays valid), insert on an edge, delete; and split then merge."""
from __future__ import annotations

import shapely
from PySide6.QtCore import Qt
from test_edit_support import (  # noqa: F401  (noded_workspace is a fixture)
    EAST, MID_LAT, MID_LON, NORTH, SOUTH, WEST, Answers, click, double_click, drag, edit_window, grids_by_code,
    key_click, noded_workspace, start_editing,
)

from gis.validation import validate_grids

VILLAGES = ("140502001001", "140502001002", "140502002001", "140502002002")
TOWNS = ("140502001", "140502002")


def errors(session):
    return [p.message for p in validate_grids(list(session.grids.values())) if p.is_error]


def has_vertex(grid, point) -> bool:
    return tuple(point) in set(map(tuple, shapely.get_coordinates(grid.boundary).tolist()))


def test_dragging_the_shared_vertex_moves_it_in_all_neighbours(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    editing = start_editing(qtbot, window, level=3)
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST, SOUTH, EAST, NORTH))
    editing.actions["tool_edit_vertex"].trigger()
    session = editing.session
    before = grids_by_code(session)
    centre = (MID_LON, MID_LAT)
    assert all(has_vertex(before[c], centre) for c in VILLAGES + TOWNS)
    jobs = canvas.last_job_id

    drag(canvas, centre, (MID_LON + 0.012, MID_LAT + 0.008))
    after = grids_by_code(session)
    [moved] = {tuple(p) for p in shapely.get_coordinates(after[VILLAGES[0]].boundary).tolist()} - {
        tuple(p) for p in shapely.get_coordinates(before[VILLAGES[0]].boundary).tolist()}
    assert abs(moved[0] - (MID_LON + 0.012)) < 1e-3 and abs(moved[1] - (MID_LAT + 0.008)) < 1e-3
    for code in VILLAGES + TOWNS:  # all four villages and both towns hold the new vertex, none the old
        assert has_vertex(after[code], moved) and not has_vertex(after[code], centre), code
        assert after[code] is not before[code]
    assert errors(session) == []  # still a valid coverage at every level
    assert editing.undo_stack.count() == 1 and editing.undo_stack.undoText() == "移动顶点"
    assert canvas.last_job_id > jobs  # the grid layers were redrawn from the session

    editing.actions["undo"].trigger()
    assert all(grids_by_code(session)[c] is before[c] for c in VILLAGES + TOWNS)
    editing.actions["redo"].trigger()
    assert all(has_vertex(grids_by_code(session)[c], moved) for c in VILLAGES + TOWNS)


def test_a_drag_that_would_overlap_is_refused_with_a_message(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    editing = start_editing(qtbot, window, level=3)
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST, SOUTH, EAST, NORTH))
    editing.actions["tool_edit_vertex"].trigger()
    messages = []
    editing.messageShown.connect(messages.append)
    # The south-west village's outer corner pulled deep into the east town: refused by the core.
    drag(canvas, (WEST, SOUTH), (MID_LON + 0.03, MID_LAT + 0.02))
    assert editing.undo_stack.count() == 0 and not editing.is_dirty
    assert messages and "未执行" in messages[-1]


def test_insert_and_delete_a_vertex_on_a_shared_edge(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    editing = start_editing(qtbot, window, level=3)
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST, SOUTH, MID_LON + 0.02, MID_LAT))
    editing.actions["tool_edit_vertex"].trigger()
    session = editing.session
    # The edge between the two south villages (also the towns' border).
    double_click(canvas, (MID_LON, 35.47))
    added = [tuple(p) for p in shapely.get_coordinates(grids_by_code(session)[VILLAGES[0]].boundary).tolist()
             if p[0] == MID_LON and SOUTH < p[1] < MID_LAT]
    assert len(added) == 1 and abs(added[0][1] - 35.47) < 1e-3
    for code in (VILLAGES[0], VILLAGES[2], *TOWNS):
        assert has_vertex(grids_by_code(session)[code], added[0]), code
    assert editing.undo_stack.undoText() == "插入顶点"

    drag(canvas, added[0], (MID_LON + 0.006, added[0][1]))  # the new vertex bends the shared edge
    bent = grids_by_code(session)
    assert errors(session) == [] and bent[VILLAGES[0]].boundary.area > bent[VILLAGES[2]].boundary.area * 1.01

    click(canvas, (MID_LON + 0.006, added[0][1]))  # pick the vertex, then Delete removes it everywhere
    key_click(canvas, Qt.Key.Key_Delete)
    straight = grids_by_code(session)
    assert editing.undo_stack.undoText() == "删除顶点" and errors(session) == []
    assert abs(straight[VILLAGES[0]].boundary.area - straight[VILLAGES[2]].boundary.area) < 1e-12
    assert editing.undo_stack.count() == 3


def test_split_by_a_drawn_line_then_merge_back(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store, Answers(keeper=lambda grids: min(g.id for g in grids
                                                                                          if g.id > 0)))
    editing = start_editing(qtbot, window, level=3)
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST - 0.01, SOUTH - 0.01, MID_LON + 0.02, MID_LAT + 0.01))
    session = editing.session
    village = grids_by_code(session)[VILLAGES[0]]
    editing.actions["tool_edit_split"].trigger()
    click(canvas, (WEST - 0.005, 35.47))
    double_click(canvas, (MID_LON - 0.01, 35.49))  # not reaching the east side: no split
    assert editing.undo_stack.count() == 0
    key_click(canvas, Qt.Key.Key_Escape)
    click(canvas, (WEST - 0.005, 35.47))
    click(canvas, (112.83, 35.475))
    double_click(canvas, (MID_LON + 0.005, 35.48))
    assert editing.undo_stack.undoText() == f"拆分网格“{village.name}”"
    pieces = [g for g in session.polygon_grids(3) if g.parent_id == village.parent_id]
    assert len(pieces) == 3 and errors(session) == []
    new = next(g for g in pieces if g.id < 0)
    kept = session.grid(village.id)
    assert abs(kept.boundary.area + new.boundary.area - village.boundary.area) < 1e-12

    # Pick both parts with the vertex tool (click, Shift+click inside), merge with M.
    editing.actions["tool_edit_vertex"].trigger()
    click(canvas, shapely.point_on_surface(kept.boundary).coords[0])
    click(canvas, shapely.point_on_surface(new.boundary).coords[0], Qt.KeyboardModifier.ShiftModifier)
    assert sorted(editing.chosen) == sorted([kept.id, new.id])
    assert editing.actions["merge"].isEnabled()
    key_click(canvas, Qt.Key.Key_M)
    assert editing.prompts.of("keeper")
    merged = session.grid(village.id)
    assert new.id not in session.grids and merged.name == village.name
    assert abs(merged.boundary.area - village.boundary.area) < 1e-12 and errors(session) == []
    assert editing.undo_stack.count() == 2
    editing.undo()
    editing.undo()
    assert session.grid(village.id) is village and not editing.is_dirty
