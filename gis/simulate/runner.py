"""``envgrid simulate``: a district that lives — stations report, alarms fire, cases move.

The simulated clock advances one minute per step, from ``start``; ``speed`` simulated seconds pass
per real second (the runner sleeps when ahead, and simply runs flat out when the machine cannot
keep up). Every random draw comes from one numpy Generator seeded with ``seed``, so the same
seed, start and workspace give the same readings and cases (when writing directly; over TCP the
receiver's batching decides when alarm cases appear).

Each simulated minute: minute data (CN 2051) every ``minute_every`` minutes and, on the hour,
the hourly averages (CN 2061) of the hour just ended; patrol and complaint cases arrive at
random (Poisson, ``rate`` × a few per hour); open cases of the simulation and every open alarm
case move on (派发 → 签收处置 → 整改完成 → 提交复查 → 复查销号, sometimes 复查不通过) after
realistic delays. Written directly, each minute is one transaction followed by the alarm rules;
with ``hj212`` set, readings go as HJ 212 frames to a running ``envgrid hj212-listen``.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select

from gis.domain import AlarmStatus, CaseAction, CaseSource, CaseState
from gis.simulate.model import ST_CODES, SimStation, measure, new_hour
from gis.storage.schema import alarms, case_categories, cases, pollution_sources, stations
from gis.storage.store import Store
from gis.workflow.transitions import CITY_DEPARTMENT

PATROL_PER_HOUR, COMPLAINT_PER_HOUR = 3.0, 2.0  # × rate
PATROL_ACTOR, COMPLAINT_ACTOR, STAFF_ACTOR = "模拟网格员", "12369热线", "模拟处置人员"
# Mean simulated hours before the next step, per state (exponential delays).
STEP_HOURS = {CaseState.PENDING: 0.5, CaseState.DISPATCHED: 2.0, CaseState.IN_PROGRESS: 8.0,
              CaseState.RECTIFIED: 1.0, CaseState.RECHECK: 6.0}
NEXT_ACTION = {CaseState.PENDING: CaseAction.DISPATCH, CaseState.DISPATCHED: CaseAction.ACCEPT,
               CaseState.IN_PROGRESS: CaseAction.RECTIFY, CaseState.RECTIFIED: CaseAction.SUBMIT_RECHECK,
               CaseState.RECHECK: CaseAction.CLOSE}
RECHECK_FAIL_SHARE = 0.1
CATEGORIES = ("air_dust", "air_smoke", "catering_fume", "coal", "vocs", "water", "waste", "noise", "hazardous")
TEXTS = {"air_dust": "工地裸土未覆盖，扬尘明显", "air_smoke": "露天焚烧垃圾", "catering_fume": "餐饮油烟直排",
         "coal": "使用散煤取暖", "vocs": "露天喷漆作业，异味明显", "water": "生活污水直排河道",
         "waste": "建筑垃圾乱倒", "noise": "夜间施工噪声扰民", "hazardous": "危废暂存不规范"}
RECTIFY_NOTES = ("已责令整改，现场已覆盖到位", "已清运完毕", "已停止作业并完成整改", "已约谈负责人，现场恢复正常")


@dataclass
class SimConfig:
    rate: float = 1.0
    speed: float = 60.0
    duration: float | None = None  # real seconds at full pace; None: until stopped
    seed: int = 0
    start: datetime | None = None
    hj212: tuple[str, int] | None = None
    minute_every: int = 5


@dataclass
class SimStats:
    minutes: int = 0
    readings: int = 0
    frames: int = 0
    cases: int = 0
    actions: int = 0
    alarms: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.minutes} simulated minutes: {self.readings} readings ({self.frames} frames), "
                f"{self.cases} cases, {self.actions} case steps, {self.alarms} alarms raised")


class Simulator:
    def __init__(self, store: Store, config: SimConfig, *, say: Callable[[str], None] = lambda _m: None):
        self.store, self.config, self.say = store, config, say
        self.rng = np.random.default_rng(config.seed)
        self.clock = (config.start or datetime.now()).replace(second=0, microsecond=0)
        self.stats = SimStats()
        self.stop_event = threading.Event()
        self._socket: socket.socket | None = None
        self._due: dict[int, datetime] = {}  # case id → simulated time of its next step
        self._seen_alarm_case = 0
        self._index = None
        self._error_keys: set[str] = set()
        from gis.monitoring.engine import AlarmEngine

        self.engine = AlarmEngine(ttl=60.0)
        with store.engine.connect() as connection:
            rows = connection.execute(select(stations.c.id, stations.c.mn, stations.c.kind)
                                      .where(stations.c.active.is_(True)).order_by(stations.c.id)).all()
            self.places = [(r.lon, r.lat, r.id) for r in connection.execute(
                select(pollution_sources.c.lon, pollution_sources.c.lat, pollution_sources.c.id)
                .order_by(pollution_sources.c.id))]
            self.categories = {r.code: r.id for r in connection.execute(select(case_categories.c.code,
                                                                               case_categories.c.id))}
            self._seen_alarm_case = connection.execute(select(cases.c.id).order_by(cases.c.id.desc())
                                                       .limit(1)).scalar() or 0
        if not rows:
            raise ValueError(f"{store.display_name} has no active monitoring stations to simulate "
                             "(envgrid demo builds a workspace with some)")
        self.stations = [SimStation(r.id, r.mn, r.kind, float(self.rng.uniform(0.7, 1.4))) for r in rows]
        if not self.places:  # no ledger: cases happen near the stations
            with store.engine.connect() as connection:
                self.places = [(r.lon, r.lat, None) for r in connection.execute(
                    select(stations.c.lon, stations.c.lat).order_by(stations.c.id))]

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> SimStats:
        config = self.config
        steps = None if config.duration is None else int(config.duration * config.speed / 60)
        started = time.monotonic()
        if config.hj212:
            self._socket = socket.create_connection(config.hj212, timeout=10)
        try:
            while not self.stop_event.is_set() and (steps is None or self.stats.minutes < steps):
                self.step()
                ahead = self.stats.minutes * 60 / config.speed - (time.monotonic() - started)
                if ahead > 0:
                    self.stop_event.wait(ahead)
        finally:
            if self._socket is not None:
                self._socket.close()
        return self.stats

    def step(self) -> None:
        """One simulated minute, in one transaction (readings, cases), then the alarm rules."""
        self.clock += timedelta(minutes=1)
        at = self.clock
        rows = self._readings(at)
        with self.store.engine.begin() as connection:
            if rows and self._socket is None:
                from gis.hj212.writer import insert_readings

                insert_readings(connection, rows)
            self._new_cases(connection, at)
            if at.minute == 0:
                self._pick_up_alarm_cases(connection)
            self._progress(connection, at)
        if rows and self._socket is not None:
            self._send(rows)
        elif self._socket is None:
            with self.store.engine.begin() as connection:
                outcomes = self.engine.evaluate_rows(connection, rows, now=at) if rows else []
                if at.minute == 0:
                    outcomes += self.engine.evaluate_offline(connection, at, now=at)
            self.stats.alarms += sum(o.action == "raised" for o in outcomes)
        self.stats.minutes += 1

    # -- readings --------------------------------------------------------------------------
    def _readings(self, at: datetime) -> list[dict]:
        rows = []
        hourly = at.minute == 0
        minute = at.minute % self.config.minute_every == 0
        for station in self.stations:
            if hourly:
                new_hour(station, at, self.rng, self.config.rate)
            if station.silent(at) or not (hourly or minute):
                continue
            if minute:
                rows += self._rows(station, "2051", at, measure(station, at, self.rng))
            if hourly:  # the hour just ended, as its average
                rows += self._rows(station, "2061", at - timedelta(hours=1),
                                   measure(station, at - timedelta(minutes=30), self.rng))
        self.stats.readings += len(rows)
        return rows

    def _rows(self, station: SimStation, cn: str, at: datetime, values: dict) -> list[dict]:
        return [{"station_id": station.id, "mn": station.mn, "cn": cn, "data_time": at, "pollutant": code,
                 "rtd": None, "avg": value, "min": round(value * 0.8, 3), "max": round(value * 1.25, 3),
                 "flag": flag, "received_at": at, "_kind": station.kind} for code, (value, flag) in values.items()]

    def _send(self, rows: list[dict]) -> None:
        from gis.hj212.frame import build_frame

        frames: dict[tuple, dict] = {}
        for row in rows:
            key = (row["mn"], row["cn"], row["data_time"], row["_kind"])
            fields = frames.setdefault(key, {"DataTime": row["data_time"]})
            for part in ("avg", "min", "max"):
                fields[f"{row['pollutant']}-{part.capitalize()}"] = row[part]
            fields[f"{row['pollutant']}-Flag"] = row["flag"]
        data = b"".join(build_frame(ST_CODES[kind], cn, mn, fields, qn=f"{at:%Y%m%d%H%M%S}000")
                        for (mn, cn, at, kind), fields in frames.items())
        self._socket.sendall(data)
        self.stats.frames += len(frames)

    # -- cases -----------------------------------------------------------------------------
    def _new_cases(self, connection, at: datetime) -> None:
        from gis.workflow.cases import create_case

        rate = self.config.rate / 60
        for source, per_hour, actor in ((CaseSource.PATROL, PATROL_PER_HOUR, PATROL_ACTOR),
                                        (CaseSource.COMPLAINT, COMPLAINT_PER_HOUR, COMPLAINT_ACTOR)):
            for _ in range(int(self.rng.poisson(per_hour * rate))):
                lon, lat, source_id = self.places[int(self.rng.integers(len(self.places)))]
                lon += float(self.rng.normal(0, 0.002))
                lat += float(self.rng.normal(0, 0.002))
                category = CATEGORIES[int(self.rng.integers(len(CATEGORIES)))]
                phone = f"139{int(self.rng.integers(10**8)):08d}" if source is CaseSource.COMPLAINT else ""
                try:
                    new = create_case(connection, source=str(source), category=self.categories.get(category),
                                      description=TEXTS[category], actor=actor, lon=lon, lat=lat,
                                      reporter_phone=phone, pollution_source_id=source_id, now=at,
                                      index=self._grid_index(connection))
                except Exception as exc:  # e.g. a point outside every grid: keep going, say why once
                    self._error(f"case not created: {exc}", key=str(exc))
                    continue
                self.stats.cases += 1
                self._schedule(new.id, CaseState.PENDING, at)

    def _grid_index(self, connection):
        if self._index is None:
            from gis.workflow.routing import GridIndex

            self._index = GridIndex.from_connection(connection)
        return self._index

    def _pick_up_alarm_cases(self, connection) -> None:
        """Alarm cases raised since the last look (here or by the receiver) join the simulated work."""
        rows = connection.execute(select(cases.c.id, cases.c.state, cases.c.created_at)
                                  .where(cases.c.id > self._seen_alarm_case, cases.c.source == str(CaseSource.ALARM))
                                  .order_by(cases.c.id)).all()
        for row in rows:
            self._seen_alarm_case = row.id
            self._schedule(row.id, CaseState(row.state), self.clock)

    def _schedule(self, case_id: int, state: CaseState, at: datetime) -> None:
        mean = STEP_HOURS.get(state)
        if mean is None:
            self._due.pop(case_id, None)
            return
        self._due[case_id] = at + timedelta(hours=float(self.rng.exponential(mean)))

    def _progress(self, connection, at: datetime) -> None:
        from gis.workflow.cases import apply_action

        for case_id in sorted(i for i, due in self._due.items() if due <= at):
            row = connection.execute(select(cases.c.state, cases.c.grid_id).where(cases.c.id == case_id)).one()
            state = CaseState(row.state)
            action = NEXT_ACTION.get(state)
            if action is None:  # finished or moved elsewhere by someone else
                self._due.pop(case_id)
                continue
            options = {}
            if action is CaseAction.DISPATCH and row.grid_id is None:  # outside every grid: to a department
                options["department"] = CITY_DEPARTMENT
            if action is CaseAction.RECTIFY:
                options["note"] = RECTIFY_NOTES[int(self.rng.integers(len(RECTIFY_NOTES)))]
            if action is CaseAction.CLOSE and self.rng.random() < RECHECK_FAIL_SHARE:
                action, options = CaseAction.RECHECK_FAIL, {"reason": "复查发现问题反弹"}
            try:
                result = apply_action(connection, case_id, action, STAFF_ACTOR, now=at, **options)
            except Exception as exc:
                self._error(f"{action} failed (case {case_id}): {exc}", key=f"{action}: {exc}")
                self._due.pop(case_id)
                continue
            self.stats.actions += 1
            if action is CaseAction.RECTIFY:
                self._answer_alarm(connection, case_id, options["note"], at)
            self._schedule(case_id, CaseState(result.to_state), at)

    def _answer_alarm(self, connection, case_id: int, note: str, at: datetime) -> None:
        """The 24-hour feedback of an alarm case: given when the site is rectified."""
        for alarm_id, due_at in connection.execute(select(alarms.c.id, alarms.c.due_at).where(
                alarms.c.case_id == case_id, alarms.c.status == str(AlarmStatus.AWAITING))).all():
            status = AlarmStatus.ANSWERED if at <= due_at else AlarmStatus.LATE
            connection.execute(alarms.update().where(alarms.c.id == alarm_id).values(
                status=str(status), feedback_at=at, feedback=f"现场核查：{note}"))

    def _error(self, message: str, key: str) -> None:
        """Say each kind of problem once, and carry on."""
        if key not in self._error_keys:
            self._error_keys.add(key)
            self.stats.errors.append(message)
            self.say(message)
