"""Reading case rows for tables and map pins; the workflow that changes them lives elsewhere."""
from __future__ import annotations

from sqlalchemy import Connection, select

from gis.domain import CASE_CATEGORIES, CaseSummary
from gis.storage.rows import seed_code_list
from gis.storage.schema import case_categories, cases, grids


def seed_case_categories(connection: Connection) -> dict[str, int]:
    """Insert the default case categories (always including 其他) if none exist."""
    return seed_code_list(connection, case_categories, CASE_CATEGORIES)


def read_case_summaries(connection: Connection, *, limit: int | None = None,
                        states: set[str] | None = None) -> list[CaseSummary]:
    """Newest first, with the responsible grid's name and the category's name."""
    query = (
        select(cases.c.id, cases.c.number, cases.c.source, case_categories.c.name.label("category"),
               cases.c.state, cases.c.grid_id, grids.c.name.label("grid_name"), cases.c.lon, cases.c.lat,
               cases.c.created_at, cases.c.due_at, cases.c.closed_at, cases.c.description)
        .join(case_categories, case_categories.c.id == cases.c.category_id)
        .outerjoin(grids, grids.c.id == cases.c.grid_id)
        .order_by(cases.c.created_at.desc(), cases.c.id.desc())
    )
    if states:
        query = query.where(cases.c.state.in_(sorted(states)))
    if limit:
        query = query.limit(limit)
    return [CaseSummary(**{**row._mapping, "grid_name": row.grid_name or ""}) for row in connection.execute(query)]
