"""The 网格 menu in the main window: problem dock, the info panel's staff link, signs from the window."""
from __future__ import annotations

import pytest
from map_helpers import open_window
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop.grid_panels.staff_dialog import StaffDialog
from desktop.workers import wait_for_background


@pytest.fixture
def window(qtbot, workspace):
    return open_window(qtbot, workspace.store)


def test_grid_menu_and_problem_dock(qtbot, window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert "网格(&G)" in titles
    panels = window.grid_panels
    assert not panels.dock.isVisible()
    panels.actions["check"].trigger()
    assert panels.dock.isVisible()
    qtbot.waitUntil(lambda: panels.problems.result is not None and not panels.problems.running, timeout=20_000)
    kinds = {p.kind for p in panels.problems.model.problems}
    assert "missing_leader" in kinds and "gap" not in kinds  # the small workspace tiles, towns lack leaders


def test_staff_link_in_the_info_panel_opens_the_dialog(qtbot, window, workspace):
    grid = workspace.grids["140502001001"]
    window.show_grid(grid.id, zoom=False)
    assert "staff:%d" % grid.id in window.info_panel.text()
    seen = []

    def close_dialog():
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, StaffDialog) and w.isVisible())
        seen.append((dialog.grid.code, dialog.card.text.splitlines()[0]))
        dialog.reject()

    QTimer.singleShot(0, close_dialog)
    window.info_panel.label.linkActivated.emit(f"staff:{grid.id}")
    assert seen == [("140502001001", "西南社区（三级网格，编码 140502001001）")]
    assert window.info_panel.current == ("grid", grid.id)  # the link did not change the selection


def test_signs_from_the_window_are_written_in_the_background(qtbot, window, workspace, tmp_path):
    out = tmp_path / "signs.pdf"
    window.grid_panels.write_signs(str(out), "A4", parent_code="140502001")
    wait_for_background()
    qtbot.waitUntil(lambda: "已生成公示牌 2 页" in window.statusBar().currentMessage(), timeout=20_000)
    assert out.read_bytes().startswith(b"%PDF")
