"""Database reads off the GUI thread: ``submit(key, fn, done)`` runs ``fn(connection)`` on a worker.

The result comes back through a queued signal and ``done(result)`` runs on the GUI thread — unless
a newer job was submitted under the same key meanwhile (a filter changed again while the old count
was still running): then the old result is dropped, and a job that has not started yet is skipped.
Each job takes its own pooled connection from the store's engine.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Hashable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from sqlalchemy import Engine

log = logging.getLogger(__name__)
THREADS = 3  # table page, count and charts in parallel; more only fight over two cores


class _Job(QRunnable):
    def __init__(self, runner: QueryRunner, job_id: int, key: Hashable, fn: Callable):
        super().__init__()
        self.setAutoDelete(True)
        self.runner, self.job_id, self.key, self.fn = runner, job_id, key, fn

    def run(self) -> None:
        runner = self.runner
        if runner._latest.get(self.key) != self.job_id or runner._closed:
            runner._finished.emit(self.job_id, None, None, True)
            return
        try:
            with runner.engine.connect() as connection:
                result = self.fn(connection)
        except Exception as exc:  # reported on the GUI thread; the window carries on
            runner._finished.emit(self.job_id, None, exc, False)
            return
        runner._finished.emit(self.job_id, result, None, False)


class QueryRunner(QObject):
    """A small pool of worker threads for read queries; see the module docstring."""

    failed = Signal(str)      # a job raised: a message for the status bar
    idle = Signal()           # nothing queued or running any more
    _finished = Signal(object, object, object, bool)  # job id, result, error, skipped

    def __init__(self, engine: Engine, *, threads: int = THREADS, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._ids = itertools.count(1)
        self._latest: dict[Hashable, int] = {}
        self._callbacks: dict[int, tuple[Hashable, Callable, Callable | None]] = {}
        self._closed = False
        self.submitted = 0
        self._finished.connect(self._on_finished)

    def submit(self, key: Hashable, fn: Callable, done: Callable, error: Callable | None = None, *,
               priority: int = 0) -> int:
        """Run ``fn(connection)``; ``done(result)`` (or ``error(exc)``) on the GUI thread if still current."""
        if self._closed:
            return 0
        job_id = next(self._ids)
        self._latest[key] = job_id
        self._callbacks[job_id] = (key, done, error)
        self.submitted += 1
        self.pool.start(_Job(self, job_id, key, fn), priority)
        return job_id

    def cancel(self, key: Hashable) -> None:
        """Forget the job under ``key``: it is skipped if not started, its result dropped if it is."""
        self._latest.pop(key, None)

    @property
    def busy(self) -> bool:
        return bool(self._callbacks)

    def _on_finished(self, job_id: int, result, error, skipped: bool) -> None:
        key, done, on_error = self._callbacks.pop(job_id, (None, None, None))
        current = self._latest.get(key) == job_id
        if current:
            del self._latest[key]
        if current and not skipped and not self._closed:
            if error is None:
                done(result)
            elif on_error is not None:
                on_error(error)
            else:
                log.error("query %r failed: %s", key, error, exc_info=error)
                self.failed.emit(f"{error.__class__.__name__}: {error}")
        if not self._callbacks:
            self.idle.emit()

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the workers are done (shutdown, tests); queued results still arrive later."""
        return self.pool.waitForDone(msecs)

    def shutdown(self) -> None:
        self._closed = True
        self._latest.clear()
        self.pool.clear()
        self.pool.waitForDone(30_000)
