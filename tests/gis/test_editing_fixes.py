"""Quick fixes remove the problem they are offered for, re-validate clean, and undo exactly."""
from __future__ import annotations

import pytest
import shapely
from test_editing_world import CODES, IDS, box, coverage_ok, polygon, sample_grids, xy

from gis.editing import FixError, GridEditSession, fix_command, snap_command
from gis.validation import validate_grids


def problems(session):
    return validate_grids(list(session.grids.values()))


def fix_and_check(session, problem, **options):
    before = {i: shapely.to_wkb(g.boundary) for i, g in session.grids.items()}
    command = fix_command(session, problem, **options)
    session.push(command)
    coverage_ok(session.grids.values())
    assert [p for p in problems(session) if p.kind == problem.kind] == []
    session.undo()
    assert {i: shapely.to_wkb(g.boundary) for i, g in session.grids.items()} == before
    session.redo()
    return command


def test_gap_goes_to_the_neighbour_with_the_longest_border():
    session = GridEditSession(sample_grids(B2=box(2, 1, 3.9, 2)))
    (gap,) = [p for p in problems(session) if p.is_error]
    command = fix_and_check(session, gap)
    assert command.label == "空隙并入“黄沟村”"
    assert session.grid(IDS["B2"]).boundary.equals(box(2, 1, 4, 2))


def test_gap_to_a_chosen_neighbour():
    session = GridEditSession(sample_grids(B2=box(2, 1, 3.9, 2)))
    (gap,) = [p for p in problems(session) if p.is_error]
    fix_and_check(session, gap, receiver_id=IDS["B1"])
    assert session.grid(IDS["B1"]).boundary.equals(polygon((2, 0), (4, 0), (4, 2), (3.9, 2), (3.9, 1), (2, 1)))


def test_sliver_overlap_is_removed_from_the_smaller_grid():
    session = GridEditSession(sample_grids(B2=box(2, 0.99, 4, 2)))
    (overlap,) = [p for p in problems(session) if p.kind == "overlap"]
    assert set(overlap.grids) == {CODES["B1"], CODES["B2"]} and overlap.area_m2 > 1
    fix_and_check(session, overlap)
    assert session.grid(IDS["B1"]).boundary.equals(box(2, 0, 4, 0.99))
    assert session.grid(IDS["B2"]).boundary.equals(box(2, 0.99, 4, 2))


def test_overlap_kept_by_choice():
    session = GridEditSession(sample_grids(A2=box(0.9, 0, 2, 2)))
    (overlap,) = [p for p in problems(session) if p.kind == "overlap"]
    fix_and_check(session, overlap, keep_id=IDS["A1"])
    assert session.grid(IDS["A2"]).boundary.equals(box(1, 0, 2, 2))


def test_near_coincident_edges_are_snapped():
    # B2's lower edge is 1.1 m above B1's top edge: a 2 km sliver gap, invisible on the map.
    session = GridEditSession(sample_grids(B2=box(2, 1.001, 4, 2)))
    assert [p.kind for p in problems(session) if p.is_error] == ["gap"]
    session.push(snap_command(session, [IDS["B1"], IDS["B2"], IDS["B"]], tolerance_m=2.0))
    coverage_ok(session.grids.values())
    assert session.grid(IDS["B2"]).boundary.equals(box(2, 1, 4, 2))


def test_unmatched_vertex_warning_is_fixed_by_snapping():
    session = GridEditSession(sample_grids(B1=polygon((2, 0), (4, 0), (4, 1), (3, 1), (2, 1))))
    (warning,) = problems(session)
    assert warning.kind == "edge_mismatch"
    fix_and_check(session, warning)
    assert xy(3, 1) in {tuple(p) for p in shapely.get_coordinates(session.grid(IDS["B2"]).boundary)}


def test_snapping_too_little_is_refused_not_half_done():
    session = GridEditSession(sample_grids(B2=box(2, 1.1, 4, 2)))  # 111 m apart
    with pytest.raises(FixError):
        snap_command(session, [IDS["B1"], IDS["B2"]], tolerance_m=2.0)


def test_problems_without_a_fix_say_so():
    session = GridEditSession(sample_grids(B1=box(2, -0.1, 4, 1)))
    (outside,) = [p for p in problems(session) if p.is_error]
    with pytest.raises(FixError, match="没有自动修复"):
        fix_command(session, outside)
