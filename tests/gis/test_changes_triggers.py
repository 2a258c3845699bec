"""The change-feed triggers on both backends: right table, row, op and info; same transaction as the change.

Also imported by the other ``test_changes_*`` modules for :func:`add_person` and :func:`grid_values`.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import shapely
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from gis.hj212.writer import insert_readings
from gis.storage import schema
from gis.storage.changes import latest_change_id, read_changes

NOW = datetime(2026, 9, 14, 9, 0)


def add_person(connection, name: str = "张三") -> int:
    return connection.execute(insert(schema.people).values(name=name, created_at=NOW)
                              .returning(schema.people.c.id)).scalar_one()


def grid_values(code: str, parent_id=None) -> dict:
    box = shapely.MultiPolygon([shapely.box(112.8, 35.4, 112.9, 35.5)])
    return {"code": code, "name": f"网格{code}", "level": 2 if parent_id else 1, "parent_id": parent_id,
            "boundary": box, "min_lon": 112.8, "min_lat": 35.4, "max_lon": 112.9, "max_lat": 35.5,
            "created_at": NOW, "updated_at": NOW}


def _point() -> dict:
    return {"location": shapely.Point(112.85, 35.45), "lon": 112.85, "lat": 35.45}


def add_parents(connection) -> dict[str, int]:
    """One row of each parent a watched row needs: grid, person, categories, station, case."""
    ids = {"grid": connection.execute(insert(schema.grids).values(**grid_values("G0"))
                                      .returning(schema.grids.c.id)).scalar_one()}
    ids["person"] = add_person(connection)
    ids["source_category"] = connection.execute(insert(schema.source_categories).values(code="c", name="化工")
                                                .returning(schema.source_categories.c.id)).scalar_one()
    ids["case_category"] = connection.execute(select(func.min(schema.case_categories.c.id))).scalar_one()
    ids["station"] = connection.execute(insert(schema.stations).values(
        mn="MN0", name="站0", kind="air", grid_id=ids["grid"], created_at=NOW, **_point())
        .returning(schema.stations.c.id)).scalar_one()
    ids["case"] = connection.execute(insert(schema.cases).values(
        number="AJ0", source="巡查上报", category_id=ids["case_category"], state="待受理", grid_id=ids["grid"],
        created_at=NOW).returning(schema.cases.c.id)).scalar_one()
    return ids


# table → (values of a new row given the parents, values of an update, info of the row after the update)
ROWS = {
    "grids": (lambda p: grid_values("G1", p["grid"]), {"name": "改名"}, lambda p: {"code": "G1", "level": 2}),
    "people": (lambda p: {"name": "李四", "created_at": NOW}, {"phone": "139"}, lambda p: {}),
    "assignments": (lambda p: {"grid_id": p["grid"], "person_id": p["person"], "role": "网格员",
                               "start_date": NOW.date()}, {"role": "网格长"},
                    lambda p: {"grid_id": p["grid"], "person_id": p["person"], "role": "网格长"}),
    "pollution_sources": (lambda p: {"name": "某厂", "category_id": p["source_category"], "grid_id": p["grid"],
                                     "status": "在产", "created_at": NOW, **_point()}, {"status": "停产"},
                          lambda p: {"grid_id": p["grid"], "status": "停产"}),
    "stations": (lambda p: {"mn": "MN1", "name": "站1", "kind": "water", "grid_id": p["grid"], "created_at": NOW,
                            **_point()}, {"grid_id": None}, lambda p: {"mn": "MN1", "grid_id": None}),
    "cases": (lambda p: {"number": "AJ1", "source": "群众举报", "category_id": p["case_category"], "state": "待受理",
                         "grid_id": p["grid"], "created_at": NOW}, {"state": "已派发"},
              lambda p: {"number": "AJ1", "state": "已派发", "grid_id": p["grid"]}),
    "alarms": (lambda p: {"station_id": p["station"], "pollutant": "a34004", "value": 180.0, "threshold": 75.0,
                          "raised_at": NOW, "grid_id": p["grid"], "status": "open", "due_at": NOW + timedelta(hours=24)},
               {"status": "closed", "case_id": None},
               lambda p: {"station_id": p["station"], "status": "closed", "grid_id": p["grid"], "case_id": None}),
}


def _changes_after(store, after: int) -> list[tuple]:
    with store.engine.connect() as connection:
        return [(c.table, c.row_id, c.op, c.info) for c in read_changes(connection, after)]


def _latest(store) -> int:
    with store.engine.connect() as connection:
        return latest_change_id(connection)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_insert_update_delete_each_record_one_change(store, name):
    table = schema.metadata.tables[name]
    new_values, changed, info_after = ROWS[name]
    with store.engine.begin() as connection:
        parents = add_parents(connection)
    start = _latest(store)
    with store.engine.begin() as connection:
        row_id = connection.execute(insert(table).values(**new_values(parents)).returning(table.c.id)).scalar_one()
    with store.engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == row_id).values(**changed))
    with store.engine.begin() as connection:
        connection.execute(delete(table).where(table.c.id == row_id))

    found = _changes_after(store, start)
    assert [(t, r, op) for t, r, op, _ in found] == [(name, row_id, "insert"), (name, row_id, "update"),
                                                     (name, row_id, "delete")]
    assert found[1][3] == found[2][3] == info_after(parents)  # a delete describes the row it removed
    assert set(found[0][3]) == set(info_after(parents))


def test_the_parents_themselves_are_in_the_feed_in_order(store):
    with store.engine.begin() as connection:
        parents = add_parents(connection)
    found = _changes_after(store, 0)
    # Source categories are not watched; the seeded case categories predate the feed.
    assert [(t, r, op) for t, r, op, _ in found] == [
        ("grids", parents["grid"], "insert"), ("people", parents["person"], "insert"),
        ("stations", parents["station"], "insert"), ("cases", parents["case"], "insert")]
    assert found[-1][3] == {"number": "AJ0", "state": "待受理", "grid_id": parents["grid"]}


def test_case_events_append_only_and_in_the_feed(store):
    with store.engine.begin() as connection:
        parents = add_parents(connection)
    start = _latest(store)
    with store.engine.begin() as connection:
        event_id = connection.execute(insert(schema.case_events).values(
            case_id=parents["case"], at=NOW, actor="坐席", action="派发", from_state="待受理", to_state="已派发")
            .returning(schema.case_events.c.id)).scalar_one()
    for statement in ("UPDATE case_events SET note = 'x'", "DELETE FROM case_events"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))
    assert _changes_after(store, start) == [
        ("case_events", event_id, "insert", {"case_id": parents["case"], "action": "派发", "to_state": "已派发"})]


def test_a_rolled_back_change_leaves_no_change_row(store):
    with store.engine.begin() as connection:
        add_parents(connection)
    start = _latest(store)
    with store.engine.connect() as connection:
        add_person(connection, "回滚")
        assert connection.execute(select(func.count()).select_from(schema.changes)
                                  .where(schema.changes.c.id > start)).scalar_one() == 1
        connection.rollback()
    with store.engine.begin() as connection:  # a savepoint rolled back inside a committed transaction
        kept = add_person(connection, "保留")
        savepoint = connection.begin_nested()
        add_person(connection, "撤销")
        savepoint.rollback()
    assert _changes_after(store, start) == [("people", kept, "insert", {})]


def test_cascaded_deletes_are_seen_too(store):
    with store.engine.begin() as connection:
        parents = add_parents(connection)
        child = connection.execute(insert(schema.grids).values(**grid_values("G9", parents["grid"]))
                                   .returning(schema.grids.c.id)).scalar_one()
        assignment = connection.execute(insert(schema.assignments).values(
            grid_id=child, person_id=parents["person"], role="网格员", start_date=NOW.date())
            .returning(schema.assignments.c.id)).scalar_one()
    start = _latest(store)
    with store.engine.begin() as connection:
        connection.execute(delete(schema.grids).where(schema.grids.c.id == child))
    assert sorted((t, r, op) for t, r, op, _ in _changes_after(store, start)) == [
        ("assignments", assignment, "delete"), ("grids", child, "delete")]


def test_readings_make_one_change_per_station_per_statement_on_postgres(store):
    with store.engine.begin() as connection:
        parents = add_parents(connection)
        other = connection.execute(insert(schema.stations).values(mn="MN2", name="站2", kind="air", created_at=NOW,
                                                                  **_point()).returning(schema.stations.c.id)).scalar_one()
    start = _latest(store)
    rows = [{"station_id": station, "mn": mn, "cn": "2011", "data_time": NOW + timedelta(seconds=30 * i),
             "pollutant": code, "rtd": 1.0, "avg": None, "min": None, "max": None, "flag": "N", "received_at": NOW}
            for i in range(3) for station, mn in ((parents["station"], "MN0"), (other, "MN2"), (None, "UNKNOWN"))
            for code in ("a34004", "a34002")]
    with store.engine.begin() as connection:
        insert_readings(connection, rows)  # COPY on PostgreSQL
        later = [{**row, "data_time": row["data_time"] + timedelta(hours=1)} for row in rows[:2]]
        connection.execute(insert(schema.readings).values(later))  # one multi-row INSERT statement
    found = _changes_after(store, start)
    if not store.is_postgres:
        assert found == []  # SQLite has no statement triggers: readings are not in its feed (documented)
        return
    assert found == [("readings", parents["station"], "insert", {"rows": 6}), ("readings", other, "insert", {"rows": 6}),
                     ("readings", parents["station"], "insert", {"rows": 2})]


def test_change_times_are_utc_and_ids_increase(store):
    before = datetime.now().astimezone()
    with store.engine.begin() as connection:
        add_parents(connection)
    after = datetime.now().astimezone()
    with store.engine.connect() as connection:
        found = read_changes(connection, 0)
    assert [c.id for c in found] == sorted({c.id for c in found})
    assert all(before - timedelta(seconds=1) <= c.at <= after + timedelta(seconds=1) for c in found)
    assert found[0].to_json()["at"].endswith("Z")


def test_upgrading_a_workspace_with_data_starts_an_empty_feed(db_url):
    from alembic import command

    from gis.storage.store import (
        _alembic_config,
        create_store_engine,
        open_store,
        resolve_db_url,
    )

    engine = create_store_engine(resolve_db_url(db_url))
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0002")
        old = add_person(connection, "升级前")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0003")
    engine.dispose()
    store = open_store(db_url)  # on to the head, whatever later migrations add
    try:
        assert _changes_after(store, 0) == []  # history before the feed existed is not invented
        with store.engine.begin() as connection:
            connection.execute(update(schema.people).where(schema.people.c.id == old).values(phone="1"))
        assert _changes_after(store, 0) == [("people", old, "update", {})]
    finally:
        store.close()
