"""EnvGrid accounts as the rest of the code sees them: roles, users, data scopes, sessions.

A :class:`User` never carries the password hash, so it can be shown, logged or handed to the UI
without leaking anything. A :class:`Session` is what a successful login returns (or what
:func:`open_session` makes for a trusted caller): the user, where they logged in from and, for a
user restricted to one second-level grid, that grid's subtree.

Grid codes nest (a child's code starts with its parent's, fixed width per level, as in the demo
and in 行政区划-style codes), so "the subtree" is a prefix match on ``grids.code`` at a deeper
level. It is evaluated in SQL, so grids added after the login are in scope at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, exists, func, or_, select

from gis.storage.schema import grids, users

SCOPE_LEVEL = 2  # the issue: "restricted to one second-level grid"
USERNAME_RE = re.compile(r"^[\w.\-]{1,32}$")
# A PostgreSQL role name is at most 63 bytes; pg_roles prefixes "<prefix>_u_" (≤ 20 bytes).
USERNAME_MAX_BYTES = 43


class UserRole(StrEnum):
    SEAT = "seat"
    GIS_EDITOR = "gis_editor"
    LEADER = "leader"
    ADMIN = "admin"


ROLE_LABELS = {UserRole.SEAT: "坐席", UserRole.GIS_EDITOR: "GIS编辑", UserRole.LEADER: "领导",
               UserRole.ADMIN: "管理员"}
_ROLE_ALIASES = {**{label.casefold(): role for role, label in ROLE_LABELS.items()},
                 "gis编辑": UserRole.GIS_EDITOR, "gis 编辑": UserRole.GIS_EDITOR, "gis": UserRole.GIS_EDITOR}


class AccountError(Exception):
    """An account operation was refused; the message (Chinese) is meant for the user."""


class UserNotFound(AccountError):
    pass


def parse_role(text: str) -> UserRole:
    """A role from its code (``seat``) or its Chinese name (``坐席``)."""
    key = str(text).strip().casefold()
    try:
        return UserRole(key)
    except ValueError:
        pass
    if key in _ROLE_ALIASES:
        return _ROLE_ALIASES[key]
    choices = "、".join(f"{label}（{role}）" for role, label in ROLE_LABELS.items())
    raise AccountError(f"未知的角色「{text}」；可选：{choices}")


def normalize_username(name: str) -> str:
    """Lower-case, stripped, checked: ``Admin`` and ``admin`` must not be two accounts.

    Raises
    ------
    AccountError
        Empty, too long, or characters other than letters, digits, ``_``, ``.`` and ``-``.
    """
    text = str(name or "").strip().casefold()
    if not USERNAME_RE.match(text) or len(text.encode()) > USERNAME_MAX_BYTES:
        raise AccountError(f"用户名「{name}」无效：1–32 个字母、数字、汉字或 _ . -（UTF-8 不超过 "
                           f"{USERNAME_MAX_BYTES} 字节）")
    return text


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: UserRole
    scope_grid_id: int | None
    active: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    last_login: datetime | None

    @property
    def label(self) -> str:
        """``张三（zhangsan）``, or just the user name when there is no display name."""
        if self.display_name and self.display_name != self.username:
            return f"{self.display_name}（{self.username}）"
        return self.username

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True, slots=True)
class Scope:
    """The grid a user is restricted to, and the ids of its subtree when the session was opened."""

    grid_id: int
    code: str
    level: int
    name: str
    grid_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code}）"


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    host: str
    started_at: datetime
    scope: Scope | None = None

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> UserRole:
        return self.user.role

    @property
    def actor_name(self) -> str:
        """What case events record as the actor (they predate accounts and hold a plain name)."""
        return (self.user.display_name or self.user.username)[:100]


_USER_COLUMNS = [users.c[name] for name in User.__dataclass_fields__]


def _user(row) -> User:
    values = dict(row._mapping)
    values["role"] = UserRole(values["role"])
    values["active"] = bool(values["active"])
    return User(**values)


def get_user(connection: Connection, username: str) -> User | None:
    """The account named ``username`` (normalised), or None."""
    try:
        name = normalize_username(username)
    except AccountError:
        return None
    row = connection.execute(select(*_USER_COLUMNS).where(users.c.username == name)).first()
    return _user(row) if row else None


def get_user_by_id(connection: Connection, user_id: int) -> User | None:
    row = connection.execute(select(*_USER_COLUMNS).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def read_users(connection: Connection) -> list[User]:
    """Every account, by user name. Callers outside the admin tools go through accounts.list_users."""
    return [_user(r) for r in connection.execute(select(*_USER_COLUMNS).order_by(users.c.username))]


def user_count(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(users)).scalar_one()


def subtree_clause(scope_grid_id: int) -> ColumnElement[bool]:
    """A condition on ``grids``: the row is the scope grid or below it (code prefix, deeper level).

    ``substr(...) = code`` rather than LIKE: a code with ``_`` or ``%`` must not act as a wildcard.
    The deeper-level test keeps a sibling whose code merely starts with the same characters out.
    """
    top = grids.alias("scope_top")
    return exists(select(1).where(
        top.c.id == scope_grid_id,
        func.substr(grids.c.code, 1, func.length(top.c.code)) == top.c.code,
        or_(grids.c.id == top.c.id, grids.c.level > top.c.level),
    ))


def load_scope(connection: Connection, scope_grid_id: int | None) -> Scope | None:
    """The :class:`Scope` of ``scope_grid_id`` with its current subtree, or None when unrestricted.

    Raises
    ------
    AccountError
        The grid no longer exists (fail closed: a user must not become unrestricted by accident).
    """
    if scope_grid_id is None:
        return None
    top = connection.execute(select(grids.c.id, grids.c.code, grids.c.level, grids.c.name)
                             .where(grids.c.id == scope_grid_id)).first()
    if top is None:
        raise AccountError(f"数据范围网格 {scope_grid_id} 不存在，请管理员重新设置")
    ids = connection.execute(select(grids.c.id).where(subtree_clause(scope_grid_id))).scalars().all()
    return Scope(top.id, top.code, top.level, top.name, frozenset(ids))


def open_session(connection: Connection, user: User, *, host: str | None = None,
                 now: datetime | None = None) -> Session:
    """A session for ``user`` without a password check: for login (after it) and trusted callers."""
    from gis.security.audit import local_host

    return Session(user, host if host is not None else local_host(), now or datetime.now(),
                   load_scope(connection, user.scope_grid_id))
