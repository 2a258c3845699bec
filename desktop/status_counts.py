"""The status bar's counts — 网格 · 污染源 · 案件（未办结） — for what the window's user may see.

Without a data scope they are the workspace's, as loaded and as the live feed keeps them
(``WorkspaceData.case_count``, the running totals of desktop.live_apply). For a user restricted
to one grid (desktop.scope_view) they are the scope's: grids and pollution sources of its
subtree counted in memory (``GridTreeModel.in_scope``), its cases counted in SQL off the GUI
thread with the scope's case filter (``gis.storage.case_stats.cases_by_state``) — after a load,
a change of user and, at most every :data:`RECOUNT_MS`, while case changes stream in.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from desktop.workers import run_in_background
from gis.domain import OPEN_STATES

RECOUNT_MS = 300  # a burst of live case changes is one recount of the scope's cases
RETRY_MS = 5000


def counts_text(grids: int, sources: int, cases: int | None, open_cases: int | None) -> str:
    text = f"网格 {grids:,} · 污染源 {sources:,} · "
    if cases is None:
        return text + "案件 …"  # a scope's cases are being counted
    return text + f"案件 {cases:,}（未办结 {open_cases:,}）"


def scope_case_counts(store, scope_grid_id: int) -> tuple[int, int]:
    """(all, open) cases in the subtree of ``scope_grid_id``, in one query (worker thread)."""
    from gis.storage.case_queries import CaseFilter
    from gis.storage.case_stats import cases_by_state

    with store.engine.connect() as connection:
        by_state = cases_by_state(connection, CaseFilter(scope_grid_id=scope_grid_id))
    return sum(by_state.values()), sum(n for state, n in by_state.items() if state in OPEN_STATES)


class StatusCounts(QObject):
    """Writes ``window.counts_label``; see the module docstring."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self._cases: tuple | None = None  # (store, scope grid id, all, open) as last counted
        self._counting = False
        self._again = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RECOUNT_MS)
        self._timer.timeout.connect(self._recount)

    @property
    def busy(self) -> bool:
        """A recount of the scope's cases is due or running."""
        return self._timer.isActive() or self._counting or self._again

    def show(self, cases: int | None = None, open_cases: int | None = None) -> None:
        """Unscoped: ``cases``/``open_cases`` (default: the loaded workspace's). Scoped: those are
        ignored and the scope's cases counted again (soon, not at once)."""
        window, data = self.window, self.window.data
        if data is None:
            return
        scope = getattr(window, "scope", None)
        if scope is None:
            window.counts_label.setText(counts_text(
                len(data.grids), len(data.sources), data.case_count if cases is None else cases,
                data.open_cases if open_cases is None else open_cases))
            return
        if not self._known():
            self._recount()  # a new scope or workspace: no stale numbers, count now
        elif not self._timer.isActive():
            self._timer.start()
        self._show_scoped()

    def _known(self) -> bool:
        scope = getattr(self.window, "scope", None)
        return scope is not None and self._cases is not None and self._cases[:2] == (self.window.store, scope.grid_id)

    def _show_scoped(self) -> None:
        window, data = self.window, self.window.data
        if data is None or getattr(window, "scope", None) is None:
            return
        in_scope = window.grid_model.in_scope
        counted, known = self._cases, self._known()
        window.counts_label.setText(counts_text(
            sum(1 for grid in data.grids if in_scope(grid.id)),
            sum(1 for source in data.sources if source.grid_id is not None and in_scope(source.grid_id)),
            counted[2] if known else None, counted[3] if known else None))

    def _recount(self) -> None:
        scope = getattr(self.window, "scope", None)
        if scope is None:
            return
        if self._counting:  # one count at a time; changes meanwhile get one more afterwards
            self._again = True
            return
        self._counting = True
        store, root = self.window.store, scope.grid_id
        run_in_background(lambda: (store, root, *scope_case_counts(store, root)), self._counted, self._failed,
                          receiver=self)

    def _counted(self, result: tuple) -> None:
        self._counting = False
        self._cases = result
        self._show_scoped()
        if self._again:
            self._again = False
            self._timer.start()

    def _failed(self, exc: Exception) -> None:
        self._counting = False
        self.window.statusBar().showMessage(f"统计数据范围内的案件失败：{exc}", 8000)
        QTimer.singleShot(RETRY_MS, self, self._recount)  # the counts stay as they were rather than wrong


def show_counts(window, cases: int | None = None, open_cases: int | None = None) -> None:
    """Write the window's status-bar counts (see :class:`StatusCounts`)."""
    counts = getattr(window, "status_counts", None)
    if counts is None:
        counts = window.status_counts = StatusCounts(window)
    counts.show(cases, open_cases)
