"""Saving an edit session: one transaction, optimistic locking, refused on validation errors,
history, audit, 四至 flags and the sources/cases that follow a changed boundary (both backends)."""
from __future__ import annotations

from datetime import datetime

import pytest
import shapely
from sqlalchemy import func, select
from test_editing_world import box, store_sample, xy

from gis.domain import CaseState
from gis.editing import (
    DeleteGridCommand,
    GridConflict,
    GridEditSession,
    MergeGridsCommand,
    MoveVertexCommand,
    SaveRefused,
    SetGridFieldsCommand,
    SplitGridCommand,
)
from gis.storage import schema
from gis.storage.cases import seed_case_categories
from gis.storage.grids import read_grids
from gis.storage.sources import PollutionSource, insert_sources, seed_source_categories


@pytest.fixture
def ids(store):
    with store.engine.begin() as connection:
        return store_sample(connection)


def load(store) -> GridEditSession:
    with store.engine.connect() as connection:
        return GridEditSession.load(connection, user="测试员")


def stored(store) -> dict[int, object]:
    with store.engine.connect() as connection:
        return {g.id: g for g in read_grids(connection)}


def count(store, table) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_save_writes_changes_versions_history_and_audit(store, ids):
    session = load(store)
    session.push(MoveVertexCommand(session, ids["A2"], xy(1, 1), xy(1.2, 1.1)))
    changed = session.dirty_ids()
    with store.engine.connect() as connection:
        result = session.save(connection)
    assert sorted(result.updated) == sorted(changed) and not result.inserted and not result.deleted
    grids = stored(store)
    for grid_id in changed:
        assert grids[grid_id].version == 2
        assert shapely.to_wkb(grids[grid_id].boundary) == shapely.to_wkb(session.grid(grid_id).boundary)
    assert grids[ids["B1"]].version == 1
    assert count(store, schema.grid_history) == len(changed) and count(store, schema.audit_log) == len(changed)
    with store.engine.connect() as connection:
        history = connection.execute(select(schema.grid_history).where(
            schema.grid_history.c.grid_id == ids["A2"])).one()
        audit = connection.execute(select(schema.audit_log).where(schema.audit_log.c.row_id == ids["A2"])).one()
    assert (history.version, history.change, history.changed_by) == (1, "修改", "测试员")
    assert history.boundary.equals(box(1, 0, 2, 2))
    assert audit.action == "grid_update" and audit.after["version"] == 1 and "POLYGON" in audit.after["boundary"]
    # The session starts over from what was saved: clean, versions current, nothing to undo.
    assert not session.is_dirty and not session.undo_stack.can_undo
    assert session.grid(ids["A2"]).version == 2


def test_conflict_from_a_second_connection_writes_nothing(store, ids):
    mine, theirs = load(store), load(store)
    theirs.push(MoveVertexCommand(theirs, ids["B1"], xy(2, 1), xy(2.1, 1.1)))
    with store.engine.connect() as connection:
        theirs.save(connection)
    mine.push(MoveVertexCommand(mine, ids["B1"], xy(4, 1), xy(4, 1.2)))  # B1, B2, B and D
    with store.engine.connect() as connection, pytest.raises(GridConflict) as raised:
        mine.save(connection)
    conflicts = {c.grid_id: c for c in raised.value.conflicts}
    assert set(conflicts) == {ids["B1"], ids["B2"], ids["B"]}  # D was not touched by them
    b1 = conflicts[ids["B1"]]
    assert b1.theirs.version == 2 and b1.theirs.boundary.equals(stored(store)[ids["B1"]].boundary)
    assert b1.mine.boundary.equals(mine.grid(ids["B1"]).boundary) and b1.code == "140502002001"
    assert stored(store)[ids["D"]].version == 1  # nothing of mine was written
    assert mine.is_dirty  # the edits stay, for the conflict view


def test_deleted_meanwhile_is_a_conflict_too(store, ids):
    mine, theirs = load(store), load(store)
    theirs.push(DeleteGridCommand(theirs, ids["U"]))
    with store.engine.connect() as connection:
        theirs.save(connection)
    mine.push(SetGridFieldsCommand(mine, ids["U"], name="改名的工地"))
    with store.engine.connect() as connection, pytest.raises(GridConflict) as raised:
        mine.save(connection)
    assert raised.value.conflicts[0].theirs is None and "140502001001001001" in str(raised.value)


def test_save_with_errors_is_refused_with_the_list(store, ids):
    session = load(store)
    session.push(DeleteGridCommand(session, ids["B2"]))
    with store.engine.connect() as connection, pytest.raises(SaveRefused) as refused:
        session.save(connection)
    assert [p.kind for p in refused.value.problems if p.is_error] == ["gap"]
    assert "空隙" in str(refused.value)
    assert ids["B2"] in stored(store) and count(store, schema.audit_log) == 0


def add_case(connection, number, state, lon, lat, grid_id):
    category = seed_case_categories(connection)["other"]
    connection.execute(schema.cases.insert().values(
        number=number, source="巡查上报", category_id=category, description="", location=shapely.Point(lon, lat),
        lon=lon, lat=lat, address="", grid_id=grid_id, state=str(state), reporter_name="", reporter_phone="",
        created_at=datetime(2026, 11, 1), version=1))


def test_split_inserts_the_new_grid_and_moves_sources_and_open_cases(store, ids):
    with store.engine.begin() as connection:
        categories = seed_source_categories(connection)
        insert_sources(connection, [PollutionSource(None, name, categories["industrial"], lon, lat, ids["A2"])
                                    for name, (lon, lat) in (("南厂", xy(1.5, 0.25)), ("北厂", xy(1.5, 1.5)))])
        add_case(connection, "AJ-1", CaseState.PENDING, *xy(1.4, 0.2), ids["A2"])
        add_case(connection, "AJ-2", CaseState.CLOSED, *xy(1.4, 0.2), ids["A2"])
    session = load(store)
    command = SplitGridCommand(session, ids["A2"], [xy(0.5, 0.5), xy(2.5, 0.5)])
    session.push(command)
    with store.engine.connect() as connection:
        result = session.save(connection)
    (new_id,) = result.inserted.values()
    grids = stored(store)
    assert grids[new_id].code == "140502001003" and grids[new_id].parent_id == ids["A"]
    assert grids[new_id].version == 1 and grids[ids["A2"]].version == 2
    assert {(r.table, r.label, r.new_grid_id) for r in result.reassigned} == {("pollution_sources", "南厂", new_id),
                                                                              ("cases", "AJ-1", new_id)}
    with store.engine.connect() as connection:
        homes = dict(connection.execute(select(schema.pollution_sources.c.name, schema.pollution_sources.c.grid_id)).all())
        cases = dict(connection.execute(select(schema.cases.c.number, schema.cases.c.grid_id)).all())
        review = dict(connection.execute(select(schema.four_bounds_review.c.grid_id,
                                                schema.four_bounds_review.c.north)).all())
    assert homes == {"南厂": new_id, "北厂": ids["A2"]}
    assert cases == {"AJ-1": new_id, "AJ-2": ids["A2"]}  # a closed case stays where it was handled
    assert new_id in review and review[new_id] == "小营村"  # the new grid's 四至 awaits review
    assert new_id in session.grids and session.four_bounds.flagged  # real ids after the save
    # A later session still sees the flag until the 四至 is written.
    assert new_id in load(store).four_bounds.flagged


def test_merge_hands_everything_over_and_keeps_the_removed_grid_in_history(store, ids):
    with store.engine.begin() as connection:
        categories = seed_source_categories(connection)
        insert_sources(connection, [PollutionSource(None, "洗车场", categories["auto_repair"], *xy(3, 1.5), ids["B2"])])
    session = load(store)
    session.push(MergeGridsCommand(session, [ids["B1"], ids["B2"]], keep_id=ids["B1"]))
    with store.engine.connect() as connection:
        result = session.save(connection)
    assert result.deleted == [ids["B2"]] and ids["B2"] not in stored(store)
    assert stored(store)[ids["B1"]].boundary.equals(stored(store)[ids["B"]].boundary)
    with store.engine.connect() as connection:
        source_grid = connection.execute(select(schema.pollution_sources.c.grid_id)).scalar_one()
        change = connection.execute(select(schema.grid_history.c.change).where(
            schema.grid_history.c.grid_id == ids["B2"])).scalar_one()
    assert source_grid == ids["B1"] and change == "合并"


def test_save_inside_an_open_transaction_uses_a_savepoint(store, ids):
    session = load(store)
    session.push(MoveVertexCommand(session, ids["A2"], xy(1, 1), xy(1.2, 1.1)))
    with store.engine.connect() as connection:
        connection.execute(select(1))  # autobegin: the caller owns the transaction
        session.save(connection)
        connection.rollback()
    assert stored(store)[ids["A2"]].version == 1
