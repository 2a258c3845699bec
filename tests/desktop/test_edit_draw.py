"""Drawing grids with real clicks and keys: snapping, avoid-overlap clipping, holes, Backspace/Esc,
undo/redo across tools, and the map's grid layer redrawn from the session (no reload)."""
from __future__ import annotations

import shapely
from PySide6.QtCore import Qt
from test_edit_support import (  # noqa: F401  (noded_workspace is a fixture)
    MID_LAT, MID_LON, SOUTH, WEST, Answers, click, double_click, edit_window, key_click,
    noded_workspace, start_editing,
)

from gis.validation import validate_grids

SW = "140502001001"  # the south-west village: [WEST, MID_LON] × [SOUTH, MID_LAT]


def new_grids(session, level=4):
    return [g for g in session.grids.values() if g.id < 0 and g.level == level]


def test_draw_a_grid_clipped_to_its_parent_then_undo_and_redo(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store, Answers(name="新建测试网格"))
    editing = start_editing(qtbot, window, level=4)  # no fourth-level grids yet: the first one
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST, SOUTH, MID_LON + 0.02, MID_LAT))
    window.editing.actions["tool_edit_draw"].trigger()
    assert canvas.map_tool() is editing.tools["edit_draw"]
    jobs = canvas.last_job_id

    # A rectangle reaching 0.01° into the east village: the part outside its parent is cut off.
    corners = [(112.82, 35.47), (MID_LON + 0.01, 35.47), (MID_LON + 0.01, 35.49), (112.82, 35.49)]
    for corner in corners[:-1]:
        click(canvas, corner)
    assert len(editing.tools["edit_draw"].points) == 3 and editing.overlay.sketch is not None
    double_click(canvas, corners[-1])
    assert len(editing.tools["edit_draw"].points) == 0 and editing.overlay.sketch is None

    session = editing.session
    [grid] = new_grids(session)
    assert grid.name == "新建测试网格" and grid.parent_id == noded_workspace.grids[SW].id
    x0, y0, x1, y1 = grid.boundary.bounds
    assert x1 == MID_LON  # clipped exactly at the village border
    assert abs(x0 - 112.82) < 2e-4 and abs(y0 - 35.47) < 2e-4 and abs(y1 - 35.49) < 2e-4
    assert not [p for p in validate_grids(list(session.grids.values()), focus={grid.id}) if p.kind == "overlap"]
    # The map shows it from the session, without reloading the workspace.
    layer = canvas.layer("grid-4")
    assert layer is not None and grid.id in layer.ids.tolist()
    assert canvas.last_job_id > jobs and window.data.grids is not None

    key_click(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert new_grids(session) == [] and canvas.layer("grid-4") is None
    key_click(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    [again] = new_grids(session)
    assert again is grid and grid.id in canvas.layer("grid-4").ids.tolist()
    assert editing.undo_stack.count() == 1 and editing.undo_stack.undoText() == "新建网格“新建测试网格”"


def test_second_grid_avoids_the_first_and_snaps_to_its_corner(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    editing = start_editing(qtbot, window, level=4)
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST, SOUTH, MID_LON, MID_LAT))
    editing.actions["tool_edit_draw"].trigger()
    first = [(112.81, 35.46), (112.83, 35.46), (112.83, 35.48), (112.81, 35.48)]
    for corner in first:
        click(canvas, corner)
    key_click(canvas, Qt.Key.Key_Return)
    [a] = new_grids(editing.session)
    corner = max(shapely.get_coordinates(a.boundary).tolist())  # the east corner at the top (x, y max)
    corner = max((c for c in shapely.get_coordinates(a.boundary).tolist() if c[0] == corner[0]),
                 key=lambda c: c[1])
    # The second overlaps the first; its first click lands 3 px off the first's corner.
    px = canvas.viewport().res
    near = (corner[0] + 0.3 * px / 1e5, corner[1] + 0.2 * px / 1e5)
    click(canvas, near)
    assert editing.overlay.snap is not None and editing.overlay.snap[1] == "vertex"
    assert tuple(editing.tools["edit_draw"].points[0]) == tuple(corner)  # snapped exactly
    for point in [(112.84, 35.475), (112.84, 35.49), (112.82, 35.49)]:
        click(canvas, point)
    key_click(canvas, Qt.Key.Key_Return)
    b = next(g for g in new_grids(editing.session) if g.id != a.id)
    assert shapely.intersection(a.boundary, b.boundary).area < 1e-14  # clipped to free space
    assert shapely.coverage_is_valid([a.boundary, b.boundary])       # glued: shared vertices are exact
    assert editing.undo_stack.count() == 2


def test_backspace_esc_and_a_hole(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    editing = start_editing(qtbot, window, level=4)
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST, SOUTH, MID_LON, MID_LAT))
    editing.snapping = False
    editing.actions["tool_edit_draw"].trigger()
    tool = editing.tools["edit_draw"]
    for point in [(112.81, 35.46), (112.84, 35.46), (112.84, 35.49)]:
        click(canvas, point)
    key_click(canvas, Qt.Key.Key_Backspace)
    assert len(tool.points) == 2
    key_click(canvas, Qt.Key.Key_Escape)
    assert tool.points == [] and editing.overlay.sketch is None and editing.undo_stack.count() == 0

    for point in [(112.81, 35.46), (112.84, 35.46), (112.84, 35.49), (112.81, 35.49)]:
        click(canvas, point)
    key_click(canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # outer ring done: now a hole
    for point in [(112.82, 35.47), (112.83, 35.47), (112.83, 35.48)]:
        click(canvas, point)
    key_click(canvas, Qt.Key.Key_Return)
    [grid] = new_grids(editing.session)
    [polygon] = shapely.get_parts(grid.boundary)
    assert len(polygon.interiors) == 1


def test_an_invalid_neighbour_is_reported_loudly(qtbot, noded_workspace):
    from gis.storage import schema

    bow_tie = shapely.Polygon([(WEST, SOUTH), (MID_LON, MID_LAT), (MID_LON, SOUTH), (WEST, MID_LAT)])
    with noded_workspace.store.engine.begin() as connection:
        connection.execute(schema.grids.update().where(schema.grids.c.id == noded_workspace.grids[SW].id)
                           .values(boundary=bow_tie))
    window = edit_window(qtbot, noded_workspace.store)
    editing = start_editing(qtbot, window, level=4)
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST, SOUTH, MID_LON, MID_LAT))
    editing.snapping = False
    editing.actions["tool_edit_draw"].trigger()
    for point in [(112.81, 35.46), (112.815, 35.46), (112.815, 35.47)]:
        click(canvas, point)
    key_click(canvas, Qt.Key.Key_Return)
    [(_, text, loud)] = editing.prompts.of("warn")
    assert loud and "无效" in text and "西南社区" in text
    assert editing.undo_stack.count() == 0 and editing.overlay.chosen  # the bad grid is outlined
    assert len(editing.tools["edit_draw"].rings) == 1  # the drawing is kept: fix the neighbour, try again
