"""The 编辑 menu and tool bar: start/save/discard, undo/redo, the editing tools, merge, delete,
grid attributes, snapping; the right-click menus of the map and the grid tree while editing.

``install_editing(window)`` builds the controller and its actions and returns the controller
(``window.editing``); ``controller.actions`` holds the actions by id. Everything but 开始编辑 is
disabled outside an edit session. Tool keys are bound to the canvas (typing in a text box never
switches tools), the others act window-wide. The 快捷键 dialog (F1) lists these actions and the
keys the tools handle themselves (``gestures``), as a section of its own.
"""
from __future__ import annotations

import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from desktop.editing.controller import EditController
from desktop.map_actions import MAP_ONLY, WINDOW, _key_text
from gis.domain import LEVEL_NAMES
from gis.editing import DeleteGridCommand, MergeGridsCommand


def install_editing(window) -> EditController:
    controller = EditController(window)
    canvas = window.canvas
    menu = window.menuBar().addMenu("编辑(&E)")
    toolbar = window.addToolBar("编辑")
    toolbar.setObjectName("editToolBar")
    actions: dict[str, QAction] = {}
    session_only: list[QAction] = []

    def add(key, text, shortcuts, slot, *, context=WINDOW, bar=True, tip="", checkable=False, in_session=True):
        action = QAction(text, window)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(context)
        (canvas if context == MAP_ONLY else window).addAction(action)
        keys = _key_text(action.shortcut()) if shortcuts else ""
        action.setToolTip(f"{tip or text}（{keys}）" if keys else tip or text)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        if bar:
            toolbar.addAction(action)
        if in_session:
            session_only.append(action)
        actions[key] = action
        return action

    add("start", "开始编辑…", ["Ctrl+E"], lambda: controller.start(), tip="选择网格级别，开始编辑边界",
        in_session=False)
    add("save", "保存编辑", ["Ctrl+S"], controller.save, tip="校验并保存全部修改（有错误时拒绝保存）")
    add("discard", "放弃编辑", ["Ctrl+Shift+E"], lambda: controller.discard(), tip="放弃全部未保存的修改，结束编辑")
    menu.addSeparator()
    undo = add("undo", "撤销", ["Ctrl+Z"], controller.undo, tip="撤销上一步编辑")
    redo = add("redo", "重做", ["Ctrl+Shift+Z", "Ctrl+Y"], controller.redo, tip="重做")
    menu.addSeparator()
    toolbar.addSeparator()
    group = QActionGroup(window)
    group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
    for tool in controller.tools.values():
        action = add(f"tool_{tool.id}", tool.text, [tool.shortcut], lambda _=False, t=tool: canvas.set_map_tool(t),
                     context=MAP_ONLY, tip=tool.tooltip, checkable=True)
        group.addAction(action)
    def check_tool(tool) -> None:  # the view tools (平移…) are another group: untick ours
        for action in group.actions():
            action.setChecked(action is actions.get(f"tool_{tool.id}"))

    canvas.toolChanged.connect(check_tool)
    menu.addSeparator()
    add("merge", "合并网格", ["M"], lambda: merge_chosen(controller), context=MAP_ONLY,
        tip="合并用顶点工具选中的网格（同一级别、同一上级），选择保留谁的属性")
    add("delete_grid", "删除网格", ["Ctrl+Delete"], lambda: delete_chosen(controller), bar=False,
        tip="删除选中的一个网格（其范围成为空隙）")
    add("attributes", "网格属性…", ["A"], lambda: controller.edit_attributes(), context=MAP_ONLY,
        tip="修改选中网格的名称、编码和四至（可按边界推算四至）")
    menu.addSeparator()
    snapping = add("snapping", "吸附", ["Shift+S"], lambda on: setattr(controller, "snapping", on), bar=True,
                   context=MAP_ONLY, tip=f"吸附到可见网格的顶点和边（{controller.snap_px:g} 像素内）",
                   checkable=True)
    snapping.setChecked(controller.snapping)
    avoid = add("avoid_overlap", "避让重叠", [], lambda on: setattr(controller, "avoid_overlap", on), bar=False,
                tip="新绘制的网格裁剪到上级网格内的空白区域", checkable=True)
    avoid.setChecked(controller.avoid_overlap)

    def sync():
        if not shiboken6.isValid(controller.undo_stack):  # the window is being torn down
            return
        editing = controller.editing
        for action in session_only:
            action.setEnabled(editing)
        actions["start"].setEnabled(not editing)
        undo.setEnabled(editing and controller.undo_stack.canUndo())
        redo.setEnabled(editing and controller.undo_stack.canRedo())
        undo.setText(f"撤销 {controller.undo_stack.undoText()}".strip())
        redo.setText(f"重做 {controller.undo_stack.redoText()}".strip())
        actions["merge"].setEnabled(editing and len(controller.chosen) >= 2)
        actions["delete_grid"].setEnabled(editing and len(controller.chosen) == 1)
        actions["attributes"].setEnabled(editing)
        title = f"编辑中：{LEVEL_NAMES.get(controller.level, '')}" if editing else ""
        if editing and controller.is_dirty:
            title += f"（{len(controller.session.dirty_ids())} 个网格未保存）"
        controller.status_label.setText(title)

    from PySide6.QtWidgets import QLabel

    controller.status_label = QLabel()
    controller.status_label.setStyleSheet("color: #bf360c; font-weight: bold;")
    window.statusBar().addPermanentWidget(controller.status_label)
    controller.undo_stack.indexChanged.connect(lambda _: sync())
    controller.undo_stack.cleanChanged.connect(lambda _: sync())
    controller.editStarted.connect(lambda _: sync())
    controller.editEnded.connect(sync)
    controller.sessionChanged.connect(lambda _: sync())
    controller.chosenChanged.connect(sync)
    controller.saved.connect(lambda _: sync())
    controller.actions = actions
    sync()
    _install_menus(window, controller)
    sections = getattr(window, "shortcut_sections", None)
    if sections is not None:  # the 快捷键 dialog (desktop.map_actions) lists the edit keys too
        gestures = [g for tool in controller.tools.values() for g in tool.gestures]
        sections.append(("编辑", list(actions.values()), gestures))
    return controller


def _install_menus(window, controller: EditController) -> None:
    """Right-click on the map or the grid tree, and the identify panel's link, while editing."""
    canvas = window.canvas
    canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    canvas.customContextMenuRequested.connect(lambda pos: _popup(controller, canvas, map_menu(controller, pos), pos))
    tree = getattr(window, "grid_view", None)
    if tree is not None:
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(
            lambda pos: _popup(controller, tree.viewport(), tree_menu(controller, tree.indexAt(pos)), pos))
    panel = getattr(window, "info_panel", None)
    if panel is not None and hasattr(panel, "editRequested"):
        panel.editRequested.connect(controller.edit_attributes)


def _popup(controller: EditController, widget, menu: QMenu | None, pos: QPoint) -> None:
    controller.menu = menu
    if menu is not None:
        menu.popup(widget.mapToGlobal(pos))


def map_menu(controller: EditController, pos: QPoint) -> QMenu | None:
    """The map's right-click menu while editing: the grid under the cursor, the tools, undo, save."""
    if not controller.editing:
        return None
    lon, lat = controller.canvas.lonlat_at(pos.x(), pos.y())
    grid = controller.grid_at(lon, lat)
    menu = QMenu(controller.canvas)
    if grid is not None:
        menu.addAction(f"“{grid.name}”的属性…", lambda: controller.edit_attributes(grid.id))
        menu.addSeparator()
    actions = controller.actions
    for key in [f"tool_{tool_id}" for tool_id in controller.tools] + [None, "undo", "redo", None, "save"]:
        if key is None:
            menu.addSeparator()
        else:
            menu.addAction(actions[key])
    return menu


def tree_menu(controller: EditController, index) -> QMenu | None:
    window = controller.window
    grid = window.grid_model.grid_at(window.grid_proxy.mapToSource(index)) if index.isValid() else None
    if grid is None:
        return None
    menu = QMenu(window.grid_view)
    editable = controller.editing and grid.id in controller.session.grids
    name = controller.session.grids[grid.id].name if editable else ""  # as renamed in the session
    action = menu.addAction(f"“{name}”的属性…" if editable else "网格属性…（请先开始编辑）",
                            lambda: controller.edit_attributes(grid.id))
    action.setEnabled(editable)
    return menu


def merge_chosen(controller: EditController) -> bool:
    """合并网格: the grids picked with the vertex tool, keeping the attributes of the one chosen."""
    session = controller.session
    if session is None or len(controller.chosen) < 2:
        controller.say("请先用顶点工具选中至少两个网格（Shift+单击追加）", warn=True)
        return False
    grids = [session.grid(i) for i in controller.chosen]
    keep = controller.prompts.choose_keeper(grids)
    if keep is None:
        return False
    ids = list(controller.chosen)
    if controller.run(lambda: MergeGridsCommand(session, ids, keep), "合并"):
        controller.set_chosen([keep])
        return True
    return False


def delete_chosen(controller: EditController) -> bool:
    session = controller.session
    if session is None or len(controller.chosen) != 1:
        controller.say("请先选中一个网格", warn=True)
        return False
    grid = session.grid(controller.chosen[0])
    if not controller.prompts.confirm("删除网格", f"删除网格“{grid.name}”（{grid.code}）？其范围将成为空隙。"):
        return False
    if controller.run(lambda: DeleteGridCommand(session, grid.id), "删除网格"):
        controller.set_chosen([])
        return True
    return False
