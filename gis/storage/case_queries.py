"""Filtered, sorted and paged case reads for the case table, the map and the Excel export.

One :class:`CaseFilter` describes what the seat is looking at; every reader here turns it into
the same WHERE clause, so the table, the charts (``gis.storage.case_stats``), the map pins and
the export always agree. Pages are read by keyset ("the rows after this one"), never by OFFSET,
so the millionth row costs what the first does; a page's ids are found from index columns first
and only those rows read in full. Counts and chart aggregates (and pages in the default order)
read the covering index of migration 0004 on SQLite (see :class:`_Columns`).

NULL order differs between the backends (SQLite: smallest, PostgreSQL: largest); each keeps its
own so the existing single-column indexes serve both directions. A sort on a nullable column is
read as two segments (values, then NULLs, or the reverse) so the keyset comparison stays a plain
row-value range that an index can walk.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ARRAY, Connection, Integer, and_, any_, bindparam, false, func, or_, select, tuple_
from sqlalchemy.sql import ColumnElement, Select, operators
from sqlalchemy.sql.elements import UnaryExpression

from gis.domain import OPEN_STATES, CaseState, CaseSummary
from gis.storage.schema import alarms, case_categories, case_events, cases, grids

CLOSED_STATES = frozenset(CaseState) - OPEN_STATES
SEAT_HELD_STATES = frozenset({CaseState.PENDING, CaseState.RETURNED})  # waiting for the command center
PAGE_SIZE = 200


class WorkList(StrEnum):
    """The seat's standing views (工作清单)."""

    TODO = "待办"             # open and with my grids (a command-center seat: also 待受理/退回)
    MINE = "我经办的"          # I registered or acted on it (any event by the actor)
    OVERDUE = "已超期"         # open and past its deadline
    JURISDICTION = "我的辖区"   # in my grids or below them, any state
    CLOSED = "已办结"          # 已销号, 误报, 重复


@dataclass(frozen=True, slots=True)
class Seat:
    """Who is looking: the actor name events are written with, and the grids they answer for.

    No grids means the whole district (a command-center seat).
    """

    actor: str = "指挥中心"
    grid_ids: frozenset[int] = frozenset()
    command_center: bool = True


_SET_FIELDS = ("states", "sources", "category_ids", "grid_ids", "levels", "pollutants")


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """What to show. Empty sets mean "any"; the time range is ``start <= created_at < end``.

    ``grid_ids`` each stand for the grid and everything below it (codes nest, so a code prefix).
    ``pollutants`` keeps cases raised by an alarm on one of those HJ 212 codes.
    ``now`` decides what is overdue (None: the time of the query).
    """

    states: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    category_ids: frozenset[int] = frozenset()
    grid_ids: frozenset[int] = frozenset()
    levels: frozenset[int] = frozenset()
    start: datetime | None = None
    end: datetime | None = None
    text: str = ""
    work_list: WorkList | None = None
    pollutants: frozenset[str] = frozenset()
    seat: Seat = field(default_factory=Seat)
    now: datetime | None = None
    # The data scope of a restricted user (gis.security): only cases in this grid's subtree; not a
    # user's choice, so no chart or "clear filters" drops it (see without()).
    scope_grid_id: int | None = None

    def __post_init__(self):
        for name in _SET_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, frozenset):
                if isinstance(value, (str, bytes)):
                    raise TypeError(f"CaseFilter.{name} takes a collection, got the string {value!r}")
                object.__setattr__(self, name, frozenset(value or ()))
        if self.work_list is not None and not isinstance(self.work_list, WorkList):
            object.__setattr__(self, "work_list", WorkList(self.work_list))
        if self.start and self.end and self.start >= self.end:
            raise ValueError(f"CaseFilter: start {self.start} is not before end {self.end}")

    def replace(self, **changes) -> CaseFilter:
        if self.scope_grid_id is not None:
            changes.pop("scope_grid_id", None)  # a data scope, once set, is never widened by a view
        return dataclasses.replace(self, **changes)

    def without(self, *names: str) -> CaseFilter:
        """The same filter with some fields back at their defaults (a chart ignores its own)."""
        defaults = {f.name: (f.default if f.default is not dataclasses.MISSING else f.default_factory())
                    for f in dataclasses.fields(self) if f.name in names and f.name != "scope_grid_id"}
        return dataclasses.replace(self, **defaults)

    @property
    def at(self) -> datetime:
        return self.now or datetime.now()


# -- the WHERE clause ---------------------------------------------------------------------------
def subtree_ids(grid_ids: Iterable[int]) -> Select:
    """Ids of the grids and all their descendants, as a subquery (codes nest: a prefix match)."""
    root = grids.alias("root")
    return (select(grids.c.id)
            .join(root, func.substr(grids.c.code, 1, func.length(root.c.code)) == root.c.code)
            .where(root.c.id.in_(sorted(grid_ids))))


def grid_subtree(connection: Connection, grid_ids: Iterable[int]) -> list[int]:
    """The same ids, read first: a literal IN list the planner can estimate from its statistics
    (PostgreSQL takes a prefix-join subquery for one row and then loops over 100,000)."""
    return sorted(connection.execute(subtree_ids(grid_ids)).scalars())


def _like_pattern(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


CASE_NUMBER = re.compile(r"^[A-Za-z]{1,4}\d{3,}$")


def _next_prefix(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix`` (letters and digits)."""
    head = prefix.rstrip("9Z")
    if not head or not head[-1].isalnum() or not head[-1].isascii():
        return None
    return head[:-1] + chr(ord(head[-1]) + 1)


def _number_condition(term: str) -> ColumnElement:
    """A case number, or its beginning: an index range on ``number`` (rechecked with LIKE)."""
    prefix = term.upper()
    where = [cases.c.number >= prefix, cases.c.number.like(_like_pattern(prefix) + "%", escape="\\")]
    upper = _next_prefix(prefix)
    if upper is not None:
        where.append(cases.c.number < upper)
    return and_(*where)


def text_condition(text: str, dialect: str) -> ColumnElement | None:
    """Every whitespace-separated term in the number, the description or the address.

    A term shaped like a case number (``AJ2024``, ``aj20240001``) matches the start of the number
    only, through its index; anything else is a substring match, which has to read every row the
    other filters leave (narrow by time or grid to make it fast on a million cases).
    """
    terms = text.split()
    if not terms:
        return None
    parts = []
    for term in terms:
        if CASE_NUMBER.match(term):
            parts.append(_number_condition(term))
            continue
        pattern = "%" + _like_pattern(term) + "%"
        # Case matters only for Latin letters: SQLite's LIKE ignores it already, and on PostgreSQL
        # ILIKE costs three times LIKE, so it is used only when the term has letters.
        fold = dialect == "postgresql" and any(c.isascii() and c.isalpha() for c in term)
        # Case numbers are ASCII: a term with Chinese in it is looked for in the text columns only.
        columns = (cases.c.description, cases.c.address) + ((cases.c.number,) if term.isascii() else ())
        parts.append(or_(*((c.ilike if fold else c.like)(pattern, escape="\\") for c in columns)))
    return and_(*parts)


def _states_in(states: Iterable[str], column=cases.c.state) -> ColumnElement:
    return column.in_(sorted(str(s) for s in states))


# Terms that keep their index even when scanning: each leads a covering index of migrations 0004/0007,
# so SQLite reads just those entries (the open cases, a grid's subtree) and no table rows.
INDEXED_WHEN_SCANNING = frozenset({"state", "grid_id"})


class _Columns:
    """The ``cases`` columns a filter tests, as SQLite should see them.

    ``scan=True`` (counts, chart aggregates, pages in 上报时间 order) writes the columns no covering
    index leads with as ``+column``, which SQLite takes as "no index for this term". The query then
    reads one of the covering indexes of migrations 0004 and 0007 — by state, by grid, or by 上报时间 (a range
    for a time filter, else the whole index, ~0.1 µs a case) — instead of guessing a selective
    single-column index and looking up a million table rows. On PostgreSQL, which keeps
    statistics, the columns stay as they are.
    """

    def __init__(self, dialect: str, scan: bool):
        self.dialect = dialect
        self.plain = scan and dialect == "sqlite"

    def __getattr__(self, name: str) -> ColumnElement:
        return self.unindexed(name) if name not in INDEXED_WHEN_SCANNING else cases.c[name]

    def unindexed(self, name: str) -> ColumnElement:
        """``+column`` on SQLite when scanning (also for GROUP BY: group in a b-tree rather than
        walk an index in order with a table lookup per row); the column itself otherwise."""
        column = cases.c[name]
        if self.plain:
            return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
        return column

    def hint(self, condition: ColumnElement, *, likely: bool) -> ColumnElement:
        """Without statistics SQLite guesses selectivity: say that being open is rare and being
        past a deadline common, so it reads the few open cases by state, not every case by due_at."""
        if self.dialect != "sqlite" or self.plain:
            return condition
        return (func.likely if likely else func.unlikely)(condition)


def open_condition(dialect: str, *, scan: bool = False) -> ColumnElement:
    c = _Columns(dialect, scan)
    return c.hint(_states_in(OPEN_STATES, c.state), likely=False)


def overdue_condition(now: datetime, dialect: str, *, scan: bool = False) -> ColumnElement:
    c = _Columns(dialect, scan)
    return and_(open_condition(dialect, scan=scan), c.hint(c.due_at < now, likely=True))


def work_list_condition(connection: Connection, f: CaseFilter, *, scan: bool = False) -> ColumnElement | None:
    dialect = connection.dialect.name
    seat, wl, c = f.seat, f.work_list, _Columns(dialect, scan)
    if wl is None:
        return None
    if wl == WorkList.TODO:
        mine = []
        if seat.grid_ids:
            mine.append(c.grid_id.in_(sorted(seat.grid_ids)))
        if seat.command_center:
            mine.append(_states_in(SEAT_HELD_STATES, c.state))
        return and_(open_condition(dialect, scan=scan), or_(*mine)) if mine else false()
    if wl == WorkList.MINE:
        mine = select(case_events.c.case_id).where(case_events.c.actor == seat.actor).distinct()
        if dialect == "postgresql":
            # As a subquery PostgreSQL expects the seat's cases everywhere, walks 上报时间 and probes
            # the events of each case (a second at a million); as an array it knows how few they are.
            ids = sorted(connection.execute(mine).scalars())
            return cases.c.id == any_(bindparam("mine", ids, type_=ARRAY(Integer), unique=True))
        return cases.c.id.in_(mine)
    if wl == WorkList.OVERDUE:
        return overdue_condition(f.at, dialect, scan=scan)
    if wl == WorkList.JURISDICTION:
        return cases.c.grid_id.in_(grid_subtree(connection, seat.grid_ids)) if seat.grid_ids else None
    return _states_in(CLOSED_STATES, c.state)


def filter_conditions(connection: Connection, f: CaseFilter, *, time: bool = True,
                      scan: bool = False) -> list[ColumnElement]:
    """The WHERE terms of ``f`` on ``cases`` (``time=False`` leaves the created_at range out;
    ``scan``: see :class:`_Columns`). Grid subtrees and levels are looked up first (small queries)."""
    dialect = connection.dialect.name
    c = _Columns(dialect, scan)
    where: list[ColumnElement] = []
    if f.states:
        where.append(_states_in(f.states, c.state))
    if f.sources:
        where.append(c.source.in_(sorted(str(s) for s in f.sources)))
    if f.category_ids:
        where.append(c.category_id.in_(sorted(f.category_ids)))
    # Grid terms stay indexable even when scanning: the grid-led covering index reads just the
    # subtree's cases (a village: a few thousand entries instead of a million).
    if f.grid_ids:
        where.append(cases.c.grid_id.in_(grid_subtree(connection, f.grid_ids)))
    if f.scope_grid_id is not None:
        from gis.security.users import subtree_clause

        where.append(cases.c.grid_id.in_(select(grids.c.id).where(subtree_clause(f.scope_grid_id))))
    if f.levels:
        at_levels = select(grids.c.id).where(grids.c.level.in_(sorted(f.levels))).order_by(grids.c.id)
        where.append(cases.c.grid_id.in_(list(connection.execute(at_levels).scalars())))
    if time and f.start is not None:
        where.append(cases.c.created_at >= f.start)
    if time and f.end is not None:
        where.append(cases.c.created_at < f.end)
    if f.pollutants:
        where.append(cases.c.id.in_(select(alarms.c.case_id).where(alarms.c.pollutant.in_(sorted(f.pollutants)),
                                                                     alarms.c.case_id.is_not(None))))
    found = text_condition(f.text, dialect)
    if found is not None:
        where.append(found)
    listed = work_list_condition(connection, f, scan=scan)
    if listed is not None:
        where.append(listed)
    return where


def scans(f: CaseFilter) -> bool:
    """Whether a query over ``f`` should read the covering index (see :class:`_Columns`): not
    when the filter has a selective index of its own (a case number, my cases)."""
    return not (f.work_list == WorkList.MINE or any(CASE_NUMBER.match(t) for t in f.text.split()))


# -- sorting and keyset pages -------------------------------------------------------------------
# Table column → sort keys (id is always appended). Category sorts by the configured order of the
# list (its id), grid by the grid: both group rows and can walk an existing index.
SORT_KEYS = {
    "number": (cases.c.number,),
    "source": (cases.c.source, cases.c.created_at),
    "category": (cases.c.category_id, cases.c.created_at),
    "state": (cases.c.state,),
    "grid": (cases.c.grid_id,),
    "created_at": (cases.c.created_at,),
    "due_at": (cases.c.due_at,),
}
NULLABLE_SORTS = frozenset({"grid", "due_at"})
_KEY_ATTRS = {"number": "number", "source": "source", "state": "state", "grid_id": "grid_id",
              "created_at": "created_at", "due_at": "due_at"}


@dataclass(frozen=True, slots=True)
class CaseOrder:
    column: str = "created_at"
    descending: bool = True

    def __post_init__(self):
        if self.column not in SORT_KEYS:
            raise ValueError(f"cannot sort cases by {self.column!r}; one of {', '.join(SORT_KEYS)}")

    def keyset_of(self, case: CaseSummary) -> tuple:
        """The sort values of a row (ending with its id): where the next page starts."""
        values = []
        for column in SORT_KEYS[self.column]:
            name = column.name
            values.append(case.extra["category_id"] if name == "category_id" else getattr(case, _KEY_ATTRS[name]))
        return (*values, case.id)


def _segments(order: CaseOrder, dialect: str) -> list[bool | None]:
    """Parts of the order read one after the other: None = all rows, False = values, True = NULLs."""
    if order.column not in NULLABLE_SORTS:
        return [None]
    nulls_largest = dialect == "postgresql"
    nulls_first = nulls_largest == order.descending
    return [True, False] if nulls_first else [False, True]


def summary_query() -> Select:
    return (
        select(cases.c.id, cases.c.number, cases.c.source, case_categories.c.name.label("category"),
               cases.c.state, cases.c.grid_id, grids.c.name.label("grid_name"), cases.c.lon, cases.c.lat,
               cases.c.created_at, cases.c.due_at, cases.c.closed_at, cases.c.description,
               cases.c.address, cases.c.category_id)
        .join(case_categories, case_categories.c.id == cases.c.category_id)
        .outerjoin(grids, grids.c.id == cases.c.grid_id)
    )


def _summary(row) -> CaseSummary:
    return CaseSummary(row.id, row.number, row.source, row.category, row.state, row.grid_id, row.grid_name or "",
                       row.lon, row.lat, row.created_at, row.due_at, row.closed_at, row.description,
                       {"address": row.address, "category_id": row.category_id})


def _segment_query(where: list, order: CaseOrder, segment: bool | None, after: tuple | None,
                   limit: int, offset: int = 0) -> Select:
    """The page's ids are found first from the filter columns alone (an index can answer that
    without touching the table); only those rows are then read in full ("deferred join")."""
    keys = SORT_KEYS[order.column]
    where = list(where)
    if segment is True:
        keys = ()
        where.append(SORT_KEYS[order.column][0].is_(None))
    elif segment is False:
        where.append(SORT_KEYS[order.column][0].is_not(None))
    columns = (*keys, cases.c.id)
    if after is not None:
        bound = tuple_(*columns)
        values = tuple_(*(after[-len(columns):] if keys else after[-1:]))
        where.append(bound < values if order.descending else bound > values)
    direction = (lambda c: c.desc()) if order.descending else (lambda c: c.asc())
    page = (select(cases.c.id).where(*where).order_by(*map(direction, columns)).limit(limit).offset(offset or None)
            .subquery("page"))
    return (summary_query().join(page, page.c.id == cases.c.id)
            .order_by(*map(direction, columns)))


def _segment_of(order: CaseOrder, after: tuple) -> bool | None:
    if order.column not in NULLABLE_SORTS:
        return None
    return after[0] is None


def page_cases(connection: Connection, f: CaseFilter, order: CaseOrder = CaseOrder(), *,
               after: tuple | None = None, offset: int = 0, limit: int = PAGE_SIZE) -> list[CaseSummary]:
    """One page of the filtered cases in ``order``.

    ``after`` is :meth:`CaseOrder.keyset_of` the last row already shown: the page starts right
    after it, at index speed however deep it is. ``offset`` is for a first jump only (it reads
    and drops that many rows); scrolling uses ``after``.
    """
    if limit <= 0:
        return []
    dialect = connection.dialect.name
    where = filter_conditions(connection, f, scan=order.column == "created_at" and scans(f))
    segments = _segments(order, dialect)
    if after is not None:
        segments = segments[segments.index(_segment_of(order, after)):]
    rows: list[CaseSummary] = []
    for i, segment in enumerate(segments):
        start = after if (i == 0 and after is not None) else None
        if len(segments) == 1:  # the usual case: the database skips ``offset`` rows itself
            query = _segment_query(where, order, segment, start, limit, offset)
            return [_summary(r) for r in connection.execute(query)]
        query = _segment_query(where, order, segment, start, limit - len(rows) + offset)
        found = [_summary(r) for r in connection.execute(query)]
        if offset:
            skipped = min(offset, len(found))
            found, offset = found[skipped:], offset - skipped
        rows += found
        if len(rows) >= limit:
            break
    return rows[:limit]


def iter_cases(connection: Connection, f: CaseFilter, order: CaseOrder = CaseOrder(), *,
               batch: int = 5000) -> Iterator[list[CaseSummary]]:
    """All filtered cases in ``order``, a batch at a time (keyset pages): the export reads this."""
    after = None
    while True:
        page = page_cases(connection, f, order, after=after, limit=batch)
        if page:
            yield page
        if len(page) < batch:
            return
        after = order.keyset_of(page[-1])


def count_cases(connection: Connection, f: CaseFilter) -> int:
    query = select(func.count()).select_from(cases).where(*filter_conditions(connection, f, scan=scans(f)))
    return int(connection.execute(query).scalar_one())


def case_ids(connection: Connection, f: CaseFilter) -> list[int]:
    """Ids of every filtered case (for the map: which pins stay lit; cases without a place have none)."""
    query = select(cases.c.id).where(*filter_conditions(connection, f, scan=scans(f)))
    return list(connection.execute(query).scalars())


def read_case_categories(connection: Connection, *, active_only: bool = False) -> list[tuple[int, str]]:
    """(id, name) in the list's order, for pickers."""
    query = select(case_categories.c.id, case_categories.c.name).order_by(case_categories.c.sort_order,
                                                                          case_categories.c.id)
    if active_only:
        query = query.where(case_categories.c.active.is_(True))
    return [(r.id, r.name) for r in connection.execute(query)]
