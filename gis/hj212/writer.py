"""Batched writes of readings rows, off the event loop, with the MN → station map.

Rows wait in memory until ``flush_interval`` has passed or ``batch_rows`` are waiting, then one
transaction writes them all. All database work (writes, map refreshes, back-filling station
ids) runs on one thread, in order: SQLite never sees two writers, and a batch written after a
refresh always uses the new map.
"""
from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from gis.storage.schema import readings, stations
from gis.storage.store import Store

log = logging.getLogger(__name__)
COLUMNS = ("station_id", "mn", "cn", "data_time", "pollutant", "rtd", "avg", "min", "max", "flag", "received_at")


@dataclass(slots=True)
class _Pending:
    rows: list[dict]
    done: Callable[[bool], None] | None  # called on the loop: True once committed, False if refused


def insert_readings(connection: Connection, rows: list[dict]) -> int:
    """Insert ``readings`` rows the fastest way each backend offers, inside the caller's transaction.

    A row already stored (same MN, CN, data time and pollutant: a device re-sending a frame) is
    skipped, on both backends. Returns how many rows were new.

    PostgreSQL: COPY, in a savepoint; only if that meets a stored row (COPY cannot skip conflicts),
    COPY into a session temporary table and one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` (about
    1.8× the time of the plain COPY, so the usual batch does not pay it). SQLite: the
    driver's executemany on plain tuples with ``ON CONFLICT DO NOTHING``, datetimes converted by
    SQLAlchemy's own processor so they read back the same. Anything else: the portable way.
    """
    if not rows:
        return 0
    dialect = connection.dialect
    columns = ", ".join(COLUMNS)
    if dialect.name == "postgresql":
        from psycopg.errors import UniqueViolation

        try:  # the usual case, nothing re-sent: straight COPY, in a savepoint so a clash costs only a retry
            with connection.begin_nested():
                _copy(connection, "readings", rows)
            return len(rows)
        except UniqueViolation:
            pass
        # Per session, kept across transactions; re-checked each time (a rolled-back first use drops it).
        connection.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS readings_incoming AS "
                                   f"SELECT {columns} FROM readings WITH NO DATA")
        _copy(connection, "readings_incoming", rows)
        inserted = connection.exec_driver_sql(
            f"INSERT INTO readings ({columns}) SELECT {columns} FROM readings_incoming ON CONFLICT DO NOTHING").rowcount
        connection.exec_driver_sql("TRUNCATE readings_incoming")
        return inserted
    if dialect.name == "sqlite":
        to_text = readings.c.data_time.type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)
        to_text = functools.lru_cache(maxsize=4096)(to_text)  # a batch shares a few times: format each once
        result = connection.exec_driver_sql(
            f"INSERT INTO readings ({columns}) VALUES ({', '.join('?' * len(COLUMNS))}) ON CONFLICT DO NOTHING",
            [(r["station_id"], r["mn"], r["cn"], to_text(r["data_time"]), r["pollutant"], r["rtd"], r["avg"],
              r["min"], r["max"], r["flag"], to_text(r["received_at"])) for r in rows])
        return result.rowcount
    return connection.execute(insert(readings), rows).rowcount


def _copy(connection: Connection, table: str, rows: list[dict]) -> None:
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[column] for column in COLUMNS])


def _short(exc: Exception) -> str:
    """The driver's message without SQLAlchemy's statement and parameter dump."""
    return str(getattr(exc, "orig", None) or exc).strip()


class ReadingWriter:
    """Collects ``readings`` rows from the event loop and writes them in batches.

    Parameters
    ----------
    store
        The open workspace.
    flush_interval, batch_rows
        A batch is written after this many seconds or as soon as this many rows wait.
    max_pending_rows
        :meth:`put` waits while this many rows are unwritten (back-pressure, bounded memory).
    refresh_interval
        Seconds between re-reads of the stations table (and station-offline checks).
    evaluate_alarms
        Apply the alarm rules (gis.monitoring) to each committed batch, in its own transaction
        after the readings' commit: a failing rule never costs a reading.
    """

    def __init__(self, store: Store, *, flush_interval: float = 0.2, batch_rows: int = 5000,
                 max_pending_rows: int = 100_000, refresh_interval: float = 60.0, evaluate_alarms: bool = True):
        self.store = store
        self.alarm_engine = None
        if evaluate_alarms:
            from gis.monitoring.engine import AlarmEngine

            self.alarm_engine = AlarmEngine(ttl=refresh_interval)
        self.flush_interval, self.batch_rows = flush_interval, batch_rows
        self.max_pending_rows, self.refresh_interval = max_pending_rows, refresh_interval
        self.unknown: set[str] = set()  # MNs seen without a stations row, until one appears
        self._stations: dict[str, int] = {}  # replaced whole, only on the DB thread
        self._pending: list[_Pending] = []
        self._pending_rows = 0
        self._writing = self._closing = False
        self._tasks: list[asyncio.Task] = []
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hj212-db")

    async def start(self) -> None:
        """Read the station map (raises if the database is unusable) and start the writer."""
        self._has_work, self._full, self._space = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._space.set()
        try:
            await self._run_db(self._refresh_sync, set())
        except BaseException:
            self._executor.shutdown(wait=False)
            raise
        self._tasks = [asyncio.create_task(self._write_loop(), name="hj212-writer"),
                       asyncio.create_task(self._refresh_loop(), name="hj212-refresh")]

    async def close(self) -> None:
        """Write everything pending, then stop."""
        if not self._tasks or self._closing:
            return
        self._closing = True
        write_task, refresh_task = self._tasks
        refresh_task.cancel()
        self._has_work.set()
        self._full.set()
        await asyncio.gather(write_task, refresh_task, return_exceptions=True)
        self._executor.shutdown(wait=True)

    def note_mn(self, mn: str) -> bool:
        """True the first time ``mn`` turns up without a stations row (so the caller logs it once)."""
        if mn in self._stations or mn in self.unknown:
            return False
        self.unknown.add(mn)
        return True

    async def put(self, rows: list[dict], done: Callable[[bool], None] | None = None) -> None:
        """Queue rows (``station_id`` is filled in at write time); wait if too much is pending."""
        while self._pending_rows >= self.max_pending_rows:
            self._space.clear()
            await self._space.wait()
        self._pending.append(_Pending(rows, done))
        self._pending_rows += len(rows)
        self._has_work.set()
        if self._pending_rows >= self.batch_rows:
            self._full.set()

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every row queued so far is written."""
        async with asyncio.timeout(timeout):
            while self._pending or self._writing:
                await asyncio.sleep(0.01)

    async def _run_db(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def _write_loop(self) -> None:
        while True:
            await self._has_work.wait()
            if not self._closing:
                try:  # linger so that one transaction carries many frames
                    await asyncio.wait_for(self._full.wait(), self.flush_interval)
                except TimeoutError:
                    pass
            batch, self._pending, self._pending_rows = self._pending, [], 0
            self._has_work.clear()
            self._full.clear()
            self._space.set()
            if batch:
                self._writing = True
                try:
                    stored = await self._run_db(self._write_sync, batch)
                finally:
                    self._writing = False
                for item, ok in zip(batch, stored):
                    if item.done is not None:
                        item.done(ok)
            if self._closing and not self._pending:
                return

    def _write_sync(self, batch: list[_Pending]) -> list[bool]:
        stations_by_mn = self._stations
        for item in batch:
            for row in item.rows:
                row["station_id"] = stations_by_mn.get(row["mn"])
        try:
            with self.store.engine.begin() as connection:
                insert_readings(connection, [row for item in batch for row in item.rows])
            self._evaluate([row for item in batch for row in item.rows])
            return [True] * len(batch)
        except Exception as exc:
            log.error("writing %d frames failed (%s: %s); retrying frame by frame",
                      len(batch), type(exc).__name__, _short(exc))
        # One frame the database refuses must not sink the others in its batch.
        stored = []
        for item in batch:
            try:
                with self.store.engine.begin() as connection:
                    insert_readings(connection, item.rows)
                stored.append(True)
            except Exception as exc:
                log.error("dropping a frame from MN %s (%d readings): %s", item.rows[0]["mn"], len(item.rows),
                          _short(exc))
                stored.append(False)
        self._evaluate([row for item, ok in zip(batch, stored) if ok for row in item.rows])
        return stored

    def _evaluate(self, rows: list[dict], offline_at: datetime | None = None) -> None:
        """Alarm rules over committed rows (and the offline check); logged, never raised."""
        if self.alarm_engine is None:
            return
        try:
            with self.store.engine.begin() as connection:
                outcomes = self.alarm_engine.evaluate_rows(connection, rows) if rows else []
                if offline_at is not None:
                    outcomes += self.alarm_engine.evaluate_offline(connection, offline_at)
        except Exception as exc:
            log.error("evaluating alarm rules failed (%s: %s)", type(exc).__name__, _short(exc))
            return
        for outcome in outcomes:
            if outcome.action == "raised":
                log.info("alarm %s: station %s %s (rule %s) → case %s", outcome.alarm_id, outcome.station_mn,
                         outcome.pollutant, outcome.rule_code, outcome.case_number)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval)
            try:
                assigned = await self._run_db(self._refresh_sync, set(self.unknown))
            except Exception as exc:
                log.error("refreshing the station map failed: %s", _short(exc))
                continue
            if assigned:
                log.info("MNs now assigned to stations: %s", ", ".join(sorted(assigned)))
                self.unknown -= assigned

    def _refresh_sync(self, unknown: set[str]) -> set[str]:
        """Re-read MN → station id; give the stored rows of newly known MNs their station."""
        with self.store.engine.begin() as connection:
            by_mn = dict(connection.execute(select(stations.c.mn, stations.c.id)).all())
            self._stations = by_mn  # on this thread, so every later batch and the back-fill agree
            assigned = {mn for mn in unknown if mn in by_mn}
            for mn in assigned:
                connection.execute(update(readings).where(readings.c.mn == mn, readings.c.station_id.is_(None))
                                   .values(station_id=by_mn[mn]))
        if self.alarm_engine is not None and self._tasks:  # not at start: the feed may have been down a while
            self.alarm_engine.invalidate()
            self._evaluate([], offline_at=datetime.now())
        return assigned
