"""A small grid hierarchy with leaders for the workflow tests (imported by the other test_workflow_* modules).

District 0.10° × 0.10° near 晋城; two towns (west/east); each town two villages (south/north);
each village two sub-areas (west/east); one level-5 unit in the first sub-area.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import shapely

from gis.domain import Assignment, Grid, Person, Role
from gis.storage.grids import insert_grids
from gis.storage.people import insert_assignments, insert_people
from gis.storage.store import Store, open_store

W, S, E, N = 112.80, 35.40, 112.90, 35.50
T0 = datetime(2026, 9, 14, 9, 0)  # a Monday


def _box(w, s, e, n) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(w, s, e, n)])


@dataclass
class World:
    grids: dict[str, Grid]
    people: dict[str, Person]

    def __getitem__(self, code: str) -> Grid:
        return self.grids[code]

    def centre(self, code: str) -> tuple[float, float]:
        point = self.grids[code].boundary.centroid
        return point.x, point.y


def build_world(store: Store) -> World:
    grids: dict[str, Grid] = {}

    def add(level, code, name, parent, geometry):
        grids[code] = Grid(None, code, name, level, grids[parent].id if parent else None, geometry)
        return grids[code]

    with store.engine.begin() as connection:
        insert_grids(connection, [add(1, "D", "测试区", None, _box(W, S, E, N))])
        towns = [add(2, "T1", "西镇", "D", _box(W, S, 112.85, N)), add(2, "T2", "东镇", "D", _box(112.85, S, E, N))]
        insert_grids(connection, towns)
        villages = []
        for town, (w, e) in (("T1", (W, 112.85)), ("T2", (112.85, E))):
            for half, (s, n) in (("S", (S, 35.45)), ("N", (35.45, N))):
                villages.append(add(3, f"{town}{half}", f"{grids[town].name}{half}村", town, _box(w, s, e, n)))
        insert_grids(connection, villages)
        areas = []
        for village in villages:
            w, s, e, n = village.boundary.bounds
            mid = (w + e) / 2
            areas.append(add(4, f"{village.code}1", f"{village.name}一片", village.code, _box(w, s, mid, n)))
            areas.append(add(4, f"{village.code}2", f"{village.name}二片", village.code, _box(mid, s, e, n)))
        insert_grids(connection, areas)
        insert_grids(connection, [add(5, "T1S1U", "某建筑工地", "T1S1", shapely.Point(112.81, 35.42))])

        people: dict[str, Person] = {}
        assignments = []
        for i, grid in enumerate(grids.values()):
            leader = Person(None, f"{grid.name}网格长", f"1390000{i:04d}")
            people[grid.code] = leader
        first = Person(None, "包村干部", "13811112222")
        insert_people(connection, [*people.values(), first])
        for code, person in people.items():
            assignments.append(Assignment(grids[code].id, person.id, Role.LEADER, date(2020, 1, 1)))
        assignments.append(Assignment(grids["T1S"].id, first.id, Role.FIRST_LEADER, date(2020, 1, 1)))
        people["T1S:first"] = first
        insert_assignments(connection, assignments)
    return World(grids, people)


def test_world_children_tile_their_parents(sqlite_url):
    store = open_store(sqlite_url)
    world = build_world(store)
    store.close()
    for grid in world.grids.values():
        if grid.level in (2, 3, 4):
            parent = next(g for g in world.grids.values() if g.id == grid.parent_id)
            assert parent.level == grid.level - 1 and parent.boundary.covers(grid.boundary)
    assert len([g for g in world.grids.values() if g.level == 4]) == 8
