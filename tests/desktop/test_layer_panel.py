"""The layer panel: visibility, opacity, order, legend, basemap; styles saved with the workspace."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from tile_server import TileServer

from desktop.main_window import MainWindow
from desktop.widgets.map_styling import is_live
from gis.map_styles import SETTING_KEY
from gis.storage.info import get_setting
from gis.storage.store import open_store
from gis.tile_sources import default_config_path


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def open_window(qtbot, store) -> MainWindow:
    window = MainWindow(store, remember=False)
    qtbot.addWidget(window)
    window.resize(1300, 850)
    with qtbot.waitSignal(window.mapReady, timeout=20_000):
        window.show()
    return window


def keys(window) -> list[str]:
    return [layer.key for layer in window.canvas.layers()]


def test_panel_lists_layers_top_first_with_legends(qtbot, workspace):
    window = open_window(qtbot, workspace.store)
    panel = window.layer_control.panel
    tree = panel.tree
    shown = [tree.topLevelItem(n).data(0, Qt.ItemDataRole.UserRole) for n in range(tree.topLevelItemCount())]
    assert shown == list(reversed(keys(window)))
    assert shown[:2] == ["cases", "stations"]  # live layers are always on top
    cases = panel.item_for("cases")
    labels = [cases.child(n).text(0) for n in range(cases.childCount())]
    assert labels[0].startswith("已超期") and any(text.startswith("已办结") for text in labels)
    closed = panel.item_for("cases", "closed")
    assert closed.checkState(0) == Qt.CheckState.Unchecked  # closed cases hidden by default
    assert not panel.item_for("grid-2").icon(0).isNull()  # line swatch
    assert panel.item_for("sources").childCount() >= 2  # categories in use
    window.close()


def test_visibility_opacity_order_and_colour_reach_the_map(qtbot, workspace):
    window = open_window(qtbot, workspace.store)
    panel, canvas = window.layer_control.panel, window.canvas

    with qtbot.waitSignal(canvas.renderFinished, timeout=10_000):
        panel.item_for("grid-3").setCheckState(0, Qt.CheckState.Unchecked)
    assert not canvas.is_layer_visible("grid-3") and not panel.styles().layers["grid-3"].visible
    menu = next(a for a in window.layer_menu.actions() if a.data() == "grid-3")
    assert not menu.isChecked()  # the View menu follows the panel …
    menu.setChecked(True)
    assert canvas.is_layer_visible("grid-3")  # … and the panel follows the menu
    assert panel.item_for("grid-3").checkState(0) == Qt.CheckState.Checked

    panel.tree.setCurrentItem(panel.item_for("grid-2"))
    panel.opacity.setValue(40)
    assert canvas.layer_opacity("grid-2") == pytest.approx(0.4)

    before = keys(window)
    assert panel.move_layer("sources", -1)
    after = keys(window)
    assert after.index("sources") == before.index("sources") - 1
    assert not panel.move_layer("cases", -5) or all(is_live(canvas.layer(k)) for k in keys(window)[-2:])
    assert [k for k in keys(window) if is_live(canvas.layer(k))] == keys(window)[-2:]

    panel.set_colour("grid-2", "", "#ff0000")
    panel.set_line_width("grid-2", 4.0)
    assert (canvas.layer("grid-2").style.colour, canvas.layer("grid-2").style.width) == ("#ff0000", 4.0)
    assert canvas.layer("grid-2-labels").grids is canvas.layer("grid-2")  # names follow their lines

    panel.item_for("cases", "closed").setCheckState(0, Qt.CheckState.Checked)
    assert window.layer_control.pins.visible[0] is True
    window.close()


def test_styles_are_saved_with_the_workspace_and_restored(qtbot, workspace, tmp_path):
    path = workspace.store.url.database
    with TileServer() as server:
        window = open_window(qtbot, workspace.store)
        panel = window.layer_control.panel
        panel.set_visible("grid-3", False)
        panel.set_opacity("sources", 0.5)
        panel.move_layer("grid-1", +1)
        panel.set_colour("grid-2", "", "#00aa00")
        panel.set_class_visible("cases", "closed", True)
        panel.set_colour("cases", "new", "#123456")
        from desktop.widgets.basemap_picker import xyz_basemap

        basemap = window.layer_control.basemaps.add_basemap(xyz_basemap(server.url("terrain"), "局域网底图"))
        assert panel.choose_basemap(basemap.id)
        assert window.canvas.layer_opacity("grid-1-fill") < 1  # the district fill lets the tiles through
        order = keys(window)
        window.close()  # saves what the debounce has not written yet

        store = open_store(path)
        with store.engine.connect() as connection:
            saved = get_setting(connection, SETTING_KEY)
        assert saved["basemap"] == basemap.id and saved["layers"]["grid-3"]["visible"] is False
        default_config_path().unlink()  # another seat: only the workspace knows the intranet server

        again = open_window(qtbot, store)
        canvas = again.canvas
        assert not canvas.is_layer_visible("grid-3")
        assert canvas.layer_opacity("sources") == pytest.approx(0.5)
        assert keys(again) == order
        assert canvas.layer("grid-2").style.colour == "#00aa00"
        pins = again.layer_control.pins
        assert pins.visible[0] is True and pins.colour_of("new") == "#123456"
        assert again.layer_control.basemaps.current().id == basemap.id
        assert again.layer_control.panel.basemap_combo.currentData() == basemap.id
        again.close()
        store.close()


def test_gcj02_basemap_shows_a_banner(qtbot, workspace):
    window = open_window(qtbot, workspace.store)
    control = window.layer_control
    with TileServer() as server:
        from gis.tile_sources import GCJ02, Basemap, TileSource

        amap_like = control.basemaps.add_basemap(Basemap("gaode-local", "高德（本地）", (TileSource(
            "gaode-local", "高德（本地）", server.url(), crs=GCJ02),)), save=False)
        control.panel.choose_basemap(amap_like.id)
        assert control.banner.isVisible() and "GCJ-02" in control.banner.text()
        assert control.panel.notice.isVisible()
        assert "GCJ-02" in control.panel.basemap_combo.currentText()
        control.panel.choose_basemap("none")
        assert not control.banner.isVisible()
        window.close()


def test_grid_level_filled_by_a_statistic_with_legend_saved_with_the_workspace(qtbot, workspace):
    path = workspace.store.url.database
    window = open_window(qtbot, workspace.store)
    panel, canvas = window.layer_control.panel, window.canvas
    with pytest.raises(ValueError, match="unknown grid statistic 'bogus' for layer grid-3"):
        panel.set_fill_statistic("grid-3", "bogus")
    # Through the widget: select the village level, pick 按未办结案件数 in the 填色 box.
    panel.tree.setCurrentItem(panel.item_for("grid-3"))
    assert panel.fill_by.isEnabled()
    with qtbot.waitSignal(canvas.renderFinished, timeout=10_000):
        panel.fill_by.setCurrentIndex(panel.fill_by.findData("open_cases"))
    villages = canvas.layer("grid-3")
    fill = villages.fill_state()
    stats = window.data.grid_stats["open_cases"]
    assert fill is not None and villages.fill_by == "open_cases"
    values = [stats[i] for i in villages.ids.tolist()]
    assert sum(values) == window.data.open_cases == 3
    # Grids with more open cases never get a lighter class than grids with fewer.
    by_value = sorted(zip(values, fill.classes.tolist()))
    assert [c for _v, c in by_value] == sorted(c for _v, c in by_value)
    assert canvas.is_layer_visible("grid-3-fill")
    entry = panel.item_for("grid-3-fill")
    rows = [entry.child(n).text(0) for n in range(entry.childCount())]
    assert len(rows) == len(fill.breaks) and rows[0].startswith("未办结案件数") and rows[-1].endswith("件")
    assert "未办结案件数" in entry.text(0)
    assert window.layer_control.panel.item_for("grid-2").childCount() == 0  # other levels untouched
    window.close()  # writes the styles

    store = open_store(path)
    with store.engine.connect() as connection:
        assert get_setting(connection, SETTING_KEY)["layers"]["grid-3"]["fill_by"] == "open_cases"
    again = open_window(qtbot, store)
    assert again.canvas.layer("grid-3").fill_state() is not None  # restored on opening
    again.layer_control.panel.set_fill_statistic("grid-3", None)
    assert again.canvas.layer("grid-3").fill_state() is None
    again.close()
    store.close()
