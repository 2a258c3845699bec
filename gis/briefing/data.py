"""What a briefing map shows, read from a workspace in one connection.

Grids (all levels, or one grid's subtree), the pollution-source ledger by category, the cases
registered in the period and the monitoring stations with their current hourly AQI.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import shapely
from sqlalchemy import Connection, select

from gis.aqi import AqiResult, station_hour_aqi
from gis.domain import OPEN_STATES, Grid, Role
from gis.storage import schema
from gis.storage.grids import read_grids
from gis.storage.people import current_staff
from gis.storage.readings import latest_hourly_by_station, read_stations
from gis.storage.sources import read_source_categories

#: Who a popup names as the grid's leaders (seed 001 §三(二)), in this order.
LEADER_ROLES = (Role.FIRST_LEADER, Role.LEADER, Role.DEPUTY)
DEFAULT_DAYS = 30


class BriefingError(ValueError):
    """The briefing cannot be made as asked (unknown grid, empty period…)."""


@dataclass(slots=True)
class Period:
    """Whole days ``first`` … ``last`` (inclusive)."""

    first: date
    last: date

    @classmethod
    def of(cls, first: date | None, last: date | None, today: date | None = None) -> Period:
        last = last or today or date.today()
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise BriefingError(f"--from {first.isoformat()} is after --to {last.isoformat()}")
        return cls(first, last)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after ``last``."""
        return datetime.combine(self.last + timedelta(days=1), time.min)

    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%Y年%m月%d日}"
        return f"{self.first:%Y年%m月%d日} — {self.last:%Y年%m月%d日}"


@dataclass(slots=True)
class SourceRow:
    name: str
    category_id: int
    lon: float
    lat: float
    is_key: bool
    status: str
    grid_id: int | None


@dataclass(slots=True)
class CaseRow:
    number: str
    category: str
    state: str
    source: str
    lon: float
    lat: float
    created_at: datetime
    due_at: datetime | None
    grid_id: int | None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(slots=True)
class StationRow:
    name: str
    mn: str
    kind: str
    lon: float
    lat: float
    aqi: AqiResult | None


@dataclass
class BriefingData:
    period: Period
    title_place: str                         #: the district (or the chosen grid) named in the title
    root: Grid | None                        #: the --grid, or None for the whole workspace
    grids: list[Grid]
    leaders: dict[int, list[tuple[str, str, str]]]  #: grid id → [(role, name, phone)]
    categories: list[tuple[int, str, str]]   #: (id, code, name) of the source ledger
    sources: list[SourceRow]
    cases: list[CaseRow]
    unlocated_cases: int
    stations: list[StationRow]
    generated_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))

    def grids_by_level(self) -> dict[int, list[Grid]]:
        levels: dict[int, list[Grid]] = defaultdict(list)
        for grid in self.grids:
            levels[grid.level].append(grid)
        return dict(sorted(levels.items()))


def _subtree(grids: list[Grid], root: Grid) -> list[Grid]:
    children: dict[int | None, list[Grid]] = defaultdict(list)
    for grid in grids:
        children[grid.parent_id].append(grid)
    found, stack = [], [root]
    while stack:
        grid = stack.pop()
        found.append(grid)
        stack.extend(children.get(grid.id, ()))
    return sorted(found, key=lambda g: (g.level, g.code))


def read_briefing_data(connection: Connection, period: Period, grid_code: str | None = None) -> BriefingData:
    """Everything :func:`gis.briefing.build_briefing_html` draws, limited to ``grid_code``'s subtree if given."""
    grids = read_grids(connection)
    root = None
    if grid_code:
        root = next((g for g in grids if g.code == grid_code), None)
        if root is None:
            raise BriefingError(f"--grid {grid_code}: no grid has this code")
        grids = _subtree(grids, root)
    ids = {g.id for g in grids}
    inside = root.boundary if root is not None and root.level < 5 else None
    if inside is not None:
        shapely.prepare(inside)

    def belongs(grid_id: int | None, lon: float, lat: float) -> bool:
        if root is None:
            return True
        if grid_id is not None:
            return grid_id in ids
        return inside is not None and inside.covers(shapely.Point(lon, lat))

    staff = current_staff(connection, None if root is None else sorted(ids), on=period.last)
    leaders = {grid_id: [(str(role), person.name, person.phone) for role in LEADER_ROLES
                         for r, person in entries if r == role]
               for grid_id, entries in staff.items()}

    s = schema.pollution_sources
    sources = [SourceRow(*row) for row in connection.execute(
        select(s.c.name, s.c.category_id, s.c.lon, s.c.lat, s.c.is_key, s.c.status, s.c.grid_id).order_by(s.c.id))
        if belongs(row.grid_id, row.lon, row.lat)]

    c, cc = schema.cases, schema.case_categories
    query = (select(c.c.number, cc.c.name, c.c.state, c.c.source, c.c.lon, c.c.lat, c.c.created_at, c.c.due_at,
                    c.c.grid_id)
             .join(cc, cc.c.id == c.c.category_id)
             .where(c.c.created_at >= period.start, c.c.created_at < period.end)
             .order_by(c.c.created_at, c.c.id))
    cases, unlocated = [], 0
    for row in connection.execute(query):
        if row.lon is None or row.lat is None:
            unlocated += root is None or row.grid_id in ids
            continue
        if belongs(row.grid_id, row.lon, row.lat):
            cases.append(CaseRow(*row))

    latest = latest_hourly_by_station(connection)
    stations = [StationRow(st.name, st.mn, st.kind, st.lon, st.lat,
                           station_hour_aqi(latest.get(st.id, {})) if st.kind == "air" else None)
                for st in read_stations(connection, active_only=True) if belongs(st.grid_id, st.lon, st.lat)]

    if root is not None:
        place = root.name
    else:
        top = min((g.level for g in grids), default=1)
        place = "、".join(g.name for g in grids if g.level == top) or "（无网格）"
    return BriefingData(period, place, root, grids, leaders, read_source_categories(connection), sources, cases,
                        unlocated, stations)
