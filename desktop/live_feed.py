"""The change feed, followed off the GUI thread and handed to it in coalesced batches.

A plain worker thread owns a :class:`gis.storage.changes.ChangeFollower` (LISTEN/NOTIFY on
PostgreSQL, polling on SQLite) and appends what it returns to a buffer. It tells the GUI thread
through a queued signal that something is waiting; the GUI thread takes the whole buffer at most
``MAX_RATE_HZ`` times a second and emits it as one ``batch``. The first change after a quiet spell
goes out at once, so a single new case is not delayed by the coalescing; a storm costs the window
ten batches a second, not one repaint per row. The worker never touches a widget, and the GUI
thread never waits for the database.

``start(after_id)`` begins after the change id the workspace loader saw: every change after the
loaded state arrives, none before it. The follower reconnects by itself and resumes after the
last id it returned; connection states arrive as ``stateChanged(FollowerState)``.
"""
from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QObject, QTimer, Signal

from gis.storage.changes import ChangeFeedGap, ChangeFollower, FollowerState

log = logging.getLogger(__name__)
MAX_RATE_HZ = 10
POLL_SECONDS = 0.25  # how long one poll may block: bounds how long stop() waits for the worker


class LiveFeed(QObject):
    """Follows one workspace's change feed; ``batch(list[Change])`` arrives on the GUI thread."""

    batch = Signal(list)
    stateChanged = Signal(object)   # FollowerState
    gap = Signal(str)               # changes were pruned before this window read them: reload
    _arrived = Signal()             # worker → GUI thread (queued: the emitter lives here)
    _state = Signal(object)
    _gap = Signal(str)

    def __init__(self, db, *, poll_interval: float = 0.25, recheck_interval: float = 5.0, parent=None):
        super().__init__(parent)
        self.db = db
        self.poll_interval, self.recheck_interval = poll_interval, recheck_interval
        self.state: FollowerState | None = None
        self.last_id: int | None = None     # highest id handed to the GUI thread
        self.batches = 0
        self._buffer: list = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_flush = 0.0
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self._flush)
        self._arrived.connect(self._schedule)
        self._state.connect(self._on_state)
        self._gap.connect(self.gap)

    # -- life -------------------------------------------------------------------------------------
    def start(self, after_id: int | None) -> None:
        """Follow from just after ``after_id`` (None: from whatever is latest when it connects)."""
        self.stop()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(after_id, self._stop), name="envgrid-live-feed",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():  # a connection attempt is under way (connect_timeout 5 s)
                log.warning("live feed worker still connecting; left to finish on its own")
            self._thread = None
        self._flush_timer.stop()
        with self._lock:
            self._buffer = []

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- worker thread ----------------------------------------------------------------------------
    def _run(self, after_id: int | None, stop: threading.Event) -> None:
        follower = ChangeFollower(self.db, after_id=after_id, on_state=self._state.emit,
                                  poll_interval=self.poll_interval, recheck_interval=self.recheck_interval)
        try:
            while not stop.is_set():
                try:
                    found = follower.poll(timeout=POLL_SECONDS)
                except ChangeFeedGap as exc:
                    self._gap.emit(str(exc))
                    continue
                except Exception as exc:  # noqa: BLE001 — a bug in one read must not end live updates
                    log.exception("live feed: reading changes failed: %s", exc)
                    stop.wait(1.0)
                    continue
                if found and not stop.is_set():
                    with self._lock:
                        was_empty = not self._buffer
                        self._buffer.extend(found)
                    if was_empty:
                        self._arrived.emit()
        finally:
            follower.close()

    # -- GUI thread -------------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._flush_timer.isActive():
            return
        wait = self._last_flush + 1.0 / MAX_RATE_HZ - time.monotonic()
        self._flush_timer.start(max(0, int(wait * 1000)))

    def _flush(self) -> None:
        with self._lock:
            found, self._buffer = self._buffer, []
        if not found:
            return
        self._last_flush = time.monotonic()
        self.last_id = found[-1].id
        self.batches += 1
        self.batch.emit(found)

    def _on_state(self, state: FollowerState) -> None:
        self.state = state
        self.stateChanged.emit(state)
