"""Backup → restore into an empty database → every table's count matches, on both backends."""
from __future__ import annotations

import json
import os
import uuid
from datetime import datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, inspect, text

from gis.backup import BackupError, Manifest, backup, manifest_path, restore
from gis.cli import main
from gis.demo.build import build_demo
from gis.security import accounts, passwords
from gis.storage.schema import metadata
from gis.storage.store import open_store, schema_head

AS_OF = datetime(2026, 11, 20, 9, 0)
PG_ADMIN_URL = os.environ.get("ENVGRID_TEST_PG", "")


def _fill(url) -> dict[str, int]:
    """The demo district plus an administrator (so users and audit_log are not empty); return counts."""
    store = open_store(url)
    build_demo(store, seed=20181, as_of=AS_OF)
    with store.engine.begin() as connection:
        accounts.create_first_admin(connection, "boss", "boss-password", now=AS_OF)
    counts = _counts(store)
    store.close()
    return counts


def _counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        present = set(inspect(connection).get_table_names()) & set(metadata.tables)
        return {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in sorted(present)}


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("backup-demo") / "demo.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        counts = _fill(path)
    return path, counts


@pytest.fixture
def second_pg_database():
    """URL of another empty PostgreSQL database (the restore target)."""
    if not PG_ADMIN_URL:
        pytest.skip("no PostgreSQL server configured (set ENVGRID_TEST_PG)")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"envgrid_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_sqlite_backup_and_restore_counts_match(sqlite_demo, tmp_path):
    source, counts = sqlite_demo
    manifest = backup(source, tmp_path / "demo.bak")
    assert manifest.tables == counts and manifest.backend == "sqlite" and manifest.schema_revision == schema_head()
    # audit_log: the administrator, and what the alarm engine did while the demo replayed its readings.
    assert counts["cases"] > 1000 and counts["users"] == 1 and counts["audit_log"] > 1
    stored = json.loads(manifest_path(tmp_path / "demo.bak").read_text(encoding="utf-8"))
    assert stored["tables"] == counts and stored["file"] == "demo.bak" and len(stored["sha256"]) == 64

    result = restore(tmp_path / "demo.bak", tmp_path / "restored.sqlite")
    assert result.counts == counts and result.revision_after == schema_head()
    store = open_store(tmp_path / "restored.sqlite")
    assert _counts(store) == counts
    store.close()


def test_restore_refuses_a_non_empty_target_and_damaged_backups(sqlite_demo, tmp_path):
    source, _ = sqlite_demo
    backup(source, tmp_path / "demo.bak")
    with pytest.raises(BackupError, match="not empty"):
        restore(tmp_path / "demo.bak", source)
    with pytest.raises(BackupError, match="already exists"):
        backup(source, tmp_path / "demo.bak")

    data = bytearray((tmp_path / "demo.bak").read_bytes())
    data[5000] ^= 0xFF
    (tmp_path / "damaged.bak").write_bytes(bytes(data))
    manifest_path(tmp_path / "damaged.bak").write_bytes(manifest_path(tmp_path / "demo.bak").read_bytes())
    with pytest.raises(BackupError, match="SHA-256"):
        restore(tmp_path / "damaged.bak", tmp_path / "x.sqlite")
    assert not (tmp_path / "x.sqlite").exists()

    (tmp_path / "alone.bak").write_bytes((tmp_path / "demo.bak").read_bytes())
    with pytest.raises(BackupError, match="manifest .* not found"):
        restore(tmp_path / "alone.bak", tmp_path / "y.sqlite")
    with pytest.raises(BackupError, match="backup file .* not found"):
        restore(tmp_path / "missing.bak", tmp_path / "z.sqlite")
    with pytest.raises(BackupError, match="no workspace"):
        backup(tmp_path / "missing.sqlite", tmp_path / "m.bak")


def test_counts_that_differ_from_the_manifest_are_reported(sqlite_demo, tmp_path):
    source, _ = sqlite_demo
    manifest = backup(source, tmp_path / "demo.bak")
    manifest.tables["cases"] += 1  # as if a row had been lost
    manifest.write(manifest_path(tmp_path / "demo.bak"))
    with pytest.raises(BackupError, match=r"cases: backup \d+ rows, restored \d+"):
        restore(tmp_path / "demo.bak", tmp_path / "restored.sqlite")
    assert not (tmp_path / "restored.sqlite").exists()  # the half-good copy is not left behind


def test_backup_and_restore_from_the_command_line(sqlite_demo, tmp_path, capsys):
    source, counts = sqlite_demo
    def run(*argv):
        return main(list(argv))
    assert run("backup", "--db", str(source), str(tmp_path / "cli.bak")) == 0
    assert run("restore", str(tmp_path / "cli.bak"), "--db", str(tmp_path / "cli.sqlite")) == 0
    out = capsys.readouterr().out
    assert f"{len(counts)} tables" in out and "row counts match" in out
    assert run("restore", str(tmp_path / "cli.bak"), "--db", str(tmp_path / "cli.sqlite")) == 1
    assert "not empty" in capsys.readouterr().err


def test_a_backup_restores_only_into_its_own_backend(sqlite_demo, tmp_path, monkeypatch):
    source, _ = sqlite_demo
    backup(source, tmp_path / "demo.bak")
    with pytest.raises(BackupError, match="sqlite backup"):
        restore(tmp_path / "demo.bak", "postgresql://nobody@127.0.0.1:1/none")


def test_missing_postgres_tools_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("ENVGRID_PG_BIN", str(tmp_path))
    with pytest.raises(BackupError, match="pg_dump not found in ENVGRID_PG_BIN.*postgresql-client"):
        backup("postgresql://nobody@127.0.0.1:1/none", tmp_path / "x.dump")


@pytest.mark.postgres
def test_postgres_backup_and_restore_counts_match(pg_url, second_pg_database, pg_workspace_url, tmp_path, monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    counts = _fill(pg_url)
    manifest = backup(pg_url, tmp_path / "demo.dump")
    assert manifest.backend == "postgresql" and manifest.tables == counts
    assert Manifest.read(manifest_path(tmp_path / "demo.dump")).sha256 == manifest.sha256
    with pytest.raises(BackupError, match="not empty"):
        restore(tmp_path / "demo.dump", pg_workspace_url)  # holds the (empty) schema: not empty

    result = restore(tmp_path / "demo.dump", second_pg_database)
    assert result.counts == counts and "envgrid db-roles" in result.notes[0]
    store = open_store(second_pg_database)
    assert _counts(store) == counts
    with store.engine.connect() as connection:  # PostGIS came along, geometries are real
        area = connection.execute(text("SELECT sum(ST_Area(boundary::geography)) FROM grids WHERE level = 1"))
        assert area.scalar_one() > 1e7
    store.close()
