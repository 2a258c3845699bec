"""Database work off the GUI thread: one function in, its result (or exception) back in the GUI thread.

``run_in_background(fn, on_done, on_error, receiver=widget)`` runs ``fn()`` in a small
QThreadPool and calls ``on_done(result)`` or ``on_error(exc)`` in the GUI thread — unless
``receiver`` has been destroyed meanwhile (a dialog closed while its query ran), in which
case the result is dropped. ``fn`` opens its own connection (``store.engine.begin()``):
SQLAlchemy's pool hands each thread its own.

:class:`BackgroundValue` is the build-once variant: a value that is expensive to make (the
grid index of a workspace), started on first request and shared by everyone who asks.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

log = logging.getLogger(__name__)

_POOL: QThreadPool | None = None
_PENDING: set[_Delivery] = set()  # kept alive until the GUI thread has delivered the result


def pool() -> QThreadPool:
    global _POOL
    if _POOL is None:
        _POOL = QThreadPool()
        _POOL.setMaxThreadCount(2)  # DB work: a couple of queries at a time is plenty for one seat
        _POOL.setObjectName("envgrid-db")
    return _POOL


def wait_for_background(timeout_ms: int = 30_000) -> bool:
    """Block until queued work has run (tests, shutdown). The results are delivered by the event loop."""
    return pool().waitForDone(timeout_ms)


class _Delivery(QObject):
    """Lives in the GUI thread; the worker emits, the queued slot calls back there."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, receiver: QObject | None, on_done, on_error):
        super().__init__()
        self._receiver, self._on_done, self._on_error = receiver, on_done, on_error
        self.done.connect(self._deliver_done)
        self.failed.connect(self._deliver_error)

    def _alive(self) -> bool:
        return self._receiver is None or shiboken6.isValid(self._receiver)

    def _release(self) -> None:
        # Dropped on the next turn of the event loop, not inside this object's own slot call.
        QTimer.singleShot(0, lambda: _PENDING.discard(self))

    @Slot(object)
    def _deliver_done(self, result) -> None:
        self._release()
        if self._alive():
            self._on_done(result)

    @Slot(object)
    def _deliver_error(self, exc) -> None:
        self._release()
        if not self._alive():
            return
        if self._on_error is None:
            log.error("background work failed", exc_info=exc)
        else:
            self._on_error(exc)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], object], delivery: _Delivery):
        super().__init__()
        self._fn, self._delivery = fn, delivery

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # handed to the GUI thread, which decides what the user sees
            self._delivery.failed.emit(exc)
            return
        self._delivery.done.emit(result)


def run_in_background(fn: Callable[[], object], on_done: Callable[[object], None],
                      on_error: Callable[[Exception], None] | None = None, *,
                      receiver: QObject | None = None) -> None:
    """Run ``fn()`` in the DB pool; call back in the GUI thread if ``receiver`` still exists."""
    delivery = _Delivery(receiver, on_done, on_error)
    _PENDING.add(delivery)
    pool().start(_Job(fn, delivery))


class BackgroundValue(QObject):
    """A value built once in the background, on the first :meth:`request`.

    ``ready(value)`` is emitted once it exists; ``failed(message)`` if building raised (a
    later request tries again).
    """

    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, build: Callable[[], object], parent: QObject | None = None):
        super().__init__(parent)
        self._build = build
        self._value = None
        self._running = False
        self.error = ""

    @property
    def value(self):
        return self._value

    @property
    def building(self) -> bool:
        return self._running

    def request(self) -> None:
        """Start building unless the value exists or is on its way."""
        if self._value is not None or self._running:
            return
        self._running = True
        run_in_background(self._build, self._on_built, self._on_failed, receiver=self)

    def _on_built(self, value) -> None:
        self._running = False
        self._value, self.error = value, ""
        self.ready.emit(value)

    def _on_failed(self, exc: Exception) -> None:
        self._running = False
        self.error = f"{exc.__class__.__name__}: {exc}"
        log.error("building a background value failed", exc_info=exc)
        self.failed.emit(self.error)
