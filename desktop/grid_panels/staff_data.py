"""The reads and the one write behind the leaders-and-staff dialog (plain values in, plain values out).

`appoint` is the only write: add the person if new, then assign the role — one transaction, so
a refused assignment leaves no orphan person behind.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select

from gis.domain import Grid, Person, Role
from gis.editing.staff import StaffRecord, add_person, assign_role, grid_staff_history
from gis.storage.schema import grid_history as H
from gis.storage.schema import people as P


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of a grid's history: a staff change or an earlier boundary version."""

    when: date
    kind: str    # "人员" or "边界"
    text: str
    by: str = ""


def read_people(connection: Connection) -> list[Person]:
    rows = connection.execute(select(P.c.id, P.c.name, P.c.phone, P.c.unit, P.c.title).order_by(P.c.name, P.c.id))
    return [Person(r.id, r.name, r.phone, r.unit, r.title) for r in rows]


def appoint(connection: Connection, grid_id: int, role: Role | str, start: date, *, person_id: int | None = None,
            new_person: dict | None = None, replace: bool = True) -> tuple[int, int]:
    """Assign ``role`` on ``grid_id`` from ``start`` to an existing person or a new one.

    ``new_person``: ``{"name", "phone", "unit", "title"}``. Returns (person id, assignment id).
    Raises `gis.phones.PhoneError` or `ValueError` (bad phone, empty name, unknown grid, a holder
    who started later); nothing is written then.
    """
    if (person_id is None) == (new_person is None):
        raise ValueError("give either an existing person or a new one")
    transaction = connection.begin_nested() if connection.in_transaction() else connection.begin()
    try:
        if new_person is not None:
            person_id = add_person(connection, new_person.get("name", ""), new_person.get("phone", ""),
                                   unit=new_person.get("unit", ""), title=new_person.get("title", "")).id
        assignment_id = assign_role(connection, grid_id, person_id, role, start, replace=replace)
    except BaseException:
        transaction.rollback()
        raise
    transaction.commit()
    return person_id, assignment_id


def grid_history(connection: Connection, grid: Grid) -> list[HistoryEntry]:
    """Staff changes and boundary versions of one grid, newest first."""
    entries = []
    for record in grid_staff_history(connection, grid.id):
        entries.append(HistoryEntry(record.start_date, "人员", f"{record.person.name} 任{record.role}"
                                    + (f"（{record.person.phone}）" if record.person.phone else "")))
        if record.end_date is not None:
            entries.append(HistoryEntry(record.end_date, "人员", f"{record.person.name} 卸任{record.role}"))
    rows = connection.execute(select(H.c.version, H.c.change, H.c.changed_at, H.c.changed_by, H.c.area_m2, H.c.name)
                              .where(H.c.grid_id == grid.id).order_by(H.c.version)).all()
    for row in rows:
        when = row.changed_at.date() if isinstance(row.changed_at, datetime) else row.changed_at
        entries.append(HistoryEntry(when, "边界", f"{_change_name(row.change)}：第 {row.version} 版存档"
                                    f"（原面积 {row.area_m2 / 1e6:.3f} 平方公里，原名称“{row.name}”）", row.changed_by))
    return sorted(entries, key=lambda e: (e.when, e.kind), reverse=True)


def _change_name(change: str) -> str:
    return {"update": "修改", "delete": "删除", "merge": "合并", "split": "拆分"}.get(change, change)


def current_records(records: list[StaffRecord], on: date | None = None) -> list[StaffRecord]:
    on = on or date.today()
    return [r for r in records if r.start_date <= on and (r.end_date is None or r.end_date >= on)]
