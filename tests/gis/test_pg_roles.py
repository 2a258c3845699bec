"""PostgreSQL roles and GRANTs: a read-only login cannot write through the app or with its own SQL.

Roles are cluster-wide, so each test installs them under its own prefix and drops them again
(``DROP OWNED BY`` in the test database first, which is still there at that point).
"""
from __future__ import annotations

import io
import uuid

import psycopg.errors
import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from gis.cli import main
from gis.domain import CaseAction
from gis.security import accounts, passwords, pg_roles
from gis.security.authentication import login
from gis.security.permissions import PermissionDenied
from gis.security.users import UserRole, get_user
from gis.storage.schema import metadata
from gis.storage.store import open_store
from gis.workflow.cases import apply_action, create_case
from test_workflow_world import T0, build_world

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def workspace(pg_workspace_url):
    """(role names with a unique prefix, URL of a workspace with the test world and an administrator)."""
    names = pg_roles.RoleNames(f"egt{uuid.uuid4().hex[:10]}")
    store = open_store(pg_workspace_url)
    world = build_world(store)
    with store.engine.begin() as connection:
        accounts.create_first_admin(connection, "boss", "boss-password", now=T0)
    store.close()
    yield names, pg_workspace_url, world
    engine = create_engine(pg_workspace_url)
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE usename LIKE :p AND pid <> pg_backend_pid()"), {"p": names.prefix + "%"})
        pg_roles.drop_roles(connection, names)
    engine.dispose()


def _superuser(url):
    return open_store(url)


def _add_user(url, names, username, role, password, **extra):
    store = _superuser(url)
    admin = login(store.engine, "boss", "boss-password", now=T0)
    with store.engine.begin() as connection:
        user = accounts.create_user(connection, admin, username, password, role, now=T0, **extra)
        assert pg_roles.sync_account(connection, user, password, names) is None
    store.close()
    return user


def _install(url, names):
    store = _superuser(url)
    with store.engine.begin() as connection:
        statements = pg_roles.install(connection, names)
    store.close()
    return statements


def _as_login(url, names, username, password):
    return make_url(url).set(username=names.login(username), password=password)


def _refused(connection, statement, params=None):
    with pytest.raises(DBAPIError) as refused, connection.begin_nested():
        connection.execute(text(statement), params or {})
    assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege), refused.value.orig
    return refused.value.orig


def test_every_table_is_classified():
    """A new table must be given a permission here, or only the admin group may write it."""
    assert set(metadata.tables) <= set(pg_roles.TABLE_PERMISSIONS)


def test_grants_follow_the_permission_table(workspace):
    names, url, _ = workspace
    _install(url, names)
    _install(url, names)  # idempotent
    engine = create_engine(url)
    with engine.connect() as connection:
        for role in UserRole:
            expected = pg_roles.table_privileges(role)
            for table in metadata.tables:
                for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
                    has = connection.execute(text("SELECT has_table_privilege(:r, :t, :p)"),
                                             {"r": names.group(role), "t": table, "p": privilege}).scalar_one()
                    assert has == (privilege in expected[table]), (role, table, privilege)
        leader = names.group(UserRole.LEADER)
        assert not connection.execute(text("SELECT has_table_privilege(:r, 'cases', 'INSERT')"),
                                      {"r": leader}).scalar_one()
        assert connection.execute(text("SELECT has_column_privilege(:r, 'users', 'last_login', 'UPDATE')"),
                                  {"r": leader}).scalar_one()
        assert not connection.execute(text("SELECT has_column_privilege(:r, 'users', 'role', 'UPDATE')"),
                                      {"r": leader}).scalar_one()
    engine.dispose()


def test_leader_login_cannot_write_through_the_app_or_with_sql(workspace):
    names, url, world = workspace
    _install(url, names)
    _add_user(url, names, "lingdao", "领导", "leader-password")
    store = open_store(_as_login(url, names, "lingdao", "leader-password"))
    try:
        # Through the app: login works (own row only, audit appended), writing is refused.
        leader = login(store.engine, "lingdao", "leader-password", now=T0)
        lon, lat = world.centre("T1S1")
        with store.engine.begin() as connection, pytest.raises(PermissionDenied, match="领导"):
            create_case(connection, source="群众举报", category="其他", description="x", actor=leader, lon=lon, lat=lat)
        # Even a caller that skips the app's check (a plain-string actor) is stopped by the server.
        with store.engine.connect() as connection:
            with pytest.raises(DBAPIError) as refused, connection.begin():
                create_case(connection, source="群众举报", category="其他", description="x", actor="伪装",
                            lon=lon, lat=lat, now=T0)
            assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege)
        # With its own SQL.
        with store.engine.connect() as connection, connection.begin():
            assert connection.execute(text("SELECT count(*) FROM grids")).scalar_one() == len(world.grids)
            _refused(connection, "INSERT INTO people (name, phone, unit, title, created_at) "
                                 "VALUES ('x', '', '', '', now())")
            _refused(connection, "UPDATE grids SET name = 'x'")
            _refused(connection, "UPDATE cases SET state = '已办结'")
            _refused(connection, "DELETE FROM assignments")
            _refused(connection, "INSERT INTO settings (key, value) VALUES ('k', '1')")
            _refused(connection, "UPDATE users SET role = 'admin'")  # not its own role, not even its own row
            _refused(connection, "SELECT count(*) FROM audit_log")
            # Row-level security: its own account only, and no one else's hash.
            assert connection.execute(text("SELECT username FROM users")).scalars().all() == ["lingdao"]
            assert connection.execute(text("UPDATE users SET last_login = now() WHERE username = 'boss'")).rowcount == 0
    finally:
        store.close()


def test_seat_login_works_through_the_services_but_cannot_edit_grids(workspace):
    names, url, world = workspace
    _install(url, names)
    _add_user(url, names, "zuoxi", "seat", "seat-password")
    store = open_store(_as_login(url, names, "zuoxi", "seat-password"))
    try:
        seat = login(store.engine, "zuoxi", "seat-password", now=T0)
        lon, lat = world.centre("T1S1")
        with store.engine.begin() as connection:
            new = create_case(connection, source="群众举报", category="扬尘污染", description="扬尘", actor=seat,
                              lon=lon, lat=lat, now=T0)
            apply_action(connection, new.number, CaseAction.DISPATCH, seat, now=T0)
        with store.engine.connect() as connection, connection.begin():
            _refused(connection, "UPDATE grids SET name = 'x'")
            # It may update its own login bookkeeping, but row-level security hides everyone else's row.
            assert connection.execute(text("UPDATE users SET password_hash = 'x' "
                                           "WHERE username = 'boss'")).rowcount == 0
    finally:
        store.close()


def test_account_changes_follow_into_the_login_role(workspace):
    names, url, _ = workspace
    _install(url, names)
    _add_user(url, names, "gis1", "gis_editor", "editor-password")
    store = _superuser(url)
    role = names.login("gis1")

    def state():
        with store.engine.connect() as connection:
            can_login, verifier = connection.execute(text(
                "SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = :r"), {"r": role}).one()
            groups = set(connection.execute(text(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :r"), {"r": role}).scalars())
        return can_login, verifier, groups

    can_login, verifier, groups = state()
    assert can_login and verifier.startswith("SCRAM-SHA-256$4096:") and "editor-password" not in verifier
    assert groups == {names.group(UserRole.GIS_EDITOR)}
    admin = login(store.engine, "boss", "boss-password", now=T0)
    with store.engine.begin() as connection:
        user = accounts.lock_user(connection, admin, "gis1")
        pg_roles.sync_account(connection, user, names=names)
    assert state()[0] is False
    with store.engine.begin() as connection:
        accounts.unlock_user(connection, admin, "gis1")
        user = accounts.update_user(connection, admin, "gis1", role="seat")
        pg_roles.sync_account(connection, user, names=names)
    assert state()[0] is True and state()[2] == {names.group(UserRole.SEAT)}
    store.close()


def test_sync_is_skipped_with_a_note_before_roles_are_installed(workspace):
    _, url, _ = workspace
    store = _superuser(url)
    with store.engine.begin() as connection:
        assert "尚未安装" in pg_roles.sync_account(connection, get_user(connection, "boss"))
    store.close()


def _cli(monkeypatch, capsys, stdin: str, *argv):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_db_roles_and_user_add_from_the_command_line(workspace, monkeypatch, capsys):
    names, url, _ = workspace
    code, out, err = _cli(monkeypatch, capsys, "", "db-roles", "--db", url, "--prefix", names.prefix)
    assert code == 1 and "--as" in err
    code, out, err = _cli(monkeypatch, capsys, "boss-password\n", "db-roles", "--db", url, "--prefix", names.prefix,
                          "--as", "boss", "--password-stdin", "--dry-run")
    assert code == 0 and f"CREATE ROLE \"{names.group(UserRole.LEADER)}\" NOLOGIN" in out
    code, out, err = _cli(monkeypatch, capsys, "boss-password\n", "db-roles", "--db", url, "--prefix", names.prefix,
                          "--as", "boss", "--password-stdin")
    assert code == 0 and names.prefix in out
    assert f"{names.login('boss')}，尚无密码" in err
    code, out, err = _cli(monkeypatch, capsys, "boss-password\nleader-password\n", "user", "add", "lingdao", "--db",
                          url, "--role", "领导", "--as", "boss", "--password-stdin")
    assert code == 0 and err == ""  # the login role was created with its password, nothing to note
    engine = create_engine(_as_login(url, names, "lingdao", "leader-password"))
    with engine.connect() as connection, connection.begin():
        _refused(connection, "UPDATE grids SET name = 'x'")
    engine.dispose()
