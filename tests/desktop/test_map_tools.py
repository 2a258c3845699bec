"""Map tools with real mouse and key events: pan, wheel, rubber-band zoom, selection, shortcuts."""
from __future__ import annotations

import re

import pytest
import shapely
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from desktop.map_actions import ShortcutDialog, shortcut_rows
from desktop.widgets.map_canvas import MapCanvas
from desktop.widgets.map_layers import GridLayer, GridStyle
from desktop.widgets.map_overlays import MapMarker
from desktop.widgets.map_tools import IdentifyTool, MapMouseEvent, PanTool, SelectRectTool, ZoomBoxTool
from map_helpers import move_mouse, open_window, screen_point, wait_render, wheel
from small_workspace import EAST, MID_LAT, MID_LON, NORTH, SOUTH, WEST

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def canvas(qtbot):
    widget = MapCanvas()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    with qtbot.waitSignal(widget.renderFinished, timeout=10_000):
        widget.set_layers([GridLayer(2, [1], ["测试网格"], [shapely.box(WEST, SOUTH, EAST, NORTH)],
                                     style=GridStyle("#0000ff", 3.0))])
    return widget


def drag(qtbot, widget, start: QPoint, end: QPoint, modifiers=NONE, button=LEFT, steps=4) -> None:
    qtbot.mousePress(widget, button, modifiers, start)
    for n in range(1, steps + 1):
        QTest.mouseMove(widget, start + (end - start) * n / steps)
    qtbot.mouseRelease(widget, button, modifiers, end)


def test_drag_pans_by_the_dragged_pixels(qtbot, canvas):
    res = canvas.viewport().res
    grabbed = canvas.lonlat_at(200, 150)
    centre = canvas.viewport().cx, canvas.viewport().cy
    drag(qtbot, canvas, QPoint(200, 150), QPoint(260, 110))
    assert canvas.lonlat_at(260, 110) == pytest.approx(grabbed, abs=1e-9)  # the map stuck to the cursor
    assert canvas.viewport().cx == pytest.approx(centre[0] - 60 * res)
    assert canvas.viewport().cy == pytest.approx(centre[1] - 40 * res)
    assert canvas.viewport().res == res


def test_drag_previews_without_rendering_then_renders_once(qtbot, canvas):
    jobs = canvas.last_job_id
    qtbot.mousePress(canvas, LEFT, NONE, QPoint(100, 100))
    QTest.mouseMove(canvas, QPoint(140, 120))
    QTest.mouseMove(canvas, QPoint(180, 140))
    assert canvas.is_interacting() and not canvas.render_pending
    qtbot.mouseRelease(canvas, LEFT, NONE, QPoint(180, 140))
    wait_render(qtbot, canvas)
    assert canvas.last_job_id == jobs + 1


def test_wheel_zooms_about_the_cursor(qtbot, canvas):
    before, res = canvas.lonlat_at(90, 70), canvas.viewport().res
    wheel(canvas, QPoint(90, 70), 2)
    assert canvas.viewport().res == pytest.approx(res / 2)
    assert canvas.lonlat_at(90, 70) == pytest.approx(before, abs=1e-9)
    wheel(canvas, QPoint(300, 250), -2)
    assert canvas.viewport().res == pytest.approx(res)


def test_rubber_band_zooms_to_the_box(qtbot, canvas):
    canvas.set_map_tool(ZoomBoxTool(canvas))
    corner_a, corner_b = canvas.lonlat_at(100, 80), canvas.lonlat_at(180, 140)
    qtbot.mousePress(canvas, LEFT, NONE, QPoint(100, 80))
    QTest.mouseMove(canvas, QPoint(150, 120))
    QTest.mouseMove(canvas, QPoint(180, 140))
    band, kind = canvas.rubber_band()
    assert (band.left(), band.top(), band.right(), band.bottom()) == (100, 80, 180, 140) and kind == "zoom"
    qtbot.mouseRelease(canvas, LEFT, NONE, QPoint(180, 140))
    assert canvas.rubber_band() is None
    # The 80×60 px box now fills the 400×300 canvas (5 % margin each side), centred.
    width = canvas.width()
    left, top = screen_point(canvas, corner_a[0], corner_a[1]), screen_point(canvas, corner_b[0], corner_b[1])
    assert abs((left.x() + top.x()) / 2 - width / 2) <= 1 and abs((left.y() + top.y()) / 2 - 150) <= 1
    assert (top.x() - left.x()) == pytest.approx(width / 1.1, abs=2)
    wait_render(qtbot, canvas)


def test_zoom_box_click_zooms_in_and_alt_click_zooms_out(qtbot, canvas):
    canvas.set_map_tool(ZoomBoxTool(canvas))
    res, spot = canvas.viewport().res, canvas.lonlat_at(120, 90)
    qtbot.mouseClick(canvas, LEFT, NONE, QPoint(120, 90))
    assert canvas.viewport().res == pytest.approx(res / 2)
    assert canvas.lonlat_at(120, 90) == pytest.approx(spot, abs=1e-9)
    qtbot.mouseClick(canvas, LEFT, Qt.KeyboardModifier.AltModifier, QPoint(120, 90))
    assert canvas.viewport().res == pytest.approx(res)


def test_shift_drag_with_the_pan_tool_zooms_to_a_box(qtbot, canvas):
    res = canvas.viewport().res
    drag(qtbot, canvas, QPoint(100, 100), QPoint(200, 175), modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert canvas.viewport().res == pytest.approx(res * 100 / 400 * 1.1)


def test_escape_cancels_a_drag(qtbot, canvas):
    before = canvas.viewport()
    qtbot.mousePress(canvas, LEFT, NONE, QPoint(100, 100))
    QTest.mouseMove(canvas, QPoint(170, 160))
    assert canvas.viewport() != before
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.viewport() == before and not canvas.is_interacting()
    qtbot.mouseRelease(canvas, LEFT, NONE, QPoint(170, 160))
    assert canvas.viewport() == before


def test_middle_button_pans_whatever_the_tool(qtbot, canvas):
    canvas.set_map_tool(SelectRectTool(canvas))
    grabbed = canvas.lonlat_at(100, 100)
    drag(qtbot, canvas, QPoint(100, 100), QPoint(150, 130), button=Qt.MouseButton.MiddleButton)
    assert canvas.lonlat_at(150, 130) == pytest.approx(grabbed, abs=1e-9)
    assert canvas.rubber_band() is None


def test_tools_driven_by_map_coordinates(qtbot, canvas):
    """QGIS style: a tool gets events in map coordinates; no mouse needed."""
    tool = PanTool(canvas)
    canvas.set_map_tool(tool)
    vp = canvas.viewport()
    start = MapMouseEvent.at_lonlat(vp, 112.83, 35.48, button=LEFT, buttons=LEFT)
    end = MapMouseEvent.at_lonlat(vp, 112.86, 35.49, button=LEFT)
    tool.press(start)
    tool.move(end)
    tool.release(end)
    assert canvas.lonlat_at(end.pos.x(), end.pos.y()) == pytest.approx((112.83, 35.48), abs=1e-9)
    clicks = []
    canvas.clicked.connect(lambda lon, lat: clicks.append((lon, lat)))
    identify = IdentifyTool(canvas)
    canvas.set_map_tool(identify)
    point = MapMouseEvent.at_lonlat(canvas.viewport(), 112.84, 35.47, button=LEFT)
    identify.press(point)
    identify.release(point)
    assert clicks == [pytest.approx((112.84, 35.47), abs=1e-9)]


def test_select_tool_reports_a_lonlat_rectangle(qtbot, canvas):
    canvas.set_map_tool(SelectRectTool(canvas))
    with qtbot.waitSignal(canvas.rectangleSelected) as blocker:
        drag(qtbot, canvas, QPoint(180, 60), QPoint(120, 140), modifiers=Qt.KeyboardModifier.ShiftModifier)
    min_lon, min_lat, max_lon, max_lat, modifiers = blocker.args
    assert (min_lon, max_lat) == pytest.approx(canvas.lonlat_at(120, 60), abs=1e-9)
    assert (max_lon, min_lat) == pytest.approx(canvas.lonlat_at(180, 140), abs=1e-9)
    assert Qt.KeyboardModifier(modifiers) & Qt.KeyboardModifier.ShiftModifier


def test_select_tool_click_reports_the_clicked_point_with_its_modifiers(qtbot, canvas):
    canvas.set_map_tool(SelectRectTool(canvas))
    before = canvas.viewport()
    with qtbot.waitSignal(canvas.rectangleSelected) as blocker:
        qtbot.mouseClick(canvas, LEFT, Qt.KeyboardModifier.ControlModifier, QPoint(150, 90))
    min_lon, min_lat, max_lon, max_lat, modifiers = blocker.args
    assert (min_lon, min_lat) == (max_lon, max_lat) == pytest.approx(canvas.lonlat_at(150, 90), abs=1e-9)
    assert Qt.KeyboardModifier(modifiers) & Qt.KeyboardModifier.ControlModifier
    assert canvas.viewport() == before and canvas.rubber_band() is None  # a click neither zooms nor leaves a band


def test_a_jittery_click_with_the_zoom_box_is_still_a_click(qtbot, canvas):
    canvas.set_map_tool(ZoomBoxTool(canvas))
    res, spot = canvas.viewport().res, canvas.lonlat_at(200, 120)
    drag(qtbot, canvas, QPoint(200, 120), QPoint(202, 121), steps=2)  # under the click slop: not a box
    assert canvas.viewport().res == pytest.approx(res / 2)
    assert canvas.lonlat_at(200, 120) == pytest.approx(spot, abs=1e-9)


def test_north_arrow_scale_bar_and_flash_are_painted(qtbot, canvas):
    shot = canvas.grab().toImage()
    dark = lambda c: c.lightness() < 90  # noqa: E731
    arrow = [shot.pixelColor(x, y) for x in range(canvas.width() - 50, canvas.width() - 10) for y in range(14, 60)]
    assert sum(map(dark, arrow)) > 40  # the black half of the arrow
    bar = [shot.pixelColor(x, canvas.height() - 20) for x in range(16, 60)]
    assert sum(map(dark, bar)) > 20  # the black first segment of the scale bar
    canvas.flash(MapMarker.from_lonlat_point(MID_LON, MID_LAT), duration=0.3)
    qtbot.wait(60)
    centre = screen_point(canvas, MID_LON, MID_LAT)
    ring = canvas.grab().toImage().pixelColor(centre.x() + 16, centre.y())
    assert ring.red() > 150 and ring.green() < 140, ring.name()
    qtbot.waitUntil(lambda: not canvas.flashing, timeout=2000)
    assert canvas.grab().toImage().pixelColor(centre.x() + 16, centre.y()) != ring


# -- in the window ------------------------------------------------------------------------
@pytest.fixture
def window(qtbot, workspace):
    return open_window(qtbot, workspace.store)


def test_rectangle_selection_selects_exactly_the_intersecting_grids(qtbot, window, workspace):
    canvas, grids = window.canvas, workspace.grids
    window.map_actions["tool_select_rect"].trigger()
    assert isinstance(canvas.map_tool(), SelectRectTool)
    # Across the town border, in the southern half only: 西南社区 and 东南社区.
    drag(qtbot, canvas, screen_point(canvas, MID_LON - 0.01, SOUTH + 0.01),
         screen_point(canvas, MID_LON + 0.01, MID_LAT - 0.01))
    south = {grids["140502001001"].id, grids["140502002001"].id}
    assert set(window.interaction.selected) == south
    assert window.interaction.selection_label.text() == "已选网格 2 个"
    assert canvas.selection_layer() is not None and len(canvas.selection_layer()) == 2
    # Shift adds the north-west village, Ctrl takes the south-west one away.
    drag(qtbot, canvas, screen_point(canvas, WEST + 0.01, MID_LAT + 0.01),
         screen_point(canvas, WEST + 0.02, MID_LAT + 0.02), modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert set(window.interaction.selected) == south | {grids["140502001002"].id}
    qtbot.mouseClick(canvas, LEFT, Qt.KeyboardModifier.ControlModifier, screen_point(canvas, WEST + 0.01, SOUTH + 0.01))
    assert set(window.interaction.selected) == {grids["140502002001"].id, grids["140502001002"].id}
    window.map_actions["zoom_selection"].trigger()
    ext = canvas.viewport().extent
    for corner in ((WEST, SOUTH + 0.001), (EAST - 0.001, NORTH - 0.001)):
        p = screen_point(canvas, *corner)
        assert 0 <= p.x() <= canvas.width() and 0 <= p.y() <= canvas.height(), ext
    qtbot.keyClick(canvas, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.interaction.selected == [] and canvas.selection_layer() is None
    wait_render(qtbot, canvas)


def test_tool_shortcuts_and_keys_on_the_map(qtbot, window):
    canvas = window.canvas
    for key, tool_id in ((Qt.Key.Key_Z, "zoom_box"), (Qt.Key.Key_S, "select_rect"), (Qt.Key.Key_I, "identify"),
                         (Qt.Key.Key_P, "pan")):
        qtbot.keyClick(canvas, key)
        assert canvas.map_tool().id == tool_id
        assert window.map_actions[f"tool_{tool_id}"].isChecked()
    res = canvas.viewport().res
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.viewport().res == pytest.approx(res / 2)
    cx = canvas.viewport().cx
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert canvas.viewport().cx > cx
    qtbot.keyClick(canvas, Qt.Key.Key_Home)
    assert canvas.viewport().res == pytest.approx(res)
    # Letters typed in the search box stay there.
    window.interaction.search_box.setFocus()
    qtbot.keyClicks(window.interaction.search_box, "zsi")
    assert canvas.map_tool().id == "pan" and window.interaction.search_box.text() == "zsi"


def test_status_bar_shows_gk_coordinates_and_takes_a_typed_scale(qtbot, window):
    canvas = window.canvas
    spot = screen_point(canvas, 112.85, 35.5)
    move_mouse(canvas, spot)
    shown = [float(v) for v in re.findall(r"\d+\.\d+", window.cursor_label.text())]
    assert shown == pytest.approx(list(canvas.lonlat_at(spot.x(), spot.y())), abs=2e-5)
    assert shown == pytest.approx([112.85, 35.5], abs=canvas.viewport().res / 50_000)  # within a pixel
    assert window.interaction.gk_label.text().startswith("CGCS2000 3°带 38带 X=39")
    assert " Y=38" in window.interaction.gk_label.text()
    combo = window.interaction.scale_combo
    combo.setFocus()
    combo.lineEdit().selectAll()
    qtbot.keyClicks(combo.lineEdit(), "1:5000")
    qtbot.keyClick(combo.lineEdit(), Qt.Key.Key_Return)
    assert canvas.scale_denominator() == pytest.approx(5000, rel=1e-6)
    assert combo.currentText() == "1:5,000"


def test_shortcut_dialog_lists_every_map_key(qtbot, window):
    rows = dict(shortcut_rows(window.map_actions.values()))
    for what, keys in (("后退", "Alt+←"), ("前进", "Alt+→"), ("搜索", "Ctrl+F"), ("缩放至选择", "Ctrl+J"),
                       ("拉框放大", "Z"), ("识别", "I"), ("框选网格", "S"), ("平移", "P"), ("全图", "Home")):
        assert rows[what] == keys
    assert "鼠标滚轮" in rows.values()
    dialog = ShortcutDialog(window.map_actions.values(), window)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == len(rows)
    assert dialog.windowTitle() == "快捷键"
