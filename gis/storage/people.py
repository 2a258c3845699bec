"""People and their role assignments on grids (who was responsible when)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import Connection, or_, select

from gis.domain import Assignment, Person, Role
from gis.storage.rows import insert_returning_ids
from gis.storage.schema import assignments, people


def insert_people(connection: Connection, new: Sequence[Person], *, actor=None) -> list[int]:
    """Add people; ``actor`` a Session must be allowed to edit people (GIS 编辑/管理员), else PermissionDenied."""
    from gis.security.edit_guard import check_people_write

    check_people_write(connection, actor)
    now = datetime.now()
    rows = [{"name": p.name, "phone": p.phone, "unit": p.unit, "title": p.title, "created_at": now}
            for p in new]
    ids = insert_returning_ids(connection, people, rows)
    for person, person_id in zip(new, ids):
        person.id = person_id
    return ids


def insert_assignments(connection: Connection, new: Sequence[Assignment], *, actor=None) -> None:
    """Add role assignments; a Session ``actor`` needs people rights and every grid in its data scope."""
    from gis.security.edit_guard import check_people_write

    check_people_write(connection, actor, [a.grid_id for a in new])
    if new:
        connection.execute(assignments.insert(), [
            {"grid_id": a.grid_id, "person_id": a.person_id, "role": str(a.role),
             "start_date": a.start_date, "end_date": a.end_date} for a in new])


def current_staff(connection: Connection, grid_ids: Iterable[int] | None = None,
                  on: date | None = None) -> dict[int, list[tuple[Role, Person]]]:
    """Who holds which role on each grid on day ``on`` (default today), leaders first."""
    on = on or date.today()
    query = (
        select(assignments.c.grid_id, assignments.c.role, people)
        .join(people, people.c.id == assignments.c.person_id)
        .where(assignments.c.start_date <= on,
               or_(assignments.c.end_date.is_(None), assignments.c.end_date >= on))
    )
    if grid_ids is not None:
        query = query.where(assignments.c.grid_id.in_(list(grid_ids)))
    order = {role: i for i, role in enumerate(Role)}
    staff: dict[int, list[tuple[Role, Person]]] = defaultdict(list)
    for row in connection.execute(query):
        person = Person(row.id, row.name, row.phone, row.unit, row.title)
        staff[row.grid_id].append((Role(row.role), person))
    for entries in staff.values():
        entries.sort(key=lambda entry: (order[entry[0]], entry[1].name))
    return dict(staff)
