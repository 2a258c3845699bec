"""A year of plausible demo history: cases with their event trail, alarms, hourly and daily readings."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from gis.demo.ledger import DemoStation
from gis.domain import AlarmStatus, CaseAction, CaseSource, CaseState, Grid, StationKind

# Hours until the deadline per source: alarms 24 h (Urumqi practice), hotline complaints three days.
DEADLINE_HOURS = {CaseSource.ALARM: 24, CaseSource.COMPLAINT: 72, CaseSource.PATROL: 168, CaseSource.ASSIGNED: 120}
SOURCE_SHARE = {CaseSource.PATROL: 0.45, CaseSource.COMPLAINT: 0.30, CaseSource.ALARM: 0.15, CaseSource.ASSIGNED: 0.10}
CATEGORY_BY_SOURCE_CATEGORY = {
    "construction": "air_dust", "road_dust": "air_dust", "material_yard": "air_dust", "catering": "catering_fume",
    "boiler": "coal", "vocs": "vocs", "industrial": "vocs", "livestock": "water", "water_source": "water",
    "medical": "hazardous", "hazardous_waste": "hazardous", "sanluanwu": "waste", "auto_repair": "vocs",
}
NOTES = {
    "air_dust": ("工地未落实“六个百分百”，裸土未覆盖", "道路扬尘明显，渣土车未苫盖"),
    "air_smoke": ("露天焚烧垃圾", "田间焚烧秸秆"),
    "catering_fume": ("油烟净化器未开启，油烟直排", "店外露天烧烤"),
    "coal": ("禁煤区内使用散煤取暖", "燃煤锅炉冒黑烟"),
    "vocs": ("露天喷漆作业", "废气收集设施未运行，异味明显"),
    "water": ("生活污水直排河道", "养殖废水外溢"),
    "waste": ("建筑垃圾乱倒", "废料物料乱堆乱放"),
    "noise": ("夜间施工噪声扰民",),
    "hazardous": ("危废暂存间标识不全，台账缺失", "医疗废物混入生活垃圾"),
    "monitoring": ("监测数据超标",),
    "other": ("群众反映异味", "其他环境问题"),
}
RECTIFY_NOTES = ("已责令整改，现场已覆盖到位", "已拆除违规设施", "已清运完毕", "已停止作业并完成整改",
                 "已安装并运行净化设施", "已约谈负责人，现场恢复正常")


@dataclass
class DemoCase:
    number: str
    source: CaseSource
    category: str
    description: str
    lon: float
    lat: float
    grid_id: int
    source_index: int | None
    state: CaseState
    created_at: datetime
    due_at: datetime
    closed_at: datetime | None
    reporter_name: str = ""
    reporter_phone: str = ""
    duplicate_of: int | None = None  # index into the case list
    events: list[dict] = field(default_factory=list)


@dataclass
class DemoAlarm:
    station_index: int
    pollutant: str
    value: float
    threshold: float
    raised_at: datetime
    due_at: datetime
    status: AlarmStatus
    feedback_at: datetime | None
    feedback: str
    case_index: int | None = None


def _walk(case: DemoCase, parent_of: dict[int, Grid], staff_name, rng, as_of: datetime) -> None:
    """Play the case's life forward from creation, stopping at ``as_of``."""
    t = case.created_at
    grid_id = case.grid_id
    speed = rng.lognormal(0.0, 0.6)  # some grids are quick, some slow: that is what 考核 measures
    if as_of - case.created_at < timedelta(days=10) and rng.random() < 0.35:
        speed *= 6  # a backlog of recent cases, so the command center has open work to watch

    def step(hours, action, to_state, note="", grid=None, internal=False):
        nonlocal t
        t = t + timedelta(hours=float(hours) * speed)
        if t > as_of:
            return False
        case.events.append({"at": t, "actor": staff_name(grid or grid_id), "action": str(action),
                            "from_state": str(case.state), "to_state": str(to_state),
                            "grid_id": grid or grid_id, "note": note, "internal": internal})
        case.state = to_state
        return True

    case.events.append({"at": t, "actor": "坐席" if case.source != CaseSource.PATROL else staff_name(grid_id),
                        "action": str(CaseAction.REGISTER), "from_state": None,
                        "to_state": str(CaseState.PENDING), "grid_id": grid_id, "note": case.description,
                        "internal": False})
    roll = rng.random()
    if roll < 0.05:
        step(rng.uniform(0.2, 3), CaseAction.FALSE_REPORT, CaseState.FALSE_REPORT, "现场核实，未发现问题")
        return
    if not step(rng.uniform(0.1, 2), CaseAction.DISPATCH, CaseState.DISPATCHED, "派发至属地网格"):
        return
    if roll < 0.15 and grid_id in parent_of:
        # The grid cannot solve it alone: escalated one level (逐级上报).
        if not step(rng.uniform(1, 12), CaseAction.ESCALATE, CaseState.ESCALATED, "超出本级处置权限，上报上级网格"):
            return
        grid_id = parent_of[grid_id].id
        case.grid_id = grid_id
        if not step(rng.uniform(0.5, 6), CaseAction.DISPATCH, CaseState.DISPATCHED, "上级网格受理"):
            return
    if not step(rng.uniform(0.2, 6), CaseAction.ACCEPT, CaseState.IN_PROGRESS, "已到达现场"):
        return
    limit = (case.due_at - case.created_at).total_seconds() / 3600
    for attempt in range(2):
        if not step(rng.uniform(0.2, 0.8) * limit, CaseAction.RECTIFY, CaseState.RECTIFIED,
                    RECTIFY_NOTES[rng.integers(len(RECTIFY_NOTES))]):
            return
        if not step(rng.uniform(0.1, 4), CaseAction.SUBMIT_RECHECK, CaseState.RECHECK, "申请复查"):
            return
        if attempt == 0 and rng.random() < 0.08:
            if not step(rng.uniform(4, 48), CaseAction.RECHECK_FAIL, CaseState.IN_PROGRESS, "回头看发现问题反弹"):
                return
            continue
        if step(rng.uniform(4, 72), CaseAction.CLOSE, CaseState.CLOSED, "复查合格，予以销号"):
            case.closed_at = t
        return


def make_cases(count: int, level4: list[Grid], parent_of: dict[int, Grid], source_points: np.ndarray,
               source_grid: list[int], source_category: list[str], staff_name, rng: np.random.Generator,
               as_of: datetime) -> list[DemoCase]:
    """``count`` cases over the year before ``as_of``, with their event histories."""
    sources = list(SOURCE_SHARE)
    shares = np.array(list(SOURCE_SHARE.values()))
    # Busier in winter heating season and in spring dust: weight days by a seasonal curve.
    days = np.arange(365)
    created = [as_of - timedelta(days=int(d)) for d in days]
    season = np.array([1.0 + 0.5 * np.cos((c.timetuple().tm_yday - 15) / 365 * 2 * np.pi) for c in created])
    day_pick = rng.choice(365, size=count, p=season / season.sum())
    starts = sorted(as_of - timedelta(days=int(d), seconds=int(rng.integers(7 * 3600, 22 * 3600)))
                    for d in day_pick)
    starts = [min(s, as_of - timedelta(minutes=5)) for s in starts]
    per_day: dict[str, int] = {}
    cases = []
    for start in starts:
        source = sources[rng.choice(len(sources), p=shares / shares.sum())]
        at_source = rng.random() < 0.7
        if at_source:
            index = int(rng.integers(len(source_points)))
            lon, lat = source_points[index] + rng.normal(0, 0.0003, 2)
            grid_id = source_grid[index]
            category = CATEGORY_BY_SOURCE_CATEGORY[source_category[index]]
        else:
            grid = level4[int(rng.integers(len(level4)))]
            point = grid.boundary.representative_point()
            lon, lat, grid_id, index = point.x, point.y, grid.id, None
            category = ("air_smoke", "noise", "waste", "other", "air_dust")[rng.integers(5)]
        if source == CaseSource.ALARM:
            category = "monitoring"
        day = start.strftime("%Y%m%d")
        per_day[day] = per_day.get(day, 0) + 1
        notes = NOTES[category]
        case = DemoCase(
            number=f"AJ{day}{per_day[day]:03d}", source=source, category=category,
            description=notes[rng.integers(len(notes))], lon=float(lon), lat=float(lat), grid_id=grid_id,
            source_index=index, state=CaseState.PENDING, created_at=start,
            due_at=start + timedelta(hours=DEADLINE_HOURS[source]), closed_at=None)
        if source == CaseSource.COMPLAINT:
            from gis.demo.names import mobile_phone, person_name
            case.reporter_name, case.reporter_phone = person_name(rng), mobile_phone(rng)
        _walk(case, parent_of, staff_name, rng, as_of)
        cases.append(case)
    _mark_duplicates(cases, rng)
    return cases


def _mark_duplicates(cases: list[DemoCase], rng) -> None:
    """A few complaints repeat an earlier open one at the same place (重复件)."""
    by_source: dict[int, int] = {}
    for i, case in enumerate(cases):
        earlier = by_source.get(case.source_index) if case.source_index is not None else None
        if earlier is not None and case.source == CaseSource.COMPLAINT and rng.random() < 0.3 \
                and len(case.events) > 1 and case.events[1]["at"] - cases[earlier].created_at < timedelta(days=3):
            first = case.events[0]
            case.events = [first, {**first, "at": first["at"] + timedelta(minutes=20), "action": str(CaseAction.DUPLICATE),
                                   "from_state": str(CaseState.PENDING), "to_state": str(CaseState.DUPLICATE),
                                   "note": f"与{cases[earlier].number}重复"}]
            case.state, case.duplicate_of, case.closed_at = CaseState.DUPLICATE, earlier, None
        if case.source_index is not None:
            by_source[case.source_index] = i


# Hourly concentration models for the recent readings (µg/m³; CO mg/m³): (base, daily swing, noise).
AIR_POLLUTANTS = {"a34004": (45, 20, 12), "a34002": (85, 30, 20), "a21026": (18, 6, 5), "a21004": (32, 15, 8),
                  "a05024": (70, 45, 15), "a21005": (0.9, 0.3, 0.2)}
WATER_POLLUTANTS = {"w01018": (18, 3, 4), "w21003": (0.6, 0.2, 0.2)}
OUTLET_POLLUTANTS = {"a21026": (25, 5, 8), "a21002": (60, 10, 15), "a34013": (6, 2, 2)}
ALARM_THRESHOLDS = {StationKind.AIR: ("a34004", 115.0), StationKind.OUTLET: ("a21026", 35.0),
                    StationKind.WATER: ("w01018", 30.0)}


PARTICLES_AND_GASES = ("a34004", "a34002", "a21026", "a21004", "a21005")  # PM2.5 PM10 SO2 NO2 CO: heating, still air
OZONE = "a05024"
STAGNATION_SD, STAGNATION_MEMORY = 0.35, 0.7  # day-to-day weather: spells of a few days, AQI levels 1–5


def _stagnation_walk(days: int, rng) -> np.ndarray:
    """``days + 1`` daily points of an AR(1) process in log space, starting at 0."""
    x, noise = np.zeros(days + 1), rng.normal(0.0, STAGNATION_SD, days + 1)
    for d in range(1, days + 1):
        x[d] = STAGNATION_MEMORY * x[d - 1] + noise[d]
    return x


# The demo opens on an ordinary day after a real episode: the walk is redrawn (rejection sampling, so it is the
# same process, conditioned) until its last ORDINARY_DAYS + 1 daily points lie within ORDINARY_LEVELS and at least
# EPISODE_LENGTH points of days EPISODE_BACK ago (inclusive) reach EPISODE_LEVEL, both in units of the walk's
# stationary standard deviation. About two draws in a hundred qualify; a walk too short for the episode only needs the
# ordinary end.
ORDINARY_DAYS, ORDINARY_LEVELS = 2, (-0.6, 0.4)   # ≈ -0.3 ≤ x ≤ 0.2: mostly 良, some 轻度 in late autumn
EPISODE_BACK, EPISODE_LENGTH, EPISODE_LEVEL = (5, 16), 2, 1.5   # ≈ x ≥ 0.75: 中度 to 重度
STORY_DRAWS = 1000


def _story_walk(days: int, rng) -> np.ndarray:
    """:func:`_stagnation_walk` conditioned on the demo's story (see ORDINARY_DAYS); the last draw if none
    of STORY_DRAWS qualifies (not expected: each qualifies with a probability of a few per cent)."""
    sd = STAGNATION_SD / np.sqrt(1 - STAGNATION_MEMORY ** 2)
    first, last = EPISODE_BACK
    low, high = ORDINARY_LEVELS
    for _ in range(STORY_DRAWS):
        x = _stagnation_walk(days, rng)
        end = x[-(ORDINARY_DAYS + 1):]
        if end.min() < low * sd or end.max() > high * sd:
            continue
        if days < last or np.count_nonzero(x[days - last:days - first + 1] >= EPISODE_LEVEL * sd) >= EPISODE_LENGTH:
            return x
    return x


def _seasons(x: np.ndarray, last: datetime) -> tuple[np.ndarray, np.ndarray]:
    """(stagnation, ozone) at daily points ``x``, the last of which stands for ``last``."""
    days = len(x) - 1
    day_doy = np.array([(last - timedelta(days=days - d)).timetuple().tm_yday for d in range(days + 1)])
    stagnation = np.exp(x) * (1 + 0.4 * np.cos((day_doy - 15) / 365 * 2 * np.pi))  # median 1 before the season
    ozone = 1 + 0.3 * np.cos((day_doy - 196) / 365 * 2 * np.pi)
    return stagnation, ozone


def _district_weather(days: int, end: datetime, rng, back_hours: int = 0, back_rng=None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per hour over ``days`` days ending at ``end``: (stagnation factor, ozone factor), both around 1.

    Stagnation: a day-to-day AR(1) process in log space (spells of still, polluted air and clean
    windy days, shared by the whole district) times a season peaking in mid-January (heating).
    Ozone peaks in mid-July. Daily values are interpolated to hours so nothing jumps at midnight.
    The walk is conditioned on the demo's story (:func:`_story_walk`): an ordinary end, an episode before.

    With ``back_hours``, that many hours before the ``days`` are prepended: the walk continues
    backwards from its first point with draws from ``back_rng`` (a stationary AR(1) reversed in
    time is the same process), so the recent hours are exactly what they are without them.
    """
    x = _story_walk(days, rng)
    stagnation, ozone = _seasons(x, end)
    # Hour i of the series is ``end - (days * 24 - 1 - i)`` hours; daily value d stands for ``end - (days - d)`` days.
    position = days - (days * 24 - 1 - np.arange(days * 24)) / 24
    hourly = np.interp(position, np.arange(days + 1), stagnation), np.interp(position, np.arange(days + 1), ozone)
    if not back_hours:
        return hourly
    back = back_hours // 24 + 2
    x = np.concatenate([_stagnation_walk(back, back_rng)[:0:-1], x])  # point -back … point days
    stagnation, ozone = _seasons(x, end)
    position = -(back_hours - np.arange(back_hours)) / 24    # hours before hour 0, which is at position 0 …
    position += days - (days * 24 - 1) / 24                  # … of the series above
    grid = np.arange(-back, days + 1)
    return (np.concatenate([np.interp(position, grid, stagnation), hourly[0]]),
            np.concatenate([np.interp(position, grid, ozone), hourly[1]]))


def make_readings(stations: list[DemoStation], station_ids: list[int], hours: int, rng,
                  as_of: datetime, air_days: int = 0, daily_days: int = 0) -> list[dict]:
    """Hourly (CN 2061) averages: the last ``hours`` hours at every station, the last ``air_days``
    days (if longer) at air stations, whose levels follow the district's weather and season.

    With ``daily_days``, air stations also get daily (CN 2031) frames for the days from
    ``daily_days`` days before ``as_of`` up to the first day the hourly readings cover whole: each
    pollutant's mean, min and max of the day's hourly values, generated by the same model (and, on
    that first partial day, the stored hours) but not stored themselves. O3's daily value is its
    24-hour mean, as in an HJ 212 daily frame.

    The last ``hours`` hours draw from ``rng`` exactly what they always have (per station a bias,
    then one normal per hour and pollutant), so the cases and alarms drawn after them stay the same;
    the weather and the older hours draw from a stream spawned from ``rng``, the hours behind the
    daily frames from a second one, so the hourly readings do not depend on ``daily_days``.
    """
    rows = []
    older, daily = rng.spawn(2)   # spawning does not advance rng; the first child is what spawn(1) gave
    end = as_of.replace(minute=0, second=0, microsecond=0)
    air_hours = max(hours, air_days * 24)
    first_hourly = end - timedelta(hours=air_hours - 1)
    first_daily = datetime.combine(as_of.date() - timedelta(days=daily_days), datetime.min.time())
    back_hours = max(0, int((first_hourly - first_daily).total_seconds() // 3600)) if daily_days else 0
    weather_days = air_hours // 24 + 1   # the weather starts a little before the first hourly reading
    stagnation, ozone = _district_weather(weather_days, end, older,
                                          max(0, back_hours - (weather_days * 24 - air_hours)), daily)
    for station, station_id in zip(stations, station_ids):
        model = {StationKind.AIR: AIR_POLLUTANTS, StationKind.WATER: WATER_POLLUTANTS,
                 StationKind.OUTLET: OUTLET_POLLUTANTS}[station.kind]
        air = station.kind == StationKind.AIR
        n = air_hours if air else hours
        bias = rng.uniform(0.7, 1.4)
        recent = rng.standard_normal((hours, len(model)))   # hour by hour, pollutant by pollutant
        shocks = np.vstack([older.standard_normal((n - hours, len(model))), recent])   # oldest hour first
        back = back_hours if air else 0
        if back:
            shocks = np.vstack([daily.standard_normal((back, len(model))), shocks])
        times = [end - timedelta(hours=n - 1 - h) for h in range(n)]
        hour_of_day = (end.hour - np.arange(n + back - 1, -1, -1)) % 24
        phase = np.sin((hour_of_day - 8) / 24 * 2 * np.pi)
        columns = {}
        for j, (code, (base, swing, noise)) in enumerate(model.items()):
            factor = 1.0
            if air and code == OZONE:
                factor = ozone[-(n + back):]
            elif air and code in PARTICLES_AND_GASES:
                factor = stagnation[-(n + back):]
            values = np.round(np.maximum(0.0, bias * (base + swing * phase) * factor + noise * shocks[:, j]), 3)
            if back:
                rows += _daily_rows(station, station_id, code, values, first_daily, back)
                values = values[back:]
            columns[code] = (values.tolist(), np.round(values * 0.8, 3).tolist(), np.round(values * 1.25, 3).tolist())
        for h, at in enumerate(times):
            for code, (avg, low, high) in columns.items():
                rows.append({"station_id": station_id, "mn": station.mn, "cn": "2061", "data_time": at,
                             "pollutant": code, "avg": avg[h], "min": low[h], "max": high[h], "rtd": None,
                             "flag": "N", "received_at": at})
    return rows


def _daily_rows(station: DemoStation, station_id: int, code: str, values: np.ndarray, first: datetime,
                back: int) -> list[dict]:
    """CN 2031 rows of one pollutant: every day that begins within the first ``back`` of ``values``
    (hourly, from midnight ``first``), from all 24 of its hours."""
    days = -(-back // 24)
    by_day = values[:days * 24].reshape(days, 24)
    avg, low, high = (np.round(a, 3).tolist() for a in (by_day.mean(axis=1), by_day.min(axis=1), by_day.max(axis=1)))
    return [{"station_id": station_id, "mn": station.mn, "cn": "2031", "data_time": first + timedelta(days=d),
             "pollutant": code, "avg": avg[d], "min": low[d], "max": high[d], "rtd": None, "flag": "N",
             "received_at": first + timedelta(days=d + 1)} for d in range(days)]


def make_alarms(stations: list[DemoStation], count: int, rng, as_of: datetime) -> list[DemoAlarm]:
    """Alarms spread over the year; older ones answered (some late), the newest still awaiting feedback."""
    candidates = [i for i, s in enumerate(stations) if s.kind in (StationKind.AIR, StationKind.OUTLET)]
    alarms = []
    for _ in range(count):
        index = candidates[int(rng.integers(len(candidates)))]
        pollutant, threshold = ALARM_THRESHOLDS[stations[index].kind]
        raised = as_of - timedelta(hours=float(rng.exponential(24 * 120)))
        raised = max(raised, as_of - timedelta(days=365))
        due = raised + timedelta(hours=24)
        answer_after = timedelta(hours=float(rng.gamma(3.0, 5.0)))
        if raised + answer_after > as_of:
            status, feedback_at, feedback = AlarmStatus.AWAITING, None, ""
        else:
            feedback_at = raised + answer_after
            status = AlarmStatus.ANSWERED if feedback_at <= due else AlarmStatus.LATE
            feedback = ("现场核查：周边工地扬尘", "现场核查：企业治污设施故障已修复", "现场核查：未发现明显污染源",
                        "现场核查：道路清扫不及时，已通知环卫")[rng.integers(4)]
        alarms.append(DemoAlarm(index, pollutant, round(threshold * rng.uniform(1.05, 2.2), 1), threshold,
                                raised, due, status, feedback_at, feedback))
    alarms.sort(key=lambda a: a.raised_at)
    return alarms
