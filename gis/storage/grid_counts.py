"""Open and overdue cases per grid, counted in SQL: what a map filled by a case statistic needs
after the live feed reports a change, without reading the cases themselves again.

One ``GROUP BY`` over the open cases; ``ix_cases_state_cover`` (state, due_at, grid_id, …)
answers it from the index alone, and open cases are a small share of all cases.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Connection, Integer, and_, case, func, select

from gis.domain import OPEN_STATES
from gis.storage.schema import cases


def read_case_counts(connection: Connection, now: datetime | None = None) -> dict[str, Counter]:
    """``{"open_cases": grid id → n, "overdue_cases": grid id → n}`` for the cases' own grids (not rolled up)."""
    now = now or datetime.now()
    overdue = case((and_(cases.c.due_at.is_not(None), cases.c.due_at < now), 1), else_=0)
    query = (select(cases.c.grid_id, func.count(), func.sum(overdue, type_=Integer))
             .where(cases.c.state.in_(sorted(OPEN_STATES)), cases.c.grid_id.is_not(None))
             .group_by(cases.c.grid_id))
    open_cases, overdue_cases = Counter(), Counter()
    for grid_id, n_open, n_overdue in connection.execute(query):
        open_cases[grid_id] = int(n_open)
        if n_overdue:
            overdue_cases[grid_id] = int(n_overdue)
    return {"open_cases": open_cases, "overdue_cases": overdue_cases}
