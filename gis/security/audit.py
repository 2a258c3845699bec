"""The audit log (审计日志): who did what, when, from where, with the row before and after.

:func:`audited` writes on the caller's connection, so the audit row commits or rolls back with
the change it describes: there is never a change without its row, nor a row for a change that
did not happen. ``audit_log`` is append-only (triggers refuse UPDATE and DELETE).

"Where from" is the seat's host name; on PostgreSQL the address the server sees
(``inet_client_addr()``) is appended in SQL, so that part does not depend on the client's word.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache

from sqlalchemy import Connection, func, literal, select

from gis.storage.schema import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    user_name: str
    host: str
    action: str
    table_name: str | None
    row_id: int | None
    before: dict | None
    after: dict | None


@lru_cache(maxsize=1)
def local_host() -> str:
    try:
        return socket.gethostname()[:150] or "localhost"
    except OSError:
        return "localhost"


def actor_label(actor) -> str:
    """The ``user_name`` recorded for a Session, a User or a plain name (system callers, the CLI)."""
    user = getattr(actor, "user", actor)
    name = getattr(user, "username", None)
    return str(name if name is not None else actor or "?")[:100]


def _jsonable(value):
    """JSON-safe copy: SQLAlchemy's JSON type would refuse datetimes, enums and geometries."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "wkt"):  # shapely geometry: the text is what a reviewer can read
        return value.wkt
    return str(value)


def _host_expression(connection: Connection, host: str):
    if connection.dialect.name != "postgresql":
        return host
    # NULL for a Unix-socket connection: then only the host name the client gave.
    with_address = literal(host) + " (" + func.host(func.inet_client_addr()) + ")"
    return func.coalesce(with_address, host)


def audited(connection: Connection, session, action: str, table: str | None, row_id: int | None,
            before: dict | None, after: dict | None, *, now: datetime | None = None) -> None:
    """Append one audit row in the caller's transaction.

    Parameters
    ----------
    session
        A :class:`~gis.security.users.Session`, a :class:`~gis.security.users.User`, or a plain
        name for callers without an account (the CLI on a workspace without users, the receiver).
    action
        Short verb, e.g. ``login``, ``login_failed``, ``user.create``, ``case.派发``.
    before, after
        The row (or the changed fields) before and after; None for a creation or a deletion.
        Never pass secrets: password hashes stay out of the log.
    """
    host = getattr(session, "host", None) or local_host()
    # inline(): no implicit RETURNING id, which would need SELECT on a log most roles may only append to.
    connection.execute(audit_log.insert().inline().values(
        at=now or datetime.now(), user_name=actor_label(session), host=_host_expression(connection, host[:150]),
        action=action[:40], table_name=table, row_id=row_id, before=_jsonable(before), after=_jsonable(after)))


def read_audit(connection: Connection, session, *, user_name: str | None = None, action: str | None = None,
               since: datetime | None = None, limit: int = 500) -> list[AuditEntry]:
    """Newest first; only for those allowed to read the log (管理员).

    Raises
    ------
    PermissionDenied
    """
    from gis.security.permissions import Permission, require

    require(session, Permission.AUDIT_READ)
    T = audit_log
    query = select(T).order_by(T.c.id.desc()).limit(limit)
    if user_name is not None:
        query = query.where(T.c.user_name == user_name)
    if action is not None:
        query = query.where(T.c.action == action)
    if since is not None:
        query = query.where(T.c.at >= since)
    return [AuditEntry(**row._mapping) for row in connection.execute(query)]
