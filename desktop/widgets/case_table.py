"""Cases as a lazy Qt table over a query: ``data()`` formats cached rows, it never queries.

The model asks a fetcher (``desktop.case_fetcher``) for pages of ``page_size`` rows, off the GUI
thread, and appends them as the view scrolls (``canFetchMore``/``fetchMore``): a million matching
cases cost one page until someone scrolls. Each page starts after the last row of the page before
(keyset), so page 5,000 is as quick as page 1. Pages live in a bounded LRU cache; a page scrolled
back to after it was dropped is asked for again (the view shows ``…`` meanwhile). Sorting by a
header re-runs the query in the database with another ORDER BY.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor

from gis.domain import OPEN_STATES, CaseSummary
from gis.storage.case_queries import CaseFilter, CaseOrder

CASE_ID_ROLE = Qt.ItemDataRole.UserRole + 2
CASE_ROLE = Qt.ItemDataRole.UserRole + 3

OVERDUE_COLOUR = QColor("#c62828")
OPEN_COLOUR = QColor("#e65100")
CLOSED_COLOUR = QColor("#78909c")
LOADING_TEXT = "…"
PAGE_SIZE = 200
MAX_CACHED_PAGES = 64  # ~13,000 rows in memory however far the seat scrolls


def format_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


class CaseTableModel(QAbstractTableModel):
    """Rows of ``gis.domain.CaseSummary`` matching a ``CaseFilter``, in a ``CaseOrder``.

    ``now`` decides what counts as overdue; the window passes None (the clock), tests a fixed time.
    """

    COLUMNS = ("编号", "来源", "类别", "状态", "网格", "上报时间", "期限")
    SORT_COLUMNS = ("number", "source", "category", "state", "grid", "created_at", "due_at")

    countChanged = Signal(int)      # matching cases; -1 while counting
    loadingChanged = Signal(bool)   # a page is on its way
    pageArrived = Signal(int)       # page number

    def __init__(self, fetcher, *, page_size: int = PAGE_SIZE, max_cached_pages: int = MAX_CACHED_PAGES,
                 now: datetime | None = None, parent=None):
        super().__init__(parent)
        self.fetcher = fetcher
        self.page_size = page_size
        self.max_cached_pages = max(2, max_cached_pages)
        self._now = now
        self._filter = CaseFilter()
        self._order = CaseOrder()
        self._generation = 0
        self._active = False
        self._reset_state()
        self._wanted: set[int] = set()
        self._want_timer = QTimer(self)
        self._want_timer.setSingleShot(True)
        self._want_timer.setInterval(0)
        self._want_timer.timeout.connect(self._request_wanted)

    def _reset_state(self) -> None:
        self._rows = 0                      # rows the view knows about
        self._starts: list[tuple | None] = [None]  # keyset before each discovered page
        self._cache: OrderedDict[int, list[CaseSummary]] = OrderedDict()
        self._in_flight: set[int] = set()
        self._exhausted = False
        self._total: int | None = None

    # -- what to show ---------------------------------------------------------------------------
    @property
    def filter(self) -> CaseFilter:
        return self._filter

    @property
    def order(self) -> CaseOrder:
        return self._order

    @property
    def total(self) -> int | None:
        """Matching cases, once counted."""
        return self._total

    def set_query(self, f: CaseFilter | None = None, order: CaseOrder | None = None) -> None:
        """Show ``f`` in ``order`` (either kept if None): forget every page, fetch the first and the count."""
        self.beginResetModel()
        self._filter = f if f is not None else self._filter
        self._order = order if order is not None else self._order
        self._generation += 1
        self._active = True
        self._reset_state()
        self.endResetModel()
        self.countChanged.emit(-1)
        generation = self._generation
        self.fetcher.fetch_count(self._filter, lambda n: self._on_count(generation, n))
        self.fetchMore()

    def set_filter(self, f: CaseFilter) -> None:
        self.set_query(f, None)

    def reload(self) -> None:
        """Read again (new or changed cases), keeping filter and order."""
        self.set_query(self._filter, self._order)

    def set_now(self, now: datetime | None) -> None:
        self._now = now
        if self._rows:
            self.dataChanged.emit(self.index(0, 3), self.index(self._rows - 1, 6))

    # -- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        if parent.isValid() or not self._active or self._exhausted:
            return False
        return self._rows // self.page_size not in self._in_flight

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:
        if self.canFetchMore(parent):
            self._request(self._rows // self.page_size)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(self.SORT_COLUMNS):
            wanted = CaseOrder(self.SORT_COLUMNS[column], order == Qt.SortOrder.DescendingOrder)
            if wanted != self._order or not self._active:
                self.set_query(None, wanted)

    def sort_section(self) -> tuple[int, Qt.SortOrder]:
        """Header section and direction of the current order (for the header's indicator)."""
        return (self.SORT_COLUMNS.index(self._order.column),
                Qt.SortOrder.DescendingOrder if self._order.descending else Qt.SortOrder.AscendingOrder)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return self.COLUMNS[section] if orientation == Qt.Orientation.Horizontal else section + 1

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        case = self.case_at(index.row())
        column = index.column()
        if case is None:
            return LOADING_TEXT if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(case, column)
        if role == CASE_ID_ROLE:
            return case.id
        if role == CASE_ROLE:
            return case
        if role == Qt.ItemDataRole.ForegroundRole and column in (3, 6):
            if self.is_overdue(case):
                return OVERDUE_COLOUR
            return OPEN_COLOUR if case.state in OPEN_STATES else CLOSED_COLOUR
        if role == Qt.ItemDataRole.ToolTipRole:
            address = case.extra.get("address") if case.extra else ""
            return "\n".join(t for t in (case.description, address) if t) or None
        return None

    # -- rows -----------------------------------------------------------------------------------
    def case_at(self, row: int) -> CaseSummary | None:
        """The case in ``row`` if its page is cached; otherwise None, and the page is asked for."""
        if not 0 <= row < self._rows:
            return None
        page, offset = divmod(row, self.page_size)
        rows = self._cache.get(page)
        if rows is None:
            self._want(page)
            return None
        self._cache.move_to_end(page)
        return rows[offset] if offset < len(rows) else None

    def loaded_cases(self) -> list[CaseSummary]:
        """The cached rows, in order (what the view can show without asking)."""
        return [case for page in sorted(self._cache) for case in self._cache[page]]

    def row_of(self, case_id: int) -> int | None:
        for page, rows in self._cache.items():
            for offset, case in enumerate(rows):
                if case.id == case_id:
                    return page * self.page_size + offset
        return None

    def is_overdue(self, case: CaseSummary) -> bool:
        now = self._now or datetime.now()
        return case.state in OPEN_STATES and case.due_at is not None and case.due_at < now

    @property
    def cached_pages(self) -> list[int]:
        return sorted(self._cache)

    @property
    def loading(self) -> bool:
        return bool(self._in_flight)

    def _display(self, case: CaseSummary, column: int) -> str:
        if column == 6:
            due = format_time(case.due_at)
            return f"{due}（已超期）" if due and self.is_overdue(case) else due
        if column == 5:
            return format_time(case.created_at)
        return (case.number, case.source, case.category, case.state, case.grid_name)[column]

    # -- fetching -------------------------------------------------------------------------------
    def _want(self, page: int) -> None:
        # data() must not change the model under the view's feet: ask a moment later.
        if page not in self._in_flight:
            self._wanted.add(page)
            self._want_timer.start()

    def _request_wanted(self) -> None:
        wanted, self._wanted = self._wanted, set()
        for page in sorted(wanted):
            if page not in self._cache and page < len(self._starts):
                self._request(page)

    def _request(self, page: int) -> None:
        if page in self._in_flight or page >= len(self._starts):
            return
        self._in_flight.add(page)
        if len(self._in_flight) == 1:
            self.loadingChanged.emit(True)
        generation = self._generation
        self.fetcher.fetch_page(self._filter, self._order, self._starts[page], self.page_size,
                                lambda rows: self._on_page(generation, page, rows))

    def _on_count(self, generation: int, total: int) -> None:
        if generation == self._generation:
            self._total = int(total)
            self.countChanged.emit(self._total)

    def _on_page(self, generation: int, page: int, rows: list[CaseSummary]) -> None:
        if generation != self._generation:
            return
        self._in_flight.discard(page)
        first = page * self.page_size
        self._cache[page] = list(rows)
        self._cache.move_to_end(page)
        if first == self._rows:  # a new page at the end
            if rows:
                self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
                self._rows += len(rows)
                self.endInsertRows()
            if len(rows) == self.page_size:
                self._starts.append(self._order.keyset_of(rows[-1]))
            else:
                self._exhausted = True
        elif first < self._rows:  # a page dropped from the cache, read again
            last = min(self._rows, first + self.page_size) - 1
            self.dataChanged.emit(self.index(first, 0), self.index(last, self.columnCount() - 1))
        self._evict(keep=page)
        if not self._in_flight:
            self.loadingChanged.emit(False)
        self.pageArrived.emit(page)

    def _evict(self, keep: int) -> None:
        while len(self._cache) > self.max_cached_pages:
            oldest = next(iter(self._cache))
            if oldest == keep:
                self._cache.move_to_end(oldest)
                continue
            del self._cache[oldest]
