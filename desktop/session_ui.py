"""What the logged-in user sees: "当前用户：张三（坐席）", actions the role may not use hidden, the
data scope (desktop.scope_view), the user as the actor of every service call, and 注销.

This is presentation only: the services in gis/ refuse whatever the role may not do
(gis.security.permissions), whatever the window shows. An action tagged with
:func:`needs_permission` (the ``envgridPermission`` property) is hidden and disabled for a role
without that permission; other modules may tag their own actions the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from gis.security.permissions import PERMISSION_LABELS, Permission, allowed
from gis.security.users import ROLE_LABELS, Session

PERMISSION_PROPERTY = "envgridPermission"


@dataclass(frozen=True)
class WindowUser:
    """``window.user`` for modules that only need a name (the edit session's history)."""

    name: str


def user_text(session: Session) -> str:
    """``当前用户：张三（坐席）``, with the data scope when the user has one."""
    user = session.user
    text = f"当前用户：{user.display_name or user.username}（{ROLE_LABELS[user.role]}）"
    if session.scope is not None:
        text += f" · 范围 {session.scope.label}"
    return text


def needs_permission(action: QAction, permission: Permission) -> QAction:
    action.setProperty(PERMISSION_PROPERTY, str(permission))
    return action


def _tag_known_actions(window) -> None:
    case_actions = getattr(window, "case_actions", None)
    if case_actions is not None:
        needs_permission(case_actions.new_action, Permission.CASES_WRITE)
    editing = getattr(window, "editing", None)
    start = (getattr(editing, "actions", None) or {}).get("start")
    if start is not None:  # the other edit actions are disabled outside an edit session anyway
        needs_permission(start, Permission.GRIDS_WRITE)


def apply_role(window, session: Session | None) -> list[QAction]:
    """Hide and disable the tagged actions the session's role lacks; returns those actions."""
    _tag_known_actions(window)
    for action in getattr(window, "refused_actions", []):  # a previous login's refusals (workspace switch)
        action.setEnabled(True)
        action.setVisible(True)
    refused = window.refused_actions = []
    for action in window.findChildren(QAction):
        permission = action.property(PERMISSION_PROPERTY)
        if not permission or session is None:
            continue
        if not allowed(session, Permission(permission)):
            action.setEnabled(False)
            action.setVisible(False)  # an invisible action cannot be triggered by its shortcut either
            action.setToolTip(f"{ROLE_LABELS[session.role]}无权{PERMISSION_LABELS[Permission(permission)]}")
            refused.append(action)
    return refused


def apply_session(window, session: Session | None) -> None:
    """Make ``session`` the window's user: status bar, actions, data scope, actor of the services.

    Called at start, after 注销 and on opening another workspace: everything the previous
    session set (scope included) is replaced, also by None."""
    from desktop import case_actions
    from desktop.scope_view import apply_scope

    window.session = session
    case_actions.set_logged_in(session)
    label = getattr(window, "user_label", None)
    if label is None:
        label = window.user_label = QLabel()
        label.setObjectName("userLabel")
        window.statusBar().insertPermanentWidget(0, label)
    label.setText(user_text(session) if session is not None else "")
    label.setVisible(session is not None)
    seat_action = getattr(getattr(window, "case_actions", None), "seat_action", None)
    if seat_action is not None:
        seat_action.setVisible(session is None)  # logged in: the actor's name is the login's
    logout = getattr(window, "logout_action", None)
    if logout is not None:
        logout.setVisible(session is not None)
    apply_role(window, session)
    apply_scope(window, session)
    if session is None:
        return
    window.user = WindowUser(session.actor_name)
    editing = getattr(window, "editing", None)
    if editing is not None and hasattr(editing, "editStarted") and not getattr(window, "_actor_follows_edits", False):
        # The edit session carries the user to gis.editing.save_session, which checks role and scope.
        editing.editStarted.connect(lambda _level: setattr(editing.session, "actor", window.session)
                                    if editing.session is not None else None)
        window._actor_follows_edits = True


def end_session(window) -> None:
    """Log the window's user out (audit row); a database that is gone is not an error at exit."""
    from gis.security.authentication import logout

    session = getattr(window, "session", None)
    if session is None:
        return
    window.session = None
    try:
        logout(window.store.engine, session)
    except Exception:  # noqa: BLE001 — the log-in row stays; nothing else to do at exit
        pass


def log_out(window) -> bool:
    """注销: end the session (audit row), hide the window and ask for a login to the same workspace.
    The new user's role and scope replace the old ones; cancelled, the window closes.

    Refused while a grid edit session is open: its changes would be saved under the next user.
    Returns whether someone is logged in afterwards.
    """
    from PySide6.QtWidgets import QMessageBox

    from desktop.login_dialog import LoginCancelled, ask_for_session

    editing = getattr(window, "editing", None)
    if getattr(editing, "session", None) is not None:
        QMessageBox.information(window, "注销", "请先保存或放弃正在进行的网格编辑，再注销。")
        return window.session is not None
    end_session(window)
    apply_session(window, None)
    window.hide()  # nobody is logged in: nothing of the workspace stays on screen
    try:
        session = ask_for_session(window.store)
    except LoginCancelled:
        window.close()
        return False
    apply_session(window, session)
    window.show()
    return session is not None
