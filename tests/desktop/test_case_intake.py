"""新建案件: typing, picking on the map, routing near borders, duplicates, and what reaches the database."""
from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from sqlalchemy import func, select

from desktop.case_input import check_phone, format_dms, normalize_phone, parse_lonlat
from desktop.case_intake_dialog import DISPATCH_TEXT, DUPLICATE_TEXT, CaseIntakeDialog
from desktop.widgets.map_canvas import MapCanvas
from desktop.widgets.map_layers import GridLayer, GridStyle
from desktop.widgets.map_tools import PanTool
from desktop.workers import BackgroundValue, wait_for_background
from gis.domain import CaseAction, CaseState
from gis.storage.schema import attachments, case_events, cases
from gis.workflow import GridIndex, create_case
from map_helpers import screen_point, type_text
from small_workspace import EAST, MID_LON, NORTH, SOUTH, WEST

LEFT = Qt.MouseButton.LeftButton
SW_POINT = (112.82, 35.47)          # inside 西南社区, far from every border
BORDER_POINT = (112.8497, 35.47)    # 西南社区, ~27 m from 东南社区


# -- pure input rules ---------------------------------------------------------------------
@pytest.mark.parametrize("text", ["112.85, 35.5", "112.85 35.5", "112.85，35.5", "35.5, 112.85",
                                  "112°51'0\"E 35°30'0\"N", "112°51′00″ 35°30′00″", "东经112度51分 北纬35度30分",
                                  "N35°30' E112°51'", "E112.85 N35.5", "35.5N 112.85E"])
def test_coordinates_in_decimal_and_dms(text):
    assert parse_lonlat(text) == pytest.approx((112.85, 35.5))


@pytest.mark.parametrize("text, message", [("", "请输入经纬度"), ("abc", "无法识别"), ("1 2 3", "两个数"),
                                           ("200, 30", "经度 200 超出范围"), ("112°61' 35°", "小于 60")])
def test_bad_coordinates_say_why(text, message):
    with pytest.raises(ValueError, match=message):
        parse_lonlat(text)


def test_dms_round_trip():
    assert format_dms(112.85, 35.5) == "112°51′00.0″E 35°30′00.0″N"
    back = parse_lonlat(format_dms(112.123456, 35.654321))
    assert back == pytest.approx((112.123456, 35.654321), abs=1.5e-5)  # 0.1″ ≈ 3 m


@pytest.mark.parametrize("phone, stored", [("13812345678", "13812345678"), ("+86 138 1234 5678", "13812345678"),
                                           ("0356-2021234", "0356-2021234"), ("(0356)2021234", "0356-2021234"),
                                           ("010 62345678", "010-62345678"), ("0356-2021234转123", "0356-2021234转123"),
                                           ("", "")])
def test_valid_phones(phone, stored):
    assert check_phone(phone) == ""
    assert normalize_phone(phone) == stored


@pytest.mark.parametrize("phone, message", [("1381234567", "11 位"), ("12812345678", "第二位"),
                                            ("2021234", "需带区号"), ("0356-20212", "7–8 位"),
                                            ("010-12345678", "不以 0 或 1 开头"), ("138abc", "只能包含数字")])
def test_invalid_phones_get_one_clear_message(phone, message):
    assert message in check_phone(phone)


# -- the dialog ---------------------------------------------------------------------------
@pytest.fixture
def canvas(qtbot, workspace):
    widget = MapCanvas()
    qtbot.addWidget(widget)
    widget.resize(600, 600)
    widget.show()
    qtbot.waitExposed(widget)
    grids = [g for g in workspace.grids.values() if g.level == 3]
    with qtbot.waitSignal(widget.renderFinished, timeout=10_000):
        widget.set_layers([GridLayer(3, [g.id for g in grids], [g.name for g in grids], [g.boundary for g in grids],
                                     style=GridStyle("#0000ff", 1.0))])
    widget.zoom_to_bbox((WEST, SOUTH, EAST, NORTH))
    return widget


@pytest.fixture
def intake(qtbot, workspace, canvas):
    store = workspace.store
    index = BackgroundValue(lambda: GridIndex.from_connection(store.engine.connect()))
    dialog = CaseIntakeDialog(store, "测试坐席", index, canvas=canvas)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.choicesLoaded, timeout=10_000):
        dialog.show()
    qtbot.waitUntil(lambda: index.value is not None, timeout=10_000)
    yield dialog
    wait_for_background()
    index.deleteLater()


def count(store, table) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def fill(qtbot, dialog, *, phone="13812345678", category="扬尘污染"):
    dialog.select_source("群众举报")
    dialog.select_category(category)
    type_text(dialog.description_edit, "工地夜间施工扬尘严重，未覆盖")
    type_text(dialog.reporter_name_edit, "王女士")
    dialog.reporter_phone_edit.clear()
    QTest.keyClicks(dialog.reporter_phone_edit, phone)


def wait_details(qtbot, dialog):
    qtbot.waitUntil(lambda: dialog.details is not None, timeout=10_000)


def test_pick_on_map_routes_shows_leaders_and_dispatches(qtbot, intake, canvas, workspace):
    before = count(workspace.store, cases)
    fill(qtbot, intake)
    previous = canvas.map_tool()
    qtbot.mouseClick(intake.pick_button, LEFT)
    assert intake.picking and intake.isVisible()  # non-modal: the form stays open while picking
    with qtbot.waitSignal(intake.detailsShown, timeout=10_000):
        qtbot.mouseClick(canvas, LEFT, pos=screen_point(canvas, *SW_POINT))
    assert intake.location == pytest.approx(SW_POINT, abs=5e-4)
    assert canvas.map_tool() is previous and not intake.pick_button.isChecked()
    assert "西南社区" in intake.route_label.text()
    assert not intake.border_box.isVisibleTo(intake)
    assert "网格长0" in intake.staff_label.text() and "13800000000" in intake.staff_label.text()

    with qtbot.waitSignal(intake.caseCreated, timeout=10_000) as created:
        qtbot.mouseClick(intake.dispatch_button, LEFT)
    result = created.args[0]
    assert result.case.grid.name == "西南社区"
    assert count(workspace.store, cases) == before + 1
    with workspace.store.engine.connect() as connection:
        row = connection.execute(select(cases).where(cases.c.id == result.case.id)).one()
        events = connection.execute(select(case_events.c.action, case_events.c.actor, case_events.c.grid_id)
                                    .where(case_events.c.case_id == row.id).order_by(case_events.c.id)).all()
    assert row.state == CaseState.DISPATCHED and row.source == "群众举报"
    assert (row.reporter_name, row.reporter_phone) == ("王女士", "13812345678")
    assert row.description == "工地夜间施工扬尘严重，未覆盖"
    assert [e.action for e in events] == [CaseAction.REGISTER, CaseAction.DISPATCH]
    assert {e.actor for e in events} == {"测试坐席"}
    assert events[1].grid_id == workspace.grids["140502001001"].id
    assert canvas.map_tool() is previous and intake.isHidden()


def test_typed_dms_coordinates_route_and_register_only(qtbot, intake, workspace):
    fill(qtbot, intake)
    QTest.keyClicks(intake.coord_edit, "112°49'12\"E 35°28'12\"N")  # 112.82, 35.47
    with qtbot.waitSignal(intake.detailsShown, timeout=10_000):
        QTest.keyClick(intake.coord_edit, Qt.Key.Key_Return)
    assert intake.location == pytest.approx(SW_POINT)
    assert "西南社区" in intake.route_label.text()
    assert "东经" not in intake.error_text("coordinates")
    with qtbot.waitSignal(intake.caseCreated, timeout=10_000) as created:
        qtbot.mouseClick(intake.register_button, LEFT)
    new = created.args[0]
    assert created.args[0].action is None
    with workspace.store.engine.connect() as connection:
        state = connection.execute(select(cases.c.state).where(cases.c.id == new.case.id)).scalar_one()
        n_events = connection.execute(select(func.count()).where(case_events.c.case_id == new.case.id)).scalar_one()
    assert (state, n_events) == (CaseState.PENDING, 1)


def test_bad_typed_coordinates_show_a_message_under_the_field(qtbot, intake):
    QTest.keyClicks(intake.coord_edit, "112.85")
    QTest.keyClick(intake.coord_edit, Qt.Key.Key_Return)
    assert "两个数" in intake.error_text("coordinates")
    assert intake.location is None


def test_near_a_border_the_seat_confirms_the_grid(qtbot, intake, workspace):
    fill(qtbot, intake)
    before = count(workspace.store, cases)
    intake.coord_edit.setText(f"{BORDER_POINT[0]}, {BORDER_POINT[1]}")
    with qtbot.waitSignal(intake.detailsShown, timeout=10_000):
        qtbot.mouseClick(intake.locate_button, LEFT)
    assert intake.border_box.isVisibleTo(intake)
    labels = [b.text() for b in intake.border_buttons]
    assert len(labels) == 2 and "西南社区" in labels[0] and "东南社区" in labels[1]
    assert "距边界 27 米" in labels[0] and "距点位 27 米" in labels[1]
    assert not any(b.isChecked() for b in intake.border_buttons)

    qtbot.mouseClick(intake.dispatch_button, LEFT)  # not confirmed yet: refused, nothing written
    assert "请在上方选择所属网格" in intake.error_text("grid")
    assert count(workspace.store, cases) == before

    east = workspace.grids["140502002001"]
    intake.border_buttons[1].click()
    assert intake.error_text("grid") == ""
    assert "网格长2" in intake.staff_label.text() and "13800000002" in intake.staff_label.text()
    with qtbot.waitSignal(intake.caseCreated, timeout=10_000) as created:
        qtbot.mouseClick(intake.dispatch_button, LEFT)
    case_id = created.args[0].case.id
    with workspace.store.engine.connect() as connection:
        grid_id = connection.execute(select(cases.c.grid_id).where(cases.c.id == case_id)).scalar_one()
        payload = connection.execute(select(case_events.c.payload).where(
            case_events.c.case_id == case_id, case_events.c.action == CaseAction.DISPATCH)).scalar_one()
    assert grid_id == east.id
    assert payload["border_confirmed"] and payload["routed_grid_id"] == workspace.grids["140502001001"].id


def test_validation_error_keeps_the_form_and_writes_nothing(qtbot, intake, workspace, tmp_path):
    photo = tmp_path / "现场.png"
    from PySide6.QtGui import QImage

    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(0x3366AA)
    image.save(str(photo))
    fill(qtbot, intake, phone="1381234")
    intake.photos.add_files([photo])
    intake.set_location(*SW_POINT, origin="typed")
    wait_details(qtbot, intake)
    before = (count(workspace.store, cases), count(workspace.store, case_events), count(workspace.store, attachments))
    qtbot.mouseClick(intake.dispatch_button, LEFT)
    assert "11 位" in intake.error_text("phone")
    assert intake.isVisible() and not intake.busy
    assert intake.description_edit.toPlainText() == "工地夜间施工扬尘严重，未覆盖"
    assert intake.reporter_name_edit.text() == "王女士" and intake.photos.paths() == [photo]
    assert intake.location == SW_POINT
    wait_for_background()
    assert (count(workspace.store, cases), count(workspace.store, case_events),
            count(workspace.store, attachments)) == before

    intake.reporter_phone_edit.clear()
    QTest.keyClicks(intake.reporter_phone_edit, "0356-2021234")
    with qtbot.waitSignal(intake.caseCreated, timeout=10_000) as created:
        qtbot.mouseClick(intake.dispatch_button, LEFT)
    assert count(workspace.store, attachments) == before[2] + 1
    assert created.args[0].case.number


def test_empty_description_and_missing_location(qtbot, intake, workspace):
    before = count(workspace.store, cases)
    qtbot.mouseClick(intake.dispatch_button, LEFT)
    assert intake.error_text("description") == "请填写问题描述"
    assert "以确定派发网格" in intake.error_text("coordinates")
    assert count(workspace.store, cases) == before


def test_a_refused_write_rolls_back_and_keeps_the_form(qtbot, intake, workspace, monkeypatch):
    import desktop.case_jobs as jobs
    from gis.workflow import WorkflowError

    def refuse(*_args, **_kwargs):
        raise WorkflowError("模拟：派发被拒绝")

    monkeypatch.setattr(jobs, "apply_action", refuse)  # create_case has run inside the transaction by then
    fill(qtbot, intake)
    intake.set_location(*SW_POINT, origin="typed")
    before = (count(workspace.store, cases), count(workspace.store, case_events))
    intake.submit(dispatch=True)
    qtbot.waitUntil(lambda: not intake.busy and intake.banner.isVisibleTo(intake), timeout=10_000)
    assert "模拟：派发被拒绝" in intake.banner.text()
    assert (count(workspace.store, cases), count(workspace.store, case_events)) == before
    assert intake.isVisible() and intake.description_edit.toPlainText()


def test_pollution_source_gives_the_location(qtbot, intake, workspace):
    fill(qtbot, intake)
    source = next(s for s in intake.choices.sources if s.name == "企业3")
    intake.choose_pollution_source(source.id)
    wait_details(qtbot, intake)
    assert intake.location == (source.lon, source.lat)
    with qtbot.waitSignal(intake.caseCreated, timeout=10_000) as created:
        intake.submit(dispatch=True)
    with workspace.store.engine.connect() as connection:
        stored = connection.execute(select(cases.c.pollution_source_id).where(
            cases.c.id == created.args[0].case.id)).scalar_one()
    assert stored == source.id


def test_duplicate_suggestion_and_merge(qtbot, intake, workspace):
    with workspace.store.engine.begin() as connection:
        original = create_case(connection, source="巡查上报", category="扬尘污染", description="同一工地扬尘",
                               actor="别的坐席", lon=SW_POINT[0], lat=SW_POINT[1], now=datetime.now())
    fill(qtbot, intake)
    intake.set_location(SW_POINT[0] + 0.0004, SW_POINT[1], origin="typed")  # ~36 m away
    wait_details(qtbot, intake)
    texts = [b.text() for b in intake.duplicate_buttons]
    assert texts[0].startswith("不合并") and intake.duplicate_buttons[0].isChecked()
    assert original.number in texts[1] and "合并为重复件" in texts[1] and "36 米" in texts[1]
    assert intake.dispatch_button.text() == DISPATCH_TEXT

    intake.duplicate_buttons[1].click()
    assert intake.dispatch_button.text() == DUPLICATE_TEXT
    with qtbot.waitSignal(intake.caseCreated, timeout=10_000) as created:
        qtbot.mouseClick(intake.dispatch_button, LEFT)
    with workspace.store.engine.connect() as connection:
        row = connection.execute(select(cases.c.state, cases.c.duplicate_of).where(
            cases.c.id == created.args[0].case.id)).one()
    assert (row.state, row.duplicate_of) == (CaseState.DUPLICATE, original.id)


def test_another_category_shows_no_duplicates(qtbot, intake, workspace):
    with workspace.store.engine.begin() as connection:
        create_case(connection, source="巡查上报", category="扬尘污染", description="扬尘", actor="A",
                    lon=SW_POINT[0], lat=SW_POINT[1])
    fill(qtbot, intake, category="噪声扰民")
    intake.set_location(*SW_POINT, origin="typed")
    wait_details(qtbot, intake)
    assert intake.duplicate_buttons == []
    intake.details = None
    intake.select_category("扬尘污染")  # changing the category looks again
    wait_details(qtbot, intake)
    assert len(intake.duplicate_buttons) == 2


def test_outside_every_grid_only_registers(qtbot, intake, workspace):
    fill(qtbot, intake)
    intake.set_location(113.5, 36.5, origin="typed")
    assert "不在任何网格内" in intake.route_label.text()
    qtbot.mouseClick(intake.dispatch_button, LEFT)
    assert "无法派发" in intake.error_text("grid")
    with qtbot.waitSignal(intake.caseCreated, timeout=10_000) as created:
        qtbot.mouseClick(intake.register_button, LEFT)
    assert created.args[0].case.grid is None


def test_escape_on_the_map_stops_picking(qtbot, intake, canvas):
    canvas.set_map_tool(PanTool(canvas))
    intake.start_picking()
    assert intake.picking
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    assert not intake.picking and not intake.pick_button.isChecked()
    assert isinstance(canvas.map_tool(), PanTool)


def test_drag_with_the_pick_tool_pans_instead_of_picking(qtbot, intake, canvas):
    intake.start_picking()
    centre = canvas.viewport().cx
    start = screen_point(canvas, MID_LON, 35.5)
    qtbot.mousePress(canvas, LEFT, pos=start)
    for step in range(1, 5):
        QTest.mouseMove(canvas, start + QPoint(15 * step, 0))
    qtbot.mouseRelease(canvas, LEFT, pos=start + QPoint(60, 0))
    assert intake.location is None and intake.picking
    assert canvas.viewport().cx != centre


def test_closing_the_form_removes_the_pin_and_restores_the_tool(qtbot, intake, canvas):
    previous = canvas.map_tool()
    intake.set_location(*SW_POINT, origin="map")
    assert intake._marker is not None
    intake.start_picking()
    intake.reject()
    assert canvas.map_tool() is previous
    assert intake._marker is None


def test_menu_and_ctrl_n_open_the_form_in_the_main_window(qtbot, workspace):
    from map_helpers import open_window

    window = open_window(qtbot, workspace.store)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "案件(&C)")
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:2] == ["新建案件…", "打开案件…"]
    assert window.case_actions.new_action.shortcut().toString() == "Ctrl+N"
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.case_actions.intake
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: window.case_actions.grid_index.value is not None, timeout=10_000)
    with qtbot.waitSignal(dialog.detailsShown, timeout=10_000):
        qtbot.mouseClick(dialog.pick_button, LEFT)
        qtbot.mouseClick(window.canvas, LEFT, pos=screen_point(window.canvas, *SW_POINT))
    assert "西南社区" in dialog.route_label.text()
    fill(qtbot, dialog)
    with qtbot.waitSignal(dialog.caseCreated, timeout=10_000):
        qtbot.mouseClick(dialog.dispatch_button, LEFT)
    assert "已派发至 西南社区" in window.statusBar().currentMessage()
    wait_for_background()


def test_seat_name_setting_defaults_to_the_os_user():
    import getpass

    from desktop.case_actions import seat_name, set_seat_name

    assert seat_name() == getpass.getuser()
    set_seat_name("  指挥中心-坐席3 ")
    assert seat_name() == "指挥中心-坐席3"
