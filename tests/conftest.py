"""Shared fixtures: a fresh workspace on each backend.

PostgreSQL tests use ``ENVGRID_TEST_PG`` (a URL to a server's maintenance database, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); each test gets its own
database, dropped afterwards. Without the variable they skip — unless
``ENVGRID_REQUIRE_PG=1`` (set by ``.ci/run``), when a missing server is a failure.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from gis.storage.store import open_store

PG_ADMIN_URL = os.environ.get("ENVGRID_TEST_PG", "")
REQUIRE_PG = os.environ.get("ENVGRID_REQUIRE_PG") == "1"


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory, monkeypatch):
    """Keep tests away from the user's real workspace and settings."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


def _admin_engine():
    if not PG_ADMIN_URL:
        if REQUIRE_PG:
            pytest.fail("ENVGRID_REQUIRE_PG=1 but ENVGRID_TEST_PG is not set")
        pytest.skip("no PostgreSQL server configured (set ENVGRID_TEST_PG)")
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _create_database(admin, template: str | None = None) -> str:
    name = f"envgrid_t_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    except Exception as exc:
        if REQUIRE_PG:
            raise
        pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} unusable: {exc}")
    return name


def _drop_database(admin, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_template():
    """A migrated, empty workspace database to clone: cloning is much faster than migrating."""
    admin = _admin_engine()
    name = _create_database(admin)
    open_store(admin.url.set(database=name)).close()
    yield name
    _drop_database(admin, name)
    admin.dispose()


@pytest.fixture
def pg_url():
    """URL of a new, EMPTY PostgreSQL database (no schema), dropped after the test."""
    admin = _admin_engine()
    name = _create_database(admin)
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    _drop_database(admin, name)
    admin.dispose()


@pytest.fixture
def pg_workspace_url(pg_template):
    """URL of a new PostgreSQL database that already holds the current, empty schema."""
    admin = _admin_engine()
    name = _create_database(admin, template=pg_template)
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    _drop_database(admin, name)
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    return str(tmp_path / "workspace.sqlite")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request):
    """A fresh workspace URL on each backend: the storage tests run on both."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request):
    """An open, empty workspace on each backend."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_workspace_url")
    opened = open_store(url)
    yield opened
    opened.close()
