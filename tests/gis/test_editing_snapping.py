"""Snapping: vertices win within the tolerance, then edges; exact coordinates come back."""
from __future__ import annotations

import pytest
from test_editing_world import IDS, sample_grids, xy

from gis.editing import GridEditSession, InsertVertexCommand, Snapper, snap_point

# 1 unit = 0.01°: at 35.5°N that is ~905 m east-west and ~1110 m north-south.


@pytest.fixture
def grids():
    return [g for g in sample_grids() if g.level in (3, 5)]


def test_vertex_within_tolerance_wins(grids):
    result = snap_point(*xy(1.003, 1.004), grids, tolerance_m=10)
    assert result.kind == "vertex" and result.point == xy(1, 1)
    assert result.distance_m == pytest.approx(5.1, abs=0.3)


def test_edge_when_no_vertex_is_near(grids):
    result = snap_point(*xy(1.004, 0.5), grids, tolerance_m=10)
    assert result.kind == "edge" and result.point == pytest.approx(xy(1, 0.5), abs=1e-12)
    assert {frozenset(result.edge)} == {frozenset((xy(1, 0), xy(1, 1)))}
    assert result.grid.id in (IDS["A1"], IDS["A2"])


def test_nothing_within_tolerance(grids):
    assert snap_point(*xy(1.5, 0.5), grids, tolerance_m=10) is None


def test_points_snap_as_vertices(grids):
    result = snap_point(*xy(0.501, 0.5), grids, tolerance_m=20)
    assert (result.kind, result.grid.id, result.point) == ("vertex", IDS["U"], xy(0.5, 0.5))


def test_an_edge_snap_feeds_insert_vertex():
    session = GridEditSession(sample_grids())
    snapper = Snapper(session.polygon_grids(3))
    hit = snapper.snap(*xy(1.002, 0.3), tolerance_m=5)
    session.push(InsertVertexCommand(session, hit.grid.id, hit.edge, hit.point))
    assert session.index.grids_at(hit.point) == {IDS["A1"], IDS["A2"], IDS["A1a"]}
