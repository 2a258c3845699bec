"""Is what the wall shows current? The banner text, from the change feed's connection, failed reads and silence.

Two ways the data goes stale, in order of precedence:

- the database cannot be reached: the change feed is disconnected, or the last statistics read
  failed; *since* is the earlier of the two. The feed reconnects by itself and the window retries
  its reads, so the banner goes once both work again;
- nothing came through the change feed for ``stale_minutes`` (a writer stopped, a trigger was
  dropped, a network path half-open): *since* is the last change seen.

``now`` is injectable so tests move the clock instead of waiting (no Qt here).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

STALE_MINUTES = 10


def _naive(at: datetime) -> datetime:
    """Local wall-clock time without a zone (FollowerState.since is zone-aware, local)."""
    return at.astimezone().replace(tzinfo=None) if at.tzinfo is not None else at


class DataHealth:
    def __init__(self, *, stale_minutes: float = STALE_MINUTES, now: Callable[[], datetime] = datetime.now):
        self.stale_minutes, self.now = stale_minutes, now
        self.last_change = now()
        self.feed_down_since: datetime | None = None
        self.read_failed_since: datetime | None = None
        self.error = ""

    # -- what happened -----------------------------------------------------------------------------
    def changed(self) -> None:
        """The feed delivered changes."""
        self.last_change = self.now()

    def feed_state(self, connected: bool, since: datetime, error: str = "") -> None:
        if connected:
            self.feed_down_since = None
            self.last_change = self.now()   # silence is counted from the reconnection
        else:
            self.feed_down_since = _naive(since)
            self.error = error or self.error

    def read_ok(self) -> None:
        self.read_failed_since = None

    def read_failed(self, message: str) -> None:
        if self.read_failed_since is None:
            self.read_failed_since = self.now()
        self.error = message

    # -- what to say -------------------------------------------------------------------------------
    @property
    def unreachable_since(self) -> datetime | None:
        times = [t for t in (self.feed_down_since, self.read_failed_since) if t is not None]
        return min(times) if times else None

    def silent(self) -> bool:
        return (self.now() - self.last_change).total_seconds() > self.stale_minutes * 60

    def banner(self, *, live: bool = True) -> str:
        """What the banner says, or "" when the data is current. ``live``: silence counts (a feed runs)."""
        down = self.unreachable_since
        if down is not None:
            return f"无法连接数据库（自 {self._when(down)}），数据已停止更新，正在自动重连…"
        if live and self.silent():
            return f"数据可能已过时：{self.stale_minutes:g} 分钟未收到任何变更（最后一次 {self._when(self.last_change)}）"
        return ""

    def _when(self, at: datetime) -> str:
        return f"{at:%H:%M}" if at.date() == self.now().date() else f"{at:%m-%d %H:%M}"
