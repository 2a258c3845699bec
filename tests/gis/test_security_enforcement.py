"""Roles and data scope enforced in the grid-edit, people and case-query services, and ``case --as``."""
from __future__ import annotations

import io
from datetime import date

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from gis.cli import main as envgrid
from gis.domain import Assignment, Person, Role
from gis.editing import GridEditSession, SetGridFieldsCommand
from gis.security import accounts, passwords
from gis.security.authentication import login
from gis.security.permissions import PermissionDenied
from gis.storage import schema
from gis.storage.case_queries import CaseFilter, count_cases, page_cases
from gis.storage.people import insert_assignments, insert_people
from gis.workflow.cases import create_case
from test_workflow_world import T0, build_world


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def bureau(store):
    """The test world with a 管理员, a GIS 编辑 for all, one restricted to 西镇 (T1), a 坐席 and a 领导."""
    world = build_world(store)
    with store.engine.begin() as connection:
        accounts.create_first_admin(connection, "boss", "boss-password", now=T0)
    admin = login(store.engine, "boss", "boss-password", now=T0)
    with store.engine.begin() as connection:
        for name, role, scope in (("gis", "gis_editor", None), ("gisxi", "GIS编辑", world["T1"].id),
                                  ("seat", "坐席", None), ("lead", "领导", None)):
            accounts.create_user(connection, admin, name, "user-password", role, display_name=name.upper(),
                                 scope_grid_id=scope, now=T0)
        for code in ("T1S", "T2S"):
            lon, lat = world.centre(code)
            create_case(connection, source="群众举报", category="扬尘污染", description=code, actor="系统",
                        lon=lon, lat=lat, now=T0)
    sessions = {n: login(store.engine, n, "user-password", now=T0) for n in ("gis", "gisxi", "seat", "lead")}
    return world, sessions


def _rename(store, world, code, actor):
    with store.engine.connect() as connection:
        session = GridEditSession.load(connection, user="测试")
    session.push(SetGridFieldsCommand(session, world[code].id, name=f"{world[code].name}（改）"))
    with store.engine.connect() as connection:
        return session.save(connection, actor=actor)


def _names(store) -> dict[str, str]:
    with store.engine.connect() as connection:
        return dict(connection.execute(select(schema.grids.c.code, schema.grids.c.name)).all())


def test_grid_edits_need_the_gis_editor_role(store, bureau):
    world, s = bureau
    before = _names(store)
    for who, role in (("seat", "坐席"), ("lead", "领导")):
        with pytest.raises(PermissionDenied, match=f"{who.upper()}（{who}）」（角色：{role}）无权编辑网格"):
            _rename(store, world, "T1S", s[who])
    assert _names(store) == before
    assert _rename(store, world, "T2S", s["gis"]).updated == [world["T2S"].id]
    assert _names(store)["T2S"].endswith("（改）")


def test_a_scoped_gis_editor_edits_only_inside_the_subtree(store, bureau):
    world, s = bureau
    with pytest.raises(PermissionDenied, match="数据范围「西镇（T1）」"):
        _rename(store, world, "T2N", s["gisxi"])
    assert not _names(store)["T2N"].endswith("（改）")
    _rename(store, world, "T1N", s["gisxi"])
    assert _names(store)["T1N"].endswith("（改）")


def test_the_actor_can_ride_on_the_edit_session(store, bureau):
    world, s = bureau
    with store.engine.connect() as connection:
        session = GridEditSession.load(connection)
    session.actor = s["lead"]
    session.push(SetGridFieldsCommand(session, world["T1S"].id, duties="巡查"))
    with store.engine.connect() as connection, pytest.raises(PermissionDenied, match="领导"):
        session.save(connection)


def test_people_and_assignments_need_people_rights_and_scope(store, bureau):
    world, s = bureau
    with store.engine.begin() as connection, pytest.raises(PermissionDenied, match="坐席.*无权编辑网格人员"):
        insert_people(connection, [Person(None, "王五")], actor=s["seat"])
    with store.engine.begin() as connection:
        person = Person(None, "王五", "13900001111")
        insert_people(connection, [person], actor=s["gisxi"])
        insert_assignments(connection, [Assignment(world["T1N"].id, person.id, Role.STAFF, date(2026, 9, 1))],
                           actor=s["gisxi"])
    with store.engine.begin() as connection, pytest.raises(PermissionDenied, match="数据范围"):
        insert_assignments(connection, [Assignment(world["T2N"].id, person.id, Role.STAFF, date(2026, 9, 1))],
                           actor=s["gisxi"])
    with store.engine.connect() as connection:
        held = connection.execute(select(schema.assignments.c.grid_id).where(
            schema.assignments.c.person_id == person.id)).scalars().all()
    assert held == [world["T1N"].id]


def test_case_queries_follow_the_data_scope_and_views_cannot_widen_it(store, bureau):
    world, _s = bureau
    scoped = CaseFilter(scope_grid_id=world["T1"].id)
    with store.engine.connect() as connection:
        assert count_cases(connection, CaseFilter()) == 2
        assert count_cases(connection, scoped) == 1
        assert [c.number for c in page_cases(connection, scoped)] == [
            c.number for c in page_cases(connection, CaseFilter()) if c.grid_name.startswith("西镇")]
    assert scoped.replace(scope_grid_id=None, text="x").scope_grid_id == world["T1"].id
    assert scoped.without("scope_grid_id", "text").scope_grid_id == world["T1"].id


def test_case_commands_need_as_once_accounts_exist(store, bureau, monkeypatch, capsys):
    world, _s = bureau
    url = store.url.render_as_string(hide_password=False)
    lon, lat = world.centre("T1S")
    new = ["case", "new", "--db", url, "--source", "群众举报", "--category", "扬尘污染", "--desc", "烟",
           "--lon", str(lon), "--lat", str(lat)]

    def cases() -> int:
        with store.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(schema.cases)).scalar_one()

    before = cases()
    assert envgrid(new) == 1
    assert "--as" in capsys.readouterr().err
    monkeypatch.setenv("ENVGRID_PASSWORD", "user-password")
    assert envgrid([*new, "--as", "lead"]) == 1
    assert "领导" in capsys.readouterr().err and cases() == before
    monkeypatch.setenv("ENVGRID_PASSWORD", "wrong")
    assert envgrid([*new, "--as", "seat"]) == 1
    assert "用户名或密码错误" in capsys.readouterr().err
    monkeypatch.setenv("ENVGRID_PASSWORD", "user-password")
    assert envgrid([*new, "--as", "seat"]) == 0
    assert cases() == before + 1
    with store.engine.connect() as connection:
        actor = connection.execute(select(schema.case_events.c.actor).order_by(
            schema.case_events.c.id.desc()).limit(1)).scalar_one()
        audit = connection.execute(select(schema.audit_log.c.user_name).where(
            schema.audit_log.c.action == "case.create").order_by(schema.audit_log.c.id.desc()).limit(1)).scalar_one()
    assert (actor, audit) == ("SEAT", "seat")
    monkeypatch.delenv("ENVGRID_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert envgrid(["case", "show", "--db", url, "--json", page_number(store)]) == 0  # reads need no login


def page_number(store) -> str:
    with store.engine.connect() as connection:
        return connection.execute(select(schema.cases.c.number).limit(1)).scalar_one()


def test_only_an_administrator_may_change_alarm_rules(store, bureau):
    from gis.security.edit_guard import check_alarm_rules_write

    _world, s = bureau
    admin = login(store.engine, "boss", "boss-password", now=T0)
    with store.engine.connect() as connection:
        for who in ("seat", "gis", "lead"):
            with pytest.raises(PermissionDenied, match="无权修改系统设置"):
                check_alarm_rules_write(connection, s[who])
        assert check_alarm_rules_write(connection, admin).username == "boss"
        assert check_alarm_rules_write(connection, "告警引擎") is None  # a trusted system caller


def test_alarm_rules_are_saved_only_by_an_administrator(store, bureau, monkeypatch, tmp_path, capsys):
    from gis.monitoring import parse_rules, read_rules, save_rules

    _world, s = bureau
    rule = parse_rules([{"code": "pm25-test", "kind": "threshold", "pollutant": "a34004", "limit": 75}])
    with store.engine.begin() as connection:
        with pytest.raises(PermissionDenied, match="无权修改系统设置"):
            save_rules(connection, rule, actor=s["seat"])
    with store.engine.connect() as connection:
        assert "pm25-test" not in {r.code for r in read_rules(connection)}
    url = store.url.render_as_string(hide_password=False)
    rules_file = tmp_path / "rules.json"
    rules_file.write_text('[{"code": "pm25-test", "kind": "threshold", "pollutant": "a34004", "limit": 75}]',
                          encoding="utf-8")
    assert envgrid(["alarms", "set-rules", "--db", url, str(rules_file)]) == 1
    assert "--as" in capsys.readouterr().err
    monkeypatch.setenv("ENVGRID_PASSWORD", "user-password")
    assert envgrid(["alarms", "set-rules", "--db", url, str(rules_file), "--as", "gis"]) == 1
    assert "无权修改系统设置" in capsys.readouterr().err
    monkeypatch.setenv("ENVGRID_PASSWORD", "boss-password")
    assert envgrid(["alarms", "set-rules", "--db", url, str(rules_file), "--as", "boss"]) == 0
    with store.engine.connect() as connection:
        assert "pm25-test" in {r.code for r in read_rules(connection)}
