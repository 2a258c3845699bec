"""The data scope on reads (issue 6): a user restricted to one second-level grid reads that part only —
in the gis/ read functions the desktop uses, and so in ``envgrid case show|overdue`` and
``envgrid readings`` run ``--as`` that user. Both backends."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import shapely
from argon2 import PasswordHasher
from sqlalchemy import select

from gis.cli import main
from gis.security import accounts, passwords
from gis.security.authentication import login
from gis.security.cli_login import PASSWORD_ENV
from gis.security.permissions import PermissionDenied
from gis.storage import schema
from gis.workflow.cases import create_case, read_case_detail, reporter_trail
from gis.workflow.deadlines import overdue_cases, remind_overdue
from gis.hj212.readings import read_reading_groups
from test_workflow_world import T0, build_world

LATE = T0 + timedelta(days=60)  # every open case of the world is overdue by then
INSIDE, OUTSIDE = ("T1S1", "T1N2"), ("T2S1", "T2N")


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def town(store):
    """The test world; a seat restricted to 西镇 (T1), an unrestricted seat; cases on both sides
    (registered by the system) and one outside every grid; a station with readings in each town."""
    world = build_world(store)
    with store.engine.begin() as connection:
        accounts.create_first_admin(connection, "boss", "boss-password", now=T0)
    admin = login(store.engine, "boss", "boss-password", now=T0)
    with store.engine.begin() as connection:
        accounts.create_user(connection, admin, "xizhen", "seat-password", "seat", display_name="西镇坐席",
                             scope_grid_id=world["T1"].id, now=T0)
        accounts.create_user(connection, admin, "zhongxin", "seat-password", "坐席", display_name="中心坐席", now=T0)
        numbers = {}
        for code in INSIDE + OUTSIDE:
            lon, lat = world.centre(code)
            numbers[code] = create_case(connection, source="群众举报", category="扬尘污染", description=f"{code} 扬尘",
                                        actor="系统", lon=lon, lat=lat, now=T0).number
        numbers[None] = create_case(connection, source="群众举报", category="扬尘污染", description="区外",
                                    actor="系统", lon=100.0, lat=30.0, now=T0).number
        for n, code in enumerate(("T1N1", "T2S2")):
            lon, lat = world.centre(code)
            station = connection.execute(schema.stations.insert().values(
                mn=f"MN{code}", name=f"{code}站", kind="air", location=shapely.Point(lon, lat), lon=lon, lat=lat,
                active=True, created_at=T0).returning(schema.stations.c.id)).scalar_one()
            connection.execute(schema.readings.insert().values(
                station_id=station, mn=f"MN{code}", cn="2061", data_time=T0, pollutant="a34004", avg=40.0 + n,
                flag="N", received_at=T0))
        connection.execute(schema.readings.insert().values(  # a device with no stations row
            station_id=None, mn="MNUNKNOWN", cn="2061", data_time=T0, pollutant="a34004", avg=50.0, flag="N",
            received_at=T0))
    sessions = {name: login(store.engine, name, "seat-password", now=T0) for name in ("xizhen", "zhongxin")}
    return world, numbers, sessions


def test_a_case_outside_the_scope_cannot_be_read(store, town):
    world, numbers, sessions = town
    scoped = sessions["xizhen"]
    with store.engine.connect() as connection:
        for code in INSIDE:
            detail = read_case_detail(connection, numbers[code], viewer=scoped)
            assert detail.number == numbers[code] and detail.grid_code.startswith("T1")
            assert [s.action for s in reporter_trail(connection, detail.id, viewer=scoped)] == ["登记"]
        for code in (*OUTSIDE, None):
            with pytest.raises(PermissionDenied, match=rf"西镇坐席（xizhen）.*无权查看数据：案件 {numbers[code]} "
                                                       r".*数据范围「西镇（T1）」"):
                read_case_detail(connection, numbers[code], viewer=scoped)
            with pytest.raises(PermissionDenied, match=numbers[code]):
                reporter_trail(connection, numbers[code], viewer=scoped)
        for viewer in (sessions["zhongxin"], None, "命令行"):  # unrestricted, or a trusted caller
            assert {read_case_detail(connection, n, viewer=viewer).number for n in numbers.values()} == \
                set(numbers.values())


def test_a_locked_or_rescoped_user_reads_as_the_account_is_now(store, town):
    world, numbers, sessions = town
    admin = login(store.engine, "boss", "boss-password", now=T0)
    with store.engine.begin() as connection:
        accounts.update_user(connection, admin, "xizhen", scope_grid_id=world["T2"].id)
    with store.engine.connect() as connection:  # the session from before the change: the new scope counts
        assert read_case_detail(connection, numbers["T2S1"], viewer=sessions["xizhen"]).number == numbers["T2S1"]
        with pytest.raises(PermissionDenied, match="东镇"):
            read_case_detail(connection, numbers["T1S1"], viewer=sessions["xizhen"])
    with store.engine.begin() as connection:
        accounts.lock_user(connection, admin, "xizhen")
    with store.engine.connect() as connection, pytest.raises(PermissionDenied, match="已停用"):
        read_case_detail(connection, numbers["T2S1"], viewer=sessions["xizhen"])


def test_overdue_cases_and_reminders_stay_in_the_scope(store, town):
    world, numbers, sessions = town
    scoped = sessions["xizhen"]
    with store.engine.connect() as connection:
        everything = {c.number for c in overdue_cases(connection, LATE)}
        mine = {c.number for c in overdue_cases(connection, LATE, viewer=scoped)}
        theirs = {c.number for c in overdue_cases(connection, LATE, viewer=sessions["zhongxin"])}
    assert everything == theirs == set(numbers.values())
    assert mine == {numbers[code] for code in INSIDE}
    with store.engine.begin() as connection:
        reminded = {r.number for r in remind_overdue(connection, scoped, LATE)}
    assert reminded == mine
    with store.engine.connect() as connection:
        remind_rows = connection.execute(select(schema.cases.c.number).join(
            schema.case_events, schema.case_events.c.case_id == schema.cases.c.id)
            .where(schema.case_events.c.action == "督办")).scalars().all()
    assert sorted(remind_rows) == sorted(mine)


def test_readings_of_stations_outside_the_scope_are_left_out(store, town):
    _, _, sessions = town
    with store.engine.connect() as connection:
        everything = {g.mn for g in read_reading_groups(connection)}
        mine = {g.mn for g in read_reading_groups(connection, viewer=sessions["xizhen"])}
        theirs = {g.mn for g in read_reading_groups(connection, viewer=sessions["zhongxin"])}
    assert everything == theirs == {"MNT1N1", "MNT2S2", "MNUNKNOWN"}
    assert mine == {"MNT1N1"}


# -- the command line ----------------------------------------------------------------------------
@pytest.fixture
def envgrid(store, capsys, monkeypatch):
    url = store.url.render_as_string(hide_password=False)
    monkeypatch.setenv(PASSWORD_ENV, "seat-password")

    def run(*argv):
        code = main([a.replace("DB", url) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def test_case_show_as_a_scoped_user(envgrid, town):
    _, numbers, _ = town
    code, out, _ = envgrid("case", "show", numbers["T1S1"], "--db", "DB", "--as", "xizhen", "--json")
    assert code == 0 and json.loads(out)["number"] == numbers["T1S1"]
    code, out, _ = envgrid("case", "show", numbers["T1S1"], "--db", "DB", "--as", "xizhen", "--reporter")
    assert code == 0 and numbers["T1S1"] in out
    for flags in ((), ("--reporter",), ("--json",)):
        code, out, err = envgrid("case", "show", numbers["T2S1"], "--db", "DB", "--as", "xizhen", *flags)
        assert code == 1 and out == ""
        assert "xizhen" in err and numbers["T2S1"] in err and "数据范围「西镇（T1）」" in err
    code, out, _ = envgrid("case", "show", numbers["T2S1"], "--db", "DB", "--as", "zhongxin", "--json")
    assert code == 0 and json.loads(out)["number"] == numbers["T2S1"]
    code, _, err = envgrid("case", "show", numbers["T2S1"], "--db", "DB", "--as", "nobody")
    assert code == 1 and "用户名或密码错误" in err


def test_case_overdue_as_a_scoped_user(envgrid, town, store):
    _, numbers, _ = town
    late = LATE.isoformat()
    code, out, _ = envgrid("case", "overdue", "--db", "DB", "--as", "xizhen", "--now", late, "--json")
    assert code == 0 and {c["number"] for c in json.loads(out)["cases"]} == {numbers[c] for c in INSIDE}
    code, out, _ = envgrid("case", "overdue", "--db", "DB", "--as", "zhongxin", "--now", late, "--json")
    assert code == 0 and {c["number"] for c in json.loads(out)["cases"]} == set(numbers.values())
    code, out, _ = envgrid("case", "overdue", "--db", "DB", "--as", "xizhen", "--now", late, "--remind", "--json")
    assert code == 0 and set(json.loads(out)["reminded"]) == {numbers[c] for c in INSIDE}
    code, out, _ = envgrid("case", "overdue", "--db", "DB", "--as", "xizhen", "--now", late)
    assert code == 0 and f"超期 {len(INSIDE)} 件" in out and numbers["T2S1"] not in out


def test_readings_as_a_scoped_user(envgrid, town):
    code, out, _ = envgrid("readings", "--db", "DB", "--as", "xizhen", "--json")
    assert code == 0 and {g["mn"] for g in json.loads(out)} == {"MNT1N1"}
    code, out, _ = envgrid("readings", "--db", "DB", "--json")  # no login: a trusted reader, as before
    assert code == 0 and {g["mn"] for g in json.loads(out)} == {"MNT1N1", "MNT2S2", "MNUNKNOWN"}
