"""A small hand-made workspace for the desktop tests (no demo builder needed).

One district near Jincheng split into two towns (west/east halves), each into two
villages (south/north); two people per village, ten sources, four cases.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import shapely

from gis.domain import Assignment, CaseState, Grid, Person, Role
from gis.storage import schema
from gis.storage.cases import seed_case_categories
from gis.storage.grids import insert_grids
from gis.storage.info import put_setting
from gis.storage.people import insert_assignments, insert_people
from gis.storage.sources import PollutionSource, insert_sources, seed_source_categories
from gis.storage.store import Store

WEST, SOUTH, EAST, NORTH = 112.80, 35.45, 112.90, 35.55
MID_LON, MID_LAT = 112.85, 35.50
NOW = datetime(2024, 5, 20, 9, 0)


def _insert_grids(connection) -> dict[str, Grid]:
    district = Grid(None, "140502", "测试城区", 1, None, shapely.box(WEST, SOUTH, EAST, NORTH),
                    east="东环路", south="南山", west="西河", north="北岭")
    insert_grids(connection, [district])
    towns = [Grid(None, "140502001", "西街道", 2, district.id, shapely.box(WEST, SOUTH, MID_LON, NORTH)),
             Grid(None, "140502002", "东街道", 2, district.id, shapely.box(MID_LON, SOUTH, EAST, NORTH))]
    insert_grids(connection, towns)
    villages = []
    for town, (west, east) in zip(towns, ((WEST, MID_LON), (MID_LON, EAST))):
        for n, (south, north) in enumerate(((SOUTH, MID_LAT), (MID_LAT, NORTH)), start=1):
            villages.append(Grid(None, f"{town.code}{n:03d}", f"{town.name[0]}{'南北'[n - 1]}社区", 3,
                                 town.id, shapely.box(west, south, east, north),
                                 east="东至某路", south="南至某河", west="西至某街", north="北至某山"))
    insert_grids(connection, villages)
    return {g.code: g for g in [district, *towns, *villages]}


def build_small_workspace(store: Store, *, demo: bool = False) -> dict[str, Grid]:
    """7 grids, 8 people, 10 sources, 4 cases (one per state class); returns grids by code."""
    with store.engine.begin() as connection:
        grids = _insert_grids(connection)
        villages = [g for g in grids.values() if g.level == 3]
        people = [Person(None, f"网格长{i}", f"1380000{i:04d}") for i in range(4)]
        people += [Person(None, f"网格员{i}", f"1390000{i:04d}") for i in range(4)]
        insert_people(connection, people)
        insert_assignments(connection, [
            Assignment(v.id, people[i].id, Role.LEADER, date(2020, 1, 1)) for i, v in enumerate(villages)
        ] + [Assignment(v.id, people[4 + i].id, Role.STAFF, date(2020, 1, 1)) for i, v in enumerate(villages)])
        categories = seed_source_categories(connection)
        insert_sources(connection, [
            PollutionSource(None, f"企业{i}", categories["industrial" if i % 2 else "catering"],
                            WEST + 0.01 + i * 0.008, SOUTH + 0.01 + i * 0.008, villages[i % 4].id)
            for i in range(10)])
        case_categories = seed_case_categories(connection)
        states = [CaseState.PENDING, CaseState.IN_PROGRESS, CaseState.CLOSED, CaseState.RECHECK]
        connection.execute(schema.cases.insert(), [
            {"number": f"AJ2024{i:04d}", "source": "群众举报", "category_id": case_categories["water"],
             "description": f"测试案件{i}", "lon": MID_LON + 0.01 * (i - 2), "lat": MID_LAT + 0.005 * i,
             "location": shapely.Point(MID_LON + 0.01 * (i - 2), MID_LAT + 0.005 * i),
             "grid_id": villages[i % 4].id, "state": str(states[i % 4]),
             "created_at": NOW - timedelta(days=i), "due_at": NOW + timedelta(days=3 - 2 * i),
             "closed_at": NOW if states[i % 4] == CaseState.CLOSED else None}
            for i in range(4)])
        if demo:
            put_setting(connection, "demo", {"notice": "test"})
    return grids
