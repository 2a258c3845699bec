"""Leaders and staff: appoint or replace with history, phones checked as typed, the contact card."""
from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate
from PySide6.QtGui import QGuiApplication
from small_workspace import build_small_workspace

from desktop.grid_panels.staff_dialog import StaffDialog
from gis.domain import Role
from gis.editing.staff import grid_staff_history
from gis.storage import schema
from gis.storage.store import open_store

SW = "140502001001"


def dialog_for(qtbot, tmp_path, code=SW):
    store = open_store(str(tmp_path / "staff.sqlite"))
    grids = build_small_workspace(store)
    dialog = StaffDialog(store, grids[code], parent_grid=grids["140502001"])
    qtbot.addWidget(dialog)
    return store, grids, dialog


def test_replacing_the_leader_with_a_new_person_keeps_history(qtbot, tmp_path):
    store, grids, dialog = dialog_for(qtbot, tmp_path)
    assert [(r.role, r.person.name) for r in dialog._current] == [(Role.LEADER, "网格长0"), (Role.STAFF, "网格员0")]
    dialog.role_box.setCurrentIndex(dialog.role_box.findData(Role.LEADER))
    assert dialog.replace_box.isChecked()
    start = date.today() + timedelta(days=3)
    dialog.start_edit.setDate(QDate(start.year, start.month, start.day))
    dialog.new_radio.setChecked(True)
    dialog.name_edit.setText("李建国")
    qtbot.keyClicks(dialog.phone_edit, "0356-212345")  # one digit short
    assert "固定电话" in dialog.phone_error.text()
    assert not dialog.appoint_button.isEnabled()
    qtbot.keyClicks(dialog.phone_edit, "6")
    assert dialog.phone_error.text() == "" and dialog.appoint_button.isEnabled()
    assert dialog.appoint()
    with store.engine.connect() as connection:
        history = grid_staff_history(connection, grids[SW].id)
    leaders = [(r.person.name, r.person.phone, r.start_date, r.end_date) for r in history if r.role == Role.LEADER]
    assert leaders == [("网格长0", "13800000000", date(2020, 1, 1), start - timedelta(days=1)),
                       ("李建国", "0356-2123456", start, None)]
    timeline = [dialog.history.item(row, 2).text() for row in range(dialog.history.rowCount())]
    assert "李建国 任网格长（0356-2123456）" in timeline and "网格长0 卸任网格长" in timeline
    store.close()


def test_a_bad_phone_is_refused_with_a_message_and_nothing_is_written(qtbot, tmp_path):
    store, grids, dialog = dialog_for(qtbot, tmp_path)
    with store.engine.connect() as connection:
        before = connection.execute(schema.people.select()).all()
    dialog.role_box.setCurrentIndex(dialog.role_box.findData(Role.STAFF))
    assert not dialog.replace_box.isChecked()  # a second 网格员 beside the first
    dialog.new_radio.setChecked(True)
    dialog.name_edit.setText("王芳")
    dialog.phone_edit.setText("1381234567")
    assert dialog.phone_error.text() == "手机号码“1381234567”应为11位数字，实际为10位"
    assert dialog.form_error.text() == "电话号码不正确"
    assert not dialog.appoint()
    with store.engine.connect() as connection:
        assert connection.execute(schema.people.select()).all() == before
    dialog.phone_edit.setText("138 1234 5678")
    assert dialog.appoint()
    roles = sorted((str(r.role), r.person.name) for r in dialog._current)
    assert roles == [("网格员", "王芳"), ("网格员", "网格员0"), ("网格长", "网格长0")]
    store.close()


def test_appointing_someone_from_the_people_list_and_the_contact_card(qtbot, tmp_path):
    store, grids, dialog = dialog_for(qtbot, tmp_path)
    dialog.role_box.setCurrentIndex(dialog.role_box.findData(Role.FIRST_LEADER))
    dialog.search.setText("13900000003")
    assert dialog.people_proxy.rowCount() == 1
    dialog.people_list.setCurrentIndex(dialog.people_proxy.index(0, 0))
    assert dialog.selected_person().name == "网格员3"
    assert dialog.appoint()
    text = dialog.card.text
    assert text.splitlines()[0] == "西南社区（三级网格，编码 140502001001）"
    assert "第一网格长：网格员3 13900000003" in text and "网格长：网格长0 13800000000" in text
    assert text.index("第一网格长") < text.index("网格长：网格长0")  # 第一网格长 first, as on the sign
    assert "上级网格：西街道" in text and text.endswith("环保举报热线：12369")
    dialog.card.copy_button.click()
    assert QGuiApplication.clipboard().text() == text
    # Ending a term: the 第一网格长 leaves the day before the chosen date.
    row = next(i for i, r in enumerate(dialog._current) if r.role == Role.FIRST_LEADER)
    dialog.current.selectRow(row)
    tomorrow = date.today() + timedelta(days=1)
    dialog.start_edit.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
    assert dialog.end_selected()
    with store.engine.connect() as connection:
        first = [r for r in grid_staff_history(connection, grids[SW].id) if r.role == Role.FIRST_LEADER]
    assert first[0].end_date == date.today()
    store.close()


def test_appoint_is_one_transaction_on_both_backends(store):
    import pytest

    from desktop.grid_panels.staff_data import appoint

    grids = build_small_workspace(store)
    grid_id = grids[SW].id
    with store.engine.connect() as connection:
        with pytest.raises(ValueError, match="2020-01-01"):  # the holder started after the new start
            appoint(connection, grid_id, Role.LEADER, date(2019, 6, 1), new_person={"name": "赵敏", "phone": "13512345678"})
        connection.commit()
    with store.engine.connect() as connection:
        names = [row.name for row in connection.execute(schema.people.select())]
        assert "赵敏" not in names  # the new person went with the refused assignment
        person_id, _ = appoint(connection, grid_id, Role.LEADER, date(2024, 3, 1),
                               new_person={"name": "赵敏", "phone": "+86 135-1234-5678", "unit": "西街道办"})
        connection.commit()
    with store.engine.connect() as connection:
        history = [(r.person.name, r.person.phone, r.start_date, r.end_date)
                   for r in grid_staff_history(connection, grid_id) if r.role == Role.LEADER]
    assert history == [("网格长0", "13800000000", date(2020, 1, 1), date(2024, 2, 29)),
                       ("赵敏", "13512345678", date(2024, 3, 1), None)]
