"""Is what the wall shows current? The banner text, from the change feed's connection, failed reads and
the age of the newest station reading.

Two ways the data goes stale, in order of precedence:

- *unreachable*: the database cannot be reached — the change feed is disconnected, or the last read
  (or the opening of the workspace) failed; *since* is the earlier of the two. The feed reconnects
  by itself and the window retries its reads, so the banner goes once both work again;
- *stale*: the newest station reading, across the stations that report, is older than the data
  allows — stations silent, the HJ 212 receiver down. A quiet night without case changes is not
  stale: cases are not what the wall measures freshness by.

How old the newest reading may grow depends on what the stations send. A reading covers an
interval that starts at its data time (CN 2061: the hour from ``data_time``; CN 2031: the day), so
its age counts from the interval's end; each kind is then allowed its cadence plus a delay
(``STALE_MINUTES`` for real-time CN 2011 and minute CN 2051 data, a few minutes apart; 90 minutes
for hourly data, which arrive once an hour, a few minutes after it ends; 26 hours for daily).
Each station's newest reading gives a deadline; the data is stale once the latest deadline has
passed, so a workspace whose stations send hourly data only is stale after 90 minutes of
silence, one with real-time data after 30. A reading dated ahead of this clock (the simulator
runs ahead of real time; a device's clock may be wrong) counts from when the wall first saw it:
it shows that something arrived then, not that the data will be fresh until its date.

``now`` is injectable so tests move the clock instead of waiting (no Qt here).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

STALE_MINUTES = 30                                   # real-time and minute data
COVERS_MINUTES = {"2061": 60, "2031": 24 * 60}       # how long after its data time a reading's interval ends
ALLOWED_MINUTES = {"2061": 90, "2031": 26 * 60}      # other kinds (2011, 2051): STALE_MINUTES


def _naive(at: datetime) -> datetime:
    """Local wall-clock time without a zone (FollowerState.since is zone-aware, local)."""
    return at.astimezone().replace(tzinfo=None) if at.tzinfo is not None else at


def reading_end(cn: str, data_time: datetime) -> datetime:
    """When the interval a reading of kind ``cn`` stamped ``data_time`` covers ends."""
    return data_time + timedelta(minutes=COVERS_MINUTES.get(cn, 0))


class DataHealth:
    def __init__(self, *, stale_minutes: float = STALE_MINUTES, now: Callable[[], datetime] = datetime.now):
        self.stale_minutes, self.now = stale_minutes, now
        self.feed_down_since: datetime | None = None
        self.read_failed_since: datetime | None = None
        self.newest_reading: datetime | None = None   # end of the newest reading's interval
        self.deadline: datetime | None = None         # stale after this
        self.error = ""
        self._first_seen: dict[tuple[str, datetime], datetime] = {}   # readings dated ahead of the clock

    # -- what happened -----------------------------------------------------------------------------
    def feed_state(self, connected: bool, since: datetime, error: str = "") -> None:
        if connected:
            self.feed_down_since = None
        else:
            self.feed_down_since = _naive(since)
            self.error = error or self.error

    def read_ok(self) -> None:
        self.read_failed_since = None

    def read_failed(self, message: str) -> None:
        if self.read_failed_since is None:
            self.read_failed_since = self.now()
        self.error = message

    def readings(self, newest: Iterable[tuple[str, datetime]]) -> None:
        """Each reporting station's newest reading, as ``(cn, data_time)``; none: nothing to be stale."""
        now, seen, ends = self.now(), {}, []
        for cn, at in newest:
            end = reading_end(cn, at)
            if end > now:
                end = seen[cn, at] = self._first_seen.get((cn, at), now)
            ends.append((end, ALLOWED_MINUTES.get(cn, self.stale_minutes)))
        self._first_seen = seen
        self.newest_reading = max((end for end, _allowed in ends), default=None)
        self.deadline = max((end + timedelta(minutes=allowed) for end, allowed in ends), default=None)

    # -- what to say -------------------------------------------------------------------------------
    @property
    def unreachable_since(self) -> datetime | None:
        times = [t for t in (self.feed_down_since, self.read_failed_since) if t is not None]
        return min(times) if times else None

    def stale(self) -> bool:
        return self.deadline is not None and self.now() > self.deadline

    def banner(self) -> str:
        """What the banner says, or "" when the data is current."""
        down = self.unreachable_since
        if down is not None:
            return f"数据库无法连接（自 {self._when(down)}），正在自动重连…"
        if self.stale():
            return f"数据已 {self._age(self.newest_reading)}未更新（最新监测数据 {self._when(self.newest_reading)}）"
        return ""

    def _age(self, at: datetime) -> str:
        minutes = max(0, int((self.now() - at).total_seconds() // 60))
        return f"{minutes} 分钟" if minutes < 180 else f"{minutes // 60} 小时"

    def _when(self, at: datetime) -> str:
        return f"{at:%H:%M}" if at.date() == self.now().date() else f"{at:%m-%d %H:%M}"
