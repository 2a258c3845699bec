""""Being handled by X" (正在处理): leases on cases that a seat has open in a detail dialog.

A seat opening a case's detail dialog takes a lease (:func:`take`) under a random token of that
dialog, refreshes it every :data:`HEARTBEAT_SECONDS` (:func:`heartbeat`) and drops it on close
(:func:`release`). A lease whose heartbeat is older than :data:`LEASE_SECONDS` no longer counts
(a seat that crashed or lost the network) and is removed by the next :func:`take` on that case.
Other seats read :func:`holders` and show :func:`Lease.label`, e.g. ``张三 正在处理（自 10:32）``.

A lease is advisory: it tells, it does not block. Lost updates are prevented by the case's
version (gis.workflow.cases.ConflictError). Several seats may hold a lease on the same case at
once; each sees the others. Only someone allowed to handle cases takes one (a 领导 looking at a
case is not handling it); on PostgreSQL the GRANTs say the same (gis.security.pg_roles).

Times are the seats' local clocks, as everywhere else in EnvGrid; seats of one centre are
expected to be time-synchronised (the 90 s window absorbs small drift).
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, select, update

from gis.security.audit import actor_label, local_host
from gis.security.permissions import Permission, authorize
from gis.storage.schema import case_presence as T

HEARTBEAT_SECONDS = 30
LEASE_SECONDS = 90


@dataclass(frozen=True, slots=True)
class Lease:
    case_id: int
    seat: str
    user_name: str
    display_name: str
    host: str
    since: datetime
    heartbeat_at: datetime

    @property
    def who(self) -> str:
        return self.display_name or self.user_name

    @property
    def label(self) -> str:
        """``张三 正在处理（自 10:32）`` (with the date when the lease began on another day)."""
        when = f"{self.since:%H:%M}" if self.since.date() == datetime.now().date() else f"{self.since:%m-%d %H:%M}"
        return f"{self.who} 正在处理（自 {when}）"


def new_seat_token() -> str:
    """A token for one open dialog: two dialogs of the same user on two seats are two leases."""
    return uuid.uuid4().hex


def _fresh(now: datetime):
    return T.c.heartbeat_at >= now - timedelta(seconds=LEASE_SECONDS)


def _lease(row) -> Lease:
    return Lease(**row._mapping)


def _display_name(actor) -> str:
    user = getattr(actor, "user", actor)
    name = getattr(user, "display_name", None)
    return str(name or actor_label(actor))[:100]


def take(connection: Connection, case_id: int, actor, seat: str, *, host: str | None = None,
         now: datetime | None = None) -> list[Lease]:
    """Take (or renew) this seat's lease on ``case_id``; return the other seats' current leases.

    ``actor`` is a Session/User (checked: it must be allowed to handle cases) or a plain name
    (a trusted caller). Expired leases on the case are removed on the way.

    Raises
    ------
    PermissionDenied
        The user may not handle cases (a 领导): read :func:`holders` instead.
    ValueError
        ``seat`` is empty.
    """
    if not seat:
        raise ValueError("presence.take: the seat token is empty")
    now = now or datetime.now()
    session = authorize(connection, actor, Permission.CASES_WRITE)
    who = session or actor
    host = (host or getattr(who, "host", None) or local_host())[:150]
    connection.execute(delete(T).where(T.c.case_id == case_id, ~_fresh(now)))
    renewed = connection.execute(update(T).where(T.c.case_id == case_id, T.c.seat == seat).values(
        heartbeat_at=now, user_name=actor_label(who), display_name=_display_name(who), host=host))
    if not renewed.rowcount:
        connection.execute(T.insert().values(case_id=case_id, seat=seat[:64], user_name=actor_label(who),
                                             display_name=_display_name(who), host=host, since=now,
                                             heartbeat_at=now))
    return holders(connection, [case_id], exclude_seat=seat, now=now).get(case_id, [])


def heartbeat(connection: Connection, case_id: int, seat: str, *, now: datetime | None = None) -> bool:
    """Refresh this seat's lease; False when it is gone (expired and purged): call :func:`take` again."""
    result = connection.execute(update(T).where(T.c.case_id == case_id, T.c.seat == seat)
                                .values(heartbeat_at=now or datetime.now()))
    return bool(result.rowcount)


def release(connection: Connection, case_id: int, seat: str) -> None:
    """Drop this seat's lease (the dialog closed). Releasing a lease that is gone is not an error."""
    connection.execute(delete(T).where(T.c.case_id == case_id, T.c.seat == seat))


def holders(connection: Connection, case_ids: Iterable[int] | None = None, *, exclude_seat: str | None = None,
            now: datetime | None = None) -> dict[int, list[Lease]]:
    """Current (not expired) leases by case id, oldest first; ``case_ids`` None: every case."""
    now = now or datetime.now()
    query = select(T).where(_fresh(now)).order_by(T.c.case_id, T.c.since, T.c.seat)
    if case_ids is not None:
        ids = sorted(set(case_ids))
        if not ids:
            return {}
        query = query.where(T.c.case_id.in_(ids))
    if exclude_seat is not None:
        query = query.where(T.c.seat != exclude_seat)
    found: dict[int, list[Lease]] = defaultdict(list)
    for row in connection.execute(query):
        found[row.case_id].append(_lease(row))
    return dict(found)


def describe(leases: Iterable[Lease]) -> str:
    """One line for a dialog banner or a tooltip: ``张三 正在处理（自 10:32）；李四 正在处理（自 10:40）``.

    The same user on two seats is named once (their earliest lease)."""
    seen: dict[str, Lease] = {}
    for lease in sorted(leases, key=lambda item: item.since):
        seen.setdefault(lease.user_name, lease)
    return "；".join(lease.label for lease in seen.values())


def purge_expired(connection: Connection, *, now: datetime | None = None) -> int:
    """Remove every expired lease (housekeeping; :func:`take` already does it per case)."""
    now = now or datetime.now()
    return connection.execute(delete(T).where(and_(~_fresh(now)))).rowcount or 0
