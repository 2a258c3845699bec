"""Demo alarms from the demo's own readings: the alarm engine replayed hour by hour over the hourly window.

Each hour's frames go through :class:`gis.monitoring.AlarmEngine` with the workspace's enabled rules,
as the receiver would have evaluated them when they arrived (``now`` = the data time, which is when
the demo's frames are received): raising a dispatched 监测报警 case routed to the station's grid,
merging repeats into the open alarm (one per station + pollutant + rule) and noting them in the case
are the engine's own. The grid then answers each alarm as people do — on site within a few hours,
整改 with the 24-hour feedback (a few late), 复查, 销号 — written as the demo writes its other case
histories, in time order with the evaluation: an alarm answered before an hour is evaluated is no
longer open, so the next firing raises a new one.

Only the readings that may fire an enabled rule are handed to the engine (:meth:`_Checks.candidates`:
over a limit, an AQI level's breakpoint reached, nearly a rise); the engine decides. The demo's rules
are the defaults with :data:`DEMO_RULES` applied, stored in the workspace, so its rules panel shows
what raised its alarms. The replay costs about 2 s of the demo's build (SQLite; ~800 firings, ~220 alarms).
"""
from __future__ import annotations

import dataclasses
import functools
import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import Connection, bindparam, select

from gis.aqi import BREAKPOINTS, HJ212_CODES, IAQI_STEPS, LEVELS, Pollutant
from gis.domain import AlarmStatus, CaseAction, CaseState
from gis.monitoring.engine import AlarmEngine
from gis.monitoring.rules import AlarmRule, RuleKind, install_default_rules, read_rules, save_rules
from gis.storage.schema import alarms, case_events, cases, stations
from gis.workflow.transitions import rule_for

FEEDBACK = ("周边工地扬尘", "企业治污设施故障已修复", "未发现明显污染源", "道路清扫不及时，已通知环卫")
ANSWER_SHAPE, ANSWER_SCALE = 3.0, 5.0   # hours from raising to the on-site feedback: gamma, mean 15 h
# The defaults hold GB 3095's 24-hour PM limits against single hours as an early warning, and alarm from
# AQI 中度污染 on: in a heating-season city that fires most afternoons at most stations (tens of thousands
# of hourly firings over the demo's 95 days — minutes to replay — and a new task per station nearly every day).
# The demo workspace alarms on the worst hours of episodes instead: AQI 严重污染, the gases' hourly limits, the
# PM2.5 rise and the outlets' limits; the PM early warnings are there, disabled.
DEMO_RULES = {"air-pm25": {"enabled": False}, "air-pm10": {"enabled": False},
              "air-aqi": {"level": 6, "name": "AQI 严重污染"}}
# … and the bureau switched the PM2.5 early warning on this long before the demo's "now" (the heating season
# has begun), so the seats have the day's tasks to work: it fires on an ordinary afternoon's 轻度 hours.
SWITCHED_ON, SWITCHED_ON_HOURS = ("air-pm25",), 30


def install_demo_rules(connection: Connection, now: datetime) -> None:
    """The default rules, with :data:`DEMO_RULES` applied."""
    install_default_rules(connection, now=now)
    changed = []
    for rule in read_rules(connection):
        change = DEMO_RULES.get(rule.code)
        if change:
            params = {**rule.params, **{k: v for k, v in change.items() if k not in ("enabled", "name")}}
            changed.append(dataclasses.replace(rule, params=params, enabled=change.get("enabled", rule.enabled),
                                               name=change.get("name", rule.name)))
    save_rules(connection, changed, now=now)


def replay_alarms(connection: Connection, rows: Iterable[dict], since: datetime, as_of: datetime, rng,
                  staff_name: Callable[[int], str]) -> int:
    """Evaluate the hourly (CN 2061) ``rows`` with data times from ``since`` on, oldest hour first, and
    play each raised alarm's follow-up up to ``as_of``; return how many alarms were raised.

    The rules must be in the workspace already (:func:`install_demo_rules`); the rules named in
    :data:`SWITCHED_ON` are enabled :data:`SWITCHED_ON_HOURS` before ``as_of``, from the next hour's
    evaluation on. ``staff_name(grid_id)`` names who answers for a grid.
    """
    switch_at = as_of - timedelta(hours=SWITCHED_ON_HOURS)
    rows, kinds = list(rows), _station_kinds(connection)
    before = [r for r in read_rules(connection, enabled_only=True) if r.kind is not RuleKind.OFFLINE]
    later = [dataclasses.replace(r, enabled=True) for r in read_rules(connection) if r.code in SWITCHED_ON]
    hours = _candidate_hours(rows, since, kinds, before, switch_at, before + later)
    engine = AlarmEngine(ttl=float("inf"))   # rules and stations change only at switch_at
    plan: list[tuple] = []                   # (at, order, step, alarm id, case id, actor, note, due)
    order = count()
    raised = 0
    for hour in sorted(hours):
        _play(connection, plan, hour)
        if later and hour >= switch_at:
            save_rules(connection, later, now=switch_at)
            engine.invalidate()
            later = []
        for outcome in engine.evaluate_rows(connection, hours[hour], now=hour):
            if outcome.action == "raised":
                raised += 1
                grid_id, due_at = connection.execute(select(alarms.c.grid_id, alarms.c.due_at)
                                                     .where(alarms.c.id == outcome.alarm_id)).one()
                _schedule(plan, order, hour, outcome.alarm_id, outcome.case_id, grid_id, due_at, staff_name, rng)
    _play(connection, plan, as_of)
    return raised


def _station_kinds(connection: Connection) -> dict[int, str]:
    return dict(connection.execute(select(stations.c.id, stations.c.kind)).all())


def _candidate_hours(rows: Iterable[dict], since: datetime, kinds: dict[int, str], rules: list[AlarmRule],
                     switch_at: datetime, later: list[AlarmRule]) -> dict[datetime, list[dict]]:
    """Hourly rows from ``since`` on, by data time: those that may fire ``rules`` (from ``switch_at``
    on: ``later``), see :meth:`_Checks.candidates`."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        if row["cn"] == "2061":
            groups[(row["station_id"], row["data_time"])].append(row)
    series: dict[tuple, list[float]] = defaultdict(list)   # per station and pollutant, oldest first
    hours: dict[datetime, list[dict]] = defaultdict(list)
    rising = {r.pollutant for r in (*rules, *later) if r.kind is RuleKind.RISE}
    checks = [{kind: _Checks([r for r in rules if "2061" in r.cns], kind) for kind in set(kinds.values())}
              for rules in (rules, later)]
    for key in sorted(groups, key=lambda k: k[1]):
        station_id, at = key
        group = groups[key]
        if at >= since and station_id in kinds:
            hours[at].extend(checks[at >= switch_at][kinds[station_id]].candidates(group, series))
        for row in group:
            value = _value(row)
            if value is not None and row["pollutant"] in rising:
                series[(station_id, row["pollutant"])].append(value)
    return {at: rows for at, rows in hours.items() if rows}


def _value(row: dict) -> float | None:
    return row["avg"] if row.get("avg") is not None else row.get("rtd")


@functools.cache
def _aqi_floor(level: int) -> dict[str, float]:
    """Per HJ 212 code, the concentration an hourly value must exceed for an IAQI of ``level`` or worse."""
    step = IAQI_STEPS.index(LEVELS[level - 1].lowest - 1)
    floors = {}
    for code, pollutant in HJ212_CODES.items():
        table = BREAKPOINTS[(pollutant, "24h" if pollutant in (Pollutant.PM10, Pollutant.PM25) else "1h")]
        floors[code] = table[step] if step < len(table) else table[-1]
    return floors


RISE_SLACK = 0.9   # a rise is looked at from 90 % of what the rule asks (rounding, the engine decides)


class _Checks:
    """The enabled hourly rules of one station kind, as quick tests of a station-hour's rows."""

    def __init__(self, rules: list[AlarmRule], kind: str):
        rules = [r for r in rules if r.applies_to(kind)]
        levels = [int(r.params["level"]) for r in rules if r.kind is RuleKind.AQI]
        self.aqi_floor = _aqi_floor(min(levels)) if levels else {}
        self.limit: dict[str, float] = {}
        for r in rules:
            if r.kind is RuleKind.THRESHOLD:
                self.limit[r.pollutant] = min(r.params["limit"], self.limit.get(r.pollutant, float("inf")))
        self.rises = defaultdict(list)
        for r in rules:
            if r.kind is RuleKind.RISE:
                self.rises[r.pollutant].append(r.params)
        self.flags = {f for r in rules if r.kind is RuleKind.FLAG for f in r.params["flags"]}

    def candidates(self, group: list[dict], series) -> list[dict]:
        """The rows the engine should see: all of them if a pollutant reaches an AQI rule's breakpoint
        (the AQI needs them all; fewer can only give a lower AQI, so a part of a group never fires
        an AQI rule), else each row over a limit, carrying a flag, or rising by nearly what a rise
        rule asks over the mean of the previous values in ``series`` (the demo's values come every
        hour, all usable: the values the engine averages)."""
        picked = []
        for row in group:
            value, code = _value(row), row["pollutant"]
            if value is not None and value >= self.aqi_floor.get(code, float("inf")):
                return group
            if row.get("flag") in self.flags or (value is not None and value > self.limit.get(code, float("inf"))):
                picked.append(row)
                continue
            for params in self.rises.get(code, ()) if value is not None else ():
                before = series[(row["station_id"], code)][-params["window"]:]
                if len(before) >= min(3, params["window"]) and _may_rise(value, sum(before) / len(before), params):
                    picked.append(row)
                    break
        return picked


def _may_rise(value: float, mean: float, params) -> bool:
    factor, absolute = params.get("factor"), params.get("absolute")
    return ((factor is None or value >= RISE_SLACK * factor * mean)
            and (absolute is None or value - mean >= RISE_SLACK * absolute))


def _schedule(plan, order, raised: datetime, alarm_id: int, case_id: int, grid_id: int | None, due_at: datetime,
              staff_name, rng) -> None:
    """The grid's answer: on site (受理), 整改 with the feedback, 复查 and 销号."""
    answer = raised + timedelta(hours=float(rng.gamma(ANSWER_SHAPE, ANSWER_SCALE)))
    on_site = raised + (answer - raised) * float(rng.uniform(0.15, 0.6))
    recheck = answer + timedelta(hours=float(rng.uniform(0.1, 4)))
    close = recheck + timedelta(hours=float(rng.uniform(4, 72)))
    found = FEEDBACK[int(rng.integers(len(FEEDBACK)))]
    actor = staff_name(grid_id) if grid_id is not None else "网格员"
    for at, step, note in ((on_site, CaseAction.ACCEPT, "已到达现场核查"), (answer, CaseAction.RECTIFY, found),
                           (recheck, CaseAction.SUBMIT_RECHECK, "申请复查"), (close, CaseAction.CLOSE, "复查合格，予以销号")):
        heapq.heappush(plan, (at, next(order), step, alarm_id, case_id, actor, note, due_at))


_CASE = select(cases.c.state, cases.c.version, cases.c.grid_id).where(cases.c.id == bindparam("case_id"))


def _play(connection: Connection, plan: list, until: datetime) -> None:
    """Apply the planned steps due by ``until``, in time order.

    Written as the demo writes all its case histories (the state machine's rule checked, the case row
    and one event; no audit entry), in time with the engine, which writes its own steps itself.
    """
    while plan and plan[0][0] <= until:
        at, _, step, alarm_id, case_id, actor, note, due_at = heapq.heappop(plan)
        case = connection.execute(_CASE, {"case_id": case_id}).one()
        rule = rule_for(case.state, step)
        values = {"state": str(rule.to_state), "version": case.version + 1}
        if rule.to_state == CaseState.CLOSED:
            values["closed_at"] = at
        connection.execute(cases.update().where(cases.c.id == case_id).values(**values))
        connection.execute(case_events.insert(), [{
            "case_id": case_id, "at": at, "actor": actor, "action": str(step), "from_state": case.state,
            "to_state": str(rule.to_state), "grid_id": case.grid_id, "note": note, "internal": rule.internal,
            "payload": None}])
        if step is CaseAction.RECTIFY:  # the 24-hour feedback is the on-site finding
            status = AlarmStatus.ANSWERED if at <= due_at else AlarmStatus.LATE
            connection.execute(alarms.update().where(alarms.c.id == alarm_id).values(
                status=str(status), feedback_at=at, feedback=f"现场核查：{note}"))
