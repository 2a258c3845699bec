"""Choosing and preparing the workspace the window opens (demo build on first start)."""
from __future__ import annotations

import sys
import types

import pytest
import shapely

from desktop.app import BUILDING_DEMO_TEXT, is_default_demo, prepare_workspace, remembered_workspace
from desktop.main_window import LAST_WORKSPACE_KEY, app_settings
from gis.domain import Grid
from gis.storage.grids import count_by_level, insert_grids
from gis.storage.store import default_db_path


@pytest.fixture
def fake_demo_builder(monkeypatch):
    """Stands in for gis.demo.build: one grid, reported in two steps."""
    calls = []

    def build_demo(store, *, seed=20181, force=False, progress=None):
        calls.append(seed)
        progress("生成网格")
        with store.engine.begin() as connection:
            insert_grids(connection, [Grid(None, "140502", "城区", 1, None, shapely.box(112.8, 35.4, 112.9, 35.5))])
        progress("完成")
        return {"grids": {"1": 1}}

    module = types.ModuleType("gis.demo.build")
    module.build_demo = build_demo
    monkeypatch.setitem(sys.modules, "gis.demo.build", module)
    return calls


def test_first_start_builds_the_demo_in_a_worker(qapp, fake_demo_builder):
    lines = []
    store = prepare_workspace(None, use_last=False, report=lines.append)
    try:
        assert is_default_demo(store)
        assert fake_demo_builder == [20181]
        assert lines == [BUILDING_DEMO_TEXT, "生成网格", "完成"]
        with store.engine.connect() as connection:
            assert count_by_level(connection)[1] == 1
    finally:
        store.close()
    again = prepare_workspace(None, use_last=False, report=lines.append)
    again.close()
    assert fake_demo_builder == [20181]  # later starts open it as it is


def test_an_empty_workspace_that_is_not_the_demo_stays_empty(qapp, tmp_path, fake_demo_builder):
    store = prepare_workspace(str(tmp_path / "mine.sqlite"), use_last=False, report=print)
    store.close()
    assert fake_demo_builder == []
    assert not default_db_path().exists()


def test_failing_builder_raises(qapp, monkeypatch):
    module = types.ModuleType("gis.demo.build")

    def build_demo(store, **_):
        raise ValueError("boom")

    module.build_demo = build_demo
    monkeypatch.setitem(sys.modules, "gis.demo.build", module)
    with pytest.raises(RuntimeError, match="boom"):
        prepare_workspace(None, use_last=False, report=lambda _: None)


def test_last_workspace_is_reopened_unless_deleted(qapp, small_db, tmp_path):
    settings = app_settings()
    settings.setValue(LAST_WORKSPACE_KEY, f"sqlite+pysqlite:///{small_db}")
    settings.sync()
    assert remembered_workspace() == f"sqlite+pysqlite:///{small_db}"
    store = prepare_workspace(None, use_last=True, report=print)
    assert store.url.database == small_db
    store.close()
    settings.setValue(LAST_WORKSPACE_KEY, f"sqlite+pysqlite:///{tmp_path / 'gone.sqlite'}")
    assert remembered_workspace() is None


@pytest.mark.slow
def test_screenshot_of_the_real_demo(qapp, tmp_path):
    """The whole path on the real demo builder (a few seconds)."""
    from PySide6.QtGui import QImage

    import main

    out = tmp_path / "demo.png"
    assert main.cli(["screenshot", str(out), "--size", "1280x800"]) == 0
    assert QImage(str(out)).size().toTuple() == (1280, 800)
