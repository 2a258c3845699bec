"""Opening workspaces on both backends: migration, version refusal, pragmas, schema parity."""
from __future__ import annotations

import pytest
import shapely
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import DBAPIError

from gis.storage import schema
from gis.storage.store import StoreError, default_db_path, open_store, resolve_db_url, schema_head


@pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry'")
def test_new_workspace_is_at_head_and_matches_the_metadata(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == schema_head()
        # Types on SQLite are loose; on PostgreSQL the migrated columns must match exactly.
        diffs = compare_metadata(context, schema.metadata)
    # PostGIS's own table and our GiST indexes (checked separately below) are not in the metadata.
    diffs = [d for d in diffs if not (isinstance(d, tuple) and (
        (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")
        or (d[0] == "remove_index" and d[1].name.startswith("sx_"))))]
    assert diffs == []


def test_reopening_does_not_migrate_again(db_url):
    open_store(db_url).close()
    store = open_store(db_url)
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    store.close()


def test_newer_schema_is_refused_and_left_alone(db_url):
    store = open_store(db_url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    store.close()
    with pytest.raises(StoreError, match="newer than this EnvGrid"):
        open_store(db_url)
    engine = create_engine(resolve_db_url(db_url))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "9999_future"
    engine.dispose()


def test_foreign_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE customers (id integer)"))
    engine.dispose()
    with pytest.raises(StoreError, match="not an EnvGrid workspace.*customers"):
        open_store(path)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url):
    store = open_store(sqlite_url)
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    store.close()


def test_geometry_round_trips_exactly(store):
    polygon = shapely.MultiPolygon([shapely.Polygon([(112.8, 35.5), (112.9, 35.5), (112.85, 35.51234567891)])])
    with store.engine.begin() as connection:
        connection.execute(insert(schema.grids).values(
            code="X", name="x", level=1, boundary=polygon, area_m2=1.0, min_lon=0, min_lat=0, max_lon=0,
            max_lat=0, east="", south="", west="", north="", duties="", version=1,
            created_at=__import__("datetime").datetime.now(), updated_at=__import__("datetime").datetime.now()))
        stored = connection.execute(select(schema.grids.c.boundary)).scalar_one()
    assert shapely.equals_exact(stored, polygon, tolerance=0)


@pytest.mark.postgres
def test_postgis_columns_are_typed_with_srid_and_indexed(pg_url):
    store = open_store(pg_url)
    with store.engine.connect() as connection:
        columns = connection.execute(text(
            "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns ORDER BY 1")).all()
        indexes = connection.execute(text(
            "SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING gist%'")).scalars().all()
    store.close()
    assert {(t, c) for t, c, *_ in columns} == set(schema.GEOMETRY_COLUMNS)
    assert all(srid == 4490 for _, _, srid, _ in columns)
    assert ("pollution_sources", "location", 4490, "POINT") in [tuple(c) for c in columns]
    assert len(indexes) == len(schema.GEOMETRY_COLUMNS)


def test_history_tables_are_append_only(store):
    now = __import__("datetime").datetime.now()
    with store.engine.begin() as connection:
        connection.execute(insert(schema.audit_log).values(at=now, user_name="u", host="", action="login"))
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with store.engine.begin() as connection:
                connection.execute(text(statement))
    with store.engine.connect() as connection:
        assert connection.execute(select(schema.audit_log.c.action)).scalars().all() == ["login"]


def test_db_argument_resolution(tmp_path):
    assert resolve_db_url(str(tmp_path / "a.sqlite")).database == str(tmp_path / "a.sqlite")
    assert resolve_db_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert resolve_db_url(None).database == str(default_db_path())
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        resolve_db_url("mysql://u@h/db")


def test_unreachable_server_gives_one_clear_error():
    with pytest.raises(StoreError, match="cannot open workspace postgresql\\+psycopg://nobody@127.0.0.1:1/x"):
        open_store("postgresql://nobody@127.0.0.1:1/x")


def test_read_only_commands_do_not_create_a_workspace_at_a_mistyped_path(tmp_path, capsys):
    from gis.cli import main

    missing = tmp_path / "typo.sqlite"
    assert main(["info", "--db", str(missing), "--json"]) == 2
    assert f"no workspace at {missing}" in capsys.readouterr().err
    assert not missing.exists()


def test_a_savepoint_first_in_a_transaction_does_not_commit_on_release(db_url):
    """pysqlite emits no BEGIN before a SAVEPOINT; the store's engine does, so the outer rollback wins."""
    from sqlalchemy import text

    store = open_store(db_url)
    try:
        with store.engine.begin() as connection:
            connection.execute(text("CREATE TABLE sp_probe (x integer)"))
        with pytest.raises(RuntimeError):
            with store.engine.begin() as connection:
                with connection.begin_nested():
                    connection.execute(text("INSERT INTO sp_probe VALUES (1)"))
                raise RuntimeError("the outer transaction fails after the savepoint was released")
        with store.engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM sp_probe")).scalar_one() == 0
            with connection.begin_nested():
                connection.execute(text("INSERT INTO sp_probe VALUES (2)"))
        with store.engine.connect() as connection:
            assert connection.execute(text("SELECT x FROM sp_probe")).scalars().all() == [2]
    finally:
        store.close()
