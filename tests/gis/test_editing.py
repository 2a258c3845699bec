"""Edit commands on the hand-made hierarchy: each keeps every level a valid coverage, and
redo/undo restore the grids exactly (WKB-equal)."""
from __future__ import annotations

import pytest
import shapely
from test_editing_world import IDS, NAMES, box, coverage_ok, polygon, sample_grids, xy

from gis.editing import (
    AddGridCommand,
    DeleteGridCommand,
    DeleteVertexCommand,
    GridEditSession,
    InsertVertexCommand,
    InvalidNeighbourError,
    MergeGridsCommand,
    MoveSharedEdgeCommand,
    MoveVertexCommand,
    ReshapeSharedEdgeCommand,
    SetGridFieldsCommand,
    SplitGridCommand,
    TopologyError,
    accept_four_bounds,
    shared_edge,
)
from gis.validation import validate_grids


def snapshot(session):
    return {i: (shapely.to_wkb(g.boundary), g.code, g.name, g.parent_id, g.east, g.south, g.west, g.north)
            for i, g in session.grids.items()}


def roundtrip(session, make):
    """Push the command, then undo, redo, undo: exact states each time, valid coverage after it."""
    before, dirty = snapshot(session), session.dirty_ids()
    command = make()
    session.push(command)
    after = snapshot(session)
    assert after != before
    coverage_ok(session.grids.values())
    session.undo()
    assert snapshot(session) == before and session.dirty_ids() == dirty
    session.redo()
    assert snapshot(session) == after
    coverage_ok(session.grids.values())
    session.undo()
    assert snapshot(session) == before
    session.redo()
    return command


@pytest.fixture
def session():
    return GridEditSession(sample_grids(), outside="泽州县")


def holders(session, point):
    return {g for g in session.index.grids_at(xy(*point))}


def test_moving_a_junction_moves_it_in_every_grid_of_every_level(session):
    assert holders(session, (1, 1)) == {IDS["A1"], IDS["A2"], IDS["A1a"], IDS["A1b"]}
    command = roundtrip(session, lambda: MoveVertexCommand(session, IDS["A2"], xy(1, 1), xy(1.2, 1.1)))
    assert command.label == "移动顶点" and command.grid_ids == {IDS["A1"], IDS["A2"], IDS["A1a"], IDS["A1b"]}
    assert holders(session, (1.2, 1.1)) == {IDS["A1"], IDS["A2"], IDS["A1a"], IDS["A1b"]}
    assert not holders(session, (1, 1))


def test_moving_a_border_vertex_moves_the_parents_too(session):
    roundtrip(session, lambda: MoveVertexCommand(session, IDS["B1"], xy(2, 1), xy(2.3, 0.8)))
    assert holders(session, (2.3, 0.8)) == {IDS["A"], IDS["B"], IDS["A2"], IDS["B1"], IDS["B2"]}


def test_a_move_that_would_overlap_a_neighbour_is_refused(session):
    before = snapshot(session)
    with pytest.raises(TopologyError, match="重叠|无效"):
        MoveVertexCommand(session, IDS["B1"], xy(4, 1), xy(1.5, 1.5))  # across A2
    assert snapshot(session) == before and len(session.undo_stack) == 0


def test_only_topological_moves_keep_parents_tiled():
    flat = GridEditSession(sample_grids(), topology="level")
    with pytest.raises(TopologyError, match="不再恰好覆盖"):
        MoveVertexCommand(flat, IDS["A2"], xy(1, 1), xy(1.2, 1.1))  # A1a/A1b would stay behind


def test_insert_then_delete_a_vertex_on_a_shared_edge(session):
    edge = (xy(1, 0), xy(1, 1))
    roundtrip(session, lambda: InsertVertexCommand(session, IDS["A2"], edge, xy(1, 0.5)))
    assert holders(session, (1, 0.5)) == {IDS["A1"], IDS["A2"], IDS["A1a"]}
    roundtrip(session, lambda: MoveVertexCommand(session, IDS["A1a"], xy(1, 0.5), xy(0.8, 0.5)))
    roundtrip(session, lambda: DeleteVertexCommand(session, IDS["A1"], xy(0.8, 0.5)))
    assert not holders(session, (0.8, 0.5))


def test_deleting_a_junction_vertex_is_refused(session):
    with pytest.raises(TopologyError):
        DeleteVertexCommand(session, IDS["B1"], xy(4, 1))  # B1 and B2 would leave a triangle open


def test_shared_edge_between_two_grids(session):
    assert shared_edge(session, IDS["A1"], IDS["A2"]) in ([xy(1, 0), xy(1, 1), xy(1, 2)],
                                                          [xy(1, 2), xy(1, 1), xy(1, 0)])
    with pytest.raises(TopologyError, match="没有公共边"):
        shared_edge(session, IDS["A1"], IDS["B1"])


def test_move_shared_edge_moves_its_inner_vertices_everywhere(session):
    command = roundtrip(session, lambda: MoveSharedEdgeCommand(session, IDS["A1"], IDS["A2"], (0.002, 0.0)))
    assert "古寨村" in command.label and "小营村" in command.label
    assert holders(session, (1.2, 1)) == {IDS["A1"], IDS["A2"], IDS["A1a"], IDS["A1b"]}
    assert holders(session, (1, 0)) and holders(session, (1, 2))  # the ends stay


def test_reshape_shared_edge_keeps_the_children_meeting_it(session):
    line = [xy(1, 0), xy(1.3, 0.6), xy(0.8, 1.5), xy(1, 2)]
    roundtrip(session, lambda: ReshapeSharedEdgeCommand(session, IDS["A2"], IDS["A1"], line[::-1]))
    a1, a2 = session.grid(IDS["A1"]).boundary, session.grid(IDS["A2"]).boundary
    assert shapely.intersection(a1, a2).length == pytest.approx(shapely.LineString(line).length)
    for point in line:
        assert IDS["A1"] in session.index.grids_at(point) and IDS["A2"] in session.index.grids_at(point)
    # The A1a/A1b border met the old edge at its middle; it now meets the new line there.
    corners = shapely.get_coordinates(session.grid(IDS["A1a"]).boundary)
    anchor = [p for p in corners if session.index.grids_at(p) == {IDS["A1"], IDS["A2"], IDS["A1a"], IDS["A1b"]}]
    assert len(anchor) == 1 and shapely.LineString(line).distance(shapely.Point(anchor[0])) < 1e-12


def test_split_shares_the_new_edge_and_inserts_crossings_into_neighbours(session):
    command = roundtrip(session, lambda: SplitGridCommand(session, IDS["A2"], [xy(0.5, 0.5), xy(2.5, 0.5)]))
    (new_id,) = command.new_ids
    keeper, new = session.grid(IDS["A2"]), session.grid(new_id)
    assert keeper.code == "140502001002" and keeper.area_m2 > new.area_m2
    assert new.code == "140502001003" and new.name == "小营村（拆分）" and new.parent_id == IDS["A"]
    assert holders(session, (1, 0.5)) == {IDS["A1"], IDS["A1a"], IDS["A2"], new_id}
    assert holders(session, (2, 0.5)) == {IDS["A"], IDS["B"], IDS["B1"], IDS["A2"], new_id}
    # The QGIS failure: after a split, the shared vertex must still move in all of them.
    roundtrip(session, lambda: MoveVertexCommand(session, new_id, xy(1, 0.5), xy(0.8, 0.4)))
    assert holders(session, (0.8, 0.4)) == {IDS["A1"], IDS["A1a"], IDS["A2"], new_id}
    roundtrip(session, lambda: MoveVertexCommand(session, IDS["B1"], xy(2, 0.5), xy(2.2, 0.45)))
    assert holders(session, (2.2, 0.45)) == {IDS["A"], IDS["B"], IDS["B1"], IDS["A2"], new_id}


def test_split_moves_children_to_the_part_that_holds_them(session):
    command = roundtrip(session, lambda: SplitGridCommand(session, IDS["A1"], [xy(-0.5, 1), xy(1.5, 1)]))
    (new_id,) = command.new_ids
    assert {session.grid(IDS["A1a"]).parent_id, session.grid(IDS["A1b"]).parent_id} == {IDS["A1"], new_id}


def test_split_line_must_cross_the_grid(session):
    with pytest.raises(TopologyError, match="穿过"):
        SplitGridCommand(session, IDS["A2"], [xy(1.5, 0.5), xy(1.6, 0.5)])


def test_merge_keeps_the_chosen_attributes_and_adopts_children(session):
    roundtrip(session, lambda: MergeGridsCommand(session, [IDS["A1a"], IDS["A1b"]], keep_id=IDS["A1b"]))
    assert IDS["A1a"] not in session.grids
    merged = session.grid(IDS["A1b"])
    assert merged.name == NAMES["A1b"] and merged.boundary.equals(session.grid(IDS["A1"]).boundary)
    assert session.grid(IDS["U"]).parent_id == IDS["A1b"]
    assert session.merged_into == {IDS["A1a"]: IDS["A1b"]}
    session.undo()
    assert session.merged_into == {}


def test_merge_needs_same_level_and_parent(session):
    with pytest.raises(TopologyError, match="同一级别、同一上级"):
        MergeGridsCommand(session, [IDS["A2"], IDS["B1"]], keep_id=IDS["A2"])


def test_delete_leaves_a_gap_and_add_fills_it_clipped_to_free_space(session):
    session.push(DeleteGridCommand(session, IDS["B2"]))
    assert [p.kind for p in validate_grids(list(session.grids.values())) if p.is_error] == ["gap"]
    drawn = box(1.5, 0.5, 4.5, 2.5)  # over A2, B1 and outside the district
    command = roundtrip(session, lambda: AddGridCommand(session, drawn, level=3, name="新村", parent_id=IDS["B"]))
    new = session.grid(command.new_id)
    assert new.boundary.equals(box(2, 1, 4, 2)) and new.code == "140502002002"  # B2's code is free again
    assert new.parent_id == IDS["B"] and new.level == 3 and new.id < 0


def test_added_grid_is_glued_where_it_crosses_a_neighbours_edge(session):
    session.push(DeleteGridCommand(session, IDS["B2"]))
    command = AddGridCommand(session, box(2.5, 0.5, 4.5, 2.5), level=3, name="新村")  # parent found: B
    session.push(command)
    assert session.grid(command.new_id).parent_id == IDS["B"]
    assert holders(session, (2.5, 1)) == {IDS["B1"], command.new_id}
    assert holders(session, (2.5, 2)) == {IDS["B"], IDS["D"], command.new_id}
    gaps = [p for p in validate_grids(list(session.grids.values())) if p.kind == "gap"]
    assert len(gaps) == 1 and gaps[0].geometry.equals(box(2, 1, 2.5, 2))


def test_avoid_overlap_next_to_an_invalid_neighbour_fails_loudly():
    bow_tie = shapely.MultiPolygon([polygon((2, 0), (4, 1), (4, 0), (2, 1))])
    session = GridEditSession(sample_grids(B1=bow_tie))
    session.push(DeleteGridCommand(session, IDS["B2"]))
    with pytest.raises(InvalidNeighbourError, match="东头村") as error:
        AddGridCommand(session, box(2, 0.5, 4, 2), level=3, name="新村", parent_id=IDS["B"])
    assert [g.id for g in error.value.grids] == [IDS["B1"]]
    assert "自相交" in str(error.value)


def test_nothing_free_to_draw_in(session):
    with pytest.raises(TopologyError, match="没有空白区域"):
        AddGridCommand(session, box(2.2, 0.2, 3, 0.8), level=3, name="重复", parent_id=IDS["B"])


def test_delete_refuses_a_grid_with_children(session):
    with pytest.raises(TopologyError, match="下级网格"):
        DeleteGridCommand(session, IDS["A1"])


def test_four_bounds_flags_follow_the_geometry(session):
    assert session.four_bounds.flagged == {}
    command = SplitGridCommand(session, IDS["A2"], [xy(0.5, 0.5), xy(2.5, 0.5)])
    session.push(command)
    (new_id,) = command.new_ids
    flagged = dict(session.four_bounds.flagged)
    assert new_id in flagged and IDS["A1"] in flagged and IDS["B1"] in flagged
    assert "小营村（拆分）" in flagged[IDS["B1"]].west
    session.push(accept_four_bounds(session, IDS["B1"]))
    assert IDS["B1"] not in session.four_bounds.flagged
    assert session.grid(IDS["B1"]).west == flagged[IDS["B1"]].west
    session.undo()
    assert IDS["B1"] in session.four_bounds.flagged
    session.undo()
    assert session.four_bounds.flagged == {}


def test_field_edits_are_commands_too(session):
    roundtrip(session, lambda: SetGridFieldsCommand(session, IDS["A2"], name="小营社区", duties="巡查"))
    with pytest.raises(ValueError, match="已被使用"):
        SetGridFieldsCommand(session, IDS["A2"], code="140502001001")
    with pytest.raises(TypeError):
        SetGridFieldsCommand(session, IDS["A2"], boundary=None)


def test_undo_stack_behaviour(session):
    stack = session.undo_stack
    seen = []
    stack.listeners.append(lambda: seen.append(stack.index))
    session.push(MoveVertexCommand(session, IDS["A2"], xy(1, 1), xy(1.1, 1)))
    session.push(MoveVertexCommand(session, IDS["A2"], xy(1.1, 1), xy(1.2, 1)))
    assert (stack.undo_label, stack.can_redo) == ("移动顶点", False)
    session.undo()
    session.push(DeleteGridCommand(session, IDS["B2"]))  # drops the undone move
    assert len(stack) == 2 and not stack.can_redo and stack.undo_label == "删除网格“黄沟村”"
    assert seen == [1, 2, 1, 2]
    assert session.is_dirty
    session.undo()
    session.undo()
    assert not session.is_dirty and not stack.can_undo


def test_a_stale_command_is_not_pushed(session):
    first = MoveVertexCommand(session, IDS["A2"], xy(1, 1), xy(1.1, 1))
    second = MoveVertexCommand(session, IDS["A2"], xy(1, 1), xy(1.2, 1))  # computed before first is done
    session.push(first)
    with pytest.raises(RuntimeError, match="another state"):
        session.push(second)
    assert len(session.undo_stack) == 1
