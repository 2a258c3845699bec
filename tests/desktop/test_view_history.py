"""Back/forward through previous views: Alt+←/Alt+→, the tool-bar buttons, and the pure history."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolBar

from desktop.widgets.view_history import ViewHistory
from map_helpers import open_window, view_of, wait_render, wheel

LEFT = Qt.MouseButton.LeftButton
ALT = Qt.KeyboardModifier.AltModifier


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def window(qtbot, workspace):
    win = open_window(qtbot, workspace.store)
    clock = Clock()
    win.interaction.history._clock = clock  # each user step below is "seconds apart"
    win.clock = clock
    return win


def _step(window) -> None:
    window.clock.now += 5


def _extent(window):
    return window.canvas.viewport().extent


def test_alt_left_and_right_restore_extents(qtbot, window):
    canvas = window.canvas
    full = _extent(window)
    _step(window)
    wheel(canvas, QPoint(300, 200), 2)  # two notches in one burst: one step
    zoomed = _extent(window)
    _step(window)
    qtbot.mousePress(canvas, LEFT, Qt.KeyboardModifier.NoModifier, QPoint(300, 200))
    QTest.mouseMove(canvas, QPoint(340, 230))
    qtbot.mouseRelease(canvas, LEFT, Qt.KeyboardModifier.NoModifier, QPoint(380, 260))
    panned = _extent(window)
    assert len({full, zoomed, panned}) == 3 and len(window.interaction.history) == 3

    qtbot.keyClick(canvas, Qt.Key.Key_Left, ALT)
    assert _extent(window) == pytest.approx(zoomed)
    qtbot.keyClick(canvas, Qt.Key.Key_Left, ALT)
    assert _extent(window) == pytest.approx(full)
    assert not window.map_actions["back"].isEnabled()
    qtbot.keyClick(canvas, Qt.Key.Key_Left, ALT)  # nothing before the first view
    assert _extent(window) == pytest.approx(full)
    qtbot.keyClick(canvas, Qt.Key.Key_Right, ALT)
    qtbot.keyClick(canvas, Qt.Key.Key_Right, ALT)
    assert _extent(window) == pytest.approx(panned)
    assert not window.map_actions["forward"].isEnabled() and window.map_actions["back"].isEnabled()
    wait_render(qtbot, canvas)


def test_toolbar_buttons_go_back_and_forward(qtbot, window):
    canvas = window.canvas
    full = view_of(canvas)
    _step(window)
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    zoomed = view_of(canvas)
    toolbar = window.findChild(QToolBar, "mapToolBar")
    back = toolbar.widgetForAction(window.map_actions["back"])
    forward = toolbar.widgetForAction(window.map_actions["forward"])
    assert back.isEnabled() and not forward.isEnabled()
    qtbot.mouseClick(back, LEFT)
    assert view_of(canvas) == pytest.approx(full)
    assert forward.isEnabled()
    qtbot.mouseClick(forward, LEFT)
    assert view_of(canvas) == pytest.approx(zoomed)
    # A new move after going back drops the forward views, as in a browser.
    qtbot.mouseClick(back, LEFT)
    _step(window)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    assert not forward.isEnabled()


def test_resizing_is_not_a_step_but_zoom_to_grid_is(qtbot, window, workspace):
    steps = len(window.interaction.history)
    window.resize(1000, 700)
    qtbot.waitUntil(lambda: window.canvas.width() < 900, timeout=3000)
    assert len(window.interaction.history) == steps
    _step(window)
    window.select_grid(workspace.grids["140502002002"].id)
    assert len(window.interaction.history) == steps + 1
    window.map_actions["back"].trigger()
    window.map_actions["forward"].trigger()
    _step(window)
    window.map_actions["zoom_grid"].trigger()  # Ctrl+G: already there, no new step
    assert len(window.interaction.history) == steps + 1


# -- the pure history ------------------------------------------------------------------------
def test_history_merges_bursts_and_truncates_forward():
    clock = Clock()
    history = ViewHistory(clock=clock, merge_seconds=0.5)
    history.record((0, 0, 10))
    clock.now += 2
    history.record((0, 0, 7))
    clock.now += 0.1
    history.record((0, 0, 5))  # same burst: replaces (0, 0, 7)
    assert len(history) == 2 and history.current == (0, 0, 5)
    assert history.back() == (0, 0, 10) and history.back() is None
    assert history.forward() == (0, 0, 5) and history.forward() is None
    history.back()
    clock.now += 0.1  # right after a jump a move is a new step, not part of a burst
    history.record((9, 9, 1))
    assert not history.can_forward and len(history) == 2 and history.current == (9, 9, 1)
    history.record((9, 9, 1 + 1e-9))  # float noise is the same view
    assert len(history) == 2


def test_history_is_bounded_and_reports_changes():
    clock = Clock()
    changes = []
    history = ViewHistory(clock=clock, limit=3)
    history.on_change = lambda: changes.append((history.can_back, history.can_forward))
    for n in range(5):
        clock.now += 1
        history.record((n, 0, 1))
    assert len(history) == 3 and history.back() == (3, 0, 1)
    assert changes[-1] == (True, True)
    history.clear()
    assert history.current is None and not history.can_back and changes[-1] == (False, False)
