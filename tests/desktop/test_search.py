"""The search box: grid name or code, source name, case number → zoom, show, flash."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import shapely
from PySide6.QtCore import Qt

from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.search_box import SearchIndex
from map_helpers import open_window, type_text, wait_render


@pytest.fixture
def window(qtbot, workspace):
    return open_window(qtbot, workspace.store)


def _search(qtbot, window, text: str) -> None:
    qtbot.keyClick(window.canvas, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    box = window.interaction.search_box
    assert box.hasFocus()
    type_text(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def _shows_whole(canvas, bbox) -> bool:
    ext = canvas.viewport().extent
    (min_x, max_x), (min_y, max_y) = lonlat_to_mercator([bbox[0], bbox[2]], [bbox[1], bbox[3]])
    return ext[0] <= min_x and ext[1] <= min_y and ext[2] >= max_x and ext[3] >= max_y


def test_search_by_grid_name_zooms_shows_and_flashes(qtbot, window, workspace):
    village = workspace.grids["140502002002"]
    full_res = window.canvas.viewport().res
    _search(qtbot, window, "东北社区")
    assert window.canvas.viewport().res < full_res / 1.5
    assert _shows_whole(window.canvas, village.boundary.bounds)
    assert window.canvas.flashing
    assert window.info_panel.current == ("grid", village.id) and "东北社区" in window.info_panel.text()
    assert window.canvas.highlight() is not None
    assert "已定位" in window.statusBar().currentMessage()
    wait_render(qtbot, window.canvas)


def test_search_by_grid_code(qtbot, window, workspace):
    town = workspace.grids["140502001"]
    _search(qtbot, window, "140502001")  # exact code beats the villages whose codes start with it
    assert window.info_panel.current == ("grid", town.id)
    assert _shows_whole(window.canvas, town.boundary.bounds)


def test_search_by_case_number_centres_on_the_case(qtbot, window):
    case = next(c for c in window.data.cases if c.number == "AJ20240003")
    _search(qtbot, window, "aj20240003")  # case does not matter
    centre = window.canvas.lonlat_at(window.canvas.width() / 2, window.canvas.height() / 2)
    assert centre == pytest.approx((case.lon, case.lat), abs=1e-7)
    assert window.canvas.scale_denominator() <= 4000 * 1.0001
    assert window.info_panel.current == ("case", case.id) and "待复查" in window.info_panel.text()
    assert window.canvas.flashing and window.canvas.hover_marker() is None


def test_search_picks_a_source_from_the_completer(qtbot, window):
    source = next(s for s in window.data.sources if s.name == "企业7")
    qtbot.keyClick(window.canvas, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    box = window.interaction.search_box
    type_text(box, "企业")
    popup = box.completer().popup()
    qtbot.waitUntil(popup.isVisible, timeout=3000)  # after the typing pause
    labels = [entry.label for entry in box.results()]
    assert len(labels) == 10 and all("污染源" in label for label in labels)
    row = next(n for n, entry in enumerate(box.results()) if entry.id == source.id)
    for _ in range(row + 1):
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert window.info_panel.current == ("source", source.id)
    centre = window.canvas.lonlat_at(window.canvas.width() / 2, window.canvas.height() / 2)
    assert centre == pytest.approx((source.lon, source.lat), abs=1e-7)


def test_nothing_found_says_so(qtbot, window):
    _search(qtbot, window, "不存在的名字")
    assert "未找到" in window.statusBar().currentMessage()
    assert window.info_panel.current is None


def _index() -> SearchIndex:
    grids = [SimpleNamespace(id=i, name=name, code=code, level=level, boundary=shapely.box(0, 0, 1, 1))
             for i, (name, code, level) in enumerate((("城区", "140502", 1), ("东街道", "140502002", 2),
                                                      ("东北社区", "140502002002", 3), ("东南社区", "140502002001", 3)))]
    sources = [SimpleNamespace(id=i, name=f"东方化工{i}", category_id=1) for i in range(5)]
    cases = [SimpleNamespace(id=1, number="AJ20240001", category="水污染", state="待受理")]
    return SearchIndex.from_features(grids, sources, cases, categories={1: "工业企业"})


def test_index_ranks_exact_then_prefix_then_contains():
    index = _index()
    assert [e.label for e in index.find("140502002")] == [
        "东街道 · 二级网格 · 140502002", "东北社区 · 三级网格 · 140502002002", "东南社区 · 三级网格 · 140502002001"]
    assert [e.kind for e in index.find("东")][:3] == ["grid", "grid", "grid"]  # grids before sources
    assert index.find("东方化工3")[0].label == "东方化工3 · 污染源 · 工业企业"
    assert [(e.kind, e.id) for e in index.find("  aj2024 0001 ")] == []  # inner spaces are not ignored
    assert [(e.kind, e.id) for e in index.find("aj20240001")] == [("case", 1)]
    assert len(index.find("东", limit=4)) == 4
    assert index.find("") == [] and index.find("   ") == []
