"""Assigning 网格长, 网格员… to grids, keeping who held which role when.

An assignment is never overwritten: replacing a holder ends the current assignment the day
before the new one starts, so the public sign's history ("who was responsible on that day")
stays answerable.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, or_, select

from gis.domain import Person, Role
from gis.phones import normalize_phone
from gis.storage.schema import assignments as A
from gis.storage.schema import grids as G
from gis.storage.schema import people as P


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """One assignment as the grid's history shows it."""

    assignment_id: int
    role: Role
    person: Person
    start_date: date
    end_date: date | None

    @property
    def current(self) -> bool:
        return self.end_date is None or self.end_date >= date.today()


def _transaction(connection: Connection):
    return connection.begin_nested() if connection.in_transaction() else connection.begin()


def add_person(connection: Connection, name: str, phone: str = "", *, unit: str = "", title: str = "") -> Person:
    """Add someone to the people list; the phone is checked and stored normalised.

    Raises
    ------
    gis.phones.PhoneError
        The phone is not a mainland mobile or a landline with area code.
    ValueError
        The name is empty.
    """
    name = name.strip()
    if not name:
        raise ValueError("姓名不能为空")
    phone = normalize_phone(phone) if phone.strip() else ""
    with _transaction(connection):
        person_id = connection.execute(P.insert().values(name=name, phone=phone, unit=unit, title=title,
                                                         created_at=datetime.now()).returning(P.c.id)).scalar_one()
    return Person(person_id, name, phone, unit, title)


def assign_role(connection: Connection, grid_id: int, person_id: int, role: Role | str, start: date, *,
                replace: bool = True) -> int:
    """Give ``person_id`` the ``role`` on ``grid_id`` from ``start``; returns the assignment id.

    With ``replace`` (the default) whoever holds the role on ``start`` stops the day before, in
    the same transaction; without it the person is added beside them (a second 网格员).
    If the person already holds the role on ``start``, nothing changes.

    Raises
    ------
    ValueError
        Unknown grid or person, or a current holder started on or after ``start`` (ending
        them the day before would put their end before their start).
    """
    role = Role(role)
    with _transaction(connection):
        if connection.execute(select(G.c.id).where(G.c.id == grid_id)).first() is None:
            raise ValueError(f"网格 id {grid_id} 不存在")
        if connection.execute(select(P.c.id).where(P.c.id == person_id)).first() is None:
            raise ValueError(f"人员 id {person_id} 不存在")
        holding = connection.execute(
            select(A.c.id, A.c.person_id, A.c.start_date).where(
                A.c.grid_id == grid_id, A.c.role == str(role),
                or_(A.c.end_date.is_(None), A.c.end_date >= start))).all()
        same = [h for h in holding if h.person_id == person_id and h.start_date <= start]
        if same:
            return same[0].id
        if replace:
            for holder in holding:
                if holder.start_date >= start:
                    raise ValueError(f"该岗位已有人员自 {holder.start_date} 起任职，不能在 {start} 之前结束其任职")
                connection.execute(A.update().where(A.c.id == holder.id).values(end_date=start - timedelta(days=1)))
        return connection.execute(A.insert().values(grid_id=grid_id, person_id=person_id, role=str(role),
                                                    start_date=start, end_date=None).returning(A.c.id)).scalar_one()


def end_role(connection: Connection, assignment_id: int, end: date) -> None:
    """End one assignment on ``end`` (the person leaves without a successor yet)."""
    with _transaction(connection):
        connection.execute(A.update().where(A.c.id == assignment_id).values(end_date=end))


def grid_staff_history(connection: Connection, grid_id: int) -> list[StaffRecord]:
    """Every assignment ever made on the grid, by role (网格长 first) then start date."""
    rows = connection.execute(
        select(A.c.id.label("assignment_id"), A.c.role, A.c.start_date, A.c.end_date, P.c.id, P.c.name, P.c.phone,
               P.c.unit, P.c.title)
        .join(P, P.c.id == A.c.person_id).where(A.c.grid_id == grid_id)).all()
    order = {role: i for i, role in enumerate(Role)}
    records = [StaffRecord(r.assignment_id, Role(r.role), Person(r.id, r.name, r.phone, r.unit, r.title),
                           r.start_date, r.end_date) for r in rows]
    return sorted(records, key=lambda r: (order[r.role], r.start_date, r.assignment_id))
