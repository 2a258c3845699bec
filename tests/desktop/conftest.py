"""Desktop test set-up: offscreen Qt, private QSettings, a small hand-made workspace.

QT_QPA_PLATFORM must be set before anything imports Qt, hence at module top.
"""
from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from types import SimpleNamespace  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from gis.storage.store import open_store  # noqa: E402
from small_workspace import build_small_workspace  # noqa: E402


@pytest.fixture(autouse=True)
def private_qsettings(tmp_path_factory):
    """QSettings go to a fresh folder per test, never to the user's EnvGrid settings."""
    folder = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)
        QSettings.setPath(fmt, QSettings.Scope.SystemScope, folder)
    yield folder


@pytest.fixture
def small_db(tmp_path) -> str:
    path = str(tmp_path / "plain.sqlite")
    store = open_store(path)
    build_small_workspace(store)
    store.close()
    return path


@pytest.fixture
def wall_url(small_db) -> str:
    """The workspace a wall test opens (test modules that need more in it override this)."""
    return small_db


@pytest.fixture
def wall_store(wall_url):
    store = open_store(wall_url)
    yield store
    store.close()


@pytest.fixture
def workspace(tmp_path):
    """An open demo-flagged small workspace and its grids by code."""
    store = open_store(str(tmp_path / "small.sqlite"))
    grids = build_small_workspace(store, demo=True)
    yield SimpleNamespace(store=store, grids=grids)
    store.close()
