"""MainWindow over a small workspace: loading off-thread, tree, table, info, banner, settings."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from desktop.main_window import DEMO_BANNER, LAST_WORKSPACE_KEY, LOADING_TEXT, SCREEN_SHARE, MainWindow
from desktop.widgets.map_geometry import lonlat_to_mercator
from gis.storage.store import open_store


@pytest.fixture
def window(qtbot, workspace):
    win = MainWindow(workspace.store)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    return win


def _loaded(qtbot, win):
    if not win.is_loaded:
        with qtbot.waitSignal(win.mapReady, timeout=20_000):
            pass
    return win


def test_loads_in_background_then_fills_views(qtbot, workspace):
    win = MainWindow(workspace.store)
    qtbot.addWidget(win)
    assert not win.is_loaded  # the constructor returned before the data
    assert win.canvas.message() == LOADING_TEXT
    with qtbot.waitSignal(win.mapReady, timeout=20_000):
        win.show()
    assert win.grid_model.rowCount() == 1
    district = win.grid_model.index(0, 0)
    assert win.grid_model.rowCount(district) == 2
    qtbot.waitUntil(lambda: win.case_model.rowCount() == 4 and win.case_model.total == 4)  # pages arrive off-thread
    assert "网格 7" in win.counts_label.text() and "案件 4（未办结 3）" in win.counts_label.text()
    assert {layer.key for layer in win.canvas.layers()} >= {"grid-1", "grid-2", "grid-3", "sources", "cases"}
    assert win.canvas.last_image()[0] is not None
    assert win.canvas.message() == ""


def test_demo_banner_follows_the_setting(qtbot, window, small_db):
    _loaded(qtbot, window)
    assert window.banner.isVisible() and window.banner.text() == DEMO_BANNER
    store = open_store(small_db)  # the same data without the demo flag
    other = MainWindow(store, remember=False)
    qtbot.addWidget(other)
    other.show()
    with qtbot.waitSignal(other.dataLoaded, timeout=20_000):
        pass
    assert not other.banner.isVisible()
    other.close()
    store.close()


def test_selecting_a_grid_highlights_zooms_and_shows_info(qtbot, window, workspace):
    _loaded(qtbot, window)
    village = workspace.grids["140502002002"]  # 东北社区
    full_res = window.canvas.viewport().res
    window.select_grid(village.id)
    assert window.canvas.highlight() is not None
    assert window.canvas.viewport().res < full_res
    min_x, min_y = lonlat_to_mercator(village.boundary.bounds[0], village.boundary.bounds[1])
    ext = window.canvas.viewport().extent
    assert ext[0] <= min_x <= ext[2] and ext[1] <= min_y <= ext[3]
    text = window.info_panel.text()
    for expected in ("东北社区", "三级网格", "140502002002", "东至某路", "网格长", "13800000003", "网格员3"):
        assert expected in text
    with qtbot.waitSignal(window.canvas.renderFinished, timeout=10_000):
        pass


def test_tree_search_filters_recursively(qtbot, window):
    _loaded(qtbot, window)
    window.grid_search.setText("东北")
    district = window.grid_proxy.index(0, 0)
    assert window.grid_proxy.rowCount(district) == 1  # only 东街道 leads to 东北社区


def test_double_click_case_zooms_to_it(qtbot, window):
    _loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.case_model.rowCount() == 4)
    row = next(r for r in range(window.case_model.rowCount())
               if window.case_model.index(r, 0).data() == "AJ20240003")
    window._on_case_double_clicked(window.case_model.index(row, 0))
    case = window.case_model.case_at(row)
    centre = window.canvas.lonlat_at(window.canvas.width() / 2, window.canvas.height() / 2)
    assert centre == pytest.approx((case.lon, case.lat), abs=1e-7)


def test_click_on_map_selects_the_deepest_grid(qtbot, window, workspace):
    _loaded(qtbot, window)
    window._select_grid_at(112.82, 35.46)  # south-west quarter
    assert "西南社区" in window.info_panel.text()
    current = window.grid_model.grid_at(window.grid_proxy.mapToSource(window.grid_view.currentIndex()))
    assert current.code == "140502001001"


def test_geometry_and_workspace_are_remembered(qtbot, window, workspace, private_qsettings):
    _loaded(qtbot, window)
    window.close()
    settings = QSettings("EnvGrid", "EnvGrid")
    assert settings.value("mainWindow/geometry") is not None
    assert settings.value(LAST_WORKSPACE_KEY).endswith("small.sqlite")
    assert settings.fileName().startswith(private_qsettings)


def test_a_first_run_fills_most_of_the_screen_and_a_saved_size_wins_after(qtbot, workspace):
    win = MainWindow(workspace.store)  # no saved geometry: the private settings are empty
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.mapReady, timeout=20_000):
        win.show()
    area = win.screen().availableGeometry()
    assert abs(win.width() - area.width() * SCREEN_SHARE) <= 1
    assert abs(win.height() - area.height() * SCREEN_SHARE) <= 1
    assert abs(win.geometry().center().x() - area.center().x()) <= 1
    assert abs(win.geometry().center().y() - area.center().y()) <= 1
    smaller = (area.width() - 40, area.height() - 60)
    win.resize(*smaller)
    win.close()  # saves the geometry
    again = MainWindow(workspace.store)
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.mapReady, timeout=20_000):
        again.show()
    assert (again.width(), again.height()) == smaller
    again.close()
