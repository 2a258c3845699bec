"""Small bulk-write helpers shared by the storage modules."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, select


def insert_returning_ids(connection: Connection, table: Table, rows: Sequence[dict]) -> list[int]:
    """Insert ``rows`` in one statement and return their new ids in the same order."""
    if not rows:
        return []
    statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return [row.id for row in connection.execute(statement, list(rows))]


def seed_code_list(connection: Connection, table: Table, items: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Fill an editable (code, name) list with defaults if it is empty; return code → id.

    Only an empty list is seeded: once users edit it, their list is the list.
    """
    def current() -> dict[str, int]:
        return dict(connection.execute(select(table.c.code, table.c.id)).all())

    existing = current()
    if not existing:
        connection.execute(table.insert(), [{"code": code, "name": name, "sort_order": i, "active": True}
                                             for i, (code, name) in enumerate(items)])
        existing = current()
    return existing
