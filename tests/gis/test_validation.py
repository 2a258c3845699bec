"""Validation finds each planted problem with the right kind, grids, area and place — and
nothing on clean data (the hand-made hierarchy and the demo)."""
from __future__ import annotations

import json
import math

import pytest
import shapely
from test_editing_world import CODES, IDS, box, polygon, sample_grids, sample_roles, xy

from gis.crs import geodesic_area_m2
from gis.domain import Grid, Role
from gis.validation import has_errors, problems_to_json, validate_grids


def only(problems, kind):
    found = [p for p in problems if p.kind == kind]
    assert len(found) == 1, [p.message for p in problems]
    return found[0]


def inside(problem, region) -> bool:
    return region.buffer(1e-9).covers(shapely.Point(problem.location))


def test_clean_hierarchy_has_no_problem():
    assert validate_grids(sample_grids(), roles=sample_roles()) == []


def test_gap_is_found_with_its_area_place_and_neighbours():
    hole = box(3.9, 1, 4, 2)  # B2 stops short of the district border
    problems = validate_grids(sample_grids(B2=box(2, 1, 3.9, 2)))
    gap = only(problems, "gap")
    assert (gap.severity, gap.level) == ("error", 3)
    assert gap.grids[0] == CODES["B"] and set(gap.grids[1:]) == {CODES["B1"], CODES["B2"]}
    assert gap.area_m2 == pytest.approx(geodesic_area_m2(hole), rel=1e-6)
    assert 95_000 < gap.area_m2 < 105_000  # 0.001° × 0.01° at 35.5°N ≈ 90.6 m × 1.11 km
    assert inside(gap, hole)
    assert "西街街道" in gap.message and "空隙" in gap.message
    assert [p.kind for p in problems] == ["gap"]  # the unmatched edges are explained by the gap


def test_overlap_is_found_pairwise():
    problems = validate_grids(sample_grids(A2=box(0.9, 0, 2, 2)))
    overlap = only(problems, "overlap")
    assert set(overlap.grids) == {CODES["A1"], CODES["A2"]} and overlap.level == 3
    assert overlap.area_m2 == pytest.approx(geodesic_area_m2(box(0.9, 0, 1, 2)), rel=1e-6)
    assert inside(overlap, box(0.9, 0, 1, 2))
    assert "古寨村" in overlap.message and "小营村" in overlap.message
    assert not [p for p in problems if p.kind == "gap"]


def test_child_outside_its_parent():
    problems = validate_grids(sample_grids(B1=box(2, -0.1, 4, 1)))
    outside = only(problems, "outside_parent")
    assert outside.grids == (CODES["B1"], CODES["B"])
    assert outside.area_m2 == pytest.approx(geodesic_area_m2(box(2, -0.1, 4, 0)), rel=1e-6)
    assert inside(outside, box(2, -0.1, 4, 0))


def test_invalid_geometry_is_located_where_it_crosses():
    bow_tie = shapely.MultiPolygon([polygon((1, 0), (2, 2), (2, 0), (1, 2))])
    problems = validate_grids(sample_grids(A2=bow_tie))
    invalid = only(problems, "invalid")
    assert invalid.grids == (CODES["A2"],) and invalid.severity == "error"
    lon, lat = xy(1.5, 1)
    assert invalid.location == pytest.approx((lon, lat), abs=1e-9)
    assert "自相交" in invalid.message


def test_level5_unit_outside_its_parent():
    problems = validate_grids(sample_grids(U=shapely.Point(xy(0.5, 1.5))))
    outside = only(problems, "outside_parent")
    assert outside.grids == (CODES["U"], CODES["A1a"]) and outside.level == 5
    assert outside.location == pytest.approx(xy(0.5, 1.5))


def test_missing_leader_and_staff_are_warnings():
    roles = sample_roles(without={"A2": {Role.LEADER}, "A1a": {Role.STAFF}})
    problems = validate_grids(sample_grids(), roles=roles)
    assert {(p.kind, p.grids) for p in problems} == {("missing_leader", (CODES["A2"],)),
                                                     ("missing_staff", (CODES["A1a"],))}
    assert all(p.severity == "warning" for p in problems) and not has_errors(problems)
    assert "网格长" in only(problems, "missing_leader").message


def test_unmatched_shared_edge_is_a_warning_and_sub_tolerance_gaps_are_no_error():
    # B1 carries a vertex at (3, 1) that B2 lacks: no area, but shared-vertex editing would break.
    b1 = polygon((2, 0), (4, 0), (4, 1), (3, 1), (2, 1))
    problems = validate_grids(sample_grids(B1=b1))
    warning = only(problems, "edge_mismatch")
    assert warning.severity == "warning" and set(warning.grids) == {CODES["B1"], CODES["B2"]}
    # A sliver of ~2 cm × 1.8 km (~40 m²): an error at 1 m², accepted (as a warning) at 10 000 m².
    thin = box(2, 1.00002, 4, 2)
    assert only(validate_grids(sample_grids(B2=thin)), "gap").area_m2 == pytest.approx(
        geodesic_area_m2(box(2, 1, 4, 1.00002)), rel=1e-6)
    relaxed = validate_grids(sample_grids(B2=thin), tolerance_m2=10_000)
    assert not has_errors(relaxed) and {p.kind for p in relaxed} == {"edge_mismatch"}


def test_wrong_level_and_missing_parent():
    grids = sample_grids()
    grids[IDS["A1a"] - 1].parent_id = IDS["A"]  # a level-4 grid directly under a level-2 grid
    assert {p.kind for p in validate_grids(grids)} >= {"wrong_level"}
    orphan = Grid(99, "999", "孤儿网格", 3, 77, box(5, 5, 6, 6))
    assert [p.kind for p in validate_grids([orphan])] == ["parent_missing"]


def test_level_filter_and_json_form():
    grids = sample_grids(A2=box(0.9, 0, 2, 2), B1=box(2, -0.1, 4, 1))
    roles = sample_roles(without={"A": {Role.LEADER}})
    assert {p.level for p in validate_grids(grids, roles=roles, level=2)} == {2}
    assert {p.level for p in validate_grids(grids, roles=roles, level=3)} == {3}
    document = json.loads(json.dumps(problems_to_json(validate_grids(grids, roles=roles)), ensure_ascii=False))
    assert set(document) == {"problems"}
    for entry in document["problems"]:
        assert list(entry) == ["kind", "severity", "level", "grids", "area_m2", "location", "message"]
        assert entry["severity"] in ("error", "warning") and len(entry["location"]) == 2
        assert all(math.isfinite(v) for v in entry["location"])
    assert document["problems"][0]["severity"] == "error"  # errors first


def test_negative_tolerance_is_refused():
    with pytest.raises(ValueError, match="tolerance"):
        validate_grids(sample_grids(), tolerance_m2=-1)


def test_focus_limits_validation_to_what_an_edit_touched():
    grids = sample_grids(B1=box(2, -0.1, 4, 1))
    assert validate_grids(grids, focus={IDS["A1"]}) == []
    assert [p.kind for p in validate_grids(grids, focus={IDS["B1"]})] == ["outside_parent"]


def test_overlap_between_grids_of_different_parents():
    # 小营村 (in 东街街道) reaches into 东头村 (in 西街街道): an overlap, and outside its parent.
    problems = validate_grids(sample_grids(A2=box(1, 0, 2.2, 2)))
    overlaps = {p.grids: p for p in problems if p.kind == "overlap"}
    assert set(overlaps) == {(CODES["A2"], CODES["B1"]), (CODES["A2"], CODES["B2"])}
    assert overlaps[(CODES["A2"], CODES["B1"])].area_m2 == pytest.approx(geodesic_area_m2(box(2, 0, 2.2, 1)), rel=1e-6)
    assert only(problems, "outside_parent").grids == (CODES["A2"], CODES["A"])


def test_gap_between_top_level_grids_without_a_parent():
    # Two towns imported without their district: the hole between them is still a gap.
    a = Grid(1, "1", "甲镇", 2, None, polygon((0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (2, 2), (2, 3), (0, 3)))
    b = Grid(2, "2", "乙镇", 2, None, polygon((2, 0), (4, 0), (4, 3), (2, 3), (2, 2), (1.5, 2), (1.5, 1), (2, 1)))
    gap = only(validate_grids([a, b]), "gap")
    assert set(gap.grids) == {"1", "2"} and gap.area_m2 == pytest.approx(geodesic_area_m2(box(1, 1, 1.5, 2)), rel=1e-6)
    enclave = Grid(3, "3", "丙镇", 2, None, shapely.Polygon(box(5, 0, 8, 3).exterior, [box(6, 1, 7, 2).exterior.coords]))
    assert validate_grids([enclave]) == []  # a hole in one grid is its own business
