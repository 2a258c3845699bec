"""Evaluating alarm rules against readings, and the station-offline check.

:class:`AlarmEngine` keeps the enabled rules, the stations and the grid index for a short time
(``ttl`` seconds), so evaluating every batch the HJ 212 writer commits costs a few dictionary
look-ups when nothing fires — and one rule query per ``ttl`` when no rule exists at all.
A firing goes to :func:`gis.monitoring.alarms.raise_or_merge` (one open alarm per station,
pollutant and rule).

Every evaluation that has rules to apply first takes :func:`gis.monitoring.alarms.lock_evaluation`
for the rest of the caller's transaction, before it reads anything it decides on: the receiver's
batches and an ``envgrid alarms evaluate`` running at the same time take turns, so they never both
find no open alarm and both open one. Keep the transaction short; the receiver's is one batch.
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from gis.monitoring.alarms import (AlarmOutcome, Firing, StationInfo, lock_evaluation, note_pending_repeats,
                                   raise_or_merge)
from gis.monitoring.rules import AQI_POLLUTANT, OFFLINE_POLLUTANT, AlarmRule, RuleKind, read_rules
from gis.storage.schema import readings, stations

USABLE_FLAGS = (None, "N", "T")  # as gis.storage.readings: T (above range) is still a measurement


@dataclass(slots=True)
class _Cache:
    rules: list[AlarmRule]
    stations: dict[int, StationInfo]
    loaded: float


class AlarmEngine:
    """Rules → alarms. Not thread-safe: use one engine per thread (the writer has its DB thread)."""

    def __init__(self, *, ttl: float = 30.0):
        self.ttl = ttl
        self._cache: _Cache | None = None
        self.grid_index = None  # built on the first alarm that needs routing

    def invalidate(self) -> None:
        self._cache, self.grid_index = None, None

    def _load(self, connection: Connection) -> _Cache:
        if self._cache is None or time.monotonic() - self._cache.loaded > self.ttl:
            rules = read_rules(connection, enabled_only=True)
            found = {}
            if rules:
                query = select(stations.c.id, stations.c.mn, stations.c.name, stations.c.kind, stations.c.lon,
                               stations.c.lat, stations.c.grid_id, stations.c.active)
                found = {r.id: StationInfo(**r._mapping) for r in connection.execute(query)}
            self._cache = _Cache(rules, found, time.monotonic())
        return self._cache

    # -- readings ---------------------------------------------------------------------------
    def evaluate_rows(self, connection: Connection, rows: Iterable[dict], now: datetime | None = None
                      ) -> list[AlarmOutcome]:
        """Apply the per-reading rules (threshold, aqi, rise, flag) to ``readings`` rows.

        Rows of devices without a stations row are skipped. Re-evaluating the same rows changes
        nothing (an alarm remembers the data time of its latest firing).
        """
        cache = self._load(connection)
        rules = [r for r in cache.rules if r.kind is not RuleKind.OFFLINE]
        if not rules:
            return []
        lock_evaluation(connection)
        cns = {cn for r in rules for cn in r.cns}
        firings: list[Firing] = []
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for row in rows:
            station = cache.stations.get(row.get("station_id"))
            if station is None or row["cn"] not in cns:
                continue
            groups[(station.id, row["cn"], row["data_time"])].append(row)
            value = row["avg"] if row.get("avg") is not None else row.get("rtd")
            for rule in rules:
                if row["cn"] not in rule.cns or not rule.applies_to(station.kind):
                    continue
                if rule.pollutant is not None and rule.pollutant != row["pollutant"]:
                    continue
                firing = self._check_reading(connection, rule, station, row, value)
                if firing is not None:
                    firings.append(firing)
        aqi_rules = [r for r in rules if r.kind is RuleKind.AQI]
        if aqi_rules:
            for (station_id, cn, data_time), group in groups.items():
                station = cache.stations[station_id]
                for rule in aqi_rules:
                    if cn in rule.cns and rule.applies_to(station.kind) and station.kind == "air":
                        firing = _check_aqi(rule, station, cn, data_time, group)
                        if firing is not None:
                            firings.append(firing)
        return self._raise(connection, firings, now)

    def _check_reading(self, connection, rule: AlarmRule, station: StationInfo, row: dict,
                       value: float | None) -> Firing | None:
        flag = row.get("flag")
        if rule.kind is RuleKind.FLAG:
            if flag in rule.params["flags"]:
                return Firing(rule, station, row["pollutant"], value if value is not None else 0.0, 0.0,
                              row["data_time"], row["cn"], f"数据标记 {flag}")
            return None
        if value is None or flag not in USABLE_FLAGS:
            return None
        if rule.kind is RuleKind.THRESHOLD:
            limit = rule.params["limit"]
            if value > limit:
                return Firing(rule, station, row["pollutant"], value, limit, row["data_time"], row["cn"],
                              f"超过限值 {limit:g}")
            return None
        if rule.kind is RuleKind.RISE:
            factor, absolute = rule.params.get("factor"), rule.params.get("absolute")
            if value <= (absolute or 0):  # cannot be a rise: skip the history query
                return None
            mean, count = trailing_mean(connection, station.id, row["pollutant"], row["cn"], row["data_time"],
                                        rule.params["window"])
            if count < min(3, rule.params["window"]):
                return None
            if (factor is None or value >= factor * mean) and (absolute is None or value - mean >= absolute):
                threshold = max(factor * mean if factor else 0.0, mean + absolute if absolute else 0.0)
                return Firing(rule, station, row["pollutant"], value, round(threshold, 3), row["data_time"],
                              row["cn"], f"前{count}次均值 {mean:.1f}")
        return None

    # -- offline ----------------------------------------------------------------------------
    def evaluate_offline(self, connection: Connection, at: datetime, now: datetime | None = None
                         ) -> list[AlarmOutcome]:
        """Active stations whose newest data time is older than a rule's ``minutes`` before ``at``;
        then the tallied repeats of open alarms whose interval has passed are recorded
        (:func:`~gis.monitoring.alarms.note_pending_repeats`, as outcomes "noted").

        A station that never sent anything is not offline (not connected yet). One index seek per
        station.
        """
        cache = self._load(connection)
        if not cache.rules:
            return []
        lock_evaluation(connection)
        rules = [r for r in cache.rules if r.kind is RuleKind.OFFLINE]
        firings = []
        for station in cache.stations.values():
            applicable = [r for r in rules if r.applies_to(station.kind)]
            if not station.active or not applicable:
                continue
            last = connection.execute(select(func.max(readings.c.data_time))
                                      .where(readings.c.station_id == station.id)).scalar()
            if last is None:
                continue
            silent = (at - last).total_seconds() / 60
            for rule in applicable:
                if silent >= rule.params["minutes"]:
                    # Keyed by the last data time: the same silence is one firing however often it is checked.
                    firings.append(Firing(rule, station, OFFLINE_POLLUTANT, round(silent), rule.params["minutes"],
                                          last, None, f"最后数据时间 {last:%Y-%m-%d %H:%M}，已 {silent:.0f} 分钟无数据",
                                          last_data=last))
        outcomes = self._raise(connection, firings, now or at)
        return outcomes + note_pending_repeats(connection, now or at, {r.id: r for r in cache.rules})

    def evaluate_window(self, connection: Connection, since: datetime, until: datetime,
                        now: datetime | None = None) -> list[AlarmOutcome]:
        """Offline check at ``until`` and the per-reading rules over data times in (since, until]."""
        outcomes = self.evaluate_offline(connection, until, now)  # takes the lock before the reads below
        cache = self._load(connection)
        cns = sorted({cn for r in cache.rules if r.kind is not RuleKind.OFFLINE for cn in r.cns})
        if not cns:
            return outcomes
        query = (select(readings.c.station_id, readings.c.mn, readings.c.cn, readings.c.data_time,
                        readings.c.pollutant, readings.c.rtd, readings.c.avg, readings.c.flag)
                 .where(readings.c.data_time > since, readings.c.data_time <= until, readings.c.cn.in_(cns),
                        readings.c.station_id.is_not(None))
                 .order_by(readings.c.data_time, readings.c.id))
        batch: list[dict] = []
        for row in connection.execute(query):
            # Oldest first, one data time at a time: an alarm raised by an early hour takes later ones as repeats.
            if batch and batch[-1]["data_time"] != row.data_time:
                outcomes += self.evaluate_rows(connection, batch, now)
                batch = []
            batch.append(dict(row._mapping))
        if batch:
            outcomes += self.evaluate_rows(connection, batch, now)
        return outcomes

    def _raise(self, connection: Connection, firings: list[Firing], now: datetime | None) -> list[AlarmOutcome]:
        if not firings:
            return []
        if self.grid_index is None:
            from gis.workflow.routing import GridIndex

            self.grid_index = GridIndex.from_connection(connection)
        now = now or datetime.now()
        return [raise_or_merge(connection, firing, now, self.grid_index) for firing in firings]


def trailing_mean(connection: Connection, station_id: int, pollutant: str, cn: str, before: datetime,
                  window: int) -> tuple[float, int]:
    """Mean of the last ``window`` usable values before ``before`` (and how many there were)."""
    query = (select(func.coalesce(readings.c.avg, readings.c.rtd).label("v"), readings.c.flag)
             .where(readings.c.station_id == station_id, readings.c.pollutant == pollutant, readings.c.cn == cn,
                    readings.c.data_time < before, readings.c.data_time >= before - timedelta(days=7))
             .order_by(readings.c.data_time.desc()).limit(window))
    values = [r.v for r in connection.execute(query) if r.v is not None and r.flag in USABLE_FLAGS]
    return (sum(values) / len(values), len(values)) if values else (0.0, 0)


def _check_aqi(rule: AlarmRule, station: StationInfo, cn: str, data_time: datetime, group: list[dict]
               ) -> Firing | None:
    from gis.aqi import HJ212_CODES, LEVELS, Pollutant, daily_aqi, hourly_aqi

    values = {}
    for row in group:
        value = row["avg"] if row.get("avg") is not None else row.get("rtd")
        if row["pollutant"] in HJ212_CODES and value is not None and value >= 0 and row.get("flag") in USABLE_FLAGS:
            values[row["pollutant"]] = value
    if not values:
        return None
    try:
        if cn == "2031":
            values.pop(Pollutant.O3.code, None)  # the daily frame has no max 8-hour mean (see hj212.readings)
            result = daily_aqi(values)
        else:
            result = hourly_aqi(values, pm_average="1h")
    except ValueError:
        return None
    level = int(rule.params["level"])
    if result.aqi is None or result.level.number < level:
        return None
    primary = "、".join(str(p) for p in result.primary) or "无"
    return Firing(rule, station, AQI_POLLUTANT, float(result.aqi), float(LEVELS[level - 1].lowest), data_time, cn,
                  f"AQI {result.aqi} {result.level.name}，首要污染物 {primary}")
