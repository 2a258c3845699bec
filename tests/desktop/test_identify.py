"""Identify (click → info panel), hover tooltips and the hit index behind them."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
import shapely
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolTip

from desktop.widgets.identify_panel import IdentifyPanel, rollup_counts
from desktop.widgets.map_hit import CASE_PIN_LIFT_PX, MapHitIndex, VersionedPointIndex
from map_helpers import move_mouse, open_window, screen_point, wait_render
from gis.storage import schema
from small_workspace import SOUTH, WEST

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier
QUIET_SPOT = (112.84, 35.46)  # inside 西南社区, far from every source and case


@pytest.fixture
def window(qtbot, workspace):
    return open_window(qtbot, workspace.store)


def test_click_on_a_grid_fills_the_panel(qtbot, window, workspace):
    qtbot.mouseClick(window.canvas, LEFT, NONE, screen_point(window.canvas, *QUIET_SPOT))
    text = window.info_panel.text()
    for expected in ("西南社区", "三级网格", "140502001001", "西街道",  # name, level, code, parent
                     "东至某路", "南至某河", "西至某街", "北至某山",      # 四至
                     "网格长", "网格长0", "13800000000", "网格员0", "13900000000",
                     "3 家", "1 件"):                                    # sources 0, 4, 8; case 0 is open
        assert expected in text, expected
    assert window.info_panel.current == ("grid", workspace.grids["140502001001"].id)
    assert window.canvas.highlight() is not None
    current = window.grid_model.grid_at(window.grid_proxy.mapToSource(window.grid_view.currentIndex()))
    assert current.code == "140502001001"
    # The towns and the district under the same spot are links; following one shows it.
    assert "此处还有" in text and "二级网格 西街道" in text and "一级网格 测试城区" in text
    window.info_panel.label.linkActivated.emit(f"grid:{workspace.grids['140502'].id}")
    assert "测试城区" in window.info_panel.text() and "东环路" in window.info_panel.text()
    assert "10 家" in window.info_panel.text() and "3 件" in window.info_panel.text()  # rolled up
    wait_render(qtbot, window.canvas)


def test_click_identifies_the_deepest_visible_level(qtbot, window):
    window.canvas.zoom_by(1 / 16)  # villages shrink below their level-of-detail size
    for key in ("sources", "cases"):  # zoomed out this far, points would cover the spot
        window.canvas.set_layer_visible(key, False)
    assert 3 not in window.interaction.visible_levels()
    qtbot.mouseClick(window.canvas, LEFT, NONE, screen_point(window.canvas, *QUIET_SPOT))
    assert "<h3 style='margin:0'>西街道</h3>" in window.info_panel.text()
    assert "三级网格 西南社区" in window.info_panel.text()  # still reachable as a link
    wait_render(qtbot, window.canvas)


def test_click_on_a_source_shows_its_ledger_fields(qtbot, window):
    source = next(s for s in window.data.sources if s.name == "企业2")
    qtbot.mouseClick(window.canvas, LEFT, NONE, screen_point(window.canvas, source.lon + 0.0001, source.lat))
    text = window.info_panel.text()
    assert window.info_panel.current == ("source", source.id)
    for expected in ("企业2", "污染源", "餐饮油烟", "重点污染源", "在产", "所属网格", "西南社区"):
        assert expected in text, expected
    assert "三级网格 西南社区" in text  # the grid under the source is a link


def test_click_on_a_case_pin_head_shows_the_case(qtbot, window):
    case = next(c for c in window.data.cases if c.number == "AJ20240000")
    tip = screen_point(window.canvas, case.lon, case.lat)
    tip.setY(tip.y() - round(CASE_PIN_LIFT_PX))  # where the pin's head is drawn
    qtbot.mouseClick(window.canvas, LEFT, NONE, tip)
    text = window.info_panel.text()
    assert window.info_panel.current == ("case", case.id)
    for expected in ("案件 AJ20240000", "待受理", "群众举报", "水污染", "已超期", "测试案件0"):
        assert expected in text, expected


def test_hover_shows_a_tooltip_and_a_marker(qtbot, window):
    canvas = window.canvas
    move_mouse(canvas, screen_point(canvas, *QUIET_SPOT))
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=3000)
    assert "西南社区" in QToolTip.text() and "三级网格" in QToolTip.text()
    assert "污染源 3 家" in QToolTip.text()
    assert canvas.hover_marker() is not None and canvas.hover_marker().rings
    source = next(s for s in window.data.sources if s.name == "企业5")
    move_mouse(canvas, screen_point(canvas, source.lon, source.lat))
    qtbot.waitUntil(lambda: "企业5" in QToolTip.text(), timeout=3000)
    assert "工业企业" in QToolTip.text()
    assert canvas.hover_marker().point is not None
    # A drag silences hover; leaving the map clears it.
    qtbot.mousePress(canvas, LEFT, NONE, screen_point(canvas, source.lon, source.lat))
    QTest.mouseMove(canvas, screen_point(canvas, *QUIET_SPOT))
    qtbot.wait(20)
    assert canvas.hover_marker() is None and not window.interaction.hover.text
    qtbot.mouseRelease(canvas, LEFT, NONE, screen_point(canvas, *QUIET_SPOT))
    canvas.cursorLeft.emit()
    assert canvas.hover_marker() is None and not QToolTip.isVisible()


def test_hidden_layers_are_not_hit(qtbot, window):
    source = next(s for s in window.data.sources if s.name == "企业5")
    window.canvas.set_layer_visible("sources", False)
    qtbot.mouseClick(window.canvas, LEFT, NONE, screen_point(window.canvas, source.lon, source.lat))
    assert window.info_panel.current[0] == "grid"


def test_case_hits_follow_the_live_pin_layer(qtbot, window):
    canvas, pins = window.canvas, window.canvas.layer("cases")
    case = next(c for c in window.data.cases if c.number == "AJ20240000")  # open: a visible pin
    head = lambda lon, lat: screen_point(canvas, lon, lat) - QPoint(0, round(CASE_PIN_LIFT_PX))  # noqa: E731
    pins.move_pin(case.id, *QUIET_SPOT)  # the live feed moved it
    qtbot.mouseClick(canvas, LEFT, NONE, head(*QUIET_SPOT))
    assert window.info_panel.current == ("case", case.id)
    qtbot.mouseClick(canvas, LEFT, NONE, head(case.lon, case.lat))
    assert window.info_panel.current != ("case", case.id)  # nothing left where it was
    pins.set_class_visible(pins.class_of(case.id), False)  # its class hidden in the layer panel: no hit
    qtbot.mouseClick(canvas, LEFT, NONE, head(*QUIET_SPOT))
    assert window.info_panel.current[0] == "grid"


@pytest.fixture
def station_window(qtbot, workspace):
    with workspace.store.engine.begin() as connection:
        connection.execute(schema.stations.insert(), [{
            "mn": "14050200000001", "name": "测试空气站", "kind": "air", "location": shapely.Point(*QUIET_SPOT),
            "lon": QUIET_SPOT[0], "lat": QUIET_SPOT[1], "grid_id": workspace.grids["140502001001"].id,
            "active": True, "created_at": datetime(2024, 1, 1)}])
    return open_window(qtbot, workspace.store)


def test_click_on_a_station_shows_it(qtbot, station_window):
    win = station_window
    station = win.data.stations[0]
    qtbot.mouseClick(win.canvas, LEFT, NONE, screen_point(win.canvas, *QUIET_SPOT))
    assert win.info_panel.current == ("station", station.id)
    for expected in ("测试空气站", "监测站点", "空气自动站", "14050200000001", "在线", "西南社区"):
        assert expected in win.info_panel.text(), expected
    move_mouse(win.canvas, screen_point(win.canvas, *QUIET_SPOT))
    qtbot.waitUntil(lambda: "测试空气站" in QToolTip.text(), timeout=3000)


# -- the pure parts -------------------------------------------------------------------------
def test_versioned_points_rebuild_only_when_the_version_moves():
    state = {"version": 1, "ids": [5], "xy": [(1000.0, 2000.0)], "fetches": 0}

    def fetch():
        state["fetches"] += 1
        return state["ids"], state["xy"]

    index = VersionedPointIndex("case", fetch, lambda: state["version"])
    assert index.nearest(1000.0, 2003.0, res=1.0, radius_px=5) == (5, pytest.approx(3.0))
    assert index.nearest(1000.0, 2003.0, res=1.0, radius_px=5)[0] == 5 and state["fetches"] == 1
    state.update(version=2, ids=[6], xy=[(5000.0, 5000.0)])
    assert index.nearest(1000.0, 2003.0, res=1.0, radius_px=5) is None
    assert index.xy_of(6) == (5000.0, 5000.0) and state["fetches"] == 2


def _grid(grid_id, level, box, parent=None):
    return SimpleNamespace(id=grid_id, level=level, parent_id=parent, boundary=shapely.box(*box))


def test_hit_index_deepest_grid_points_and_rectangles():
    grids = [_grid(1, 1, (0, 0, 2, 2)), _grid(2, 2, (0, 0, 1, 2), 1), _grid(3, 2, (1, 0, 2, 2), 1),
             _grid(4, 3, (0, 0, 1, 1), 2)]
    points = [SimpleNamespace(id=10, lon=0.5, lat=0.5), SimpleNamespace(id=11, lon=1.5, lat=1.5)]
    index = MapHitIndex.from_features(grids, points, [], [])
    assert index.grids.at(0.5, 0.5) == [(4, 3), (2, 2), (1, 1)]
    assert index.grids.deepest_at(0.5, 0.5, levels=[1, 2]) == 2
    assert index.grids.deepest_at(1.0, 1.5) in (2, 3)  # an edge belongs to both neighbours
    assert index.grids.at(5, 5) == []
    assert index.grids.intersecting((0.2, 0.2, 1.2, 0.4), levels=[2]) == [2, 3]
    assert index.grids.intersecting((0.2, 1.2, 0.4, 1.4)) == [1, 2]
    assert index.grids.bbox_of([3, 4]) == (0, 0, 2, 2)
    # One degree ≈ 111 km; at 1,000 m/px a point 5 px away is a hit, 20 px away is not.
    hit = index.point_at(*_merc(0.5 + 0.04, 0.5), res=1000.0, radius_px=6)
    assert hit is not None and (hit.kind, hit.id) == ("source", 10) and 4 < hit.distance_px < 5
    assert index.point_at(*_merc(0.5 + 0.18, 0.5), res=1000.0, radius_px=6) is None
    kinds = [(h.kind, h.id) for h in index.identify(1.5, 1.5, res=1000.0)]
    assert kinds == [("source", 11), ("grid", 3), ("grid", 1)]


def _merc(lon, lat):
    from desktop.widgets.map_geometry import lonlat_to_mercator

    x, y = lonlat_to_mercator(lon, lat)
    return float(x), float(y)


def test_counts_roll_up_to_parents():
    grids = [SimpleNamespace(id=1, level=1, parent_id=None), SimpleNamespace(id=2, level=2, parent_id=1),
             SimpleNamespace(id=3, level=3, parent_id=2), SimpleNamespace(id=4, level=2, parent_id=1)]
    sources = [SimpleNamespace(grid_id=g) for g in (3, 3, 4, None)]
    cases = [SimpleNamespace(grid_id=3, state="待受理"), SimpleNamespace(grid_id=3, state="已销号"),
             SimpleNamespace(grid_id=2, state="处置中")]
    assert rollup_counts(grids, sources, cases) == {1: (3, 2), 2: (2, 2), 3: (2, 1), 4: (1, 0)}


def test_panel_escapes_and_clears(qtbot):
    panel = IdentifyPanel()
    qtbot.addWidget(panel)
    source = SimpleNamespace(id=1, name="<b>坏名</b>", is_key=False, status="在产", address="", contact_name="",
                             contact_phone="", permit_no="", last_inspected=None, lon=WEST, lat=SOUTH)
    panel.show_source(source, "工业企业")
    assert "&lt;b&gt;坏名" in panel.text() and "未检查" in panel.text()
    with qtbot.waitSignal(panel.featureActivated) as blocker:
        panel.show_source(source, others=[("grid", 7, "三级网格 某村")])
        panel.label.linkActivated.emit("grid:7")
    assert blocker.args == ["grid", 7]
    panel.clear()
    assert panel.current is None and panel.text() == IdentifyPanel.EMPTY_TEXT
