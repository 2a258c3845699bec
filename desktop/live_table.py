"""Re-reading the lazy case table without losing the seat's place.

``CaseTableModel.reload()`` forgets every page (a reset), which clears the selection and jumps to
the top — right for a new filter, wrong when another seat merely added a case. ``KeepPlace``
remembers the selected case and the case at the top of the view, reloads, fetches pages until
those rows are back (bounded), then selects and scrolls to them again, with the selection
model's signals blocked so restoring the row does not re-centre the map as a click would.
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QAbstractItemView, QTableView

MAX_PAGES = 10  # never read more than this many pages just to find the old place again


class KeepPlace(QObject):
    def __init__(self, view: QTableView, previous: KeepPlace | None = None):
        super().__init__()
        self.previous = previous if previous is not None and not previous.done else None
        self.view = view
        self.model = view.model()
        self.selected_id: int | None = None
        self.top_id: int | None = None
        self.want_rows = 0
        self.scroll = 0
        self.done = False

    def reload(self) -> KeepPlace:
        view, model = self.view, self.model
        current = view.currentIndex()
        case = model.case_at(current.row()) if current.isValid() else None
        self.selected_id = case.id if case is not None else None
        top_row = view.rowAt(0)
        top = model.case_at(top_row) if top_row >= 0 else None
        self.top_id = top.id if top is not None else None
        self.scroll = view.verticalScrollBar().value()
        rows = [r for r in (current.row() if case is not None else -1, top_row) if r >= 0]
        self.want_rows = min(max(rows, default=0) + 1, MAX_PAGES * model.page_size)
        previous = self.previous
        if previous is not None:  # the last re-read has not found its place yet: keep looking for that one
            previous.done = True
            model.pageArrived.disconnect(previous._on_page)
            self.selected_id, self.top_id, self.scroll = previous.selected_id, previous.top_id, previous.scroll
            self.want_rows = previous.want_rows
            self.previous = None
        model.pageArrived.connect(self._on_page)
        model.reload()
        return self

    def _on_page(self, _page: int) -> None:
        if self.done:
            return
        model = self.model
        if model.rowCount() < self.want_rows and model.canFetchMore():
            model.fetchMore()
            return
        model.pageArrived.disconnect(self._on_page)
        self._restore()

    def _restore(self) -> None:
        view, model = self.view, self.model
        selected = model.row_of(self.selected_id) if self.selected_id is not None else None
        if selected is not None:
            selection = view.selectionModel()
            selection.blockSignals(True)
            view.setCurrentIndex(model.index(selected, 0))
            view.selectRow(selected)
            selection.blockSignals(False)
            view.viewport().update()
        top = model.row_of(self.top_id) if self.top_id is not None else None
        if top is not None:
            view.scrollTo(model.index(top, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        else:
            view.verticalScrollBar().setValue(self.scroll)
        self.done = True
