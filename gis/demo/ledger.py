"""Demo people, role assignments, pollution sources, level-5 units and stations."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import shapely

from gis.demo import names
from gis.domain import Assignment, Grid, Person, Role, SourceStatus, StationKind
from gis.storage.sources import PollutionSource

# Roles per level (seed 001 §三(二)); counts are (min, max) people per role.
ROLES_BY_LEVEL = {
    1: ((Role.LEADER, 2, 2), (Role.DEPUTY, 2, 2)),
    2: ((Role.LEADER, 2, 2), (Role.DEPUTY, 1, 2)),
    3: ((Role.FIRST_LEADER, 1, 1), (Role.LEADER, 1, 2), (Role.DEPUTY, 1, 1), (Role.STAFF, 1, 2),
        (Role.SUPERVISOR, 0, 1)),
    4: ((Role.LEADER, 1, 1), (Role.STAFF, 1, 2), (Role.FULLTIME_STAFF, 0, 1)),
    5: ((Role.LEADER, 1, 1), (Role.STAFF, 0, 1)),
}
TITLES = {
    1: {Role.LEADER: ("区委书记", "区长"), Role.DEPUTY: ("区委专职副书记", "副区长")},
    2: {Role.LEADER: ("党工委书记", "办事处主任"), Role.DEPUTY: ("分管环保副主任",)},
    3: {Role.FIRST_LEADER: ("包村干部",), Role.LEADER: ("党支部书记", "村(居)委会主任", "第一书记"),
        Role.DEPUTY: ("两委委员",), Role.STAFF: ("网格员",), Role.SUPERVISOR: ("环保志愿者",)},
    4: {Role.LEADER: ("两委委员",), Role.STAFF: ("网格员",), Role.FULLTIME_STAFF: ("专职网格员",)},
    5: {Role.LEADER: ("单位负责人",), Role.STAFF: ("环保专员",)},
}


@dataclass
class Staffing:
    people: list[Person]
    assignments: list[tuple[int, int, Role, date, date | None]]  # (grid index, person index, …)


def staff_grids(grids: list[Grid], rng: np.random.Generator, as_of: date) -> Staffing:
    """People for every grid, plus an earlier holder for some roles so history shows."""
    people: list[Person] = []
    rows = []
    plan_start = date(2018, 9, 5)  # the day seed 001's plan was issued
    for index, grid in enumerate(grids):
        for role, low, high in ROLES_BY_LEVEL[grid.level]:
            for _ in range(int(rng.integers(low, high + 1))):
                titles = TITLES[grid.level][role]
                start = plan_start + timedelta(days=int(rng.integers(0, 900)))
                if role in (Role.STAFF, Role.LEADER) and rng.random() < 0.25:
                    # A predecessor who held the post until a hand-over: the sign changed, the record did not.
                    handover = start + timedelta(days=int(rng.integers(200, 1500)))
                    handover = min(handover, as_of - timedelta(days=30))
                    people.append(_person(rng, grid, titles))
                    rows.append((index, len(people) - 1, role, start, handover - timedelta(days=1)))
                    start = handover
                people.append(_person(rng, grid, titles))
                rows.append((index, len(people) - 1, role, start, None))
    return Staffing(people, rows)


def _person(rng, grid: Grid, titles) -> Person:
    phone = names.landline(rng) if grid.level <= 2 and rng.random() < 0.3 else names.mobile_phone(rng)
    return Person(None, names.person_name(rng), phone, grid.name, titles[rng.integers(len(titles))])


def assignments_for(staffing: Staffing, grids: list[Grid]) -> list[Assignment]:
    return [Assignment(grids[g].id, staffing.people[p].id, role, start, end)
            for g, p, role, start, end in staffing.assignments]


def random_points_in(polygons: list, count: int, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """``count`` points uniformly over the union of ``polygons`` (lon/lat, area-weighted per polygon)."""
    areas = np.array([p.area for p in polygons])
    owners = rng.choice(len(polygons), size=count, p=areas / areas.sum())
    coords = np.empty((count, 2))
    for i, owner in enumerate(owners):
        poly = polygons[owner]
        min_x, min_y, max_x, max_y = poly.bounds
        while True:
            x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
            if poly.contains(shapely.Point(x, y)):
                coords[i] = x, y
                break
    return coords, owners.tolist()


def make_sources(level4: list[Grid], level2_name_of: dict[int, str], category_ids: dict[str, int],
                 count: int, rng: np.random.Generator, as_of: date) -> list[PollutionSource]:
    """The ledger: categories in plausible shares, key sources flagged, each in its level-4 grid."""
    codes = list(names.SOURCE_STYLE)
    shares = np.array([names.SOURCE_STYLE[c][1] for c in codes])
    categories = rng.choice(len(codes), size=count, p=shares / shares.sum())
    coords, owners = random_points_in([g.boundary for g in level4], count, rng)
    sources = []
    for i in range(count):
        category = codes[categories[i]]
        grid = level4[owners[i]]
        key = category in ("industrial", "hazardous_waste", "construction", "water_source") and rng.random() < 0.35
        status = rng.choice([SourceStatus.OPERATING] * 8 + [SourceStatus.SUSPENDED, SourceStatus.RECTIFYING])
        if category == "sanluanwu" and rng.random() < 0.5:
            status = SourceStatus.CLOSED
        sources.append(PollutionSource(
            id=None, name=names.source_name(rng, category), category_id=category_ids[category],
            lon=float(coords[i, 0]), lat=float(coords[i, 1]), grid_id=grid.id,
            address=names.street_address(rng, level2_name_of[grid.id]), is_key=bool(key),
            contact_name=names.person_name(rng), contact_phone=names.mobile_phone(rng),
            permit_no=(f"91140502MA{rng.integers(10**7, 10**8)}" if category in ("industrial", "vocs",
                       "hazardous_waste", "boiler") else ""),
            status=str(status), last_inspected=as_of - timedelta(days=int(rng.integers(0, 120)))))
    return sources


@dataclass
class DemoStation:
    mn: str
    name: str
    kind: StationKind
    lon: float
    lat: float
    grid_id: int
    source_index: int | None = None


def make_stations(level2: list[Grid], level4: list[Grid], sources: list[PollutionSource],
                  industrial_id: int, rng: np.random.Generator) -> list[DemoStation]:
    """Air stations (one per town/street plus micro-stations), river sections and enterprise outlets."""
    stations: list[DemoStation] = []
    tree = shapely.STRtree([g.boundary for g in level4])

    def grid_at(x, y):
        hits = tree.query(shapely.Point(x, y), predicate="intersects")
        return level4[int(hits[0])].id

    for i, grid in enumerate(level2):
        point = grid.boundary.representative_point()
        stations.append(DemoStation(f"140502A{i + 1:07d}", f"{grid.name}空气自动监测站", StationKind.AIR,
                                    point.x, point.y, grid_at(point.x, point.y)))
    coords, _ = random_points_in([g.boundary for g in level2], 8, rng)
    for i, (x, y) in enumerate(coords):
        stations.append(DemoStation(f"140502M{i + 1:07d}", f"微型空气站{i + 1:02d}号", StationKind.AIR,
                                    float(x), float(y), grid_at(x, y)))
    coords, _ = random_points_in([g.boundary for g in level2], 4, rng)
    for i, (x, y) in enumerate(coords):
        stations.append(DemoStation(f"140502W{i + 1:07d}", f"{('白水河', '丹河', '北石店河', '西河')[i]}断面水质站",
                                    StationKind.WATER, float(x), float(y), grid_at(x, y)))
    industrial = [i for i, s in enumerate(sources) if s.category_id == industrial_id and s.is_key]
    for n, index in enumerate(industrial[:10]):
        source = sources[index]
        stations.append(DemoStation(f"140502E{n + 1:07d}", f"{source.name}废气排口", StationKind.OUTLET,
                                    source.lon, source.lat, source.grid_id, index))
    return stations
