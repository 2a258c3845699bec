"""Reshaping a shared edge that is a single segment (no vertex between its ends): both grids and every
grid along it take the new course; a line equal to the old edge is refused instead of a silent no-op."""
from __future__ import annotations

import pytest
import shapely
from test_editing_world import IDS, coverage_ok, sample_grids, xy

from gis.editing import GridEditSession, ReshapeSharedEdgeCommand, TopologyError, shared_edge


def test_a_one_segment_shared_edge_takes_the_new_line():
    session = GridEditSession(sample_grids(), outside="泽州县")
    assert len(shared_edge(session, IDS["B1"], IDS["B2"])) == 2
    bend = xy(3, 1.4)
    command = ReshapeSharedEdgeCommand(session, IDS["B1"], IDS["B2"], [xy(4, 1), bend, xy(2, 1)])  # drawn backwards
    session.push(command)
    assert command.grid_ids == {IDS["B1"], IDS["B2"]}
    for name in ("B1", "B2"):
        assert bend in set(map(tuple, shapely.get_coordinates(session.grid(IDS[name]).boundary).tolist()))
    assert session.grid(IDS["B1"]).boundary.area > session.grid(IDS["B2"]).boundary.area
    coverage_ok(session.grids.values())
    session.undo()
    coverage_ok(session.grids.values())


def test_the_same_course_again_is_refused():
    session = GridEditSession(sample_grids(), outside="泽州县")
    with pytest.raises(TopologyError, match="相同"):
        ReshapeSharedEdgeCommand(session, IDS["B1"], IDS["B2"], [xy(2, 1), xy(4, 1)])
    assert len(session.undo_stack) == 0
