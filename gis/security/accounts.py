"""Managing accounts: the first administrator, adding users, passwords, locking, roles.

Every function takes a Connection and leaves the transaction to the caller, so the change and
its audit row commit together. All but :func:`create_first_admin` need a session allowed to
manage users (管理员); :func:`set_password` also lets a user change their own password.
Password hashes never appear in audit rows.

On PostgreSQL, the caller also keeps the user's database login role in step
(gis.security.pg_roles.sync_account, in the same transaction; the CLI does).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, literal, select

from gis.security import passwords
from gis.security.audit import audited
from gis.security.permissions import Permission, PermissionDenied, require
from gis.security.users import (SCOPE_LEVEL, AccountError, Session, User, UserNotFound, UserRole, get_user,
                                normalize_username, parse_role, read_users)
from gis.storage.schema import grids, users

_UNCHANGED = object()


class UserExists(AccountError):
    pass


class FirstAdminExists(AccountError):
    def __init__(self):
        super().__init__("已经存在用户账户，不能再创建初始管理员；请由管理员添加用户")


class LastAdmin(AccountError):
    def __init__(self):
        super().__init__("不能停用或降级最后一个启用的管理员账户")


def _public(user: User) -> dict:
    """What the audit log records of an account (no hash)."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "scope_grid_id": user.scope_grid_id, "active": user.active}


def _check_scope(connection: Connection, scope_grid_id: int | None) -> None:
    if scope_grid_id is None:
        return
    level = connection.execute(select(grids.c.level).where(grids.c.id == scope_grid_id)).scalar()
    if level is None:
        raise AccountError(f"网格 {scope_grid_id} 不存在")
    if level != SCOPE_LEVEL:
        raise AccountError(f"数据范围必须是{SCOPE_LEVEL}级网格，网格 {scope_grid_id} 是 {level} 级")


def _new_row(username: str, password: str, role: UserRole, display_name: str, scope_grid_id: int | None,
             now: datetime) -> dict:
    passwords.check_password_policy(password, username)
    return {"username": username, "display_name": (display_name or "").strip()[:100], "role": str(role),
            "scope_grid_id": scope_grid_id, "active": True, "failed_attempts": 0, "locked_until": None,
            "password_hash": passwords.hash_password(password), "created_at": now, "last_login": None}


def create_first_admin(connection: Connection, username: str, password: str, *, display_name: str = "",
                       host: str | None = None, now: datetime | None = None) -> User:
    """Create the administrator of a workspace that has no accounts yet (first run).

    The insert is conditional (``INSERT … SELECT … WHERE NOT EXISTS``) and, on PostgreSQL, made
    under a table lock, so two seats doing first run at once cannot both become the administrator.

    Raises
    ------
    FirstAdminExists
        Any account exists already.
    WeakPassword, AccountError
    """
    now = now or datetime.now()
    name = normalize_username(username)
    row = _new_row(name, password, UserRole.ADMIN, display_name, None, now)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
    columns = list(row)
    values = select(*(literal(row[c], users.c[c].type).label(c) for c in columns)).where(
        ~select(users.c.id).exists())
    # RETURNING rather than rowcount, which the psycopg dialect leaves at -1 for INSERT … SELECT.
    inserted = connection.execute(insert(users).from_select(columns, values).returning(users.c.id)).first()
    if inserted is None:
        raise FirstAdminExists()
    user = get_user(connection, name)
    audited(connection, _Host(user, host), "user.create_first_admin", "users", user.id, None, _public(user), now=now)
    return user


def create_user(connection: Connection, actor: Session, username: str, password: str, role: UserRole | str, *,
                display_name: str = "", scope_grid_id: int | None = None, now: datetime | None = None) -> User:
    """Add an account (管理员 only).

    Raises
    ------
    PermissionDenied, UserExists, WeakPassword, AccountError
    """
    require(actor, Permission.USERS_MANAGE, connection=connection)
    now = now or datetime.now()
    name = normalize_username(username)
    role = parse_role(role)
    _check_scope(connection, scope_grid_id)
    if get_user(connection, name) is not None:
        raise UserExists(f"用户名「{name}」已存在")
    connection.execute(users.insert().values(**_new_row(name, password, role, display_name, scope_grid_id, now)))
    user = get_user(connection, name)
    audited(connection, actor, "user.create", "users", user.id, None, _public(user), now=now)
    return user


def _target(connection: Connection, username: str) -> User:
    user = get_user(connection, username)
    if user is None:
        raise UserNotFound(f"用户「{username}」不存在")
    return user


def _other_active_admins(connection: Connection, user: User) -> int:
    return connection.execute(select(func.count()).select_from(users).where(
        users.c.role == str(UserRole.ADMIN), users.c.active.is_(True), users.c.id != user.id)).scalar_one()


def _update(connection: Connection, actor, user: User, action: str, values: dict, now: datetime | None,
            audit_after: dict | None = None) -> User:
    connection.execute(users.update().where(users.c.id == user.id).values(**values))
    updated = get_user(connection, user.username)
    audited(connection, actor, action, "users", user.id, _public(user), audit_after or _public(updated), now=now)
    return updated


def set_password(connection: Connection, actor: Session, username: str, password: str, *,
                 now: datetime | None = None) -> User:
    """Set a new password (管理员 for anyone, or a user for themselves); clears a lockout.

    Raises
    ------
    PermissionDenied, UserNotFound, WeakPassword
    """
    user = _target(connection, username)
    own = getattr(getattr(actor, "user", None), "id", None) == user.id
    if not own:
        require(actor, Permission.USERS_MANAGE, connection=connection)
    elif not actor.user.active:
        raise PermissionDenied("账户已停用，不能修改密码", user=actor.user)
    passwords.check_password_policy(password, user.username)
    values = {"password_hash": passwords.hash_password(password), "failed_attempts": 0, "locked_until": None}
    return _update(connection, actor, user, "user.password", values, now,
                   {**_public(user), "password": "changed"})


def lock_user(connection: Connection, actor: Session, username: str, *, now: datetime | None = None) -> User:
    """Disable an account until :func:`unlock_user` (管理员). The last active administrator cannot be locked.

    Raises
    ------
    PermissionDenied, UserNotFound, LastAdmin
    """
    require(actor, Permission.USERS_MANAGE, connection=connection)
    user = _target(connection, username)
    if user.role is UserRole.ADMIN and user.active and _other_active_admins(connection, user) == 0:
        raise LastAdmin()
    return _update(connection, actor, user, "user.lock", {"active": False}, now)


def unlock_user(connection: Connection, actor: Session, username: str, *, now: datetime | None = None) -> User:
    """Re-enable an account and clear a failed-login lockout (管理员)."""
    require(actor, Permission.USERS_MANAGE, connection=connection)
    user = _target(connection, username)
    return _update(connection, actor, user, "user.unlock", {"active": True, "failed_attempts": 0,
                                                             "locked_until": None}, now)


def update_user(connection: Connection, actor: Session, username: str, *, role: UserRole | str | None = None,
                display_name: str | None = None, scope_grid_id=_UNCHANGED, now: datetime | None = None) -> User:
    """Change role, display name or data scope (``scope_grid_id=None`` removes the restriction).

    Raises
    ------
    PermissionDenied, UserNotFound, LastAdmin, AccountError
    """
    require(actor, Permission.USERS_MANAGE, connection=connection)
    user = _target(connection, username)
    values = {}
    if role is not None:
        role = parse_role(role)
        if user.role is UserRole.ADMIN and role is not UserRole.ADMIN and user.active \
                and _other_active_admins(connection, user) == 0:
            raise LastAdmin()
        values["role"] = str(role)
    if display_name is not None:
        values["display_name"] = display_name.strip()[:100]
    if scope_grid_id is not _UNCHANGED:
        _check_scope(connection, scope_grid_id)
        values["scope_grid_id"] = scope_grid_id
    if not values:
        return user
    return _update(connection, actor, user, "user.update", values, now)


def list_users(connection: Connection, actor: Session) -> list[User]:
    """Every account (管理员)."""
    require(actor, Permission.USERS_MANAGE, connection=connection)
    return read_users(connection)


class _Host:
    """Audit actor for the first administrator: the new account, from the given host."""

    def __init__(self, user: User, host: str | None):
        self.user, self.host = user, host
