"""案件详情: the history in order, only the allowed actions, action forms, photos and conflicts."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog
from sqlalchemy import select

from desktop.case_detail_dialog import CaseDetailDialog
from desktop.widgets.photo_strip import PhotoStrip, PhotoViewer
from desktop.workers import wait_for_background
from gis.domain import CaseAction, CaseState
from gis.storage.schema import attachments, case_events, cases
from gis.storage.store import open_store
from gis.workflow import add_note, allowed_actions, apply_action, create_case

LEFT = Qt.MouseButton.LeftButton
T0 = datetime.now().replace(microsecond=0) - timedelta(hours=6)
HISTORY = ["登记", "派发", "签收处置", "备注", "反馈"]


@pytest.fixture
def case(workspace):
    """A case in 处置中 with an internal note and a feedback to the reporter."""
    with workspace.store.engine.begin() as connection:
        new = create_case(connection, source="群众举报", category="扬尘污染", description="工地夜间施工扬尘",
                          actor="坐席甲", lon=112.82, lat=35.47, reporter_name="王女士",
                          reporter_phone="13812345678", now=T0)
        apply_action(connection, new.id, CaseAction.DISPATCH, "坐席甲", note="请西南社区核查",
                     now=T0 + timedelta(hours=1))
        apply_action(connection, new.id, CaseAction.ACCEPT, "网格员0", note="已到现场", now=T0 + timedelta(hours=2))
        add_note(connection, new.id, "坐席甲", "施工方负责人电话已核实", internal=True, now=T0 + timedelta(hours=3))
        add_note(connection, new.id, "坐席甲", "已安排网格员到场处理", internal=False, now=T0 + timedelta(hours=4))
    return new


def open_detail(qtbot, store, case_ref, actor="测试坐席") -> CaseDetailDialog:
    dialog = CaseDetailDialog(store, case_ref, actor)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    return dialog


@pytest.fixture
def detail(qtbot, workspace, case):
    dialog = open_detail(qtbot, workspace.store, case.id)
    yield dialog
    wait_for_background()


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "整改后.png"
    image = QImage(320, 240, QImage.Format.Format_RGB32)
    image.fill(0x2E7D32)
    assert image.save(str(path))
    return path


def events_of(store, case_id):
    with store.engine.connect() as connection:
        return connection.execute(select(case_events).where(case_events.c.case_id == case_id)
                                  .order_by(case_events.c.id)).all()


def test_header_and_history_in_order(detail, case):
    assert [event.action for event, _card in detail.event_cards] == HISTORY
    times = [event.at for event, _card in detail.event_cards]
    assert times == sorted(times)
    header = detail.header.text()
    assert case.number in header and "处置中" in header and "西南社区" in header and "13812345678" in header
    assert "剩余" in header  # the deadline counts down
    assert "网格长0" in detail.staff_label.text() and "13800000000" in detail.staff_label.text()
    cards = {event.action: card for event, card in detail.event_cards}
    text = {action: card.findChild(type(detail.header)).text() for action, card in cards.items()}
    assert "内部" in text["备注"] and "施工方负责人电话已核实" in text["备注"]
    assert "内部" not in text["反馈"] and "告知举报人" in text["反馈"]
    assert "坐席甲" in text["派发"] and "待受理 → <b>已派发</b>" in text["派发"] and "西南社区" in text["派发"]


def test_reporter_feedback_is_kept_apart_from_internal_notes(detail):
    trail = detail.trail_label.text()
    assert "已安排网格员到场处理" in trail and "已受理您反映的问题" in trail
    assert "施工方负责人电话已核实" not in trail and "坐席甲" not in trail and "网格员0" not in trail


def test_only_the_allowed_actions_have_buttons(detail):
    assert set(detail.action_buttons) == {str(a) for a in allowed_actions(CaseState.IN_PROGRESS)}
    assert "复查销号" not in detail.action_buttons and "派发" not in detail.action_buttons
    assert len(detail.action_buttons) == len(allowed_actions(CaseState.IN_PROGRESS))


def test_rectify_with_note_and_photo_writes_one_event_with_the_attachment(qtbot, detail, workspace, case, photo,
                                                                          monkeypatch):
    before = len(events_of(workspace.store, case.id))
    qtbot.mouseClick(detail.action_buttons["整改完成"], LEFT)
    form = detail.action_form
    assert form is not None and form.isVisible() and form.note_edit is not None and form.reason_edit is None

    qtbot.mouseClick(form.ok_button, LEFT)  # the note is required: refused in the form, nothing written
    assert "请填写整改情况" in form.errors["note"].text()
    assert len(events_of(workspace.store, case.id)) == before

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(photo)], "")))
    qtbot.mouseClick(form.photos.add_button, LEFT)
    assert form.photos.paths() == [photo]
    form.note_edit.setFocus()
    QTest.keyClicks(form.note_edit, "fence and dust net installed")
    with qtbot.waitSignal(detail.actionApplied, timeout=10_000):
        qtbot.mouseClick(form.ok_button, LEFT)
    with qtbot.waitSignal(detail.loaded, timeout=10_000):
        pass

    rows = events_of(workspace.store, case.id)
    assert len(rows) == before + 1
    event = rows[-1]
    assert (event.action, event.from_state, event.to_state) == ("整改完成", "处置中", "已整改")
    assert (event.actor, event.note) == ("测试坐席", "fence and dust net installed")
    with workspace.store.engine.connect() as connection:
        stored = connection.execute(select(attachments.c.filename, attachments.c.event_id, attachments.c.size)
                                    .where(attachments.c.case_id == case.id)).all()
    assert [(s.filename, s.event_id) for s in stored] == [("整改后.png", event.id)]
    assert stored[0].size == photo.stat().st_size

    assert "已整改" in detail.header.text()
    assert set(detail.action_buttons) == {str(a) for a in allowed_actions(CaseState.RECTIFIED)}
    last_event, last_card = detail.event_cards[-1]
    assert last_event.action == "整改完成"
    strip = last_card.findChild(PhotoStrip)
    assert strip is not None and strip.count() == 1
    qtbot.waitUntil(lambda: detail.thumbnails_shown, timeout=10_000)
    assert not strip.item(0).icon().isNull()
    assert detail.tabs.tabText(2) == "附件（1）"


def test_double_click_on_a_thumbnail_opens_the_photo(qtbot, workspace, case, photo):
    with workspace.store.engine.begin() as connection:
        from gis.workflow import NewAttachment, attach

        attach(connection, case.id, "坐席甲", [NewAttachment.from_path(photo)])
    dialog = open_detail(qtbot, workspace.store, case.id)
    strip = dialog.attachment_strip
    assert strip.count() == 1
    strip.itemActivated.emit(strip.item(0))
    qtbot.waitUntil(lambda: any(isinstance(w, PhotoViewer) and w.isVisible() for w in QApplication.topLevelWidgets()),
                    timeout=10_000)
    viewer = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PhotoViewer) and w.isVisible())
    assert (viewer.image.width(), viewer.image.height()) == (320, 240)
    viewer.close()
    wait_for_background()


def test_a_conflicting_edit_from_another_connection_is_reported_and_reloaded(qtbot, detail, workspace, case):
    other = open_store(workspace.store.url)  # another seat, its own engine and connections
    try:
        with other.engine.begin() as connection:
            apply_action(connection, case.id, CaseAction.ESCALATE, "另一坐席")
    finally:
        other.close()
    before = len(events_of(workspace.store, case.id))

    qtbot.mouseClick(detail.action_buttons["整改完成"], LEFT)
    form = detail.action_form
    QTest.keyClicks(form.note_edit, "done")
    with qtbot.waitSignal(detail.loaded, timeout=10_000):
        qtbot.mouseClick(form.ok_button, LEFT)
    assert "已被他人修改" in detail.banner_text() and case.number in detail.banner_text()
    assert not form.isVisible()
    assert len(events_of(workspace.store, case.id)) == before  # nothing of ours was written
    assert "上报上级" in detail.header.text()  # the reload shows the other seat's step
    assert detail.event_cards[-1][0].actor == "另一坐席"
    assert "整改完成" not in detail.action_buttons
    assert set(detail.action_buttons) == {str(a) for a in allowed_actions(CaseState.ESCALATED)}


def test_refused_action_keeps_the_form_open_with_the_message(qtbot, workspace):
    with workspace.store.engine.begin() as connection:
        new = create_case(connection, source="巡查上报", category="其他", description="无位置的案件", actor="坐席甲")
    dialog = open_detail(qtbot, workspace.store, new.number)
    assert set(dialog.action_buttons) == {str(a) for a in allowed_actions(CaseState.PENDING)}
    qtbot.mouseClick(dialog.action_buttons["派发"], LEFT)
    form = dialog.action_form
    form.to_department.click()
    form.department_combo.setCurrentText("")
    qtbot.mouseClick(form.ok_button, LEFT)
    assert "请选择派发的网格，或填写部门" in form.errors["destination"].text()
    form.department_combo.setCurrentText("住房和城乡建设局")
    with qtbot.waitSignal(dialog.actionApplied, timeout=10_000) as applied:
        qtbot.mouseClick(form.ok_button, LEFT)
    assert (applied.args[0].to_state, applied.args[0].department) == ("已派发", "住房和城乡建设局")
    wait_for_background()


def test_duplicate_action_offers_the_nearby_earlier_case(qtbot, workspace, case):
    with workspace.store.engine.begin() as connection:
        later = create_case(connection, source="群众举报", category="扬尘污染", description="又一个电话反映扬尘",
                            actor="坐席乙", lon=112.8201, lat=35.4701)
    dialog = open_detail(qtbot, workspace.store, later.id)
    qtbot.mouseClick(dialog.action_buttons["重复"], LEFT)
    form = dialog.action_form
    assert form.duplicate_combo.count() == 2 and case.number in form.duplicate_combo.itemText(1)
    form.duplicate_combo.setCurrentIndex(1)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        qtbot.mouseClick(form.ok_button, LEFT)
    with workspace.store.engine.connect() as connection:
        row = connection.execute(select(cases.c.state, cases.c.duplicate_of).where(cases.c.id == later.id)).one()
    assert (row.state, row.duplicate_of) == ("重复", case.id)
    assert "重复于" in dialog.header.text() and case.number in dialog.header.text()
    assert set(dialog.action_buttons) == {"备注", "反馈"}  # a 重复 is finished: notes and feedback only
    wait_for_background()


def test_unknown_case_number_says_so(qtbot, workspace):
    dialog = CaseDetailDialog(workspace.store, "AJ19990101001", "测试坐席")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loadFailed, timeout=10_000):
        dialog.show()
    assert "不存在" in dialog.header.text()
    assert dialog.action_buttons == {}


def test_double_click_in_the_case_table_opens_the_detail(qtbot, workspace, case):
    from map_helpers import open_window

    window = open_window(qtbot, workspace.store)
    view = window.case_view
    qtbot.waitUntil(lambda: view.model().rowCount() > 0, timeout=10_000)
    row = next(r for r in range(view.model().rowCount())
               if view.model().index(r, 0).data() == case.number)
    view.scrollTo(view.model().index(row, 0))
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), LEFT, pos=rect.center())  # a real double click starts with a click
    QTest.mouseDClick(view.viewport(), LEFT, pos=rect.center())
    qtbot.waitUntil(lambda: any(d.bundle is not None for d in window.case_actions.details), timeout=10_000)
    dialog = window.case_actions.details[0]
    assert dialog.bundle.detail.id == case.id and dialog.isVisible()
    wait_for_background()
