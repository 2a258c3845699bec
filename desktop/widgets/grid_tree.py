"""The grid hierarchy as a Qt tree model: an adapter, it holds no data of its own.

Indexes carry an integer (position + 1 in the grid list) rather than a Python
object pointer: QModelIndex does not keep Python objects alive, integers need no
lifetime at all.

A data scope (a user restricted to one grid, gis.security) narrows the tree to that grid's
subtree; the grids above it stay as greyed, unselectable rows so the place in the hierarchy
still shows, and every other branch is left out.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from gis.domain import LEVEL_NAMES

GRID_ID_ROLE = Qt.ItemDataRole.UserRole + 1
LEVEL_ROLE = Qt.ItemDataRole.UserRole + 2
OUTSIDE_COLOUR = QColor(150, 150, 150)

_ROOT = -1


class GridTreeModel(QAbstractItemModel):
    """Rows are grids (anything with id, parent_id, level, code, name), children under parents.

    A grid whose parent is not in the list becomes a top-level row, so a partial
    list (one district of a city) still shows as a tree.
    """

    COLUMNS = ("网格", "级别")

    def __init__(self, grids: Sequence = (), parent=None):
        super().__init__(parent)
        self._all: list = []
        self._scope_root: int | None = None
        self._subtree: set[int] = set()  # with a scope: the grids inside it (the others are context)
        self._grids: list = []
        self._children: dict[int, list[int]] = {_ROOT: []}
        self._parent_pos: list[int] = []
        self._row: list[int] = []
        self._pos_by_id: dict[int, int] = {}
        self.set_grids(grids)

    def set_grids(self, grids: Sequence) -> None:
        self.beginResetModel()
        self._all = list(grids)
        self._grids, self._subtree = _scoped(self._all, self._scope_root)
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

    def set_scope(self, root_id: int | None) -> None:
        """Show only grid ``root_id`` and what lies below it (None: every grid). Kept across
        :meth:`set_grids`, so a reload or a live update stays within the scope."""
        if root_id != self._scope_root:
            self._scope_root = root_id
            self.set_grids(self._all)

    @property
    def scope_root(self) -> int | None:
        return self._scope_root

    def in_scope(self, grid_id: int | None) -> bool:
        """Whether the user may work on this grid: always without a scope, else inside the subtree."""
        return self._scope_root is None or grid_id in self._subtree

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

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if not self.in_scope(self._grids[index.internalId() - 1].id):
            return Qt.ItemFlag.NoItemFlags  # a grid above the scope: shown for orientation only
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        grid = self._grids[index.internalId() - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{grid.name} ({grid.code})" if index.column() == 0 else LEVEL_NAMES.get(grid.level, "")
        if role == Qt.ItemDataRole.ToolTipRole:
            outside = "" if self.in_scope(grid.id) else "\n不在您的数据范围内"
            return f"{LEVEL_NAMES.get(grid.level, '')}：{grid.name}\n编码 {grid.code}{outside}"
        if role == Qt.ItemDataRole.ForegroundRole and not self.in_scope(grid.id):
            return OUTSIDE_COLOUR
        if role == GRID_ID_ROLE:
            return grid.id
        if role == LEVEL_ROLE:
            return grid.level
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None


def _scoped(grids: list, root_id: int | None) -> tuple[list, set[int]]:
    """(the rows to show, the ids inside the scope): ``root_id``'s subtree by parent links, with its
    ancestors for context, in the given order. A root not in the list shows nothing — a scope
    never falls back to everything."""
    if root_id is None:
        return grids, set()
    by_id = {grid.id: grid for grid in grids}
    if root_id not in by_id:
        return [], set()
    children: dict[int, list[int]] = {}
    for grid in grids:
        children.setdefault(grid.parent_id, []).append(grid.id)
    inside, stack = set(), [root_id]
    while stack:
        grid_id = stack.pop()
        if grid_id not in inside:
            inside.add(grid_id)
            stack.extend(children.get(grid_id, ()))
    above, parent = set(), by_id[root_id].parent_id
    while parent in by_id and parent not in above:
        above.add(parent)
        parent = by_id[parent].parent_id
    return [grid for grid in grids if grid.id in inside or grid.id in above], inside
