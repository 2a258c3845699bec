"""Raising an alarm as a 监测报警 case, or merging a repeat into the open one.

An alarm is open while it awaits feedback (待反馈) and its case is not finished (销号, 误报,
重复). While open, further firings of the same station + pollutant + rule only update
``occurrences``, ``last_value`` and ``last_at`` on the alarm row: a storm never becomes a pile of
cases for the seats. A firing whose data time is not newer than the alarm's ``last_at`` was seen
already (a re-sent frame, a second ``alarms evaluate`` over the same hours) and changes nothing.

Repeats are part of the case's history (痕迹化) without flooding it: the first repeat adds a 备注
event "报警持续：新增 1 次，最高 …" at once; later ones are tallied on the alarm (how many, the
highest value) and told by the next event, at most one per the rule's ``repeat_interval``
(``repeat_minutes``, default 60) — at the next repeat after the interval, or by
:func:`note_pending_repeats` when the storm has stopped. Wall-clock time (``now``) paces the events:
that is what the seats see, and a back-log of hours evaluated at once is one event, not dozens.

Only one evaluation at a time may look for an open alarm and raise one: the HJ 212 receiver and
``envgrid alarms evaluate`` otherwise both find none and both open one. :func:`lock_evaluation`
serialises them (see there).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, text

from gis.domain import AlarmStatus, CaseAction, CaseSource
from gis.monitoring.rules import AQI_POLLUTANT, DEFAULT_REPEAT_MINUTES, KIND_NAMES, OFFLINE_POLLUTANT, AlarmRule
from gis.storage.schema import alarm_rules, alarms, case_categories, cases, stations
from gis.workflow.transitions import TERMINAL_STATES

ACTOR = "监测报警系统"
CATEGORY_CODES = ("monitoring", "other")  # 监测超标, else 其他 (always present)
# A single-bigint advisory key ("EnvGAlms"): PostgreSQL keeps those apart from the two-int keys of
# the change feed's guard (gis.storage.changes), so neither can block or be mistaken for the other.
EVALUATION_LOCK_KEY = 0x456E_7647_416C_6D73


@dataclass(frozen=True, slots=True)
class StationInfo:
    id: int
    mn: str
    name: str
    kind: str
    lon: float
    lat: float
    grid_id: int | None
    active: bool = True


@dataclass(frozen=True, slots=True)
class Firing:
    rule: AlarmRule
    station: StationInfo
    pollutant: str
    value: float
    threshold: float
    data_time: datetime
    cn: str | None
    why: str
    last_data: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlarmOutcome:
    action: str  # "raised", "merged" or "seen"
    alarm_id: int
    case_id: int | None
    case_number: str | None
    station_mn: str
    rule_code: str
    pollutant: str
    occurrences: int
    event_id: int | None = None  # the 报警持续 case event a "merged" or "noted" outcome wrote

    def to_json(self) -> dict:
        return {"action": self.action, "alarm_id": self.alarm_id, "case_id": self.case_id,
                "case_number": self.case_number, "station": self.station_mn, "rule": self.rule_code,
                "pollutant": self.pollutant, "occurrences": self.occurrences, "event_id": self.event_id}


def lock_evaluation(connection: Connection) -> None:
    """Hold the alarm-evaluation lock until the caller's transaction ends.

    PostgreSQL: a transaction-level advisory lock on :data:`EVALUATION_LOCK_KEY`; under READ
    COMMITTED every later statement sees what the previous holder committed. SQLite: the write
    lock, taken now rather than at the first insert — ``BEGIN IMMEDIATE`` outside a transaction,
    else a write that changes nothing (SQLite takes the write lock for any writing statement).
    Taking it again in the same transaction is harmless.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVALUATION_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        if connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("UPDATE alarms SET id = id WHERE 0")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def latest_alarm(connection: Connection, station_id: int, rule_id: int, pollutant: str):
    """The newest alarm of this station, rule and pollutant, with its case's state and number."""
    query = (select(alarms.c.id, alarms.c.status, alarms.c.case_id, alarms.c.occurrences, alarms.c.raised_at,
                    alarms.c.last_at, alarms.c.noted_occurrences, alarms.c.noted_at, alarms.c.unnoted_peak,
                    cases.c.state, cases.c.number)
             .outerjoin(cases, cases.c.id == alarms.c.case_id)
             .where(alarms.c.station_id == station_id, alarms.c.rule_id == rule_id, alarms.c.pollutant == pollutant)
             .order_by(alarms.c.id.desc()).limit(1))
    return connection.execute(query).first()


def is_open(row) -> bool:
    return row.status == AlarmStatus.AWAITING and (row.case_id is None or row.state not in TERMINAL_STATES)


def describe(firing: Firing) -> str:
    """The case description: what fired, where, and the reading as evidence."""
    rule, station = firing.rule, firing.station
    head = f"【{KIND_NAMES[rule.kind]}】{station.name}（MN {station.mn}）{rule.label()}"
    if firing.cn is None:
        evidence = firing.why
    else:
        evidence = (f"监测数据：{firing.data_time:%Y-%m-%d %H:%M} CN {firing.cn} {firing.pollutant} = "
                    f"{firing.value:g}（{firing.why}）")
    return f"{head}。{evidence}。规则 {rule.code}，请于24小时内现场核查并反馈。"


def _category(connection: Connection) -> int:
    rows = dict(connection.execute(select(case_categories.c.code, case_categories.c.id)).all())
    for code in CATEGORY_CODES:
        if code in rows:
            return rows[code]
    raise LookupError("no case category 监测超标 or 其他 in this workspace")


def raise_or_merge(connection: Connection, firing: Firing, now: datetime, grid_index) -> AlarmOutcome:
    """Merge the firing into the open alarm, or open a new alarm with a dispatched 监测报警 case."""
    from gis.workflow.cases import apply_action, create_case

    station, rule = firing.station, firing.rule
    previous = latest_alarm(connection, station.id, rule.id, firing.pollutant)
    if previous is not None:
        seen_until = previous.last_at or previous.raised_at
        if firing.data_time <= seen_until:
            return AlarmOutcome("seen", previous.id, previous.case_id, previous.number, station.mn, rule.code,
                                firing.pollutant, previous.occurrences)
        if is_open(previous):
            return _merge(connection, previous, firing, now)
    route = grid_index.locate(station.lon, station.lat, 0)
    grid_id = route.grid.id if route.grid is not None else station.grid_id
    new = create_case(connection, source=str(CaseSource.ALARM), category=_category(connection),
                      description=describe(firing), actor=ACTOR, lon=station.lon, lat=station.lat,
                      address=station.name, grid_id=grid_id, now=now)
    if grid_id is not None:  # Urumqi practice: an alarm goes to its grid at once, no seat in between
        apply_action(connection, new.id, CaseAction.DISPATCH, ACTOR, note="监测报警自动派发", now=now)
    alarm_id = connection.execute(alarms.insert().values(
        station_id=station.id, pollutant=firing.pollutant, value=firing.value, threshold=firing.threshold,
        raised_at=now, grid_id=grid_id, case_id=new.id, status=str(AlarmStatus.AWAITING), due_at=new.due_at,
        feedback_at=None, feedback="", rule_id=rule.id, occurrences=1, last_value=firing.value,
        last_at=firing.data_time).returning(alarms.c.id)).scalar_one()
    return AlarmOutcome("raised", alarm_id, new.id, new.number, station.mn, rule.code, firing.pollutant, 1)


# -- repeats in the case history ------------------------------------------------------------------
def _merge(connection: Connection, previous, firing: Firing, now: datetime) -> AlarmOutcome:
    """Count the repeat on the open alarm; record it as a case event if none was written within the
    rule's interval (the first repeat always is), else keep it in the tally for the next event."""
    occurrences = previous.occurrences + 1
    peak = firing.value if previous.unnoted_peak is None else max(previous.unnoted_peak, firing.value)
    values = {"occurrences": occurrences, "last_value": firing.value, "last_at": firing.data_time}
    event_id = None
    due = previous.noted_at is None or now - previous.noted_at >= firing.rule.repeat_interval
    if due and previous.case_id is not None:
        event_id = _note(connection, previous.id, previous.case_id, firing.station.kind, firing.pollutant,
                         occurrences - previous.noted_occurrences, peak, occurrences, firing.data_time, now)
        values.update(noted_occurrences=occurrences, noted_at=now, unnoted_peak=None)
    else:
        values["unnoted_peak"] = peak
    connection.execute(alarms.update().where(alarms.c.id == previous.id).values(**values))
    return AlarmOutcome("merged", previous.id, previous.case_id, previous.number, firing.station.mn,
                        firing.rule.code, firing.pollutant, occurrences, event_id)


def note_pending_repeats(connection: Connection, now: datetime, rules: dict[int, AlarmRule] | None = None
                         ) -> list[AlarmOutcome]:
    """Record the tallied repeats of open alarms whose interval has passed since their last event.

    What ends a storm leaves behind: repeats counted after the last event, with no repeat since to
    write the next one. ``rules`` (by id) give the intervals; a rule not among them (disabled
    meanwhile) uses the default. Call it under :func:`lock_evaluation`, as the engine does.
    """
    rules = rules or {}
    query = (select(alarms.c.id, alarms.c.case_id, alarms.c.pollutant, alarms.c.occurrences,
                    alarms.c.noted_occurrences, alarms.c.noted_at, alarms.c.unnoted_peak, alarms.c.last_value,
                    alarms.c.last_at, alarms.c.raised_at, alarms.c.rule_id, stations.c.kind, stations.c.mn,
                    cases.c.state, cases.c.number, alarm_rules.c.code.label("rule_code"))
             .join(stations, stations.c.id == alarms.c.station_id)
             .join(cases, cases.c.id == alarms.c.case_id)
             .outerjoin(alarm_rules, alarm_rules.c.id == alarms.c.rule_id)
             .where(alarms.c.status == str(AlarmStatus.AWAITING), alarms.c.occurrences > alarms.c.noted_occurrences)
             .order_by(alarms.c.id))
    default = timedelta(minutes=DEFAULT_REPEAT_MINUTES)
    outcomes = []
    for row in connection.execute(query).all():
        rule = rules.get(row.rule_id)
        interval = rule.repeat_interval if rule is not None else default
        if row.state in TERMINAL_STATES or (row.noted_at is not None and now - row.noted_at < interval):
            continue
        peak = row.unnoted_peak if row.unnoted_peak is not None else row.last_value
        event_id = _note(connection, row.id, row.case_id, row.kind, row.pollutant,
                         row.occurrences - row.noted_occurrences, peak, row.occurrences,
                         row.last_at or row.raised_at, now)
        connection.execute(alarms.update().where(alarms.c.id == row.id).values(
            noted_occurrences=row.occurrences, noted_at=now, unnoted_peak=None))
        outcomes.append(AlarmOutcome("noted", row.id, row.case_id, row.number, row.mn, row.rule_code or "",
                                     row.pollutant, row.occurrences, event_id))
    return outcomes


def value_text(station_kind: str, pollutant: str, value: float | None) -> str:
    """``135 µg/m³``, ``2.1 mg/m³`` (CO), ``18 mg/L`` (water), ``AQI 160``, ``185 分钟`` (offline)."""
    if value is None:
        return "—"
    if pollutant == AQI_POLLUTANT:
        return f"AQI {value:g}"
    if pollutant == OFFLINE_POLLUTANT:
        return f"{value:g} 分钟"
    if pollutant.startswith("w"):
        unit = "mg/L"
    elif station_kind == "air":
        from gis.aqi import HJ212_CODES

        known = HJ212_CODES.get(pollutant)
        unit = known.unit if known is not None else ""
    else:
        unit = "mg/m³"  # flue gas at an outlet
    return f"{value:g} {unit}".rstrip()


def repeat_note(new: int, peak: float | None, total: int, last_at: datetime, station_kind: str,
                pollutant: str) -> str:
    """The 报警持续 event's text: how many repeats since the last event, the highest, the total."""
    highest = "最长" if pollutant == OFFLINE_POLLUTANT else "最高"
    return (f"报警持续：新增 {new} 次，{highest} {value_text(station_kind, pollutant, peak)}"
            f"（累计 {total} 次，最近数据 {last_at:%Y-%m-%d %H:%M}）")


def _note(connection: Connection, alarm_id: int, case_id: int, station_kind: str, pollutant: str, new: int,
          peak: float | None, total: int, last_at: datetime, now: datetime) -> int:
    from gis.workflow.cases import apply_action

    payload = {"alarm_id": alarm_id, "repeats": new, "occurrences": total, "peak": peak,
               "last_at": last_at.isoformat(timespec="minutes")}
    # A 备注 changes no state and no version: a seat working on the case meets no conflict.
    return apply_action(connection, case_id, CaseAction.NOTE, ACTOR, payload=payload, now=now,
                        note=repeat_note(new, peak, total, last_at, station_kind, pollutant)).event_id
