"""Validation on the demo district (935 polygon grids, exact coverage): nothing to report, fast;
and ``envgrid validate`` with its exit status and JSON."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import update
from test_editing_world import box, store_sample

from gis.cli import main
from gis.demo.build import build_demo
from gis.storage import schema
from gis.storage.store import open_store
from gis.validation import validate_workspace


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    store = open_store(path)
    build_demo(store, seed=20181, as_of=datetime(2026, 11, 20, 9, 0))
    store.close()
    return str(path)


@pytest.fixture
def broken_db(tmp_path):
    """The hand-made hierarchy with 东头村 pushed out of 西街街道 (an error)."""
    store = open_store(tmp_path / "broken.sqlite")
    with store.engine.begin() as connection:
        ids = store_sample(connection)
        connection.execute(update(schema.grids).where(schema.grids.c.id == ids["B1"])
                           .values(boundary=box(2, -0.1, 4, 1)))
    store.close()
    return str(tmp_path / "broken.sqlite")


def validate_cli(capsys, *argv) -> tuple[int, str]:
    code = main(["validate", *argv])
    return code, capsys.readouterr().out


def test_demo_hierarchy_is_clean(demo_db):
    store = open_store(demo_db)
    with store.engine.connect() as connection:
        problems = validate_workspace(connection)
    store.close()
    assert [p.message for p in problems] == []


def test_cli_on_the_demo_exits_0_with_an_empty_list(demo_db, capsys):
    code, out = validate_cli(capsys, "--db", demo_db, "--json")
    assert code == 0 and json.loads(out) == {"problems": []}


def test_cli_reports_errors_and_exits_1(broken_db, capsys):
    code, out = validate_cli(capsys, "--db", broken_db, "--json")
    problems = json.loads(out)["problems"]
    assert code == 1
    assert [p["kind"] for p in problems if p["severity"] == "error"] == ["outside_parent"]
    assert problems[0]["grids"] == ["140502002001", "140502002"]
    # Staff is not in the sample workspace: every grid warns, which alone does not fail.
    code, _ = validate_cli(capsys, "--db", broken_db, "--json", "--level", "2")
    assert code == 0
    code, out = validate_cli(capsys, "--db", broken_db, "--tolerance", "1e9")
    assert code == 0 and "警告" in out and "错误 [" not in out


def test_cli_refuses_a_missing_workspace(tmp_path, capsys):
    assert main(["validate", "--db", str(tmp_path / "nope.sqlite")]) == 2
