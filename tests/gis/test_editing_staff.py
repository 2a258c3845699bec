"""Leaders and staff: a person with a checked phone, role hand-overs with dates, history kept
(both backends)."""
from __future__ import annotations

from datetime import date

import pytest
from test_editing_world import store_sample

from gis.domain import Role
from gis.editing import add_person, assign_role, end_role, grid_staff_history
from gis.phones import PhoneError
from gis.storage.people import current_staff


@pytest.fixture
def ids(store):
    with store.engine.begin() as connection:
        return store_sample(connection)


def test_add_person_checks_and_normalises_the_phone(store):
    with store.engine.connect() as connection:
        person = add_person(connection, " 王建国 ", "+86 138-1234-5678", unit="古寨村", title="党支部书记")
        with pytest.raises(PhoneError, match="11位"):
            add_person(connection, "李四", "138123")
        with pytest.raises(ValueError, match="姓名"):
            add_person(connection, "  ", "13812345678")
        connection.commit()
    assert (person.name, person.phone) == ("王建国", "13812345678") and person.id is not None


def test_replacing_a_leader_ends_the_old_assignment_the_day_before(store, ids):
    grid = ids["A1"]
    with store.engine.connect() as connection:
        old = add_person(connection, "王建国", "13812345678")
        new = add_person(connection, "赵敏", "0356-2123456")
        first = assign_role(connection, grid, old.id, Role.LEADER, date(2024, 1, 1))
        second = assign_role(connection, grid, new.id, "网格长", date(2025, 3, 1))
        again = assign_role(connection, grid, new.id, Role.LEADER, date(2025, 6, 1))  # already holds it
        connection.commit()
        history = grid_staff_history(connection, grid)
        today = current_staff(connection, [grid], on=date(2025, 6, 1))
        before = current_staff(connection, [grid], on=date(2025, 2, 28))
    assert again == second != first
    assert [(r.person.name, r.role, r.start_date, r.end_date) for r in history] == [
        ("王建国", Role.LEADER, date(2024, 1, 1), date(2025, 2, 28)),
        ("赵敏", Role.LEADER, date(2025, 3, 1), None)]
    assert [p.name for _, p in today[grid]] == ["赵敏"] and [p.name for _, p in before[grid]] == ["王建国"]


def test_a_second_staff_member_beside_the_first(store, ids):
    grid = ids["A1a"]
    with store.engine.connect() as connection:
        a = add_person(connection, "甲", "13900000001")
        b = add_person(connection, "乙", "13900000002")
        assign_role(connection, grid, a.id, Role.STAFF, date(2024, 1, 1))
        assign_role(connection, grid, b.id, Role.STAFF, date(2024, 5, 1), replace=False)
        connection.commit()
        staff = current_staff(connection, [grid], on=date(2024, 6, 1))[grid]
        assignment = grid_staff_history(connection, grid)[1].assignment_id
        end_role(connection, assignment, date(2024, 12, 31))
        connection.commit()
        later = current_staff(connection, [grid], on=date(2025, 1, 1))[grid]
    assert sorted(p.name for _, p in staff) == ["乙", "甲"]
    assert [p.name for _, p in later] == ["甲"]


def test_replacing_before_the_holder_started_is_refused_and_nothing_changes(store, ids):
    grid = ids["B1"]
    with store.engine.connect() as connection:
        a = add_person(connection, "甲", "13900000001")
        b = add_person(connection, "乙", "13900000002")
        assign_role(connection, grid, a.id, Role.LEADER, date(2025, 1, 1))
        connection.commit()
        with pytest.raises(ValueError, match="2025-01-01"):
            assign_role(connection, grid, b.id, Role.LEADER, date(2024, 12, 1))
        connection.rollback()
        history = grid_staff_history(connection, grid)
    assert [(r.person.name, r.end_date) for r in history] == [("甲", None)]


def test_unknown_grid_or_person(store, ids):
    with store.engine.connect() as connection:
        with pytest.raises(ValueError, match="网格"):
            assign_role(connection, 9999, 1, Role.LEADER, date(2025, 1, 1))
        with pytest.raises(ValueError, match="人员"):
            assign_role(connection, ids["A1"], 9999, Role.LEADER, date(2025, 1, 1))
