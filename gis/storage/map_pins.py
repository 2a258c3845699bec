"""Which cases the map shows as pins: every open case, plus the recently closed ones.

A workspace of a few years holds a million cases, nearly all closed long ago; reading
them all for the map would cost seconds and hundreds of megabytes for pins that are
hidden by default anyway. The map therefore reads every open case and the cases closed
within the last ``closed_days`` days (workspace setting ``map_pin_closed_days``, default
30; 0 reads open cases only). Both halves are ranges of the ``ix_cases_state_cover`` index
(state, …, closed_at), so neither scans the table.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, literal_column, select, text

from gis.domain import OPEN_STATES, CaseState, CaseSummary
from gis.storage.info import get_setting
from gis.storage.schema import case_categories, cases, grids

SETTING_KEY = "map_pin_closed_days"
DEFAULT_CLOSED_DAYS = 30
MAX_CLOSED_DAYS = 3650
COLUMNS = ("id", "number", "source", "category_id", "state", "grid_id", "lon", "lat", "created_at", "due_at",
           "closed_at", "description")  # the order the tuples below are indexed in
STATE_INDEX = "ix_cases_state_cover"  # state, due_at, grid_id, created_at, closed_at, … (migration 0007)
CLOSED_STATES = tuple(sorted(state.value for state in CaseState if state not in OPEN_STATES))


@dataclass(frozen=True)
class PinWindow:
    """What the pins of a workspace cover: all open cases and those closed since ``closed_since``."""

    closed_days: int
    closed_since: datetime
    total_cases: int  # in the workspace, pinned or not

    def describe(self) -> str:
        if self.closed_days <= 0:
            return "地图显示全部未办结案件（不含已办结）"
        return (f"地图显示全部未办结案件，以及近 {self.closed_days} 天"
                f"（{self.closed_since:%Y-%m-%d} 以来）办结的案件；更早办结的案件见案件列表")


def closed_days_setting(connection: Connection, override: int | None = None) -> int:
    """The window in days: ``override``, else the workspace setting, else 30 (bad values: 30)."""
    value = override if override is not None else get_setting(connection, SETTING_KEY, DEFAULT_CLOSED_DAYS)
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_CLOSED_DAYS
    return min(max(days, 0), MAX_CLOSED_DAYS)


def read_pin_cases(connection: Connection, *, closed_days: int | None = None,
                   now: datetime | None = None) -> tuple[list[CaseSummary], PinWindow]:
    """Open cases plus cases closed in the last ``closed_days`` days, newest first."""
    days = closed_days_setting(connection, closed_days)
    since = (now or datetime.now()) - timedelta(days=days)
    # No joins: with one, SQLite's planner starts from the small categories table and walks every
    # case by category (25 s at 1,000,000 cases); names are looked up here instead. And SQLite
    # must be told to walk the covering state index (state, …, closed_at): left alone it scans
    # the whole table for an IN list of eight states (4–7 s at a million cases).
    sqlite = connection.dialect.name == "sqlite"
    source = text(f"cases INDEXED BY {STATE_INDEX}") if sqlite else cases

    def col(name: str):
        column = cases.c[name]
        return literal_column(f"cases.{name}", column.type).label(name) if sqlite else column

    def ref(name: str):
        return literal_column(f"cases.{name}", cases.c[name].type) if sqlite else cases.c[name]

    columns = [col(name) for name in COLUMNS]
    parts = [ref("state").in_(sorted(OPEN_STATES))]
    if days > 0:
        parts.append(ref("state").in_(CLOSED_STATES) & (ref("closed_at") >= since))
    rows = []
    for condition in parts:  # plain tuples: a Row's attribute access costs 10× indexing a tuple
        rows += (tuple(row) for row in connection.execute(select(*columns).select_from(source).where(condition)))
    rows.sort(key=lambda r: (r[8], r[0]), reverse=True)  # newest first: created_at, id
    category = dict(connection.execute(select(case_categories.c.id, case_categories.c.name)).all())
    wanted = {r[5] for r in rows if r[5] is not None}
    grid_name = {gid: name for gid, name in connection.execute(select(grids.c.id, grids.c.name)) if gid in wanted}
    summaries = [CaseSummary(r[0], r[1], r[2], category.get(r[3], ""), r[4], r[5], grid_name.get(r[5], ""),
                             r[6], r[7], r[8], r[9], r[10], r[11] or "") for r in rows]
    total = connection.execute(select(func.count()).select_from(cases)).scalar_one()
    return summaries, PinWindow(days, since, int(total))
