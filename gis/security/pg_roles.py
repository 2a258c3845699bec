"""PostgreSQL roles and GRANTs that mirror the permission table, so a read-only login cannot write
even with its own SQL.

Design
------
* Four group roles (NOLOGIN): ``<prefix>_seat``, ``<prefix>_gis``, ``<prefix>_leader``,
  ``<prefix>_admin`` (prefix ``envgrid`` by default). Their table privileges are derived from
  :data:`gis.security.permissions.ROLE_PERMISSIONS` via :data:`TABLE_PERMISSIONS`: every group may
  SELECT the data; a group may INSERT/UPDATE/DELETE a table only if its role has the permission
  that owns the table (append-only tables: INSERT only). ``audit_log``: every group INSERTs
  (logins and changes are logged by whoever makes them), only the admin group reads it.
  ``changes`` is written by SECURITY DEFINER triggers, so no group writes it (admin prunes).
* One LOGIN role per EnvGrid user, ``<prefix>_u_<username>``, member of exactly the group of the
  user's role, NOLOGIN while the account is locked. Chosen over one shared role per seat because
  the server then knows who is connected: a leaver is disabled once, not by changing a password
  every seat shares, and a leader's login is read-only wherever they sit.
* Its password is the user's EnvGrid password, set when the account is created or its password
  changed, as a SCRAM-SHA-256 verifier computed by libpq on the client: the plain password never
  travels to the server or its statement log. One password per person; a seat may keep it in
  the keyring (gis.security.credentials).
* ``users`` has row-level security: the admin group sees all rows, other groups only their own
  row, and of it they may update only the login bookkeeping (failed attempts, lock, last login,
  a re-hashed password). Nobody but the admin group can read other users' hashes.

Roles are cluster-wide: two workspaces on one server need different prefixes. Installing needs a
superuser (or CREATEROLE plus ownership of the tables); re-run :func:`install` after an upgrade
that adds tables. Wrong passwords are refused by the server itself before EnvGrid's lockout
counter sees them, so on PostgreSQL brute force is also the server's job (``auth_delay``,
``pg_hba.conf`` limited to the command center's network).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Connection, inspect, text

from gis.security.permissions import ROLE_PERMISSIONS, Permission
from gis.security.users import User, UserRole, read_users
from gis.storage.schema import APPEND_ONLY_TABLES, metadata

DEFAULT_PREFIX = "envgrid"
PREFIX_RE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
SETTING_KEY = "pg_roles"
GROUP_SUFFIXES = {UserRole.SEAT: "seat", UserRole.GIS_EDITOR: "gis", UserRole.LEADER: "leader",
                  UserRole.ADMIN: "admin"}
P = Permission
# Which permission lets a role write a table. A table not listed (added by a later migration) is
# readable by all and writable by the admin group only until it is classified here.
TABLE_PERMISSIONS: dict[str, Permission | None] = {
    "cases": P.CASES_WRITE, "case_events": P.CASES_WRITE, "attachments": P.CASES_WRITE,
    "alarms": P.ALARMS_WRITE, "readings": P.ALARMS_WRITE,  # the monitoring feed belongs with alarms
    "grids": P.GRIDS_WRITE, "grid_history": P.GRIDS_WRITE, "four_bounds_review": P.GRIDS_WRITE,
    "pollution_sources": P.LAYERS_WRITE, "stations": P.LAYERS_WRITE, "source_categories": P.LAYERS_WRITE,
    "people": P.PEOPLE_WRITE, "assignments": P.PEOPLE_WRITE,
    "settings": P.SETTINGS_WRITE, "case_categories": P.SETTINGS_WRITE, "deadline_rules": P.SETTINGS_WRITE,
    "work_calendar": P.SETTINGS_WRITE,
    "users": P.USERS_MANAGE,
    "case_presence": P.CASES_WRITE,  # "being handled by X": only those who handle cases take a lease
    "alarm_rules": P.SETTINGS_WRITE,  # alarm rules are settings: 管理员
    "changes": None,  # trigger-written (SECURITY DEFINER)
    "audit_log": None,  # special-cased: every group appends
}
# What a non-admin may change in its own ``users`` row (row-level security picks the row).
SELF_COLUMNS = ("failed_attempts", "locked_until", "last_login", "password_hash")
EXTRA_READABLE = ("alembic_version", "spatial_ref_sys")  # open_store reads the revision; PostGIS its SRIDs
_VERIFIER_RE = re.compile(r"^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$")


class PgRoleError(RuntimeError):
    """Roles could not be installed or synchronised; the message says why."""


@dataclass(frozen=True)
class RoleNames:
    prefix: str = DEFAULT_PREFIX

    def __post_init__(self):
        if not PREFIX_RE.match(self.prefix):
            raise PgRoleError(f"role prefix {self.prefix!r}: lower-case letters, digits and _, at most 20")

    def group(self, role: UserRole) -> str:
        return f"{self.prefix}_{GROUP_SUFFIXES[UserRole(role)]}"

    @property
    def groups(self) -> list[str]:
        return [self.group(role) for role in UserRole]

    def login(self, username: str) -> str:
        return f"{self.prefix}_u_{username}"


def _q(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def _require_postgres(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        raise PgRoleError("database roles exist only on PostgreSQL; a SQLite workspace is protected by "
                          "its file permissions")


def can_manage_roles(connection: Connection) -> bool:
    return bool(connection.execute(text(
        "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).scalar())


def _role_exists(connection: Connection, name: str) -> bool:
    return connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first() is not None


def table_privileges(role: UserRole) -> dict[str, set[str]]:
    """Table → privileges of the role's group, from the permission table (``users`` column grants aside)."""
    permissions = ROLE_PERMISSIONS[role]
    admin = role is UserRole.ADMIN
    result: dict[str, set[str]] = {}
    for table in metadata.tables:
        privileges = {"SELECT"} if P.READ in permissions else set()
        if table == "audit_log":
            privileges = {"INSERT"} | ({"SELECT"} if P.AUDIT_READ in permissions else set())
        elif admin or (table in TABLE_PERMISSIONS and TABLE_PERMISSIONS[table] in permissions):
            privileges |= {"INSERT"} if table in APPEND_ONLY_TABLES else {"INSERT", "UPDATE", "DELETE"}
        if table == "users" and admin:
            privileges.discard("DELETE")  # accounts are locked, never deleted: the audit log names them
        result[table] = privileges
    return result


def grant_statements(connection: Connection, names: RoleNames) -> list[str]:
    """The GRANT/REVOKE/policy statements for the tables present; idempotent (revoke, then grant)."""
    present = set(inspect(connection).get_table_names())
    tables = [t for t in metadata.tables if t in present]
    q = partial(_q, connection)
    groups = ", ".join(q(g) for g in names.groups)
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    statements = [f"GRANT CONNECT ON DATABASE {q(database)} TO {groups}",
                  f"GRANT USAGE ON SCHEMA public TO {groups}"]
    for table in tables:
        statements.append(f"REVOKE ALL ON TABLE {q(table)} FROM PUBLIC, {groups}")
    for table in EXTRA_READABLE:
        if table in present:
            statements.append(f"GRANT SELECT ON TABLE {q(table)} TO {groups}")
    sequences = {t: connection.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": t}).scalar()
                 for t in tables if "id" in metadata.tables[t].c}
    for role in UserRole:
        group = q(names.group(role))
        for table, privileges in table_privileges(role).items():
            if table not in present or not privileges:
                continue
            statements.append(f"GRANT {', '.join(sorted(privileges))} ON TABLE {q(table)} TO {group}")
            if "INSERT" in privileges and sequences.get(table):
                statements.append(f"GRANT USAGE ON SEQUENCE {sequences[table]} TO {group}")
        if role is not UserRole.ADMIN and "users" in present:
            statements.append(f"GRANT UPDATE ({', '.join(SELF_COLUMNS)}) ON TABLE users TO {group}")
    if "users" in present:
        others = ", ".join(q(names.group(r)) for r in UserRole if r is not UserRole.ADMIN)
        own = f"session_user = '{names.login('')}' || username"
        statements += [
            "ALTER TABLE users ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS {q(names.prefix + '_users_admin')} ON users",
            (f"CREATE POLICY {q(names.prefix + '_users_admin')} ON users TO {q(names.group(UserRole.ADMIN))} "
             "USING (true) WITH CHECK (true)"),
            f"DROP POLICY IF EXISTS {q(names.prefix + '_users_self')} ON users",
            f"CREATE POLICY {q(names.prefix + '_users_self')} ON users TO {others} USING ({own}) WITH CHECK ({own})",
        ]
    return statements


def install(connection: Connection, names: RoleNames = RoleNames(), *, dry_run: bool = False) -> list[str]:
    """Create the group roles if missing, (re)apply every GRANT and policy, remember the prefix.

    Returns the statements (executed unless ``dry_run``).

    Raises
    ------
    PgRoleError
        Not PostgreSQL, or the connection may not create roles or grant on the tables.
    """
    from gis.storage.info import put_setting

    _require_postgres(connection)
    if not dry_run and not can_manage_roles(connection):
        raise PgRoleError("installing database roles needs a superuser or a role with CREATEROLE "
                          "that owns the EnvGrid tables; connect as such (e.g. postgres)")
    statements = [f"CREATE ROLE {_q(connection, g)} NOLOGIN" for g in names.groups
                  if not _role_exists(connection, g)]
    statements += grant_statements(connection, names)
    if dry_run:
        return statements
    for statement in statements:
        _execute(connection, statement)
    put_setting(connection, SETTING_KEY, {"prefix": names.prefix})
    return statements


def _execute(connection: Connection, statement: str) -> None:
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(statement)
    except Exception as exc:
        orig = getattr(exc, "orig", exc)
        shown = statement.split(" PASSWORD ")[0]  # not even the verifier goes into messages and logs
        shown = shown if len(shown) <= 120 else shown[:117] + "…"
        raise PgRoleError(f"{shown}: {str(orig).strip().splitlines()[0]}") from exc


def installed_names(connection: Connection) -> RoleNames | None:
    """The prefix :func:`install` recorded in this workspace, or None if roles were never installed."""
    from gis.storage.info import get_setting

    value = get_setting(connection, SETTING_KEY)
    return RoleNames(value["prefix"]) if isinstance(value, dict) and value.get("prefix") else None


def password_verifier(connection: Connection, role_name: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier libpq computes for ``password`` (the server never sees the password)."""
    pgconn = connection.connection.dbapi_connection.pgconn
    verifier = pgconn.encrypt_password(password.encode(), role_name.encode(), b"scram-sha-256").decode()
    if not _VERIFIER_RE.match(verifier):  # it is spliced into DDL: be sure it is only the verifier
        raise PgRoleError("unexpected password verifier format from libpq")
    return verifier


def sync_account(connection: Connection, user: User, password: str | None = None,
                 names: RoleNames | None = None) -> str | None:
    """Make the user's login role match the account (group, LOGIN/NOLOGIN, password if given).

    Returns None when done or nothing to do (SQLite), else a note for the administrator: why it
    was skipped (roles not installed, or this connection may not manage roles — the account change
    itself stands and ``envgrid db-roles`` catches up later), or that a new role has no password yet.
    """
    if connection.dialect.name != "postgresql":
        return None
    names = names or installed_names(connection)
    if names is None:
        return "数据库角色尚未安装（envgrid db-roles），未创建数据库登录角色"
    if not can_manage_roles(connection):
        return "当前数据库连接无权管理角色，数据库登录角色未同步；请用超级用户运行 envgrid db-roles"
    login = names.login(user.username)
    q = partial(_q, connection)
    login_clause = "LOGIN" if user.active else "NOLOGIN"
    verb = "ALTER" if _role_exists(connection, login) else "CREATE"
    statement = f"{verb} ROLE {q(login)} {login_clause}"
    if password is not None:
        statement += f" PASSWORD '{password_verifier(connection, login, password)}'"
    _execute(connection, statement)
    note = None
    if verb == "CREATE" and password is None and user.active:
        note = (f"已创建数据库登录角色 {login}，尚无密码：请运行 envgrid user passwd {user.username} 设置"
                "（与 EnvGrid 密码相同）")
    member_of = set(connection.execute(text(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :n"), {"n": login}).scalars())
    target = names.group(user.role)
    for group in names.groups:
        if group in member_of and group != target:
            _execute(connection, f"REVOKE {q(group)} FROM {q(login)}")
    if target not in member_of:
        _execute(connection, f"GRANT {q(target)} TO {q(login)}")
    return note


def sync_all(connection: Connection, names: RoleNames) -> dict[str, str | None]:
    """:func:`sync_account` for every account, without passwords; username → note (None: nothing to say)."""
    return {user.username: sync_account(connection, user, None, names) for user in read_users(connection)}


def drop_roles(connection: Connection, names: RoleNames) -> list[str]:
    """Remove this prefix's group and login roles (decommissioning, tests).

    ``DROP OWNED BY`` clears their privileges and policies in *this* database only; a role that
    still holds privileges in another database is reported by PostgreSQL and the drop fails.
    """
    _require_postgres(connection)
    pattern = names.prefix.replace("_", r"\_") + r"\_u\_%"
    roles = connection.execute(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:g) OR rolname LIKE :p "
                                    "ORDER BY rolname LIKE :p DESC, rolname"),
                               {"g": names.groups, "p": pattern}).scalars().all()
    if not roles:
        return []
    quoted = ", ".join(_q(connection, r) for r in roles)
    connection.exec_driver_sql(f"DROP OWNED BY {quoted}")
    for role in roles:
        connection.exec_driver_sql(f"DROP ROLE {_q(connection, role)}")
    return list(roles)
