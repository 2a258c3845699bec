"""The questions boundary editing asks: which level, what name, whose attributes stay, what to
do about a conflict, and the list of problems that refuse a save.

`EditPrompts` gathers them behind one small interface, so the controller never opens a
dialog itself and tests answer with a stand-in object.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QGridLayout, QHeaderView, QInputDialog, QLabel, QListWidget,
    QMessageBox, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from gis.domain import LEVEL_NAMES, Grid
from gis.editing import Conflict
from gis.validation import Problem

KIND_NAMES = {"invalid": "几何无效", "empty": "空几何", "gap": "缝隙", "overlap": "重叠", "outside_parent": "超出上级",
              "edge_mismatch": "公共边不一致", "wrong_level": "级别错误", "parent_missing": "缺少上级",
              "missing_leader": "缺网格长", "missing_staff": "缺网格员"}


class EditPrompts:
    """Every question the edit controller asks (modal dialogs over ``parent``)."""

    def __init__(self, parent: QWidget):
        self.parent = parent

    def choose_level(self, levels: Sequence[int], default: int) -> int | None:
        items = [LEVEL_NAMES.get(level, f"{level}级网格") for level in levels]
        current = levels.index(default) if default in levels else 0
        text, ok = QInputDialog.getItem(self.parent, "开始编辑", "编辑哪一级网格的边界：", items, current, False)
        return levels[items.index(text)] if ok else None

    def ask_name(self, default: str) -> str | None:
        text, ok = QInputDialog.getText(self.parent, "新建网格", "网格名称：", text=default)
        return text.strip() or default if ok else None

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.parent, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def choose_keeper(self, grids: Sequence[Grid]) -> int | None:
        items = [f"{g.name}（{g.code}）" for g in grids]
        text, ok = QInputDialog.getItem(self.parent, "合并网格", "合并后保留哪个网格的名称、编码和属性：", items, 0, False)
        return grids[items.index(text)].id if ok else None

    def warn(self, title: str, text: str, *, loud: bool = False) -> None:
        (QMessageBox.critical if loud else QMessageBox.warning)(self.parent, title, text)

    def show_problems(self, problems: Sequence[Problem], *, refused: bool,
                      zoom: Callable[[Problem], None] | None = None) -> None:
        ProblemsDialog(problems, refused=refused, zoom=zoom, parent=self.parent).exec()

    def resolve_conflict(self, conflicts: Sequence[Conflict]) -> str:
        dialog = ConflictDialog(conflicts, self.parent)
        dialog.exec()
        return dialog.choice


class ProblemsDialog(QDialog):
    """Validation problems of a save: errors first; double-click (or 定位) zooms to one."""

    def __init__(self, problems: Sequence[Problem], *, refused: bool, zoom=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.problems = list(problems)
        errors = sum(p.is_error for p in self.problems)
        self.setWindowTitle("不能保存" if refused else "已保存（有警告）")
        head = QLabel(f"发现 {errors} 个错误，修改未保存。请修复后再保存（警告不影响保存）。" if refused
                      else f"修改已保存；另有 {len(self.problems)} 条警告，请留意。")
        head.setWordWrap(True)
        self.table = QTableWidget(len(self.problems), 5, self)
        self.table.setHorizontalHeaderLabels(["严重程度", "类型", "网格", "面积（m²）", "说明"])
        for row, p in enumerate(self.problems):
            cells = ["错误" if p.is_error else "警告", KIND_NAMES.get(p.kind, p.kind), "、".join(p.grids),
                     f"{p.area_m2:,.1f}" if p.area_m2 else "", p.message]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(p.message)
                if col == 0:
                    item.setForeground(QColor("#c62828") if p.is_error else QColor("#ef6c00"))
                self.table.setItem(row, col, item)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox()
        if zoom is not None:
            locate = buttons.addButton("定位", QDialogButtonBox.ButtonRole.ActionRole)
            locate.clicked.connect(lambda: self._zoom(zoom))
            self.table.cellDoubleClicked.connect(lambda *_: self._zoom(zoom))
        buttons.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(820, 360)

    def _zoom(self, zoom) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.problems):
            zoom(self.problems[row])


class GeometryPreview(QWidget):
    """A grid outline drawn to fit, the other version faint behind it for comparison."""

    def __init__(self, geometry, other=None, colour: str = "#1565c0", parent: QWidget | None = None):
        super().__init__(parent)
        self.geometry, self.other, self.colour = geometry, other, QColor(colour)
        self.setMinimumSize(260, 220)

    def set_geometries(self, geometry, other) -> None:
        self.geometry, self.other = geometry, other
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#fafafa"))
        shown = [g for g in (self.geometry, self.other) if g is not None and not g.is_empty]
        if not shown:
            painter.setPen(QColor("#9e9e9e"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "（已删除）")
            painter.end()
            return
        x0, y0, x1, y1 = shapely.total_bounds(shown)
        scale_y = np.cos(np.radians((y0 + y1) / 2))
        box = QRectF(self.rect()).adjusted(12, 12, -12, -12)
        k = min(box.width() / max((x1 - x0) * scale_y, 1e-12), box.height() / max(y1 - y0, 1e-12))

        def path(geom) -> QPainterPath:
            out = QPainterPath()
            out.setFillRule(Qt.FillRule.OddEvenFill)
            for ring in shapely.get_rings(shapely.get_parts(geom)):
                coords = shapely.get_coordinates(ring)
                out.addPolygon(QPolygonF([QPointF(box.left() + (x - x0) * scale_y * k, box.bottom() - (y - y0) * k)
                                          for x, y in coords.tolist()]))
                out.closeSubpath()
            return out

        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.other is not None and not self.other.is_empty:
            pen = QPen(QColor("#9e9e9e"), 1.5)
            pen.setStyle(Qt.PenStyle.DashLine)
            painter.strokePath(path(self.other), pen)
        if self.geometry is not None and not self.geometry.is_empty:
            fill = QColor(self.colour)
            fill.setAlpha(50)
            main = path(self.geometry)
            painter.fillPath(main, fill)
            painter.strokePath(main, QPen(self.colour, 2.0))
        painter.end()


def _describe(grid: Grid | None) -> str:
    if grid is None:
        return "已被删除"
    bounds = "，".join(f"{side}至{getattr(grid, key) or '—'}"
                      for side, key in (("东", "east"), ("南", "south"), ("西", "west"), ("北", "north")))
    return (f"名称：{grid.name}\n编码：{grid.code}\n版本：{grid.version}\n面积：{grid.area_m2 / 1e4:,.2f} 公顷\n"
            f"顶点数：{len(shapely.get_coordinates(grid.boundary)):,}\n四至：{bounds}")


class ConflictDialog(QDialog):
    """Someone else saved some of the same grids: theirs and yours side by side, and a choice.

    ``choice`` is ``"mine"`` (save my version over theirs, knowingly), ``"theirs"`` (drop my
    unsaved edits and load the current state) or ``"cancel"`` (keep editing, nothing saved).
    """

    def __init__(self, conflicts: Sequence[Conflict], parent: QWidget | None = None):
        super().__init__(parent)
        self.conflicts = list(conflicts)
        self.choice = "cancel"
        self.setWindowTitle("保存冲突")
        head = QLabel(f"以下 {len(self.conflicts)} 个网格在您载入后已被他人修改或删除，您的修改尚未保存。"
                      "请对照两个版本后选择：")
        head.setWordWrap(True)
        self.list = QListWidget()
        for c in self.conflicts:
            grid = c.mine or c.theirs
            self.list.addItem(f"{grid.name if grid else ''}（{c.code}）")
        self.list.setMaximumHeight(90)
        self.theirs_view = GeometryPreview(None, colour="#c62828")
        self.mine_view = GeometryPreview(None, colour="#1565c0")
        self.theirs_text, self.mine_text = QLabel(), QLabel()
        grid = QGridLayout()
        grid.addWidget(QLabel("<b>他人保存的版本</b>（灰色虚线：您的版本）"), 0, 0)
        grid.addWidget(QLabel("<b>您的版本</b>（灰色虚线：他人的版本）"), 0, 1)
        grid.addWidget(self.theirs_view, 1, 0)
        grid.addWidget(self.mine_view, 1, 1)
        grid.addWidget(self.theirs_text, 2, 0)
        grid.addWidget(self.mine_text, 2, 1)
        self.list.currentRowChanged.connect(self._show)
        buttons = QDialogButtonBox()
        self.mine_button = QPushButton("保留我的修改（覆盖他人的版本）")
        self.theirs_button = QPushButton("采用他人的版本（放弃我未保存的修改）")
        cancel = QPushButton("取消，继续编辑")
        buttons.addButton(self.mine_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.theirs_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        self.mine_button.clicked.connect(lambda: self._choose("mine"))
        self.theirs_button.clicked.connect(lambda: self._choose("theirs"))
        cancel.clicked.connect(lambda: self._choose("cancel"))
        if any(c.theirs is None for c in self.conflicts):
            self.mine_button.setEnabled(False)
            self.mine_button.setToolTip("有网格已被他人删除，不能用您的版本覆盖")
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.list)
        layout.addLayout(grid)
        layout.addWidget(buttons)
        self.list.setCurrentRow(0)
        self.resize(700, 560)

    def _show(self, row: int) -> None:
        if not 0 <= row < len(self.conflicts):
            return
        c = self.conflicts[row]
        theirs = c.theirs.boundary if c.theirs is not None else None
        mine = c.mine.boundary if c.mine is not None else None
        self.theirs_view.set_geometries(theirs, mine)
        self.mine_view.set_geometries(mine, theirs)
        self.theirs_text.setText(_describe(c.theirs))
        self.mine_text.setText(_describe(c.mine))

    def _choose(self, choice: str) -> None:
        self.choice = choice
        (self.reject if choice == "cancel" else self.accept)()
