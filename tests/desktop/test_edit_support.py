"""Shared set-up of the boundary-editing tests (no tests here).

The small workspace (two towns of two villages each) with every boundary noded: a vertex of a
child lying on a parent's edge is a vertex of the parent too, as after an import through
EnvGrid or in the demo, so topological edits move parents and children together.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import shapely
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from small_workspace import EAST, MID_LAT, MID_LON, NORTH, SOUTH, WEST, build_small_workspace

from gis.editing.rings import key, to_rings
from gis.editing.topology import insert_points
from gis.storage import schema
from gis.storage.grids import read_grids
from gis.storage.store import open_store
from map_helpers import move_mouse, open_window, screen_point

__all__ = ["EAST", "MID_LAT", "MID_LON", "NORTH", "SOUTH", "WEST", "Answers", "click", "double_click", "drag",
           "edit_window", "grids_by_code", "key_click", "noded_store", "noded_workspace", "start_editing"]


def node_workspace(store) -> None:
    """Insert every polygon vertex into every edge it lies on, in the database."""
    with store.engine.begin() as connection:
        grids = [g for g in read_grids(connection) if g.level <= 4]
        geoms = {g.id: g.boundary for g in grids}
        points = [k for geom in geoms.values() for part in to_rings(geom) for ring in part
                  for k in map(key, ring[:-1])]
        for grid_id, geom in insert_points(geoms, points, list(geoms)).items():
            connection.execute(schema.grids.update().where(schema.grids.c.id == grid_id).values(boundary=geom))


@pytest.fixture
def noded_workspace(tmp_path):
    store = open_store(str(tmp_path / "edit.sqlite"))
    grids = build_small_workspace(store)
    node_workspace(store)
    yield SimpleNamespace(store=store, grids=grids, path=str(tmp_path / "edit.sqlite"))
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def noded_store(request):
    """The noded small workspace on each backend (for the save and conflict tests)."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_workspace_url")
    store = open_store(url)
    grids = build_small_workspace(store)
    node_workspace(store)
    yield SimpleNamespace(store=store, grids=grids)
    store.close()


class Answers:
    """Stands in for `EditPrompts`: canned answers, and a record of what was asked."""

    def __init__(self, **answers):
        self.answers = {"level": 3, "name": None, "confirm": True, "keeper": None, "conflict": "cancel", **answers}
        self.asked: list[tuple] = []

    def choose_level(self, levels, default):
        self.asked.append(("level", tuple(levels)))
        return self.answers["level"]

    def ask_name(self, default):
        self.asked.append(("name", default))
        return self.answers["name"] or default

    def confirm(self, title, text):
        self.asked.append(("confirm", text))
        return self.answers["confirm"]

    def choose_keeper(self, grids):
        self.asked.append(("keeper", tuple(g.id for g in grids)))
        keeper = self.answers["keeper"]
        return keeper(grids) if callable(keeper) else (keeper if keeper is not None else grids[0].id)

    def warn(self, title, text, *, loud=False):
        self.asked.append(("warn", text, loud))

    def show_problems(self, problems, *, refused, zoom=None):
        self.asked.append(("problems", tuple(problems), refused))

    def resolve_conflict(self, conflicts):
        self.asked.append(("conflict", tuple(conflicts)))
        return self.answers["conflict"]

    def of(self, kind):
        return [a for a in self.asked if a[0] == kind]


def edit_window(qtbot, store, answers: Answers | None = None, size=(1000, 760)):
    window = open_window(qtbot, store, size)
    window.editing.prompts = answers or Answers()
    return window


def start_editing(qtbot, window, level: int = 3):
    window.editing.prompts.answers["level"] = level
    window.editing.actions["start"].trigger()
    assert window.editing.editing and window.editing.level == level
    return window.editing


def grids_by_code(session) -> dict:
    return {g.code: g for g in session.grids.values()}


def _pos(canvas, lonlat) -> QPoint:
    return screen_point(canvas, *lonlat)


def click(canvas, lonlat, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    pos = _pos(canvas, lonlat)
    move_mouse(canvas, pos)
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, modifier, pos)


def double_click(canvas, lonlat, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """What Qt delivers for a real double-click: press, release, double-click, release."""
    pos = _pos(canvas, lonlat)
    move_mouse(canvas, pos)
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, modifier, pos)
    QTest.mouseDClick(canvas, Qt.MouseButton.LeftButton, modifier, pos)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, modifier, pos)


def drag(canvas, start, end, steps: int = 6, screenshot=None) -> None:
    """Press at ``start``, move in steps, release at ``end`` (real mouse events)."""
    a, b = _pos(canvas, start), _pos(canvas, end)
    move_mouse(canvas, a)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for n in range(1, steps + 1):
        p = a + (b - a) * (n / steps)
        QTest.mouseMove(canvas, p)
    if screenshot is not None:
        screenshot()
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def key_click(canvas, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(canvas, key, modifier)


def box_boundary(session, code):
    return shapely.normalize(grids_by_code(session)[code].boundary)
