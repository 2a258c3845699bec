"""Login on start, first administrator, the database password, and what a role sees in the window."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.engine import make_url

from desktop import login_dialog
from desktop.login_dialog import (FirstAdminDialog, LoginCancelled, LoginDialog, ask_for_session, needs_login,
                                  open_store_asking_password)
from desktop.workers import wait_for_background
from gis import presence
from gis.security import accounts, credentials, passwords
from gis.security.authentication import MAX_FAILURES, login
from gis.storage import schema
from gis.storage.store import StoreError
from gis.workflow.cases import create_case


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def staffed(workspace):
    """The small workspace with an administrator, a 坐席 张三 and a 领导."""
    store = workspace.store
    with store.engine.begin() as connection:
        accounts.create_first_admin(connection, "admin", "admin-password")
    admin = login(store.engine, "admin", "admin-password")
    with store.engine.begin() as connection:
        accounts.create_user(connection, admin, "zhangsan", "seat-password", "坐席", display_name="张三")
        accounts.create_user(connection, admin, "lingdao", "lead-password", "领导", display_name="王局")
    return workspace


def _submit(qtbot, dialog, **fields):
    for name, text in fields.items():
        getattr(dialog, name).setText(text)
    dialog.ok_button.click()


def test_who_must_log_in(workspace, staffed):
    assert needs_login(SimpleNamespace(url=make_url("postgresql+psycopg://seat@db.example/envgrid")))
    assert needs_login(staffed.store)  # SQLite with accounts


def test_the_demo_without_accounts_opens_without_login(qtbot, tmp_path, small_db):
    from gis.storage.store import open_store

    store = open_store(small_db)
    try:
        assert not needs_login(store)
        assert ask_for_session(store) is None
    finally:
        store.close()


def test_wrong_password_then_lockout_with_the_time(qtbot, staffed):
    dialog = LoginDialog(staffed.store, host="seat-3")
    qtbot.addWidget(dialog)
    _submit(qtbot, dialog, username="zhangsan", password="nope")
    assert dialog.message.text() == "用户名或密码错误" and dialog.message.isVisibleTo(dialog)
    assert dialog.password.text() == "" and dialog.username.text() == "zhangsan" and dialog.session is None
    assert dialog.result() != LoginDialog.DialogCode.Accepted
    for _ in range(MAX_FAILURES - 1):
        _submit(qtbot, dialog, password="nope")
    assert "已锁定至" in dialog.message.text()
    with staffed.store.engine.connect() as connection:
        until = connection.execute(select(schema.users.c.locked_until).where(
            schema.users.c.username == "zhangsan")).scalar_one()
    assert f"{until:%H:%M}" in dialog.message.text()
    _submit(qtbot, dialog, password="seat-password")  # the right password while locked: still refused
    assert "已锁定至" in dialog.message.text() and dialog.session is None
    with staffed.store.engine.connect() as connection:
        failures = connection.execute(select(schema.audit_log.c.host).where(
            schema.audit_log.c.action == "login_failed")).scalars().all()
    assert len(failures) == MAX_FAILURES + 1 and all(h.startswith("seat-3") for h in failures)


def test_login_accepts_and_returns_the_session(qtbot, staffed):
    dialog = LoginDialog(staffed.store)
    qtbot.addWidget(dialog)
    _submit(qtbot, dialog, username="", password="")
    assert dialog.message.text() == "请输入用户名和密码"
    _submit(qtbot, dialog, username="ZhangSan", password="seat-password")
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    assert dialog.session.username == "zhangsan" and str(dialog.session.role) == "seat"


def test_first_run_creates_the_administrator(qtbot, workspace):
    dialog = FirstAdminDialog(workspace.store, host="seat-1")
    qtbot.addWidget(dialog)
    _submit(qtbot, dialog, username="admin", display_name="李主任", password="long-enough-1", confirm="other")
    assert dialog.message.text() == "两次输入的密码不一致" and dialog.session is None
    _submit(qtbot, dialog, password="short", confirm="short")
    assert dialog.session is None and "密码" in dialog.message.text()
    _submit(qtbot, dialog, password="long-enough-1", confirm="long-enough-1")
    assert dialog.result() == FirstAdminDialog.DialogCode.Accepted
    assert dialog.session.username == "admin" and str(dialog.session.role) == "admin"
    assert needs_login(workspace.store)
    again = FirstAdminDialog(workspace.store)  # a second seat doing first run meanwhile
    qtbot.addWidget(again)
    _submit(qtbot, again, username="admin2", password="long-enough-2", confirm="long-enough-2")
    assert again.exists and again.session is None


def test_ask_for_session_offers_first_admin_then_login(qtbot, workspace, monkeypatch):
    shown = []

    def fake_exec(dialog):
        shown.append(type(dialog).__name__)
        if isinstance(dialog, FirstAdminDialog):
            _submit(qtbot, dialog, username="admin", password="long-enough-1", confirm="long-enough-1")
        else:
            dialog.reject()
        return dialog.result()

    monkeypatch.setattr(login_dialog, "needs_login", lambda store: True)  # as for a PostgreSQL workspace
    monkeypatch.setattr(login_dialog._Form, "exec", fake_exec)
    session = ask_for_session(workspace.store)
    assert shown == ["FirstAdminDialog"] and session.username == "admin"
    with pytest.raises(LoginCancelled):  # accounts exist now: the login dialog, cancelled
        ask_for_session(workspace.store)
    assert shown[-1] == "LoginDialog"


def test_database_password_is_asked_and_kept_only_in_the_keyring(monkeypatch):
    url = "postgresql+psycopg://seat@db.example:5432/envgrid"
    tried, kept, asked = [], [], []

    def open_fn(target):
        tried.append(target.password)
        if target.password != "s3cret":
            raise StoreError("cannot open workspace: OperationalError: fe_sendauth: no password supplied")
        return "store"

    def ask(key, error):
        asked.append((key, error))
        return ("wrong", False) if len(asked) == 1 else ("s3cret", True)

    monkeypatch.setattr(credentials, "get_password", lambda key: None)
    monkeypatch.setattr(credentials, "store_password", lambda key, pw: kept.append((key, pw)) or True)
    assert open_store_asking_password(url, open_fn, ask) == "store"
    assert tried == [None, "wrong", "s3cret"]
    assert asked == [("seat@db.example:5432/envgrid", ""), ("seat@db.example:5432/envgrid", "数据库密码错误，请重新输入")]
    assert kept == [("seat@db.example:5432/envgrid", "s3cret")]
    with pytest.raises(StoreError, match="未输入"):
        open_store_asking_password(url, open_fn, lambda key, error: None)

    def unreachable(target):
        raise StoreError("cannot open workspace: connection refused")

    with pytest.raises(StoreError, match="connection refused"):  # not a password problem: no prompt
        open_store_asking_password(url, unreachable, lambda key, error: pytest.fail("asked"))


def _window(qtbot, store, session):
    from desktop.main_window import MainWindow

    window = MainWindow(store, remember=False, session=session)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.dataLoaded, timeout=20_000):
        window.show()
    return window


def test_role_decides_what_the_window_offers(qtbot, staffed):
    seat = login(staffed.store.engine, "zhangsan", "seat-password")
    window = _window(qtbot, staffed.store, seat)
    assert window.user_label.text() == "当前用户：张三（坐席）"
    assert window.case_actions.new_action.isEnabled() and window.case_actions.new_action.isVisible()
    assert not window.case_actions.seat_action.isVisible()
    start = window.editing.actions["start"]
    assert not start.isVisible() and not start.isEnabled()
    window.close()
    wait_for_background()

    leader = login(staffed.store.engine, "lingdao", "lead-password")
    window = _window(qtbot, staffed.store, leader)
    assert window.user_label.text() == "当前用户：王局（领导）"
    assert not window.case_actions.new_action.isVisible() and not window.case_actions.new_action.isEnabled()
    assert "领导无权登记和办理案件" in window.case_actions.new_action.toolTip()
    window.close()
    wait_for_background()


def test_detail_dialog_shows_who_is_handling_and_is_read_only_for_a_leader(qtbot, staffed):
    from desktop.case_detail_dialog import CaseDetailDialog
    from gis.security.permissions import PermissionDenied

    store = staffed.store
    other = login(store.engine, "zhangsan", "seat-password", host="seat-2")
    with store.engine.begin() as connection:
        case = create_case(connection, source="群众举报", category="扬尘污染", description="扬尘", actor="系统",
                           lon=112.82, lat=35.47)
        since = datetime.now() - timedelta(seconds=20)
        presence.take(connection, case.id, other, "other-seat", now=since)
    leader = login(store.engine, "lingdao", "lead-password")
    dialog = CaseDetailDialog(store, case.id, leader)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    qtbot.waitUntil(lambda: dialog.presence.label.isVisibleTo(dialog), timeout=10_000)
    assert dialog.presence.label.text() == f"张三 正在处理（自 {since:%H:%M}）"
    assert dialog.action_buttons and not any(b.isEnabled() for b in dialog.action_buttons.values())
    with store.engine.connect() as connection:  # the leader took no lease
        assert [lease.user_name for lease in presence.holders(connection)[case.id]] == ["zhangsan"]
    with store.engine.begin() as connection, pytest.raises(PermissionDenied, match="王局（lingdao）」（角色：领导）"):
        from gis.workflow.cases import add_note

        add_note(connection, case.id, leader, "领导批示")  # and the service refuses, whatever the UI shows
    dialog.close()
    wait_for_background()


def test_a_seat_holds_a_lease_while_the_dialog_is_open(qtbot, staffed):
    from desktop.case_detail_dialog import CaseDetailDialog

    store = staffed.store
    with store.engine.begin() as connection:
        case = create_case(connection, source="群众举报", category="扬尘污染", description="扬尘", actor="系统",
                           lon=112.82, lat=35.47)
    seat = login(store.engine, "zhangsan", "seat-password")
    dialog = CaseDetailDialog(store, case.id, seat)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()

    def held():
        with store.engine.connect() as connection:
            return [(lease.user_name, lease.seat) for lease in presence.holders(connection).get(case.id, [])]

    qtbot.waitUntil(lambda: held() == [("zhangsan", dialog.presence.seat)], timeout=10_000)
    assert all(b.isEnabled() for b in dialog.action_buttons.values())
    assert not dialog.presence.label.isVisibleTo(dialog)  # nobody else
    dialog.close()
    assert held() == []
    wait_for_background()
