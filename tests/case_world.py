"""A small case world for the case-query, chart and linked-view tests, plus a plain-Python filter.

Grids nest by code (district → 2 towns → 4 villages → 8 sub-areas), 260 cases spread over them
(some without a grid or a place), every state, source and category, events by three actors,
alarms on three pollutants (some linked to cases) and 48 h of hourly readings at two air stations.
``python_filter`` re-implements the CaseFilter semantics over the rows, independently of SQL, so
the tests can compare.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import shapely

from gis.domain import OPEN_STATES, CaseSource, CaseState, Grid
from gis.storage import schema
from gis.storage.case_queries import CLOSED_STATES, SEAT_HELD_STATES, CaseFilter, CaseOrder, WorkList
from gis.storage.cases import seed_case_categories
from gis.storage.grids import insert_grids
from gis.storage.info import put_setting
from gis.storage.rows import insert_returning_ids

NOW = datetime(2024, 5, 20, 9, 0)
WEST, SOUTH, EAST, NORTH = 112.80, 35.45, 112.96, 35.55
ACTORS = ("张三", "李四", "指挥中心")
POLLUTANTS = ("a34004", "a21026", "w01018")
TEXTS = ("工地扬尘严重", "餐饮油烟扰民", "夜间施工噪声", "河道有油污", "打折_促销 100% 真实", "焚烧垃圾冒黑烟")
STREETS = ("凤台街", "泽州路", "红星街")


@dataclass
class CaseWorld:
    grids: dict[str, Grid]
    rows: list[dict]
    categories: dict[str, int]
    stations: list[int]
    alarms: list[dict]
    events: list[dict]
    readings: list[dict] = field(default_factory=list)
    now: datetime = NOW

    def grid_by_id(self, grid_id):
        return next((g for g in self.grids.values() if g.id == grid_id), None)

    def by_number(self, number: str) -> dict:
        return next(r for r in self.rows if r["number"] == number)


def _box(i: int, n: int, outer):
    w, s, e, nn = outer
    step = (e - w) / n
    return (w + i * step, s, w + (i + 1) * step, nn)


def _grids(connection) -> dict[str, Grid]:
    district = Grid(None, "140502", "测试城区", 1, None, shapely.box(WEST, SOUTH, EAST, NORTH))
    insert_grids(connection, [district])
    out = {district.code: district}
    parents = [(district, (WEST, SOUTH, EAST, NORTH))]
    names = {2: ("西街道", "东街道"), 3: ("南社区", "北社区"), 4: ("甲片", "乙片")}
    prefix = {2: lambda p: "", 3: lambda p: p.name[0], 4: lambda p: p.name[:2]}
    for level in (2, 3, 4):
        children = []
        for parent, box in parents:
            made = []
            for i in range(2):
                part = _box(i, 2, box) if level != 3 else (box[0], box[1] + i * (box[3] - box[1]) / 2, box[2],
                                                           box[1] + (i + 1) * (box[3] - box[1]) / 2)
                made.append((Grid(None, f"{parent.code}{i + 1:03d}", f"{prefix[level](parent)}{names[level][i]}", level,
                                  parent.id, shapely.box(*part)), part))
            insert_grids(connection, [g for g, _ in made])
            children += made
        out.update({g.code: g for g, _ in children})
        parents = children
    return out


def build_case_world(store, *, demo: bool = False, seed: int = 7, count: int = 260) -> CaseWorld:
    rng = random.Random(seed)
    with store.engine.begin() as connection:
        grids = _grids(connection)
        categories = seed_case_categories(connection)
        grid_list = list(grids.values())
        rows = []
        for i in range(count):
            grid = rng.choice(grid_list) if rng.random() > 0.06 else None
            state = rng.choice(list(CaseState))
            created = NOW - timedelta(hours=rng.uniform(1, 24 * 60))
            due = created + timedelta(hours=rng.choice((24, 72, 168))) if rng.random() > 0.08 else None
            located = grid is not None and rng.random() > 0.05
            if located:
                w, s, e, n = grid.boundary.bounds
                lon, lat = rng.uniform(w, e), rng.uniform(s, n)
            else:
                lon = lat = None
            text = rng.choice(TEXTS)
            rows.append({
                "number": f"AJ2024{i:04d}", "source": str(rng.choice(list(CaseSource))),
                "category_id": categories[rng.choice(sorted(categories))], "description": f"{text}（{i}）",
                "location": shapely.Point(lon, lat) if located else None, "lon": lon, "lat": lat,
                "address": f"{rng.choice(STREETS)}{rng.randint(1, 99)}号", "grid_id": grid.id if grid else None,
                "state": str(state), "created_at": created, "due_at": due,
                "closed_at": created + timedelta(hours=rng.uniform(2, 200)) if state == CaseState.CLOSED else None,
                "version": 1, "reporter_name": "", "reporter_phone": "",
            })
        ids = insert_returning_ids(connection, schema.cases, rows)
        for row, case_id in zip(rows, ids):
            row["id"] = case_id
        events = [{"case_id": r["id"], "at": r["created_at"], "actor": rng.choice(ACTORS), "action": "登记",
                   "from_state": None, "to_state": "待受理", "grid_id": r["grid_id"], "note": "", "internal": False,
                   "payload": None} for r in rows]
        connection.execute(schema.case_events.insert(), events)
        station_rows = [{"mn": f"MN{i}", "name": f"{'东西'[i]}城空气站", "kind": "air",
                         "location": shapely.Point(112.82 + 0.1 * i, 35.5), "lon": 112.82 + 0.1 * i, "lat": 35.5,
                         "grid_id": grids["140502001" if i == 0 else "140502002"].id, "active": True,
                         "created_at": NOW} for i in range(2)]
        stations = insert_returning_ids(connection, schema.stations, station_rows)
        alarm_rows = []
        alarm_cases = [r for r in rows if r["source"] == CaseSource.ALARM]
        for i in range(40):
            linked = alarm_cases[i % len(alarm_cases)] if i < len(alarm_cases) and i % 3 else None
            station = i % 2
            alarm_rows.append({"station_id": stations[station], "pollutant": POLLUTANTS[i % 3], "value": 150.0,
                               "threshold": 115.0, "raised_at": NOW - timedelta(hours=7 * i + 1),
                               "grid_id": station_rows[station]["grid_id"],
                               "case_id": linked["id"] if linked else None, "status": "待反馈",
                               "due_at": NOW + timedelta(hours=24), "feedback": ""})
        connection.execute(schema.alarms.insert(), alarm_rows)
        readings = []
        for station_index, station_id in enumerate(stations):
            for h in range(48):
                at = NOW - timedelta(hours=47 - h)
                values = {"a34004": 30 + 4 * h + 10 * station_index, "a34002": 60 + 3 * h, "a21026": 10 + h,
                          "a21004": 20 + h, "a05024": 80 + 2 * h, "a21005": 0.6 + 0.01 * h}
                for code, value in values.items():
                    flag = "M" if (h == 5 and code == "a34004") else "N"  # one maintenance value, not data
                    readings.append({"station_id": station_id, "mn": f"MN{station_index}", "cn": "2061",
                                     "data_time": at, "pollutant": code, "avg": float(value), "flag": flag,
                                     "received_at": at})
        connection.execute(schema.readings.insert(), readings)
        if demo:
            put_setting(connection, "demo", {"notice": "test"})
    return CaseWorld(grids, rows, categories, stations, alarm_rows, events, readings)


# -- the reference: CaseFilter semantics in plain Python ---------------------------------------------
def subtree(world: CaseWorld, grid_ids) -> set[int]:
    codes = [g.code for g in world.grids.values() if g.id in grid_ids]
    return {g.id for g in world.grids.values() if any(g.code.startswith(c) for c in codes)}


def python_filter(world: CaseWorld, f: CaseFilter) -> list[dict]:
    now = f.now or world.now
    actors = {}
    for event in world.events:
        actors.setdefault(event["case_id"], set()).add(event["actor"])
    linked = {}
    for alarm in world.alarms:
        if alarm["case_id"] is not None:
            linked.setdefault(alarm["case_id"], set()).add(alarm["pollutant"])
    levels = {g.id: g.level for g in world.grids.values()}

    def keep(r) -> bool:
        is_open = r["state"] in OPEN_STATES
        if f.states and r["state"] not in f.states:
            return False
        if f.sources and r["source"] not in f.sources:
            return False
        if f.category_ids and r["category_id"] not in f.category_ids:
            return False
        if f.grid_ids and r["grid_id"] not in subtree(world, f.grid_ids):
            return False
        if f.levels and levels.get(r["grid_id"]) not in f.levels:
            return False
        if f.start and r["created_at"] < f.start or f.end and r["created_at"] >= f.end:
            return False
        if f.pollutants and not (linked.get(r["id"], set()) & f.pollutants):
            return False
        for term in f.text.split():
            if re.match(r"^[A-Za-z]{1,4}\d{3,}$", term):  # a case number: its beginning
                if not r["number"].upper().startswith(term.upper()):
                    return False
            elif not any(term.lower() in (r[k] or "").lower() for k in ("number", "description", "address")):
                return False
        seat = f.seat
        if f.work_list == WorkList.TODO:
            mine = (r["grid_id"] in seat.grid_ids) or (seat.command_center and r["state"] in SEAT_HELD_STATES)
            return is_open and mine
        if f.work_list == WorkList.MINE:
            return seat.actor in actors.get(r["id"], set())
        if f.work_list == WorkList.OVERDUE:
            return is_open and r["due_at"] is not None and r["due_at"] < now
        if f.work_list == WorkList.JURISDICTION:
            return not seat.grid_ids or r["grid_id"] in subtree(world, seat.grid_ids)
        if f.work_list == WorkList.CLOSED:
            return r["state"] in CLOSED_STATES
        return True

    return [r for r in world.rows if keep(r)]


def python_order(world: CaseWorld, rows: list[dict], order: CaseOrder, nulls_largest: bool) -> list[dict]:
    """The rows in ``order`` (ties by id, in the same direction); NULLs where the backend puts them."""
    def key(r):
        column = {"grid": "grid_id", "category": "category_id"}.get(order.column, order.column)
        value = r[column]
        secondary = r["created_at"] if order.column in ("source", "category") else 0
        missing = value is None
        return ((missing if nulls_largest else not missing), value if not missing else 0, secondary, r["id"])

    return sorted(rows, key=key, reverse=order.descending)
