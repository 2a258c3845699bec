"""Helpers for the map interaction tests: a loaded window, real wheel events, map ↔ screen."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QInputMethodEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop.main_window import MainWindow
from desktop.widgets.map_geometry import lonlat_to_mercator


def open_window(qtbot, store, size=(1200, 800)) -> MainWindow:
    """A shown, activated window with its data, first map image and interaction indexes ready."""
    win = MainWindow(store, remember=False)
    qtbot.addWidget(win)
    win.resize(*size)
    with qtbot.waitSignal(win.mapReady, timeout=20_000):
        win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: win.interaction.indexes(wait=False) is not None, timeout=10_000)
    win.canvas.setFocus()
    return win


def screen_point(canvas, lon: float, lat: float) -> QPoint:
    x, y = lonlat_to_mercator(lon, lat)
    sx, sy = canvas.viewport().world_to_screen(float(x), float(y))
    return QPoint(round(sx), round(sy))


def move_mouse(widget, pos: QPoint) -> None:
    """A real mouse move to ``pos``; Qt drops a move to where the cursor already is (e.g. left
    there by an earlier test), so arrive from the neighbouring pixel."""
    QTest.mouseMove(widget, pos + QPoint(3, 2))
    QTest.mouseMove(widget, pos)


def wheel(canvas, pos: QPoint, notches: float) -> None:
    """A real QWheelEvent (pytest-qt has no wheel helper) sent through QApplication."""
    position = QPointF(pos)
    QApplication.sendEvent(canvas, QWheelEvent(
        position, QPointF(canvas.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, round(120 * notches)),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False))


def wait_render(qtbot, canvas) -> None:
    if canvas.render_pending:
        with qtbot.waitSignal(canvas.renderFinished, timeout=10_000):
            pass


def view_of(canvas) -> tuple[float, float, float]:
    vp = canvas.viewport()
    return vp.cx, vp.cy, vp.res


def type_text(widget, text: str) -> None:
    """Type like a user: ASCII as key clicks, Chinese as an input-method commit (QTest has no CJK keys)."""
    for chunk in _runs(text):
        if chunk.isascii():
            QTest.keyClicks(widget, chunk)
        else:
            event = QInputMethodEvent()
            event.setCommitString(chunk)
            QApplication.sendEvent(widget, event)


def _runs(text: str) -> list[str]:
    runs: list[str] = []
    for char in text:
        if runs and runs[-1][-1].isascii() == char.isascii():
            runs[-1] += char
        else:
            runs.append(char)
    return runs
