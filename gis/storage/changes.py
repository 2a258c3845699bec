"""The change feed every seat follows: read it safely, follow it live, prune it.

Triggers (migration 0003) append one ``changes`` row per inserted, updated or deleted row of the
watched tables (``schema.CHANGE_TABLES``; on PostgreSQL also one per station per ``readings``
statement), in the writer's own transaction: a rolled-back change leaves no row, and every writer
is seen, raw SQL included. A reader keeps the last id it has consumed and asks for what follows.

Ordering guarantee
------------------
A reader that remembers "last id seen" must never be shown id *n + 1* while id *n* can still
appear. SQLite serialises writers (one write transaction at a time, ids drawn inside it), so the
visible ids are always a complete prefix. PostgreSQL draws ids from a sequence when the row is
written but commits in any order, so a committed id 7 can be visible while id 6 is still in
flight. Comparing transaction ids with the snapshot's xmin does not fix this: xids are handed out
at a transaction's first write, ids at each change, so a transaction with a *larger* xid can hold a
*smaller* id (a long transaction that writes ids 3 and 5 around a short one's 4).

So each writing transaction, before it draws its first id, takes a shared transaction-level
advisory lock whose key is the sequence's value at that moment — a lower bound of every id it
will draw — and keeps it until it ends. ``envgrid_change_horizon()`` reads the sequence's value
*A*, then the smallest such key *F* among the locks held in this database, and returns
``min(A, F)``. A reader that then, in a *new snapshot*, takes only ids up to that horizon misses
nothing: a transaction that drew an id ≤ A before the sequence was read took its lock before that,
so either it still holds it (F is below its ids) or it has ended — and PostgreSQL makes a commit
visible before it releases the transaction's locks. A transaction that locks later draws ids
above A. (This needs a sequence without CACHE, as BIGSERIAL makes it: then its value is never
below an id already drawn.) Writers never wait for each other (the locks are shared); the cost
is that committed changes with ids above an in-flight transaction's first one wait until it
ends — milliseconds for the app, the whole import for a long bulk load, and indefinitely for a
session left idle in a transaction (set ``idle_in_transaction_session_timeout`` on a
command-center server).

Because the horizon and the rows must come from two snapshots, taken in that order, reading on
PostgreSQL needs READ COMMITTED or autocommit (the default); inside a REPEATABLE READ or
SERIALIZABLE transaction :func:`read_changes` refuses.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Self

from sqlalchemy import Connection, Integer, bindparam, delete, func, select, text

from gis.storage.schema import changes

CHANNEL = "envgrid_changes"
PRUNED_SETTING = "change_feed.pruned_through"  # settings key: highest id pruning has deleted
MIN_KEEP_DAYS = 1.0


class ChangeFeedGap(RuntimeError):
    """Changes after ``after_id`` were pruned before this reader saw them: reload, then go on.

    Attributes
    ----------
    after_id
        The reader's position when the gap was found.
    resume_after
        The highest pruned id: the reader's position is moved there.
    """

    def __init__(self, after_id: int, resume_after: int):
        super().__init__(f"changes {after_id + 1}…{resume_after} were pruned before they were read; "
                         "reload the workspace view")
        self.after_id, self.resume_after = after_id, resume_after


@dataclass(frozen=True, slots=True)
class Change:
    """One row of the change feed.

    ``at`` is when the row was written (UTC, timezone-aware), not when it committed. ``info``
    holds a few cheap columns of the changed row (a case's number, state and grid, …).
    """

    id: int
    at: datetime
    table: str
    row_id: int
    op: str  # insert | update | delete
    info: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"id": self.id, "at": self.at.isoformat().replace("+00:00", "Z"), "table": self.table,
                "row_id": self.row_id, "op": self.op, "info": self.info}


def _is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


# Built once: a follower runs these on every notice, for every seat.
_HORIZON = text("SELECT current_setting('transaction_isolation'), envgrid_change_horizon()")
_AFTER = (select(changes).where(changes.c.id > bindparam("after_id")).order_by(changes.c.id)
          .limit(bindparam("count", type_=Integer)))
_SQLITE_LATEST = text("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")


def _horizon(connection: Connection) -> int:
    """The highest id that may be consumed now (PostgreSQL; see the module docstring)."""
    isolation, horizon = connection.execute(_HORIZON).one()
    autocommit = getattr(connection.connection.driver_connection, "autocommit", False)
    if isolation != "read committed" and not autocommit:
        raise ValueError(f"reading the change feed needs READ COMMITTED or autocommit, not {isolation}: "
                         "the horizon and the rows must come from two snapshots")
    return int(horizon or 0)


def latest_change_id(connection: Connection) -> int:
    """The position to start following from: every change up to it has committed (or never will).

    Call it *before* reading the state to keep up to date; changes after it may then be applied
    to state that already has them, which a refresh-based view tolerates.
    """
    if _is_postgres(connection):
        return _horizon(connection)
    # sqlite_sequence, not max(id): pruning may have deleted every row, the counter stays.
    value = connection.execute(_SQLITE_LATEST).scalar()
    return int(value or 0)


def _read(connection: Connection, after_id: int, limit: int) -> tuple[list[Change], bool]:
    """Changes after ``after_id`` (at most ``limit``) and whether later committed ones wait."""
    horizon = _horizon(connection) if _is_postgres(connection) else None
    # A new statement, so a snapshot taken after the horizon was computed.
    rows = connection.execute(_AFTER, {"after_id": after_id, "count": limit + 1}).all()
    held = horizon is not None and any(row.id > horizon for row in rows)
    if horizon is not None:
        rows = [row for row in rows if row.id <= horizon]
    return [_change(row) for row in rows[:limit]], held


def read_changes(connection: Connection, after_id: int, limit: int = 1000) -> list[Change]:
    """The changes after ``after_id``, oldest first, at most ``limit``.

    Safe to resume from the last returned id: no change with a smaller id can appear later. On
    PostgreSQL a committed change may be held back until an earlier-drawn one commits or rolls
    back (see the module docstring), so an empty result does not mean nothing has committed —
    and a transaction that has written changes itself holds back its own and all later ones.

    Raises
    ------
    ValueError
        On PostgreSQL inside a REPEATABLE READ or SERIALIZABLE transaction.
    """
    return _read(connection, after_id, limit)[0]


def _change(row) -> Change:
    return Change(int(row.id), row.at.replace(tzinfo=UTC), row.table_name, int(row.row_id), row.op,
                  dict(row.info or {}))


def pruned_through(connection: Connection) -> int:
    """The highest change id that pruning has deleted (0 if none): a reader behind it has a gap."""
    from gis.storage.info import get_setting

    return int(get_setting(connection, PRUNED_SETTING, 0))


def prune_changes(connection: Connection, keep_days: float = 30.0, *, now: datetime | None = None) -> int:
    """Delete changes written more than ``keep_days`` ago; return how many.

    Live followers are seconds behind, so anything a day old is not needed by them; at least
    ``MIN_KEEP_DAYS`` is always kept. A follower that was away longer than ``keep_days`` (a seat
    switched off over a holiday) finds the highest pruned id, kept in ``settings``, above its
    position and gets :class:`ChangeFeedGap` instead of silently missing changes: it reloads.
    Runs in the caller's transaction; commit it promptly.
    """
    from gis.storage.info import put_setting

    if keep_days < MIN_KEEP_DAYS:
        raise ValueError(f"keep_days must be at least {MIN_KEEP_DAYS}, got {keep_days}")
    cutoff = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None) - timedelta(days=keep_days)
    # By id, not by ``at`` alone: the deleted rows are then a prefix, which is what the gap check
    # assumes. ``at`` follows the ids closely (it is the time the id was drawn).
    last = connection.execute(select(func.max(changes.c.id)).where(changes.c.at < cutoff)).scalar()
    if last is not None and _is_postgres(connection):
        # Never past the horizon: an id above it may belong to a transaction still in flight,
        # which could then commit below the recorded gap, after a follower had reloaded.
        last = min(int(last), _horizon(connection))
    if not last:
        return 0
    deleted = connection.execute(delete(changes).where(changes.c.id <= last)).rowcount
    put_setting(connection, PRUNED_SETTING, max(int(last), pruned_through(connection)))
    return deleted


@dataclass(frozen=True, slots=True)
class FollowerState:
    """Whether a :class:`ChangeFollower` is connected, since when (local time), and if not, why."""

    connected: bool
    since: datetime
    error: str = ""

    def describe(self) -> str:
        """``"disconnected since 10:42 (connection refused)"`` — what a status bar shows."""
        if self.connected:
            return f"connected since {self.since:%H:%M}"
        return f"disconnected since {self.since:%H:%M}" + (f" ({self.error})" if self.error else "")


def _local_now() -> datetime:
    return datetime.now().astimezone()


def _short(exc: BaseException) -> str:
    """The driver's first line, without SQLAlchemy's statement dump."""
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


class ChangeFollower:
    """Follows the change feed: every change exactly once, in order, across disconnections.

    PostgreSQL: a dedicated autocommit connection LISTENs on ``envgrid_changes`` and reads as soon
    as a transaction with changes commits (and every ``recheck_interval`` seconds in any case).
    SQLite: reads every ``poll_interval`` seconds. A lost connection (server restart, network
    drop, terminated backend) is re-opened with growing, jittered delays; LISTEN comes before the
    catch-up read so no commit falls between them, and reading resumes after the last id returned.
    Use from one thread; :meth:`poll` blocks for at most about ``timeout`` seconds (longer only
    while a connection attempt runs: ``connect_timeout`` is 5 s).

    Parameters
    ----------
    db
        SQLite path or database URL (as ``--db``).
    after_id
        Position to start after, e.g. a saved last id; ``None``: whatever is latest at the first
        connection (:func:`latest_change_id`).
    on_state
        Called with a :class:`FollowerState` whenever connectedness or the error changes, on the
        thread that polls (a window hands it to its own thread).
    poll_interval, recheck_interval
        Seconds between reads on SQLite, and between safety reads on PostgreSQL.
    batch
        At most this many changes per :meth:`poll`.
    max_backoff
        Longest wait between two connection attempts, in seconds.
    """

    HELD_MIN, HELD_MAX = 0.02, 0.5  # re-reads while a committed change waits for an earlier one
    GAP_CHECK = 60.0  # seconds between checks for pruned changes while connected

    def __init__(self, db, *, after_id: int | None = None, on_state=None, poll_interval: float = 0.5,
                 recheck_interval: float = 5.0, batch: int = 1000, max_backoff: float = 5.0):
        from sqlalchemy.engine import URL

        from gis.storage.store import resolve_db_url

        self.url = db if isinstance(db, URL) else resolve_db_url(db)
        self.last_id = after_id
        self.on_state = on_state
        self.state = FollowerState(False, _local_now(), "not connected yet")
        self.batch, self.max_backoff = batch, max_backoff
        self._postgres = self.url.get_backend_name() == "postgresql"
        self._idle = recheck_interval if self._postgres else poll_interval
        self._engine = _follower_engine(self.url)
        self._connection = None
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._held_wait = self.HELD_MIN
        self._dirty = True  # read before the first wait
        self._next_read = 0.0
        self._gap_checked = float("-inf")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._drop_connection()
        self._engine.dispose()

    def poll(self, timeout: float = 1.0) -> list[Change]:
        """Changes not returned before, oldest first; waits up to ``timeout`` s for the first one.

        Raises
        ------
        ChangeFeedGap
            Changes this follower had not read were pruned; it has moved past them, the caller
            reloads its view and polls on.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self._connection is None and not self._connect(deadline):
                return []
            try:
                # Read only when something may have arrived: a notice, a held-back change, the
                # interval; a window polling every 100 ms then costs the server nothing.
                if self._dirty or time.monotonic() >= self._next_read:
                    found, held = self._fetch()
                    # A full batch may have more behind it; anything else that arrives notifies.
                    self._dirty = len(found) >= self.batch
                    if held:  # the earlier change's commit will notify, but a rollback does not
                        delay, self._held_wait = self._held_wait, min(self._held_wait * 2, self.HELD_MAX)
                    else:
                        delay, self._held_wait = self._idle, self.HELD_MIN
                    self._next_read = time.monotonic() + delay
                    if found:
                        return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._dirty = self._wait(min(remaining, max(0.0, self._next_read - time.monotonic())))
            except _connection_errors() as exc:
                self._lost(exc)

    # -- connection ---------------------------------------------------------------------------

    def _connect(self, deadline: float) -> bool:
        now = time.monotonic()
        if now < self._next_attempt:
            time.sleep(max(0.0, min(self._next_attempt, deadline) - now))
            if time.monotonic() < self._next_attempt:
                return False
        connection = None
        try:
            connection = self._engine.connect()
            if self._postgres:
                connection.exec_driver_sql(f"LISTEN {CHANNEL}")  # before the catch-up read
            if self.last_id is None:
                self.last_id = latest_change_id(connection)
            connection.rollback()
        except _connection_errors() as exc:
            if connection is not None:
                _close_quietly(connection)
            self._schedule_retry()
            self._set_state(False, _short(exc))
            return False
        self._connection, self._dirty = connection, True  # catch up at once
        self._gap_checked = float("-inf")  # after any absence, check for pruned changes first
        self._set_state(True, "")
        return True

    def _lost(self, exc: BaseException) -> None:
        self._drop_connection()
        # The first retry at once (most drops are one killed backend); if the fresh connection
        # fails too (server down, or an error that is not the network's), pauses grow.
        self._schedule_retry(immediately=self._backoff == 0.0)
        self._set_state(False, _short(exc))

    def _schedule_retry(self, immediately: bool = False) -> None:
        # Jitter: a dozen seats that lost the server together do not all knock at once.
        delay = 0.0 if immediately else self._backoff * random.uniform(0.5, 1.0)
        self._backoff = min(max(self._backoff * 2, 0.25), self.max_backoff)
        self._next_attempt = time.monotonic() + delay

    def _drop_connection(self) -> None:
        if self._connection is not None:
            _close_quietly(self._connection)
            self._connection = None

    def _set_state(self, connected: bool, error: str) -> None:
        old = self.state
        if old.connected == connected and old.error == error:
            return
        since = old.since if old.connected == connected else _local_now()
        self.state = FollowerState(connected, since, error)
        if self.on_state is not None:
            self.on_state(self.state)

    # -- reading and waiting ------------------------------------------------------------------

    def _fetch(self) -> tuple[list[Change], bool]:
        connection = self._connection
        if time.monotonic() - self._gap_checked > self.GAP_CHECK:
            pruned = pruned_through(connection)
            self._gap_checked = time.monotonic()
            if pruned > self.last_id:
                connection.rollback()
                missed, self.last_id = self.last_id, pruned
                raise ChangeFeedGap(missed, pruned)
        found, held = _read(connection, self.last_id, self.batch)
        connection.rollback()  # SQLite: end the read transaction, or WAL checkpoints wait for it
        self._backoff = 0.0  # only a connection that has served a read counts as recovered
        if found:
            self.last_id = found[-1].id
        return found, held

    def _wait(self, seconds: float) -> bool:
        """Sleep (SQLite) or wait for a notice (PostgreSQL); True if one came."""
        if not self._postgres:
            time.sleep(seconds)
            return False
        raw = self._connection.connection.driver_connection
        woke = any(True for _ in raw.notifies(timeout=seconds, stop_after=1))
        for _ in raw.notifies(timeout=0):  # one read answers every notice that is already here
            pass
        return woke


def _follower_engine(url):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from gis.storage.store import create_store_engine

    if url.get_backend_name() != "postgresql":
        return create_store_engine(url)
    # Keepalives and a TCP user timeout: a pulled cable is noticed in ~15 s, not after the
    # kernel's retransmissions give up many minutes later.
    return create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args={
        "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
        "keepalives_count": 3, "tcp_user_timeout": 15000, "application_name": "envgrid change follower"})


def _connection_errors() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        import psycopg
    except ImportError:  # a SQLite-only install
        return (SQLAlchemyError,)
    return (SQLAlchemyError, psycopg.Error)


def _close_quietly(connection) -> None:
    try:
        connection.invalidate()  # a broken connection must not go back to a pool
        connection.close()
    except Exception:  # noqa: BLE001, S110 — closing a dead connection fails in many ways; it is gone anyway
        pass
