"""Permissions and data scope enforced in the case services, on both backends, with their audit rows."""
from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from gis.domain import CaseAction
from gis.security import accounts, passwords
from gis.security.authentication import login
from gis.security.permissions import Permission, PermissionDenied, require, scope_filter
from gis.security.users import AccountError
from gis.storage import schema
from gis.workflow.cases import add_note, apply_action, create_case
from test_workflow_world import T0, build_world


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def town(store):
    """The test world, an administrator, a seat restricted to 西镇 (T1), an unrestricted seat, a leader."""
    world = build_world(store)
    with store.engine.begin() as connection:
        accounts.create_first_admin(connection, "boss", "boss-password", now=T0)
    admin = login(store.engine, "boss", "boss-password", now=T0)
    with store.engine.begin() as connection:
        accounts.create_user(connection, admin, "xizhen", "seat-password", "seat", display_name="西镇坐席",
                             scope_grid_id=world["T1"].id, now=T0)
        accounts.create_user(connection, admin, "zhongxin", "seat-password", "坐席", display_name="中心坐席", now=T0)
        accounts.create_user(connection, admin, "lingdao", "lead-password", "领导", now=T0)
    sessions = {name: login(store.engine, name, pw, now=T0) for name, pw in
                (("xizhen", "seat-password"), ("zhongxin", "seat-password"), ("lingdao", "lead-password"))}
    return world, admin, sessions


def _new(store, world, code, actor, **extra):
    lon, lat = world.centre(code)
    with store.engine.begin() as connection:
        return create_case(connection, source="群众举报", category="扬尘污染", description="工地扬尘", actor=actor,
                           lon=lon, lat=lat, now=T0, **extra)


def _count(store, table) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_scope_filter_selects_the_subtree(store, town):
    world, admin, sessions = town
    scoped = sessions["xizhen"]
    assert scoped.scope.code == "T1" and scoped.scope.grid_ids == {g.id for c, g in world.grids.items()
                                                                  if c.startswith("T1")}
    with store.engine.connect() as connection:
        codes = set(connection.execute(select(schema.grids.c.code).where(scope_filter(scoped))).scalars())
        everything = set(connection.execute(select(schema.grids.c.code).where(scope_filter(admin))).scalars())
    assert codes == {"T1", "T1S", "T1N", "T1S1", "T1S2", "T1N1", "T1N2", "T1S1U"}
    assert everything == set(world.grids)

    _new(store, world, "T1S2", "系统")
    _new(store, world, "T2N1", "系统")
    with store.engine.connect() as connection:
        grid_codes = connection.execute(
            select(schema.grids.c.code).join(schema.cases, schema.cases.c.grid_id == schema.grids.c.id)
            .where(scope_filter(scoped, schema.cases.c.grid_id))).scalars().all()
    assert grid_codes == ["T1S2"]


def test_scope_is_a_prefix_at_a_deeper_level_only(store, town):
    """A sibling whose code merely starts with the scope's code (T1 vs T10) stays outside."""
    world, _, sessions = town
    from gis.domain import Grid
    from gis.storage.grids import insert_grids

    with store.engine.begin() as connection:
        insert_grids(connection, [Grid(None, "T10", "十镇", 2, world["D"].id, world["T2"].boundary)])
        codes = set(connection.execute(select(schema.grids.c.code).where(scope_filter(sessions["xizhen"]))).scalars())
    assert "T10" not in codes and "T1" in codes


def test_scoped_seat_creates_and_handles_cases_only_inside(store, town):
    world, _, sessions = town
    seat = sessions["xizhen"]
    inside = _new(store, world, "T1S1", seat)
    assert inside.grid.code == "T1S1"
    cases_before, audit_before = _count(store, schema.cases), _count(store, schema.audit_log)
    with pytest.raises(PermissionDenied, match=r"西镇坐席（xizhen）.*坐席.*登记和办理案件.*数据范围「西镇（T1）」"):
        _new(store, world, "T2S1", seat)
    assert (_count(store, schema.cases), _count(store, schema.audit_log)) == (cases_before, audit_before)

    outside = _new(store, world, "T2S1", sessions["zhongxin"])  # the unrestricted seat may
    with store.engine.begin() as connection, pytest.raises(PermissionDenied, match="数据范围"):
        apply_action(connection, outside.number, CaseAction.DISPATCH, seat, now=T0)
    with store.engine.begin() as connection, pytest.raises(PermissionDenied):
        add_note(connection, outside.id, seat, "看看", now=T0)
    with store.engine.begin() as connection, pytest.raises(PermissionDenied):  # 派发 out of the scope
        apply_action(connection, inside.number, CaseAction.DISPATCH, seat, grid_id=world["T2S1"].id, now=T0)
    with store.engine.begin() as connection:
        done = apply_action(connection, inside.number, CaseAction.DISPATCH, seat, grid_id=world["T1N1"].id,
                            now=T0 + timedelta(minutes=5))
    assert done.grid_id == world["T1N1"].id


def test_a_case_outside_every_grid_is_outside_every_scope(store, town):
    world, _, sessions = town
    with store.engine.begin() as connection, pytest.raises(PermissionDenied, match="不属于任何网格"):
        create_case(connection, source="群众举报", category="扬尘污染", description="区外", actor=sessions["xizhen"],
                    lon=100.0, lat=30.0, now=T0)
    require(sessions["xizhen"], Permission.CASES_WRITE, grid_id=world["T1S1U"].id)  # cached subtree, no connection
    with pytest.raises(PermissionDenied):
        require(sessions["xizhen"], Permission.CASES_WRITE, grid_id=world["T2"].id)


def test_leader_is_read_only_in_the_services(store, town):
    world, _, sessions = town
    case = _new(store, world, "T1S1", "系统")
    before = (_count(store, schema.cases), _count(store, schema.case_events), _count(store, schema.audit_log))
    with pytest.raises(PermissionDenied, match="领导.*无权登记和办理案件"):
        _new(store, world, "T1S1", sessions["lingdao"])
    with store.engine.begin() as connection, pytest.raises(PermissionDenied):
        apply_action(connection, case.number, CaseAction.DISPATCH, sessions["lingdao"], now=T0)
    assert (_count(store, schema.cases), _count(store, schema.case_events), _count(store, schema.audit_log)) == before


def test_case_changes_are_audited_in_their_transaction(store, town):
    world, _, sessions = town
    seat = sessions["zhongxin"]
    case = _new(store, world, "T2S1", seat)
    with store.engine.connect() as connection:
        created = connection.execute(select(schema.audit_log).where(schema.audit_log.c.action == "case.create")).one()
        event_actor = connection.execute(select(schema.case_events.c.actor)).scalar_one()
    assert (created.user_name, created.table_name, created.row_id) == ("zhongxin", "cases", case.id)
    assert created.before is None
    assert created.after["number"] == case.number and created.after["state"] == "待受理"
    assert event_actor == "中心坐席"  # the event trail keeps the human name

    audit_before = _count(store, schema.audit_log)
    with store.engine.connect() as connection:
        transaction = connection.begin()
        apply_action(connection, case.number, CaseAction.DISPATCH, seat, now=T0 + timedelta(hours=1))
        assert connection.execute(select(func.count()).select_from(schema.audit_log)).scalar_one() == audit_before + 1
        transaction.rollback()
    assert _count(store, schema.audit_log) == audit_before

    with store.engine.begin() as connection:
        apply_action(connection, case.number, CaseAction.DISPATCH, seat, now=T0 + timedelta(hours=1))
    with store.engine.connect() as connection:
        entry = connection.execute(select(schema.audit_log).order_by(schema.audit_log.c.id.desc()).limit(1)).one()
    assert entry.action == "case.派发" and entry.row_id == case.id
    assert entry.before["state"] == "待受理" and entry.after["state"] == "已派发" and entry.after["version"] == 2


def test_plain_string_actors_still_work_and_are_audited(store, town):
    world, _, _ = town
    case = _new(store, world, "T2S1", "坐席王")
    with store.engine.connect() as connection:
        names = connection.execute(select(schema.audit_log.c.user_name)
                                   .where(schema.audit_log.c.row_id == case.id,
                                          schema.audit_log.c.table_name == "cases")).scalars().all()
    assert names == ["坐席王"]


def test_a_lock_takes_effect_on_the_next_action(store, town):
    world, admin, sessions = town
    with store.engine.begin() as connection:
        accounts.lock_user(connection, admin, "zhongxin")
    with pytest.raises(PermissionDenied, match="已停用"):
        _new(store, world, "T2S1", sessions["zhongxin"])


def test_scope_must_be_a_second_level_grid(store, town):
    world, admin, _ = town
    with store.engine.begin() as connection, pytest.raises(AccountError, match="2级网格"):
        accounts.create_user(connection, admin, "cun", "seat-password", "seat", scope_grid_id=world["T1S"].id)
