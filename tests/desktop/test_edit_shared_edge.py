"""修改公共边 with real mouse events: hover lights the shared edge, a click picks it (or two clicks
inside neighbouring grids do), a drag moves it as one undo step in both grids and every grid along
it; after a split the edges between the halves and their neighbour are picked and moved the same way."""
from __future__ import annotations

import os

import shapely
from PySide6.QtCore import Qt
from test_edit_support import (  # noqa: F401  (noded_workspace is a fixture)
    EAST, MID_LAT, MID_LON, NORTH, SOUTH, WEST, click, double_click, drag, edit_window, grids_by_code, key_click,
    noded_workspace, start_editing,
)

from gis.validation import validate_grids
from map_helpers import move_mouse, screen_point

SW, SE, NW = "140502001001", "140502002001", "140502001002"
WEST_TOWN, EAST_TOWN = "140502001", "140502002"
SHOTS = os.environ.get("ENVGRID_SHOTS", "/tmp/envgrid-shots")


def errors(session):
    return [p.message for p in validate_grids(list(session.grids.values())) if p.is_error]


def vertices(grid) -> set:
    return set(map(tuple, shapely.get_coordinates(grid.boundary).tolist()))


def shared_tool(qtbot, window):
    editing = start_editing(qtbot, window, level=3)
    window.canvas.setFocus()
    key_click(window.canvas, Qt.Key.Key_R)  # the tool's own key
    tool = editing.tools["edit_shared_edge"]
    assert window.canvas.map_tool() is tool and editing.actions["tool_edit_shared_edge"].isChecked()
    return editing, tool


def pair(tool) -> set:
    return {tool.selected.a, tool.selected.b}


def test_pick_the_edge_then_drag_it_bends_then_moves_as_one_step(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    canvas = window.canvas
    canvas.zoom_to_bbox((MID_LON - 0.03, SOUTH - 0.005, MID_LON + 0.03, MID_LAT + 0.005))
    editing, tool = shared_tool(qtbot, window)
    session = editing.session
    before = grids_by_code(session)
    ids = {code: g.id for code, g in before.items()}

    move_mouse(canvas, screen_point(canvas, MID_LON, 35.47))  # hovering lights the whole shared stretch
    assert editing.overlay.shared_hover is not None and len(editing.overlay.shared_hover) == 2
    click(canvas, (MID_LON, 35.47))
    assert pair(tool) == {ids[SW], ids[SE]} and set(tool.selected.ends) == {(MID_LON, SOUTH), (MID_LON, MID_LAT)}
    assert editing.overlay.shared is not None and len(editing.overlay.pair) == 2  # both grids tinted

    # A one-segment edge bends through the grabbed point; a preview shows while dragging.
    previews = []
    drag(canvas, (MID_LON, 35.475), (MID_LON + 0.01, 35.475),
         screenshot=lambda: previews.append(editing.overlay.shared_preview))
    assert previews[0] is not None and len(previews[0]) == 3
    assert editing.overlay.shared_preview is None
    assert editing.undo_stack.count() == 1
    assert editing.undo_stack.undoText() == f"修改“{before[SW].name}”与“{before[SE].name}”的公共边"
    bent = grids_by_code(session)
    [new_vertex] = vertices(bent[SW]) - vertices(before[SW])
    assert abs(new_vertex[0] - (MID_LON + 0.01)) < 5e-4 and abs(new_vertex[1] - 35.475) < 5e-4
    for code in (SW, SE, WEST_TOWN, EAST_TOWN):  # both villages and both towns (whose border it is)
        assert new_vertex in vertices(bent[code]), code
    assert bent[SW].boundary.area > before[SW].boundary.area
    assert abs(bent[SW].boundary.area + bent[SE].boundary.area
               - before[SW].boundary.area - before[SE].boundary.area) < 1e-12
    assert errors(session) == []
    assert len(tool.selected.chain) == 3  # still picked, where it is now

    # Now three vertices: a drag (grabbing the upper segment halfway) shifts the inner one, the ends stay.
    grab = ((new_vertex[0] + MID_LON) / 2, (new_vertex[1] + MID_LAT) / 2)
    drag(canvas, grab, (grab[0] - 0.004, grab[1]))
    assert editing.undo_stack.count() == 2 and editing.undo_stack.undoText().startswith("移动")
    moved = grids_by_code(session)
    [inner] = vertices(moved[SE]) - vertices(bent[SE])
    assert abs(inner[0] - (new_vertex[0] - 0.004)) < 5e-4 and abs(inner[1] - new_vertex[1]) < 1e-12
    assert {(MID_LON, SOUTH), (MID_LON, MID_LAT)} <= vertices(moved[SE]) and errors(session) == []

    key_click(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    key_click(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    now = grids_by_code(session)
    assert all(now[c] is before[c] for c in (SW, SE, WEST_TOWN, EAST_TOWN)) and not editing.is_dirty
    assert pair(tool) == {ids[SW], ids[SE]} and len(tool.selected.chain) == 2  # followed the undo
    key_click(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert grids_by_code(session)[SW] is bent[SW] and len(tool.selected.chain) == 3

    key_click(canvas, Qt.Key.Key_Escape)  # Esc drops the picked edge
    assert tool.selected is None and editing.overlay.shared is None


def test_two_clicks_inside_neighbours_pick_their_edge_and_outer_borders_are_refused(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST, SOUTH, EAST, NORTH))
    editing, tool = shared_tool(qtbot, window)
    ids = {code: g.id for code, g in grids_by_code(editing.session).items()}
    messages = []
    editing.messageShown.connect(messages.append)

    click(canvas, (112.82, 35.47))  # inside the south-west village
    assert tool.first == ids[SW] and tool.selected is None and len(editing.overlay.pair) == 1
    click(canvas, (112.82, 35.53))  # inside its northern neighbour
    assert pair(tool) == {ids[SW], ids[NW]}
    assert set(tool.selected.ends) == {(WEST, MID_LAT), (MID_LON, MID_LAT)}

    click(canvas, (112.82, 35.47))
    click(canvas, (112.88, 35.53))  # only a corner in common: no shared edge
    assert tool.selected is None and "没有公共边" in messages[-1]

    click(canvas, (WEST, 35.47))  # the district's outer border is nobody's shared edge
    assert tool.selected is None and "外边界" in messages[-1]


def test_after_a_split_the_new_edges_are_shared_edges_too(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST - 0.01, SOUTH - 0.005, MID_LON + 0.02, MID_LAT + 0.005))
    editing = start_editing(qtbot, window, level=3)
    session = editing.session
    village = grids_by_code(session)[SW]
    editing.actions["tool_edit_split"].trigger()
    click(canvas, (WEST - 0.005, 35.475))
    double_click(canvas, (MID_LON + 0.005, 35.475))
    assert editing.undo_stack.count() == 1
    [half] = [g for g in session.polygon_grids(3) if g.id < 0]
    kept = session.grid(village.id)
    north, south = (half, kept) if half.boundary.centroid.y > kept.boundary.centroid.y else (kept, half)
    split_point = next(p for p in vertices(north) if p[0] == MID_LON and SOUTH < p[1] < MID_LAT)
    east = grids_by_code(session)[SE]
    assert split_point in vertices(east)  # the split put its crossing into the neighbour too

    key_click(canvas, Qt.Key.Key_R)
    tool = editing.tools["edit_shared_edge"]
    # The edge between the northern half and the east village: from the split point up to the corner.
    click(canvas, (MID_LON, 35.49))
    assert pair(tool) == {north.id, east.id} and set(tool.selected.ends) == {split_point, (MID_LON, MID_LAT)}
    shots = []
    drag(canvas, (MID_LON, 35.49), (MID_LON + 0.008, 35.49),
         screenshot=lambda: shots.append(_shoot(window, "shared-edge-drag.png")))
    assert editing.undo_stack.count() == 2
    after = grids_by_code(session)
    assert after[north.code].boundary.area > north.boundary.area and after[SE].boundary.area < east.boundary.area
    assert session.grid(south.id) is south  # the southern half does not run along it
    assert split_point in vertices(after[SE]) and split_point in vertices(session.grid(south.id))
    assert errors(session) == []

    # The split line itself, between the two halves: picked by clicking inside each, then dragged.
    click(canvas, (112.82, 35.46))
    click(canvas, (112.82, 35.49))
    assert pair(tool) == {north.id, south.id}
    assert split_point in tool.selected.ends and any(p[0] == WEST for p in tool.selected.ends)
    drag(canvas, (112.825, 35.475), (112.825, 35.482))
    assert editing.undo_stack.count() == 3 and errors(session) == []
    lifted = session.grid(south.id)
    assert lifted.boundary.area > south.boundary.area
    assert abs(lifted.boundary.area + session.grid(north.id).boundary.area
               - south.boundary.area - after[north.code].boundary.area) < 1e-12

    editing.undo()
    editing.undo()
    assert session.grid(south.id) is south and grids_by_code(session)[SE] is east
    editing.redo()
    editing.redo()
    assert session.grid(south.id) is lifted and errors(session) == []
    assert shots and os.path.exists(shots[0])


def _shoot(window, name: str) -> str:
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name)
    window.canvas.grab().save(path)
    return path
