"""Everything a period report shows, read once from the store (the PDF and the workbook share it)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from gis.report.air import AqiDays, aqi_days
from gis.report.breakdowns import (GridRow, OverdueRow, RecurringProblem, grid_rows, overdue_rows,
                                   recurring_problems, top_grid_rows)
from gis.report.case_figures import (CaseRow, GridTree, by_source, count_by, kpis, read_period_cases)
from gis.report.kpi import Kpi
from gis.report.period import Period
from gis.storage.case_queries import CaseFilter
from gis.storage.case_stats import DayCount, daily_new_vs_closed

BUREAU = "生态环境局"


@dataclass(frozen=True, slots=True)
class PeriodReport:
    period: Period
    previous: Period
    district: str
    generated_at: datetime
    as_of: datetime                        # open/overdue counted then: the end, or now if earlier
    kpis: list[Kpi]
    by_category: list[tuple[str, int]]     # new cases, largest first
    by_source: list[tuple[str, int]]       # new cases, the four sources in order
    by_grid: list[GridRow]                 # level 2
    top_grids: list[GridRow]               # level 3, busiest first
    daily: list[DayCount]                  # new vs closed per day
    aqi: list[AqiDays]                     # per air station, then 全区
    overdue: list[OverdueRow]              # open and past the deadline at the end of the period
    recurring: list[RecurringProblem]
    open_at_end: list[CaseRow]             # for the map
    new_cases: list[CaseRow]               # for the map

    @property
    def title(self) -> str:
        return f"{self.district}网格化环境监管{self.period.report_name}"

    @property
    def bureau(self) -> str:
        return f"{self.district}{BUREAU}" if self.district else BUREAU


def build_report(connection: Connection, period: Period, *, generated_at: datetime | None = None,
                 district: str | None = None) -> PeriodReport:
    tree = GridTree(connection)
    generated_at = generated_at or datetime.now().replace(microsecond=0)
    now = read_period_cases(connection, period, generated_at)
    before = read_period_cases(connection, period.previous())
    daily = daily_new_vs_closed(connection, CaseFilter(start=period.start, end=period.end))
    level3 = grid_rows(tree, now, 3)
    return PeriodReport(
        period=period, previous=period.previous(),
        district=tree.district_name() if district is None else district,
        generated_at=generated_at, as_of=now.as_of,
        kpis=kpis(now, before),
        by_category=count_by(c.category for c in now.new),
        by_source=by_source(now.new),
        by_grid=grid_rows(tree, now, 2),
        top_grids=top_grid_rows(level3),
        daily=daily,
        aqi=aqi_days(connection, period),
        overdue=overdue_rows(connection, tree, now.overdue_at_end, now.as_of),
        recurring=recurring_problems(tree, now.new),
        open_at_end=now.open_at_end,
        new_cases=_states_at(now.new, now.open_at_end),
    )


def _states_at(rows: list[CaseRow], open_then: list[CaseRow]) -> list[CaseRow]:
    """The period's cases with their state at the end (open ones as they were then)."""
    from dataclasses import replace

    states = {c.id: c.state for c in open_then}
    return [replace(c, state=states[c.id]) if c.id in states else c for c in rows]
