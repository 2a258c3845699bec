"""Stress check (reports, does not time-assert): dragging a vertex of a 1,000-vertex grid.

Prints the median and 95th percentile time per mouse-move event during the drag, both the tool's
own work (snap + preview) and the whole event including a synchronous repaint of the canvas.
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import shapely
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from small_workspace import MID_LAT, MID_LON, SOUTH, WEST, build_small_workspace
from test_edit_support import Answers, edit_window, grids_by_code, node_workspace, start_editing

from gis.storage import schema
from gis.storage.store import open_store
from map_helpers import move_mouse, screen_point

SW = "140502001001"


def dense_village(n_per_side: int = 500) -> shapely.Polygon:
    """The south-west village with its outer (west and south) sides cut into many short edges."""
    t = np.linspace(0.0, 1.0, n_per_side, endpoint=False)
    west = np.column_stack([np.full(n_per_side, WEST), MID_LAT - t * (MID_LAT - SOUTH)])   # north → south
    south = np.column_stack([WEST + t * (MID_LON - WEST), np.full(n_per_side, SOUTH)])    # west → east
    return shapely.Polygon(np.vstack([west, south, [[MID_LON, SOUTH], [MID_LON, MID_LAT]]]))


def test_vertex_drag_on_a_1000_vertex_grid(qtbot, tmp_path, capsys):
    store = open_store(str(tmp_path / "dense.sqlite"))
    grids = build_small_workspace(store)
    dense = dense_village()
    with store.engine.begin() as connection:
        connection.execute(schema.grids.update().where(schema.grids.c.id == grids[SW].id).values(boundary=dense))
    node_workspace(store)
    try:
        window = edit_window(qtbot, store, Answers(), size=(1400, 900))
        editing = start_editing(qtbot, window, level=3)
        village = grids_by_code(editing.session)[SW]
        vertices = len(shapely.get_coordinates(village.boundary)) - 1
        assert vertices >= 1000
        canvas = window.canvas
        canvas.zoom_to_bbox((WEST, SOUTH, MID_LON, MID_LAT))
        editing.actions["tool_edit_vertex"].trigger()
        tool = editing.tools["edit_vertex"]
        grab = tuple(shapely.get_coordinates(village.boundary)[250])  # on the densely cut west side
        start = screen_point(canvas, *grab)
        move_mouse(canvas, start)
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        assert tool.busy
        tool.move_seconds.clear()
        whole = []
        for step in range(1, 121):
            started = time.perf_counter()
            QTest.mouseMove(canvas, start + QPoint(step // 3, step % 20))
            canvas.repaint()  # what the user sees: the frame with handles and preview
            whole.append(time.perf_counter() - started)
        painted = []
        for _ in range(30):  # the frame alone, mid-drag (handles + preview)
            started = time.perf_counter()
            canvas.repaint()
            painted.append(time.perf_counter() - started)
        end = start + QPoint(40, 10)  # inward, away from the other vertices
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
        assert editing.undo_stack.count() == 1, window.statusBar().currentMessage()  # 120 moves, one step
        handler = sorted(tool.move_seconds)
        bare = []
        editing.overlay.enabled = False
        for _ in range(30):
            started = time.perf_counter()
            canvas.repaint()
            bare.append(time.perf_counter() - started)
        editing.overlay.enabled = True
        with capsys.disabled():
            print(f"\n[edit stress] grid with {vertices} vertices, {len(handler)} move events: "
                  f"tool median {statistics.median(handler) * 1e3:.2f} ms, "
                  f"p95 {handler[int(0.95 * len(handler))] * 1e3:.2f} ms; "
                  f"event + repaint median {statistics.median(whole) * 1e3:.2f} ms, "
                  f"p95 {sorted(whole)[int(0.95 * len(whole))] * 1e3:.2f} ms; repaint mid-drag median "
                  f"{statistics.median(painted) * 1e3:.2f} ms, without the edit overlay "
                  f"median {statistics.median(bare) * 1e3:.2f} ms")
    finally:
        store.close()
