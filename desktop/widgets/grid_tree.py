"""The grid hierarchy as a Qt tree model: an adapter, it holds no data of its own.

Indexes carry an integer (position + 1 in the grid list) rather than a Python
object pointer: QModelIndex does not keep Python objects alive, integers need no
lifetime at all.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

from gis.domain import LEVEL_NAMES

GRID_ID_ROLE = Qt.ItemDataRole.UserRole + 1
LEVEL_ROLE = Qt.ItemDataRole.UserRole + 2

_ROOT = -1


class GridTreeModel(QAbstractItemModel):
    """Rows are grids (anything with id, parent_id, level, code, name), children under parents.

    A grid whose parent is not in the list becomes a top-level row, so a partial
    list (one district of a city) still shows as a tree.
    """

    COLUMNS = ("网格", "级别")

    def __init__(self, grids: Sequence = (), parent=None):
        super().__init__(parent)
        self._grids: list = []
        self._children: dict[int, list[int]] = {_ROOT: []}
        self._parent_pos: list[int] = []
        self._row: list[int] = []
        self._pos_by_id: dict[int, int] = {}
        self.set_grids(grids)

    def set_grids(self, grids: Sequence) -> None:
        self.beginResetModel()
        self._grids = list(grids)
        self._pos_by_id = {grid.id: pos for pos, grid in enumerate(self._grids)}
        self._children = {_ROOT: []}
        self._parent_pos = []
        self._row = []
        for grid in self._grids:
            parent_pos = self._pos_by_id.get(grid.parent_id, _ROOT)
            siblings = self._children.setdefault(parent_pos, [])
            self._parent_pos.append(parent_pos)
            self._row.append(len(siblings))
            siblings.append(len(self._parent_pos) - 1)
        self.endResetModel()

    # -- lookups --------------------------------------------------------------------
    def grid_at(self, index: QModelIndex):
        return self._grids[index.internalId() - 1] if index.isValid() else None

    def grid_id(self, index: QModelIndex) -> int | None:
        grid = self.grid_at(index)
        return None if grid is None else grid.id

    def index_for_grid(self, grid_id: int, column: int = 0) -> QModelIndex:
        pos = self._pos_by_id.get(grid_id)
        if pos is None:
            return QModelIndex()
        return self.createIndex(self._row[pos], column, pos + 1)

    # -- QAbstractItemModel ---------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        parent_pos = parent.internalId() - 1 if parent.isValid() else _ROOT
        return self.createIndex(row, column, self._children[parent_pos][row] + 1)

    def parent(self, index: QModelIndex | None = None):  # also QObject.parent() without arguments
        if index is None:
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        parent_pos = self._parent_pos[index.internalId() - 1]
        if parent_pos == _ROOT:
            return QModelIndex()
        return self.createIndex(self._row[parent_pos], 0, parent_pos + 1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if parent.isValid():
            if parent.column() > 0:
                return 0
            return len(self._children.get(parent.internalId() - 1, ()))
        return len(self._children[_ROOT])

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return len(self.COLUMNS)

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        return self.rowCount(parent) > 0

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        grid = self._grids[index.internalId() - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{grid.name} ({grid.code})" if index.column() == 0 else LEVEL_NAMES.get(grid.level, "")
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{LEVEL_NAMES.get(grid.level, '')}：{grid.name}\n编码 {grid.code}"
        if role == GRID_ID_ROLE:
            return grid.id
        if role == LEVEL_ROLE:
            return grid.level
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None
