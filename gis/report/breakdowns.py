"""Per-grid counts, the overdue list and the recurring problems of a period."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from gis.domain import CaseState
from gis.report.case_figures import NO_GRID, CaseRow, GridTree, PeriodCases, days_overdue
from gis.storage.people import current_staff
from gis.workflow.deadlines import responsible_leader

SEAT_STATES = frozenset({CaseState.PENDING, CaseState.RETURNED})  # waiting for the command center
COMMAND_CENTER = "指挥中心"


@dataclass(frozen=True, slots=True)
class GridRow:
    code: str
    name: str
    parent: str       # the level-2 grid a level-3 grid belongs to ("" for level 2)
    new: int
    closed: int
    open_at_end: int
    overdue_at_end: int


@dataclass(frozen=True, slots=True)
class OverdueRow:
    number: str
    category: str
    grid: str
    state: str
    leader: str       # 网格长 (第一网格长 at level 3), the department, or the command center
    due_at: datetime
    days: int


@dataclass(frozen=True, slots=True)
class RecurringProblem:
    category: str
    grid: str
    count: int
    sources: str      # 群众举报×2、巡查上报×1
    numbers: str      # the case numbers, oldest first


def grid_rows(tree: GridTree, cases: PeriodCases, level: int) -> list[GridRow]:
    """Each grid of ``level`` with the cases in it or below it; cases outside every such grid last."""
    counters = {name: Counter() for name in ("new", "closed", "open", "overdue")}
    for name, rows in (("new", cases.new), ("closed", cases.closed), ("open", cases.open_at_end),
                       ("overdue", cases.overdue_at_end)):
        for case in rows:
            grid = tree.ancestor(case.grid_id, level)
            counters[name][grid.id if grid else None] += 1
    result = []
    for grid in tree.at_level(level):
        parent = tree.ancestor(grid.parent_id, 2) if level > 2 else None
        result.append(GridRow(grid.code, grid.name, parent.name if parent else "",
                              *(counters[n][grid.id] for n in ("new", "closed", "open", "overdue"))))
    if any(counters[n][None] for n in counters):
        result.append(GridRow("", NO_GRID, "", *(counters[n][None] for n in ("new", "closed", "open", "overdue"))))
    return result


def top_grid_rows(rows: list[GridRow], limit: int = 10) -> list[GridRow]:
    """The grids with the most new cases (then most overdue at the end); grids with none left out."""
    busy = [r for r in rows if (r.new or r.overdue_at_end) and r.code]
    return sorted(busy, key=lambda r: (-r.new, -r.overdue_at_end, r.code))[:limit]


def overdue_rows(connection: Connection, tree: GridTree, overdue: list[CaseRow], at: datetime) -> list[OverdueRow]:
    """The overdue list, most overdue first, with who answers for each case on the last day."""
    grid_ids = {c.grid_id for c in overdue if c.grid_id is not None}
    last_day = (at - timedelta(microseconds=1)).date()
    staff = current_staff(connection, grid_ids, on=last_day) if grid_ids else {}
    rows = []
    for case in overdue:
        grid = tree.by_id.get(case.grid_id)
        if case.state in SEAT_STATES or grid is None and not case.department:
            holder = COMMAND_CENTER
        elif case.department:
            holder = case.department
        else:
            found = responsible_leader(staff.get(grid.id, []), grid.level)
            holder = f"{found[0]} {found[1].name}" if found else "（未配备网格长）"
        rows.append(OverdueRow(case.number, case.category, grid.name if grid else NO_GRID, case.state, holder,
                               case.due_at, days_overdue(case, at)))
    return rows


def recurring_problems(tree: GridTree, new: list[CaseRow], *, minimum: int = 2, limit: int = 10,
                       level: int = 3) -> list[RecurringProblem]:
    """The same category reported ``minimum`` times or more in the period within one grid of ``level``
    (村/社区: where a problem keeps coming back; cases in a coarser grid count in that grid)."""
    groups: dict[tuple[str, int | None], list[CaseRow]] = defaultdict(list)
    for case in new:
        grid = tree.ancestor(case.grid_id, level)
        groups[(case.category, grid.id if grid else case.grid_id)].append(case)
    found = []
    for (category, grid_id), rows in groups.items():
        if len(rows) < minimum:
            continue
        sources = Counter(c.source for c in rows)
        text = "、".join(f"{s}×{n}" for s, n in sorted(sources.items(), key=lambda i: (-i[1], i[0])))
        numbers = "、".join(c.number for c in sorted(rows, key=lambda c: (c.created_at, c.id)))
        found.append(RecurringProblem(category, tree.name(grid_id), len(rows), text, numbers))
    return sorted(found, key=lambda p: (-p.count, p.category, p.grid))[:limit]
