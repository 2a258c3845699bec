"""What each role may do, checked in the services (not only by hiding buttons).

The permission table is data (:data:`ROLE_PERMISSIONS`), shared with gis.security.pg_roles, which
turns it into PostgreSQL GRANTs: the application check and the database check cannot drift apart.

A service calls :func:`authorize` first thing. A plain-string actor is a trusted system caller
(the CLI on a workspace without accounts, the demo, the HJ212 receiver) and is not checked; a
:class:`~gis.security.users.Session` or :class:`~gis.security.users.User` is re-read in the
caller's transaction, so a role change or a lock takes effect on the next action, not the next
login.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, select, true

from gis.security.users import ROLE_LABELS, Session, User, UserRole, get_user_by_id, subtree_clause
from gis.storage.schema import grids


class Permission(StrEnum):
    READ = "read"
    CASES_WRITE = "cases.write"
    ALARMS_WRITE = "alarms.write"
    GRIDS_WRITE = "grids.write"
    LAYERS_WRITE = "layers.write"
    PEOPLE_WRITE = "people.write"
    SETTINGS_WRITE = "settings.write"
    USERS_MANAGE = "users.manage"
    AUDIT_READ = "audit.read"


PERMISSION_LABELS = {
    Permission.READ: "查看数据",
    Permission.CASES_WRITE: "登记和办理案件",
    Permission.ALARMS_WRITE: "处置报警",
    Permission.GRIDS_WRITE: "编辑网格",
    Permission.LAYERS_WRITE: "编辑污染源和监测站图层",
    Permission.PEOPLE_WRITE: "编辑网格人员",
    Permission.SETTINGS_WRITE: "修改系统设置",
    Permission.USERS_MANAGE: "管理用户",
    Permission.AUDIT_READ: "查看审计日志",
}

P = Permission
ROLE_PERMISSIONS: dict[UserRole, frozenset[Permission]] = {
    UserRole.SEAT: frozenset({P.READ, P.CASES_WRITE, P.ALARMS_WRITE}),
    UserRole.GIS_EDITOR: frozenset({P.READ, P.GRIDS_WRITE, P.LAYERS_WRITE, P.PEOPLE_WRITE}),
    UserRole.LEADER: frozenset({P.READ}),  # read-only: the dashboard and the large display
    UserRole.ADMIN: frozenset(Permission),
}


class PermissionDenied(Exception):
    """An action was refused; ``str()`` names the user, their role and the action, in Chinese."""

    def __init__(self, message: str, *, user: User | None = None, permission: Permission | None = None,
                 grid_id: int | None = None):
        super().__init__(message)
        self.user, self.permission, self.grid_id = user, permission, grid_id


def _user_of(actor, permission: Permission | None) -> User:
    user = actor.user if isinstance(actor, Session) else actor
    if not isinstance(user, User):
        what = PERMISSION_LABELS.get(permission, "此操作")
        raise PermissionDenied(f"未登录，无权{what}", permission=permission)
    return user


def _who(user: User) -> str:
    return f"用户「{user.label}」（角色：{ROLE_LABELS[user.role]}）"


def allowed(actor: Session | User | UserRole, permission: Permission) -> bool:
    """Whether the role (of a session or user) includes ``permission``; for enabling buttons."""
    role = actor if isinstance(actor, UserRole) else getattr(getattr(actor, "user", actor), "role", None)
    if role is None:
        return False
    user = getattr(actor, "user", actor)
    return getattr(user, "active", True) and permission in ROLE_PERMISSIONS[UserRole(role)]


def require(session: Session | User, permission: Permission, *, grid_id: int | None = None,
            connection: Connection | None = None) -> None:
    """Raise :class:`PermissionDenied` unless the session's role has ``permission`` (and, with
    ``grid_id``, the grid is in the user's data scope).

    Parameters
    ----------
    grid_id
        The grid the action touches. None: the action is not about one grid (no scope check);
        services acting on something that may have no grid use :func:`require_in_scope`.
    connection
        With it, the scope is evaluated in SQL now (grids added since login count); without it,
        the subtree the session resolved at login is used.
    """
    user = _user_of(session, permission)
    if not user.active:
        raise PermissionDenied(f"{_who(user)}已停用，无权{PERMISSION_LABELS[permission]}", user=user,
                               permission=permission)
    if permission not in ROLE_PERMISSIONS[user.role]:
        raise PermissionDenied(f"{_who(user)}无权{PERMISSION_LABELS[permission]}", user=user, permission=permission)
    if grid_id is not None:
        require_in_scope(session, grid_id, permission, connection=connection)


def require_in_scope(session: Session | User, grid_id: int | None, permission: Permission, *,
                     connection: Connection | None = None, what: str = "对象") -> None:
    """Raise :class:`PermissionDenied` if a scoped user acts on grid ``grid_id``'s data outside their
    subtree. ``grid_id`` None (a case outside every grid) is outside every scope. ``what`` names
    the object in the message (``"案件 AJ…"``)."""
    user = _user_of(session, permission)
    if user.scope_grid_id is None:
        return
    scope = getattr(session, "scope", None)
    if scope is not None and scope.grid_id != user.scope_grid_id:
        scope = None  # re-scoped since login: the cached subtree is someone else's
    inside = False
    if grid_id is not None:
        if connection is not None:
            inside = connection.execute(select(grids.c.id).where(
                grids.c.id == grid_id, subtree_clause(user.scope_grid_id))).first() is not None
        elif scope is not None:
            inside = grid_id in scope.grid_ids
    if not inside:
        where = "不属于任何网格" if grid_id is None else f"网格 {grid_id} "
        limit = scope.label if scope is not None else _grid_label(connection, user.scope_grid_id)
        subject = what if what == "对象" else f"{what} "  # 对象网格 5 / 案件 AJ… 网格 5
        raise PermissionDenied(f"{_who(user)}无权{PERMISSION_LABELS[permission]}：{subject}{where}不在其数据范围"
                               f"「{limit}」内", user=user, permission=permission, grid_id=grid_id)


def _grid_label(connection: Connection | None, grid_id: int) -> str:
    """``西镇（T1）`` as a Scope labels itself, read now; ``网格 3`` without a connection."""
    row = None if connection is None else connection.execute(
        select(grids.c.name, grids.c.code).where(grids.c.id == grid_id)).first()
    return f"{row.name}（{row.code}）" if row is not None else f"网格 {grid_id}"


def scope_filter(session: Session | User | None, grid_id_column=None) -> ColumnElement[bool]:
    """A WHERE condition limiting a query to the session's data scope (``true()`` if unrestricted).

    Without ``grid_id_column`` the condition is on ``grids`` itself; with one (``cases.c.grid_id``)
    it keeps rows whose grid is in the subtree — rows with no grid are outside any scope.
    A plain-string or missing session is a trusted system caller: unrestricted.
    """
    user = getattr(session, "user", session)
    if not isinstance(user, User) or user.scope_grid_id is None:
        return true()
    clause = subtree_clause(user.scope_grid_id)
    if grid_id_column is None:
        return clause
    return grid_id_column.in_(select(grids.c.id).where(clause))


def authorize(connection: Connection, actor, permission: Permission) -> Session | None:
    """The service entry check: None for a plain-string actor (trusted), else a fresh Session.

    The account is re-read in the caller's transaction (role, active, scope), then
    :func:`require` is applied. The returned session is what the service should audit with.

    Raises
    ------
    PermissionDenied
    """
    if not isinstance(actor, (Session, User)):
        return None
    stale = actor.user if isinstance(actor, Session) else actor
    user = get_user_by_id(connection, stale.id)
    if user is None:
        raise PermissionDenied(f"用户「{stale.label}」已不存在，无权{PERMISSION_LABELS[permission]}",
                               permission=permission)
    if isinstance(actor, Session):
        scope = actor.scope if actor.scope is not None and actor.scope.grid_id == user.scope_grid_id else None
        session = Session(user, actor.host, actor.started_at, scope)
    else:
        from gis.security.audit import local_host

        session = Session(user, local_host(), datetime.now())
    require(session, permission)
    return session
