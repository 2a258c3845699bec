"""A small hand-made grid hierarchy for the validation and editing tests (no tests here).

Units of 0.01° (~1 km) east and north of (112.80°E, 35.50°N), inside the demo's GK zone::

    level 2:  A = [0,2]×[0,2]         B = [2,4]×[0,2]        (level 1: D = A ∪ B)
    level 3:  A1 = [0,1]×[0,2]  A2 = [1,2]×[0,2]  B1 = [2,4]×[0,1]  B2 = [2,4]×[1,2]
    level 4:  A1a = [0,1]×[0,1]  A1b = [0,1]×[1,2]
    level 5:  U, a point in A1a

Every shared vertex is identical in all grids (leaves noded together, parents built as their
children's coverage union), as after an import through EnvGrid or in the demo.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np
import shapely

from gis.domain import Grid, Role
from gis.editing.rings import key, to_rings
from gis.editing.topology import insert_points
from gis.storage.grids import insert_grids

ORIGIN = np.array([112.80, 35.50])
UNIT = 0.01
IDS = {"D": 1, "A": 2, "B": 3, "A1": 4, "A2": 5, "B1": 6, "B2": 7, "A1a": 8, "A1b": 9, "U": 10}
CODES = {"D": "140502", "A": "140502001", "B": "140502002", "A1": "140502001001", "A2": "140502001002",
         "B1": "140502002001", "B2": "140502002002", "A1a": "140502001001001", "A1b": "140502001001002",
         "U": "140502001001001001"}
NAMES = {"D": "城区", "A": "东街街道", "B": "西街街道", "A1": "古寨村", "A2": "小营村", "B1": "东头村", "B2": "黄沟村",
         "A1a": "古寨村第1网格", "A1b": "古寨村第2网格", "U": "晋城某工地"}
PARENT = {"D": None, "A": "D", "B": "D", "A1": "A", "A2": "A", "B1": "B", "B2": "B", "A1a": "A1", "A1b": "A1",
          "U": "A1a"}
LEVEL = {"D": 1, "A": 2, "B": 2, "A1": 3, "A2": 3, "B1": 3, "B2": 3, "A1a": 4, "A1b": 4, "U": 5}


def xy(x: float, y: float) -> tuple[float, float]:
    """Unit coordinates → lon/lat."""
    lon, lat = ORIGIN + UNIT * np.array([x, y])
    return float(lon), float(lat)


def box(x0, y0, x1, y1) -> shapely.Polygon:
    return shapely.Polygon([xy(x0, y0), xy(x1, y0), xy(x1, y1), xy(x0, y1)])


def polygon(*points) -> shapely.Polygon:
    return shapely.Polygon([xy(*p) for p in points])


def noded(geoms: dict) -> dict:
    """Insert every vertex into every edge it lies on, so the pieces form an exact coverage."""
    points = [k for g in geoms.values() for part in to_rings(g) for ring in part for k in map(key, ring[:-1])]
    return {**geoms, **insert_points(geoms, points, list(geoms))}


def sample_boundaries() -> dict[str, shapely.Geometry]:
    leaves = noded({"A1a": box(0, 0, 1, 1), "A1b": box(0, 1, 1, 2), "A2": box(1, 0, 2, 2),
                    "B1": box(2, 0, 4, 1), "B2": box(2, 1, 4, 2)})
    out = {name: shapely.MultiPolygon([g]) for name, g in leaves.items()}
    out["A1"] = shapely.MultiPolygon([shapely.coverage_union_all([leaves["A1a"], leaves["A1b"]])])
    out["A"] = shapely.MultiPolygon([shapely.coverage_union_all([out["A1"], out["A2"]])])
    out["B"] = shapely.MultiPolygon([shapely.coverage_union_all([out["B1"], out["B2"]])])
    out["D"] = shapely.MultiPolygon([shapely.coverage_union_all([out["A"], out["B"]])])
    out["U"] = shapely.Point(xy(0.5, 0.5))
    return out


def sample_grids(**replace_boundaries) -> list[Grid]:
    """The hierarchy as Grids with fixed ids; ``A2=polygon`` replaces a boundary (to plant problems)."""
    boundaries = {**sample_boundaries(), **replace_boundaries}
    return [Grid(id=IDS[n], code=CODES[n], name=NAMES[n], level=LEVEL[n],
                 parent_id=IDS[PARENT[n]] if PARENT[n] else None, boundary=boundaries[n],
                 valid_from=date(2024, 1, 1)) for n in IDS]


def sample_roles(*, without: dict[str, set[Role]] | None = None) -> dict[int, set[Role]]:
    """Everyone staffed: a 网格长 everywhere, a 网格员 at levels 3 and 4; ``without`` removes some."""
    roles: dict[int, set[Role]] = defaultdict(set)
    for name, grid_id in IDS.items():
        roles[grid_id].add(Role.LEADER)
        if LEVEL[name] in (3, 4):
            roles[grid_id].add(Role.STAFF)
    for name, gone in (without or {}).items():
        roles[IDS[name]] -= gone
    return dict(roles)


def store_sample(connection) -> dict[str, int]:
    """Insert the sample into a workspace (ids assigned by the database); name → id."""
    grids = sample_grids()
    by_old = {g.id: g for g in grids}
    ids = {}
    for level in range(1, 6):
        batch = [g for g in grids if g.level == level]
        for g in batch:
            g.parent_id = by_old[g.parent_id].id if g.parent_id else None
        insert_grids(connection, batch)
    for name, old in IDS.items():
        ids[name] = by_old[old].id
    return ids


def coverage_ok(grids) -> None:
    """Assert every level is a valid coverage and every group tiles its parent (no errors)."""
    from gis.validation import validate_grids

    by_level = defaultdict(list)
    for g in grids:
        if g.level <= 4:
            by_level[g.level].append(g.boundary)
    for level, geoms in by_level.items():
        assert shapely.coverage_is_valid(geoms), f"level {level} is not a valid coverage"
    errors = [p for p in validate_grids(list(grids)) if p.is_error]
    assert errors == [], [p.message for p in errors]
