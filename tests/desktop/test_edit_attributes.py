"""网格属性 while editing, reached from the map's right-click menu, the grid tree's and the identify
panel's link: typed with real keys, mistakes said in the dialog, 建议 fills the 四至 of a grid flagged
after a neighbour's change, 确定 is one undo step; and F1 lists every edit key."""
from __future__ import annotations

import os

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_edit_support import (  # noqa: F401  (noded_workspace is a fixture)
    EAST, NORTH, SOUTH, WEST, edit_window, grids_by_code, key_click, noded_workspace, start_editing,
)

from desktop.editing.attributes import DIFFERS_STYLE
from desktop.map_actions import ShortcutDialog, _key_text
from map_helpers import screen_point, type_text

SW, SE, NW = "140502001001", "140502002001", "140502001002"
SHOTS = os.environ.get("ENVGRID_SHOTS", "/tmp/envgrid-shots")


def right_click(widget, pos: QPoint):
    """The context-menu event a right click delivers (QTest's mouse clicks do not synthesise one)."""
    QApplication.sendEvent(widget, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, widget.mapToGlobal(pos)))


def choose(qtbot, menu, text: str) -> None:
    """Click the menu entry containing ``text`` with the mouse."""
    qtbot.waitUntil(menu.isVisible)
    action = next(a for a in menu.actions() if text in a.text())
    assert action.isEnabled()
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     menu.actionGeometry(action).center())


def replace_text(edit, text: str) -> None:
    edit.setFocus()
    QTest.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(edit, Qt.Key.Key_Backspace)
    type_text(edit, text)


def open_from_tree(qtbot, window, grid_id):
    """Right-click the grid's row in the grid tree and choose its 属性 entry."""
    window.select_grid(grid_id)
    view = window.grid_view
    index = window.grid_proxy.mapFromSource(window.grid_model.index_for_grid(grid_id))
    right_click(view.viewport(), view.visualRect(index).center())
    choose(qtbot, window.editing.menu, "的属性")
    dialog = window.editing.attribute_dialog
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_from_the_map_menu_mistakes_stay_in_the_dialog_then_one_undo_step(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    assert not window.editing.actions["attributes"].isEnabled()
    editing = start_editing(qtbot, window, level=3)
    canvas = window.canvas
    canvas.zoom_to_bbox((WEST, SOUTH, EAST, NORTH))
    session = editing.session
    before = grids_by_code(session)

    right_click(canvas, screen_point(canvas, 112.82, 35.47))
    choose(qtbot, editing.menu, f"“{before[SW].name}”的属性")
    dialog = editing.attribute_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.name_edit.text() == before[SW].name and dialog.code_edit.text() == SW

    replace_text(dialog.name_edit, "")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.error_label.isVisible() and "名称不能为空" in dialog.error_label.text()
    type_text(dialog.name_edit, "西南新社区")
    replace_text(dialog.code_edit, NW)  # the northern neighbour's code
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and f"“{before[NW].name}”" in dialog.error_label.text()
    assert "同级" in dialog.error_label.text() and editing.undo_stack.count() == 0
    replace_text(dialog.code_edit, "140502001009")
    assert not dialog.error_label.isVisible()  # typing clears the old message
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()

    grid = session.grid(before[SW].id)
    assert (grid.name, grid.code) == ("西南新社区", "140502001009")
    assert grid.boundary is before[SW].boundary and (grid.east, grid.west) == (before[SW].east, before[SW].west)
    assert editing.undo_stack.count() == 1 and editing.undo_stack.undoText() == f"修改网格“{before[SW].name}”的属性"
    assert "西南新社区" in canvas.layer("grid-3").names  # the map's labels come from the session

    key_click(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert session.grid(before[SW].id) is before[SW] and not editing.is_dirty
    assert "西南新社区" not in canvas.layer("grid-3").names and before[SW].name in canvas.layer("grid-3").names


def test_a_neighbour_renamed_flags_the_four_bounds_and_suggest_fills_them(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    ids = {code: g.id for code, g in noded_workspace.grids.items()}
    editing = window.editing
    window.select_grid(ids[SE])
    view = window.grid_view
    right_click(view.viewport(), view.visualRect(
        window.grid_proxy.mapFromSource(window.grid_model.index_for_grid(ids[SE]))).center())
    menu_before = editing.menu
    assert [a.isEnabled() for a in menu_before.actions()] == [False]  # outside a session: not yet
    menu_before.close()
    assert "edit:" not in window.info_panel.text()

    start_editing(qtbot, window, level=3)
    session = editing.session
    dialog = open_from_tree(qtbot, window, ids[SW])
    replace_text(dialog.name_edit, "西南新社区")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    flagged = session.four_bounds.flagged
    assert ids[SE] in flagged and "西南新社区" in flagged[ids[SE]].west  # its western neighbour's new name

    # The identify panel offers 编辑属性 while editing.
    window.select_grid(ids[SE])
    assert f"edit:{ids[SE]}" in window.info_panel.text()
    window.info_panel.label.linkActivated.emit(f"edit:{ids[SE]}")
    dialog = editing.attribute_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.grid_id == ids[SE] and dialog.flag_label.isVisible()
    assert "四至建议已变化" in dialog.flag_label.text() and "西南新社区" in dialog.flag_label.text()
    west = dialog.side_edits["west"]
    assert west.styleSheet() == DIFFERS_STYLE and "西南新社区" in west.toolTip()
    os.makedirs(SHOTS, exist_ok=True)
    dialog.grab().save(os.path.join(SHOTS, "attribute-dialog.png"))

    qtbot.mouseClick(dialog.suggest_button, Qt.MouseButton.LeftButton)
    assert west.text() == flagged[ids[SE]].west and west.styleSheet() == ""
    assert "一致" in dialog.flag_label.text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert ids[SE] not in session.four_bounds.flagged and editing.undo_stack.count() == 2
    assert session.grid(ids[SE]).west == "西南新社区"
    assert "西南新社区" in window.info_panel.text()  # the panel shows the grid as the session has it

    editing.actions["undo"].trigger()
    assert ids[SE] in session.four_bounds.flagged and session.grid(ids[SE]).west == noded_workspace.grids[SE].west


def test_f1_lists_the_edit_keys_from_the_actions_and_tools(qtbot, noded_workspace):
    window = edit_window(qtbot, noded_workspace.store)
    editing = window.editing
    shown = []

    def capture():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, ShortcutDialog):
            table = dialog.table
            shown.extend((table.item(r, 0).text(), table.item(r, 1).text() if table.item(r, 1) else "")
                         for r in range(table.rowCount()))
            dialog.reject()

    QTimer.singleShot(0, capture)
    window.canvas.setFocus()
    key_click(window.canvas, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: bool(shown))
    rows = dict(shown)
    assert "编辑" in rows  # the section's title row
    for key in ("tool_edit_draw", "tool_edit_vertex", "tool_edit_split", "tool_edit_shared_edge", "merge",
                "snapping", "save", "discard", "undo", "redo", "attributes"):
        action = editing.actions[key]
        assert action.shortcuts(), key
        keys = " / ".join(_key_text(s) for s in action.shortcuts())
        assert rows[action.text().rstrip("…")] == keys, key
    for tool in editing.tools.values():
        for what, keys in tool.gestures:
            assert rows[what] == keys
    drawing = dict(editing.tools["edit_draw"].gestures)
    assert {"回车", "退格", "Esc"} <= {k for keys in drawing.values() for k in keys.replace("/", " ").split()}
    assert rows["后退"] == "Alt+←"  # the map's own keys are still there
