"""Raising an alarm as a 监测报警 case, or merging a repeat into the open one.

An alarm is open while it awaits feedback (待反馈) and its case is not finished (销号, 误报,
重复). While open, further firings of the same station + pollutant + rule only update
``occurrences``, ``last_value`` and ``last_at`` on the alarm row: a storm never becomes a pile of
cases for the seats. A firing whose data time is not newer than the alarm's ``last_at`` was seen
already (a re-sent frame, a second ``alarms evaluate`` over the same hours) and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from gis.domain import AlarmStatus, CaseAction, CaseSource
from gis.monitoring.rules import KIND_NAMES, AlarmRule
from gis.storage.schema import alarms, case_categories, cases
from gis.workflow.transitions import TERMINAL_STATES

ACTOR = "监测报警系统"
CATEGORY_CODES = ("monitoring", "other")  # 监测超标, else 其他 (always present)


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

    def to_json(self) -> dict:
        return {"action": self.action, "alarm_id": self.alarm_id, "case_id": self.case_id,
                "case_number": self.case_number, "station": self.station_mn, "rule": self.rule_code,
                "pollutant": self.pollutant, "occurrences": self.occurrences}


def latest_alarm(connection: Connection, station_id: int, rule_id: int, pollutant: str):
    """The newest alarm of this station, rule and pollutant, with its case's state and number."""
    query = (select(alarms.c.id, alarms.c.status, alarms.c.case_id, alarms.c.occurrences, alarms.c.raised_at,
                    alarms.c.last_at, cases.c.state, cases.c.number)
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
            connection.execute(alarms.update().where(alarms.c.id == previous.id).values(
                occurrences=alarms.c.occurrences + 1, last_value=firing.value, last_at=firing.data_time))
            return AlarmOutcome("merged", previous.id, previous.case_id, previous.number, station.mn, rule.code,
                                firing.pollutant, previous.occurrences + 1)
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
