"""Routing a point to its grid (with alternatives near a border) and suggesting duplicates."""
from __future__ import annotations

from datetime import timedelta

import pytest

from gis.domain import CaseAction
from gis.workflow.cases import apply_action, create_case, resolve_category
from gis.workflow.duplicates import suggest_duplicates
from gis.workflow.geo import degrees_around, distances_m
from gis.storage.store import open_store
from gis.workflow.routing import GridIndex
from test_workflow_world import T0, build_world

LAT = 35.425  # middle of the southern villages
EAST_OF = degrees_around(LAT, 1.0)[0]  # degrees of longitude per metre


@pytest.fixture(scope="module")
def located(tmp_path_factory):
    """Locating is pure once the index is built: one SQLite workspace serves those tests."""
    store = open_store(tmp_path_factory.mktemp("routing") / "w.sqlite")
    world = build_world(store)
    with store.engine.connect() as connection:
        index = GridIndex.from_connection(connection)
    store.close()
    return world, index


@pytest.fixture
def world_and_index(store):
    world = build_world(store)
    with store.engine.connect() as connection:
        index = GridIndex.from_connection(connection)
    return world, index


def test_a_point_well_inside_goes_to_its_sub_area(located):
    world, index = located
    route = index.locate(*world.centre("T2N1"))
    assert route.grid.code == "T2N1" and route.candidates_near_border == [] and not route.near_border
    assert route.distance_to_border_m == pytest.approx(0.0125 / degrees_around(35.475, 1.0)[0], rel=1e-3)
    assert len(index) == 15  # levels 1–4 only; the level-5 unit is not an area


def test_near_a_village_border_the_neighbour_is_offered(located):
    _, index = located
    route = index.locate(112.825 + 20 * EAST_OF, LAT)  # 20 m east of the T1S1 | T1S2 line
    assert route.grid.code == "T1S2"
    assert [g.code for g in route.candidates_near_border] == ["T1S1"]
    assert route.distance_to_border_m == pytest.approx(20, abs=0.1)
    assert route.candidate_distances_m == [pytest.approx(20, abs=0.1)]
    assert index.locate(112.825 + 20 * EAST_OF, LAT, border_m=10).candidates_near_border == []


def test_across_a_town_border_only_the_lowest_grids_are_offered(located):
    _, index = located
    route = index.locate(112.85 + 30 * EAST_OF, LAT)
    assert route.grid.code == "T2S1" and [g.code for g in route.candidates_near_border] == ["T1S2"]


def test_at_a_corner_every_neighbour_is_offered_nearest_first(located):
    _, index = located
    dlon, dlat = degrees_around(35.45, 1.0)
    route = index.locate(112.85 + 10 * dlon, 35.45 + 25 * dlat)
    assert route.grid.code == "T2N1"
    assert [g.code for g in route.candidates_near_border] == ["T1N2", "T2S1", "T1S2"]
    assert route.candidate_distances_m == sorted(route.candidate_distances_m)


def test_on_the_line_itself_both_sides_are_offered(located):
    _, index = located
    route = index.locate(112.825, LAT)
    assert {route.grid.code, *(g.code for g in route.candidates_near_border)} == {"T1S1", "T1S2"}
    assert route.distance_to_border_m == pytest.approx(0, abs=1e-6)


def test_just_outside_the_district_nothing_contains_it_but_the_nearest_is_offered(located):
    _, index = located
    route = index.locate(112.80 - 30 * EAST_OF, LAT)
    assert route.grid is None and [g.code for g in route.candidates_near_border] == ["T1S1"]
    assert route.distance_to_border_m == pytest.approx(30, abs=0.1)
    far = index.locate(112.0, 35.0)
    assert far.grid is None and far.candidates_near_border == [] and far.distance_to_border_m is None
    with pytest.raises(ValueError, match="not a coordinate"):
        index.locate(float("nan"), LAT)


def test_create_case_routes_with_a_prebuilt_index_and_keeps_the_alternatives(store, world_and_index):
    world, index = world_and_index
    with store.engine.begin() as connection:
        new = create_case(connection, source="巡查上报", category="其他", description="x", actor="网格员",
                          lon=112.825 + 20 * EAST_OF, lat=LAT, index=index, now=T0)
    assert new.grid.code == "T1S2" and [g.code for g in new.route.candidates_near_border] == ["T1S1"]
    with store.engine.connect() as connection:
        from gis.workflow.cases import read_case_detail

        register = read_case_detail(connection, new.id).events[0]
    assert register.payload["candidates"] == [world["T1S1"].id]
    assert register.payload["distance_to_border_m"] == pytest.approx(20, abs=0.1)


def test_duplicates_same_category_near_recent_and_open_nearest_first(store, world_and_index):
    world, index = world_and_index
    lon, lat = world.centre("T2S2")
    dlon, dlat = degrees_around(lat, 1.0)

    def case(at, category="扬尘污染", east=0.0, north=0.0):
        with store.engine.begin() as connection:
            return create_case(connection, source="群众举报", category=category, description=f"{east},{north}",
                               actor="坐席", lon=lon + east * dlon, lat=lat + north * dlat, index=index, now=at)

    near = case(T0, east=150)
    nearer = case(T0 + timedelta(hours=1), north=80)
    case(T0 + timedelta(hours=2), east=300)  # too far
    case(T0 + timedelta(hours=3), category="噪声扰民", east=10)  # another category
    old = case(T0 - timedelta(days=40), east=20)  # too old
    finished = case(T0 + timedelta(hours=4), east=30)
    with store.engine.begin() as connection:
        apply_action(connection, finished.id, CaseAction.FALSE_REPORT, "坐席", reason="核实无此事",
                     now=T0 + timedelta(hours=5))
    new = case(T0 + timedelta(hours=6))
    assert [(d.number, round(d.distance_m)) for d in new.duplicates] == [(nearer.number, 80), (near.number, 150)]
    with store.engine.connect() as connection:
        dust, _ = resolve_category(connection, "扬尘污染")
        wider = suggest_duplicates(connection, lon=lon, lat=lat, category_id=dust, now=T0 + timedelta(hours=6),
                                   radius_m=400, days=60, exclude_case_id=new.id)
    assert [d.number for d in wider] == [old.number, nearer.number, near.number, wider[-1].number]
    assert wider[-1].distance_m == pytest.approx(300, abs=0.5)


def test_metric_helpers_agree_with_the_ellipsoid():
    dlon, dlat = degrees_around(35.5, 1000.0)
    assert distances_m(112.85, 35.5, [112.85 + dlon, 112.85], [35.5, 35.5 + dlat]) == pytest.approx([1000, 1000],
                                                                                                    abs=0.5)
