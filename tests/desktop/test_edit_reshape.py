"""修改公共边 with real clicks (snapped to the edge's ends), the snap marker, the 编辑 menu's enabled states,
and zoom-to-problem."""
from __future__ import annotations

from test_edit_support import (  # noqa: F401  (noded_workspace is a fixture)
    MID_LAT, MID_LON, SOUTH, click, double_click, edit_window, grids_by_code, noded_workspace,
    start_editing,
)

from gis.validation import validate_grids

SW, SE = "140502001001", "140502002001"


def test_reshape_the_shared_edge_of_two_villages(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    editing = window.editing
    assert not editing.actions["tool_edit_shared_edge"].isEnabled() and editing.actions["start"].isEnabled()
    editing = start_editing(qtbot, window, level=3)
    assert editing.actions["tool_edit_shared_edge"].isEnabled() and not editing.actions["start"].isEnabled()
    canvas = window.canvas
    canvas.zoom_to_bbox((MID_LON - 0.03, SOUTH - 0.005, MID_LON + 0.03, MID_LAT + 0.005))
    editing.actions["tool_edit_shared_edge"].trigger()
    session = editing.session
    before = grids_by_code(session)
    px_deg = canvas.viewport().res / 1e5  # roughly one pixel in degrees here
    click(canvas, (MID_LON + 2 * px_deg, SOUTH + 2 * px_deg))  # near the south end: snaps onto it
    assert editing.overlay.snap is not None and editing.overlay.snap[1] == "vertex"
    assert tuple(editing.tools["edit_shared_edge"].points[0]) == (MID_LON, SOUTH)
    click(canvas, (MID_LON + 0.01, 35.47))
    double_click(canvas, (MID_LON - 2 * px_deg, MID_LAT + 1 * px_deg))
    assert editing.undo_stack.undoText().startswith("修改") and editing.undo_stack.count() == 1
    after = grids_by_code(session)
    assert after[SW].boundary.area > before[SW].boundary.area > after[SE].boundary.area
    assert abs(after[SW].boundary.area + after[SE].boundary.area
               - before[SW].boundary.area - before[SE].boundary.area) < 1e-12
    assert [p.message for p in validate_grids(list(session.grids.values())) if p.is_error] == []


def test_zoom_to_problem_and_discard(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    editing = start_editing(qtbot, window, level=3)
    editing.set_chosen([noded_workspace.grids[SW].id])
    editing.actions["delete_grid"].trigger()
    editing.save()
    [(_, problems, _refused)] = editing.prompts.of("problems")
    gap = next(p for p in problems if p.kind == "gap")
    editing.zoom_to_problem(gap)
    x0, y0, x1, y1 = window.canvas.viewport().extent
    from desktop.widgets.map_geometry import mercator_bbox

    gx0, gy0, gx1, gy1 = mercator_bbox(gap.geometry.bounds)
    assert x0 <= gx0 and gx1 <= x1 and y0 <= gy0 and gy1 <= y1
    assert window.canvas.flashing
    editing.prompts.answers["confirm"] = False
    assert not editing.discard() and editing.editing  # 取消: still editing
    editing.prompts.answers["confirm"] = True
    assert editing.discard() and not editing.editing
    assert window.canvas.layer("grid-3") is next(l for l in window.data.layers if l.key == "grid-3")
    assert noded_workspace.grids[SW].id in window.canvas.layer("grid-3").ids.tolist()  # the village is back


def test_opening_another_workspace_ends_the_session(qtbot, noded_workspace, small_db):
    window = edit_window(qtbot, noded_workspace.store)
    editing = start_editing(qtbot, window, level=3)
    editing.set_chosen([noded_workspace.grids[SW].id])
    editing.actions["delete_grid"].trigger()
    assert editing.is_dirty
    with qtbot.waitSignal(window.dataLoaded, timeout=20_000):
        window.open_workspace(small_db)
    assert not editing.editing and not editing.actions["save"].isEnabled()
    assert editing.actions["start"].isEnabled()
