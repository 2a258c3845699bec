"""Where the case table gets its pages and counts: a fetcher runs the queries off the GUI thread.

The table model only knows the two-method interface (``fetch_page``, ``fetch_count``) and gets
its answers through callbacks, so tests can hand it a fetcher that counts calls or answers at once.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

from desktop.query_runner import QueryRunner
from gis.domain import CaseSummary
from gis.storage.case_queries import CaseFilter, CaseOrder, count_cases, page_cases

PAGE_PRIORITY, COUNT_PRIORITY = 10, 5  # the rows the seat looks at first, then the number


class CaseFetcher(Protocol):
    def fetch_page(self, f: CaseFilter, order: CaseOrder, after: tuple | None, limit: int,
                   done: Callable[[list[CaseSummary]], None]) -> None: ...

    def fetch_count(self, f: CaseFilter, done: Callable[[int], None]) -> None: ...


class SqlCaseFetcher:
    """Pages by keyset and counts from the store, on the runner's worker threads."""

    def __init__(self, runner: QueryRunner):
        self.runner = runner
        self._pages = itertools.count()
        self.page_calls = 0
        self.count_calls = 0

    def fetch_page(self, f, order, after, limit, done) -> None:
        self.page_calls += 1
        # Every page has its own key: scrolling must not cancel the page before it.
        self.runner.submit(("case-page", next(self._pages)),
                           lambda c: page_cases(c, f, order, after=after, limit=limit), done,
                           priority=PAGE_PRIORITY)

    def fetch_count(self, f, done) -> None:
        self.count_calls += 1
        self.runner.submit("case-count", lambda c: count_cases(c, f), done, priority=COUNT_PRIORITY)
