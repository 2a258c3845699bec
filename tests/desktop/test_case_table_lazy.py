"""The lazy case table: pages on scroll (never everything), keyset starts, a bounded page cache,
stale answers dropped, and header sorting that re-queries the database."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QTableView

from case_world import NOW, build_case_world, python_filter, python_order
from desktop.case_fetcher import SqlCaseFetcher
from desktop.case_views import CaseTableView
from desktop.query_runner import QueryRunner
from desktop.widgets.case_table import LOADING_TEXT, CaseTableModel
from gis.domain import CaseSummary
from gis.storage.case_queries import CaseFilter, CaseOrder
from gis.storage.store import open_store

TOTAL, PAGE = 5000, 50


def _summary(i: int) -> CaseSummary:
    return CaseSummary(i, f"AJ{i:06d}", "巡查上报", "其他", "处置中", 1, "西南社区", 112.8, 35.5,
                       NOW - timedelta(minutes=i), None, None, "", {"address": "", "category_id": 1})


class CountingFetcher:
    """Pages over an in-memory list in created_at DESC order; answers on the next event-loop turn
    (like the real one, which answers from a worker thread) and records every call."""

    def __init__(self, total: int = TOTAL, *, deferred: bool = True):
        self.rows = [_summary(i) for i in range(1, total + 1)]  # newest first
        self.pages: list[tuple] = []
        self.counts = 0
        self.deferred = deferred
        self.held: list = []  # answers not delivered yet (hold=True)
        self.hold = False

    def fetch_page(self, f, order, after, limit, done):
        self.pages.append((f, order, after, limit))
        start = 0 if after is None else next(i for i, r in enumerate(self.rows) if r.id == after[-1]) + 1
        self._answer(done, self.rows[start:start + limit])

    def fetch_count(self, f, done):
        self.counts += 1
        self._answer(done, len(self.rows))

    def _answer(self, done, value):
        if self.hold:
            self.held.append(lambda: done(value))
        elif self.deferred:
            QTimer.singleShot(0, lambda: done(value))
        else:
            done(value)


@pytest.fixture
def table(qtbot):
    fetcher = CountingFetcher()
    model = CaseTableModel(fetcher, page_size=PAGE, max_cached_pages=8, now=NOW)
    view = QTableView()
    view.setModel(model)
    view.resize(700, 400)
    qtbot.addWidget(view)
    view.show()
    model.set_filter(CaseFilter())
    qtbot.waitUntil(lambda: model.rowCount() >= PAGE)
    return fetcher, model, view


def test_first_page_only_until_the_view_scrolls(qtbot, table):
    fetcher, model, view = table
    qtbot.wait(50)
    assert model.rowCount() == PAGE and len(fetcher.pages) == 1 and fetcher.counts == 1
    assert model.total == TOTAL and fetcher.pages[0][2] is None
    assert model.data(model.index(0, 0)) == "AJ000001"


def test_scrolling_fetches_pages_by_keyset_and_never_everything(qtbot, table):
    fetcher, model, view = table
    for _ in range(5):
        rows = model.rowCount()
        view.scrollToBottom()
        qtbot.waitUntil(lambda: model.rowCount() > rows)
    assert model.rowCount() == 6 * PAGE
    assert len(fetcher.pages) == 6  # one call per page, none twice
    for n, (_f, order, after, limit) in enumerate(fetcher.pages[1:], start=1):
        assert limit == PAGE and after == order.keyset_of(fetcher.rows[n * PAGE - 1])
    numbers = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
    assert numbers == [f"AJ{i:06d}" for i in range(1, 6 * PAGE + 1)]
    assert model.rowCount() < TOTAL and len(model.cached_pages) <= 8


def test_dropped_pages_are_read_again_when_scrolled_back(qtbot, table):
    fetcher, model, view = table
    while model.rowCount() < 12 * PAGE:
        rows = model.rowCount()
        view.scrollToBottom()
        qtbot.waitUntil(lambda: model.rowCount() > rows)
    assert len(model.cached_pages) == 8 and 0 not in model.cached_pages  # the LRU dropped the first pages
    calls = len(fetcher.pages)
    assert model.data(model.index(3, 0)) == LOADING_TEXT  # not cached: a placeholder, and a request
    qtbot.waitUntil(lambda: 0 in model.cached_pages)
    assert model.data(model.index(3, 0)) == "AJ000004"
    assert len(fetcher.pages) == calls + 1 and fetcher.pages[-1][2] is None  # page 0 starts at the top
    assert model.rowCount() == 12 * PAGE  # re-reading does not add rows


def test_a_new_filter_drops_answers_to_the_old_one(qtbot):
    fetcher = CountingFetcher(deferred=False)
    model = CaseTableModel(fetcher, page_size=PAGE)
    fetcher.hold = True
    model.set_filter(CaseFilter(text="old"))
    old_answers = list(fetcher.held)
    fetcher.held.clear()
    model.set_filter(CaseFilter(text="new"))
    new_answers = list(fetcher.held)
    for answer in new_answers + old_answers:  # the old query's page arrives last
        answer()
    assert model.rowCount() == PAGE and model.total == TOTAL
    assert fetcher.pages[-1][0].text == "new"


def test_nothing_found(qtbot):
    fetcher = CountingFetcher(total=0, deferred=False)
    model = CaseTableModel(fetcher, page_size=PAGE)
    model.set_filter(CaseFilter(states={"转办"}))
    assert model.rowCount() == 0 and not model.canFetchMore() and model.total == 0


# -- against a database -------------------------------------------------------------------------
@pytest.fixture
def sql_table(qtbot, tmp_path):
    store = open_store(str(tmp_path / "lazy.sqlite"))
    world = build_case_world(store)
    runner = QueryRunner(store.engine)
    fetcher = SqlCaseFetcher(runner)
    model = CaseTableModel(fetcher, page_size=40, now=NOW)
    view = CaseTableView(model)
    view.resize(800, 300)
    qtbot.addWidget(view)
    view.show()
    model.set_filter(CaseFilter(now=NOW))
    qtbot.waitUntil(lambda: model.rowCount() == 40 and model.total is not None)
    yield world, fetcher, model, view
    runner.shutdown()
    store.close()


def _click_header(qtbot, header, section: int) -> None:
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def test_header_click_sorts_in_sql(qtbot, sql_table):
    world, fetcher, model, view = sql_table
    calls = fetcher.page_calls
    header = view.horizontalHeader()
    number_column = model.SORT_COLUMNS.index("number")
    _click_header(qtbot, header, number_column)
    qtbot.waitUntil(lambda: model.order.column == "number" and model.rowCount() == 40 and not model.loading)
    assert fetcher.page_calls == calls + 1  # one new query, not a re-sort of loaded rows
    ascending = model.order.descending is False
    expected = sorted(r["number"] for r in world.rows)
    if not ascending:
        expected.reverse()
    assert [model.data(model.index(r, 0)) for r in range(40)] == expected[:40]
    _click_header(qtbot, header, number_column)  # again: the other direction
    qtbot.waitUntil(lambda: model.order.descending == ascending and model.rowCount() == 40 and not model.loading)
    assert model.data(model.index(0, 0)) == (max(expected) if ascending else min(expected))
    assert header.sortIndicatorSection() == number_column


def test_sql_sort_by_deadline_scrolls_through_nulls(qtbot, sql_table):
    world, fetcher, model, view = sql_table
    model.sort(model.SORT_COLUMNS.index("due_at"), Qt.SortOrder.AscendingOrder)
    while model.canFetchMore() or model.loading:
        if model.canFetchMore():
            model.fetchMore()
        qtbot.waitUntil(lambda: not model.loading)
    expected = python_order(world, python_filter(world, model.filter), CaseOrder("due_at", False), False)
    assert [c.number for c in model.loaded_cases()] == [r["number"] for r in expected]
    assert model.rowCount() == len(world.rows) == model.total


def test_selection_survives_nothing_stale(qtbot, sql_table):
    """A filter change while a page is on its way: the table shows only the new filter's rows."""
    world, fetcher, model, view = sql_table
    model.set_filter(CaseFilter(now=NOW, text="油烟"))
    model.set_filter(CaseFilter(now=NOW, states={"已销号"}))
    qtbot.waitUntil(lambda: model.total is not None and not model.loading)
    qtbot.wait(100)
    states = {model.data(model.index(r, 3)) for r in range(model.rowCount())}
    assert states == {"已销号"} and model.total == sum(r["state"] == "已销号" for r in world.rows)
