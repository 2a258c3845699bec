"""Table models of the problem panel: validation problems, and grids whose 四至 needs review.

Adapters only: they hold the lists they are given and format them; no queries.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from gis.domain import LEVEL_NAMES
from gis.four_bounds import FourBounds
from gis.validation import Problem

KIND_NAMES = {
    "invalid": "几何无效", "empty": "边界为空", "gap": "空隙", "overlap": "重叠", "outside_parent": "超出上级网格",
    "edge_mismatch": "公共边不一致", "wrong_level": "上级级别错误", "parent_missing": "上级网格缺失",
    "missing_leader": "缺网格长", "missing_staff": "缺网格员",
}
SEVERITY_NAMES = {"error": "错误", "warning": "警告"}
FIXABLE = ("gap", "overlap", "edge_mismatch")

_ERROR_BG = QColor("#fdecea")
_WARNING_BG = QColor("#fff8e1")


class _RowsTableModel(QAbstractTableModel):
    """A read-only table over a list of rows: subclasses give COLUMNS and ``data``."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def set_rows(self, rows: Sequence) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int):
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None


class ProblemTableModel(_RowsTableModel):
    COLUMNS = ("严重程度", "类型", "级别", "网格", "面积(㎡)", "说明")

    @property
    def problems(self) -> list[Problem]:
        return self.rows

    def set_problems(self, problems: Sequence[Problem]) -> None:
        self.set_rows(problems)

    def problem_at(self, row: int) -> Problem | None:
        return self.row_at(row)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        problem = self.problem_at(index.row())
        if problem is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (SEVERITY_NAMES.get(problem.severity, problem.severity), KIND_NAMES.get(problem.kind, problem.kind),
                    LEVEL_NAMES.get(problem.level, str(problem.level)), "、".join(problem.grids),
                    f"{problem.area_m2:,.1f}" if problem.area_m2 else "", problem.message)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return problem.message
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(_ERROR_BG if problem.is_error else _WARNING_BG)
        if role == Qt.ItemDataRole.ForegroundRole and column == 0:
            return QBrush(QColor("#c62828" if problem.is_error else "#8d6e00"))
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """A grid whose 四至 no longer fits its boundary: what it says, and what the geometry suggests."""

    grid_id: int
    code: str
    name: str
    current: FourBounds
    suggested: FourBounds


class FourBoundsReviewModel(_RowsTableModel):
    COLUMNS = ("网格", "编码", "现四至", "建议四至")

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index.row())
        if row is None or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        sep = "\n" if role == Qt.ItemDataRole.ToolTipRole else "，"
        return (row.name, row.code, sep.join(row.current.phrases()), sep.join(row.suggested.phrases()))[index.column()]
