"""Presence leases ("张三 正在处理（自 10:32）") and logout auditing, on both backends."""
from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from gis import presence
from gis.security import accounts, passwords
from gis.security.authentication import login, logout
from gis.security.permissions import PermissionDenied
from gis.storage import schema
from gis.workflow.cases import create_case
from test_workflow_world import T0, build_world


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def office(store):
    world = build_world(store)
    with store.engine.begin() as connection:
        accounts.create_first_admin(connection, "boss", "boss-password", now=T0)
    admin = login(store.engine, "boss", "boss-password", now=T0)
    with store.engine.begin() as connection:
        accounts.create_user(connection, admin, "zhangsan", "seat-password", "坐席", display_name="张三", now=T0)
        accounts.create_user(connection, admin, "lisi", "seat-password", "坐席", display_name="李四", now=T0)
        accounts.create_user(connection, admin, "lingdao", "lead-password", "领导", now=T0)
        lon, lat = world.centre("T1S1")
        case = create_case(connection, source="群众举报", category="扬尘污染", description="工地扬尘", actor="系统",
                           lon=lon, lat=lat, now=T0)
    sessions = {n: login(store.engine, n, p, host=f"seat-{n}", now=T0) for n, p in
                (("zhangsan", "seat-password"), ("lisi", "seat-password"), ("lingdao", "lead-password"))}
    return case, sessions


def test_two_seats_see_each_other_and_release_on_close(store, office):
    case, s = office
    mine, theirs = presence.new_seat_token(), presence.new_seat_token()
    assert mine != theirs
    at = T0.replace(hour=10, minute=32)
    with store.engine.begin() as connection:
        assert presence.take(connection, case.id, s["zhangsan"], mine, now=at) == []
    with store.engine.begin() as connection:
        others = presence.take(connection, case.id, s["lisi"], theirs, now=at + timedelta(seconds=60))
    assert [(o.user_name, o.host, o.since) for o in others] == [("zhangsan", "seat-zhangsan", at)]
    assert others[0].label == "张三 正在处理（自 09-14 10:32）"  # another day than today: with the date
    with store.engine.connect() as connection:
        seen = presence.holders(connection, [case.id], exclude_seat=mine, now=at + timedelta(seconds=80))
    assert [lease.who for lease in seen[case.id]] == ["李四"]
    with store.engine.begin() as connection:
        presence.release(connection, case.id, mine)
        presence.release(connection, case.id, mine)  # twice is harmless
    with store.engine.connect() as connection:
        left = presence.holders(connection, now=at + timedelta(seconds=80))
    assert [lease.user_name for lease in left[case.id]] == ["lisi"]


def test_a_lease_expires_after_90_s_without_heartbeat(store, office):
    case, s = office
    seat = presence.new_seat_token()
    with store.engine.begin() as connection:
        presence.take(connection, case.id, s["zhangsan"], seat, now=T0)
    with store.engine.begin() as connection:  # heartbeats keep it: still there 2 minutes later
        assert presence.heartbeat(connection, case.id, seat, now=T0 + timedelta(seconds=60))
    with store.engine.connect() as connection:
        assert case.id in presence.holders(connection, now=T0 + timedelta(seconds=60 + presence.LEASE_SECONDS))
        assert presence.holders(connection, now=T0 + timedelta(seconds=61 + presence.LEASE_SECONDS)) == {}
    later = T0 + timedelta(minutes=10)
    with store.engine.begin() as connection:  # the next take on the case purges it
        presence.take(connection, case.id, s["lisi"], presence.new_seat_token(), now=later)
        rows = connection.execute(select(schema.case_presence.c.user_name)).scalars().all()
        assert rows == ["lisi"]
        assert not presence.heartbeat(connection, case.id, seat, now=later)  # gone: the seat must take again


def test_the_same_user_on_two_seats_is_named_once(store, office):
    case, s = office
    with store.engine.begin() as connection:
        presence.take(connection, case.id, s["zhangsan"], "a" * 32, now=T0)
        presence.take(connection, case.id, s["zhangsan"], "b" * 32, now=T0 + timedelta(seconds=5))
        leases = presence.holders(connection, [case.id], now=T0 + timedelta(seconds=6))[case.id]
    assert len(leases) == 2
    assert presence.describe(leases).count("张三") == 1


def test_a_leader_does_not_take_a_lease_and_bad_input_is_refused(store, office):
    case, s = office
    with store.engine.begin() as connection, pytest.raises(PermissionDenied, match="lingdao.*领导.*无权登记和办理案件"):
        presence.take(connection, case.id, s["lingdao"], presence.new_seat_token(), now=T0)
    with store.engine.begin() as connection, pytest.raises(ValueError, match="seat token"):
        presence.take(connection, case.id, s["zhangsan"], "", now=T0)
    with store.engine.connect() as connection:
        assert presence.holders(connection, now=T0) == {}
        assert presence.holders(connection, [], now=T0) == {}


def test_login_and_logout_are_audited_with_the_host(store, office):
    _case, s = office
    with pytest.raises(Exception):
        login(store.engine, "zhangsan", "wrong-password", host="seat-7", now=T0)
    logout(store.engine, s["zhangsan"], now=T0 + timedelta(hours=1))
    with store.engine.connect() as connection:
        rows = connection.execute(select(schema.audit_log.c.user_name, schema.audit_log.c.action,
                                         schema.audit_log.c.host)
                                  .where(schema.audit_log.c.user_name == "zhangsan")
                                  .order_by(schema.audit_log.c.id)).all()
    actions = [(r.action, r.host.split(" ")[0]) for r in rows if r.action.startswith("log")]
    assert actions == [("login", "seat-zhangsan"), ("login_failed", "seat-7"), ("logout", "seat-zhangsan")]
