"""Menu and tool-bar actions of the map, with their shortcuts, and the 帮助 → 快捷键 dialog.

One table defines every map action; menus, the tool bar and the shortcut list
are built from it, so the dialog can never disagree with the keys. Keys that
only make sense on the map (single letters, +/−, Home) are bound to the canvas,
so typing "s" in the search box never switches tools; the rest act window-wide.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QMenu, QSizePolicy, QStyle, QTableWidget,
    QTableWidgetItem, QToolBar, QVBoxLayout, QWidget,
)

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

MAP_ONLY = Qt.ShortcutContext.WidgetWithChildrenShortcut
WINDOW = Qt.ShortcutContext.WindowShortcut

# Mouse gestures and keys handled by the canvas itself (no action behind them).
GESTURES = (
    ("拖动地图（平移/识别工具）", "鼠标左键拖动"),
    ("任何工具下平移", "鼠标中键拖动"),
    ("以光标为中心缩放", "鼠标滚轮"),
    ("放大一级", "双击"),
    ("拉框放大（平移工具下）", "Shift+拖动"),
    ("追加 / 移除框选的网格", "Shift+框选 / Ctrl+框选"),
    ("平移地图", "← ↑ → ↓"),
    ("取消正在进行的拖动", "Esc"),
    ("缩放到指定比例尺", "在状态栏比例尺框输入 1:N 后回车"),
)


def _key_text(sequence: QKeySequence) -> str:
    text = sequence.toString(QKeySequence.SequenceFormat.NativeText)
    return text.replace("Left", "←").replace("Right", "→").replace("Up", "↑").replace("Down", "↓")


def _icon(window: QWidget, name: str | None):
    return window.style().standardIcon(getattr(QStyle.StandardPixmap, name)) if name else None


def install_map_actions(window: MainWindow, view_menu: QMenu, toolbar: QToolBar) -> dict[str, QAction]:
    """Create the map's actions, put them in the 视图 menu and tool bar; returns them by id.

    ``shortcuts`` (F1, the 快捷键 dialog) is in no menu: the window puts it under 帮助.
    """
    interaction, canvas = window.interaction, window.canvas
    actions: dict[str, QAction] = {}

    def add(key, text, shortcuts, slot, *, context=WINDOW, icon=None, menu=view_menu, bar=True, tip=""):
        action = QAction(text, window)
        if (pixmap := _icon(window, icon)) is not None:
            action.setIcon(pixmap)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(context)
        (canvas if context == MAP_ONLY else window).addAction(action)
        action.setToolTip(f"{tip or text}（{_key_text(action.shortcut())}）" if shortcuts else tip or text)
        action.triggered.connect(slot)
        if menu is not None:
            menu.addAction(action)
        if bar:
            toolbar.addAction(action)
        actions[key] = action
        return action

    tools_menu = view_menu.addMenu("地图工具")
    group = QActionGroup(window)
    group.setExclusive(True)
    for tool in interaction.tools.values():
        action = add(f"tool_{tool.id}", tool.text, [tool.shortcut], lambda _=False, t=tool: canvas.set_map_tool(t),
                     context=MAP_ONLY, menu=tools_menu, tip=tool.tooltip)
        action.setCheckable(True)
        action.setChecked(canvas.map_tool() is tool)
        group.addAction(action)
    canvas.toolChanged.connect(lambda tool: actions[f"tool_{tool.id}"].setChecked(True)
                               if f"tool_{tool.id}" in actions else None)
    toolbar.addSeparator()

    add("back", "后退", ["Alt+Left"], interaction.back, icon="SP_ArrowBack", tip="回到上一个视图")
    add("forward", "前进", ["Alt+Right"], interaction.forward, icon="SP_ArrowForward", tip="前进到下一个视图")
    view_menu.addSeparator()
    add("zoom_full", "全图", ["Home"], canvas.zoom_to_full, context=MAP_ONLY, tip="缩放到全部网格")
    add("zoom_in", "放大", ["+", "="], lambda: canvas.zoom_by(2.0), context=MAP_ONLY)
    add("zoom_out", "缩小", ["-"], lambda: canvas.zoom_by(0.5), context=MAP_ONLY)
    add("zoom_grid", "缩放至当前网格", ["Ctrl+G"], interaction.zoom_to_current_grid, bar=False,
        tip="缩放到信息面板中的网格或要素")
    add("zoom_selection", "缩放至选择", ["Ctrl+J"], interaction.zoom_to_selection, tip="缩放到框选的网格")
    add("clear_selection", "清除选择", ["Ctrl+Shift+A"], lambda: interaction.set_selection([]), bar=False)
    add("refresh", "刷新地图", ["F5"], canvas.refresh, bar=False)
    toolbar.addSeparator()
    spacer = QWidget()
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    toolbar.addWidget(spacer)  # the search box sits at the right end, where eyes look for it
    toolbar.addWidget(interaction.search_box)
    add("search", "搜索…", ["Ctrl+F"], interaction.focus_search, bar=False,
        tip="搜索网格名称或编码、污染源名称、案件编号")
    # Other modules add (title, actions, gestures) sections here (the 编辑 menu does).
    window.shortcut_sections = []
    add("shortcuts", "快捷键…", ["F1"],
        lambda: ShortcutDialog(actions.values(), window, sections=window.shortcut_sections).exec(),
        menu=None, bar=False)

    def update_history_buttons():
        actions["back"].setEnabled(interaction.history.can_back)
        actions["forward"].setEnabled(interaction.history.can_forward)

    interaction.history.on_change = update_history_buttons
    update_history_buttons()
    interaction.selectionChanged.connect(lambda n: actions["zoom_selection"].setEnabled(n > 0))
    actions["zoom_selection"].setEnabled(False)
    return actions


def shortcut_rows(actions, gestures=GESTURES) -> list[tuple[str, str]]:
    rows = [(action.text().rstrip("…"), " / ".join(_key_text(s) for s in action.shortcuts()))
            for action in actions if action.shortcuts()]
    return rows + list(gestures)


class ShortcutDialog(QDialog):
    """帮助 → 快捷键: every map key and gesture in one table, then each of ``sections``
    (``(title, actions, gestures)``) under a bold title row."""

    def __init__(self, actions, parent: QWidget | None = None, *, sections=()):
        super().__init__(parent)
        self.setWindowTitle("快捷键")
        rows: list[tuple[str, str] | str] = list(shortcut_rows(actions))
        for title, section_actions, gestures in sections:
            rows += [title, *shortcut_rows(section_actions, gestures)]
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["操作", "快捷键 / 鼠标"])
        for row, entry in enumerate(rows):
            if isinstance(entry, str):  # a section's title across both columns
                item = QTableWidgetItem(entry)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                self.table.setItem(row, 0, item)
                self.table.setSpan(row, 0, 1, 2)
                continue
            what, keys = entry
            self.table.setItem(row, 0, QTableWidgetItem(what))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        buttons = QDialogButtonBox()
        buttons.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)  # Qt's own "Close" is not translated
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, min(760, 90 + len(rows) * (self.fontMetrics().height() + 8)))
