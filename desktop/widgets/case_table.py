"""Cases as a Qt table: ``data()`` formats a CaseSummary, it never queries the database."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor

from gis.domain import OPEN_STATES, CaseSummary

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
CASE_ID_ROLE = Qt.ItemDataRole.UserRole + 2

OVERDUE_COLOUR = QColor("#c62828")
OPEN_COLOUR = QColor("#e65100")
CLOSED_COLOUR = QColor("#78909c")


def format_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


class CaseTableModel(QAbstractTableModel):
    """Rows are ``gis.domain.CaseSummary`` objects, newest first as the store returns them.

    ``now`` decides what counts as overdue; the window passes the current time,
    tests a fixed one.
    """

    COLUMNS = ("编号", "来源", "类别", "状态", "网格", "上报时间", "期限")

    def __init__(self, cases: Sequence[CaseSummary] = (), now: datetime | None = None, parent=None):
        super().__init__(parent)
        self._cases: list[CaseSummary] = list(cases)
        self._now = now

    def set_cases(self, cases: Sequence[CaseSummary], now: datetime | None = None) -> None:
        self.beginResetModel()
        self._cases = list(cases)
        if now is not None:
            self._now = now
        self.endResetModel()

    def case_at(self, row: int) -> CaseSummary:
        return self._cases[row]

    def cases(self) -> list[CaseSummary]:
        return list(self._cases)

    def is_overdue(self, case: CaseSummary) -> bool:
        now = self._now or datetime.now()
        return case.state in OPEN_STATES and case.due_at is not None and case.due_at < now

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._cases)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        case = self._cases[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(case, column)
        if role == SORT_ROLE:
            return self._sort_key(case, column)
        if role == CASE_ID_ROLE:
            return case.id
        if role == Qt.ItemDataRole.ForegroundRole and column in (3, 6):
            if self.is_overdue(case):
                return OVERDUE_COLOUR
            return OPEN_COLOUR if case.state in OPEN_STATES else CLOSED_COLOUR
        if role == Qt.ItemDataRole.ToolTipRole:
            return case.description or None
        return None

    def _display(self, case: CaseSummary, column: int) -> str:
        if column == 6:
            due = format_time(case.due_at)
            return f"{due}（已超期）" if due and self.is_overdue(case) else due
        if column == 5:
            return format_time(case.created_at)
        return (case.number, case.source, case.category, case.state, case.grid_name)[column]

    @staticmethod
    def _sort_key(case: CaseSummary, column: int):
        # Times sort as ISO text so missing values ("") come first instead of raising.
        if column == 5:
            return case.created_at.isoformat() if case.created_at else ""
        if column == 6:
            return case.due_at.isoformat() if case.due_at else ""
        return (case.number, case.source, case.category, case.state, case.grid_name)[column]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return self.COLUMNS[section] if orientation == Qt.Orientation.Horizontal else section + 1


def case_sort_proxy(model: CaseTableModel, parent=None) -> QSortFilterProxyModel:
    """A proxy that sorts by raw values (times, not their text) and filters on any column."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy
