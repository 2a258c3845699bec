"""Editing the demo district's real-sized coverage: a split, a move of the new shared vertex,
a merge — each keeping the whole hierarchy valid — and how long a command takes."""
from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
import shapely

from gis.crs import geodesic_area_m2, gk_to_lonlat, project_to_gk
from gis.demo.build import build_demo
from gis.editing import (
    GridEditSession,
    MergeGridsCommand,
    MoveVertexCommand,
    SplitGridCommand,
    fix_command,
)
from gis.editing.rings import from_rings, to_rings
from gis.editing.save import changed_problems
from gis.storage.grids import read_grids
from gis.storage.store import open_store
from gis.validation import validate_grids


@pytest.fixture(scope="module")
def demo_grids(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    build_demo(store, seed=20181, as_of=datetime(2026, 11, 20, 9, 0))
    with store.engine.connect() as connection:
        grids = read_grids(connection)
    store.close()
    return grids


@pytest.fixture
def demo_session(demo_grids):
    return GridEditSession(demo_grids, outside="泽州县")


def test_split_then_move_the_crossing_in_the_demo(demo_session):
    session = demo_session
    village = next(g for g in session.polygon_grids(3) if len(session.children_of(g.id)) >= 4)
    x0, y0, x1, y1 = village.boundary.bounds
    middle = (y0 + y1) / 2
    split = SplitGridCommand(session, village.id, [(x0 - 0.001, middle), (x1 + 0.001, middle + 0.0004)])
    session.push(split)
    level3 = [g.boundary for g in session.polygon_grids(3)]
    assert shapely.coverage_is_valid(level3)
    # Each crossing of the line with the village border is one vertex shared by both parts and the
    # neighbours on that border (and the level-2 grid if it is its border too).
    (new_id,) = split.new_ids
    new = session.grid(new_id)
    shared = [p for p in shapely.get_coordinates(new.boundary)
              if {village.id, new_id} <= session.index.grids_at(p) and len(session.index.grids_at(p)) >= 3]
    assert shared
    point = shared[0]
    holders = session.index.grids_at(point)
    session.push(MoveVertexCommand(session, new_id, point, (point[0] + 0.0002, point[1] + 0.0001)))
    assert session.index.grids_at((point[0] + 0.0002, point[1] + 0.0001)) == holders
    assert shapely.coverage_is_valid([g.boundary for g in session.polygon_grids(3)])
    # Level-4 children straddling the line are reported (not silently cut): they are errors to fix.
    problems = changed_problems(session)
    assert {p.kind for p in problems if p.is_error} <= {"outside_parent", "overlap", "gap"}
    session.undo()
    session.undo()
    assert not session.is_dirty


def test_merge_two_villages_keeps_the_level_valid(demo_session):
    session = demo_session
    town = session.polygon_grids(2)[0]
    villages = [g for g in session.polygon_grids(3) if g.parent_id == town.id]
    a = villages[0]
    b = next(v for v in villages[1:] if a.boundary.intersection(v.boundary).length > 0)
    session.push(MergeGridsCommand(session, [a.id, b.id], keep_id=b.id))
    assert shapely.coverage_is_valid([g.boundary for g in session.polygon_grids(3)])
    errors = [p for p in validate_grids(list(session.grids.values())) if p.is_error]
    assert errors == []  # the children of a now belong to b, which they tile with b's own
    session.undo()
    assert not session.is_dirty


def test_problems_planted_in_the_demo_are_found_measured_and_fixed(demo_grids):
    level4 = [g for g in demo_grids if g.level == 4]
    shrunk, pushed = level4[300], level4[100]
    metric, epsg = project_to_gk(shrunk.boundary)
    smaller = shapely.MultiPolygon([gk_to_lonlat(metric.buffer(-5, join_style="mitre"), epsg)])
    rings = to_rings(pushed.boundary)
    rings[0][0][2] += [0.0002, 0.0]  # one vertex ~18 m east, in this grid only
    planted = {shrunk.id: smaller, pushed.id: from_rings(rings, pushed.boundary)}
    grids = [dataclasses.replace(g, boundary=planted[g.id]) if g.id in planted else g for g in demo_grids]

    session = GridEditSession(grids)
    found = validate_grids(list(session.grids.values()))
    gaps = [p for p in found if p.kind == "gap"]
    assert len(gaps) == 1 and gaps[0].grids[1:].count(shrunk.code) == 1
    assert gaps[0].area_m2 == pytest.approx(geodesic_area_m2(shrunk.boundary) - geodesic_area_m2(smaller), rel=1e-6)
    overlaps = [p for p in found if p.kind == "overlap"]
    assert overlaps and all(pushed.code in p.grids and p.area_m2 > 100 for p in overlaps)
    assert {p.kind for p in found} == {"gap", "overlap"}

    while problems := [p for p in validate_grids(list(session.grids.values())) if p.is_error]:
        session.push(fix_command(session, problems[0]))
    assert len(session.undo_stack) == len(found)
    for level in (2, 3, 4):
        assert shapely.coverage_is_valid([g.boundary for g in session.polygon_grids(level)])
