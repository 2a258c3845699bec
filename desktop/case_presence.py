""""张三 正在处理（自 10:32）": the presence leases of gis.presence in the case detail dialog and
the case table's tooltips.

:class:`CasePresence` is attached to a :class:`~desktop.case_detail_dialog.CaseDetailDialog`: once
the case is loaded it takes this dialog's lease and renews it every 30 s (which also reads the
other seats'), shows the others above the case, and releases the lease when the dialog closes.
A user who may not handle cases (领导) takes no lease, only reads, and sees the action buttons
disabled — the services would refuse them anyway.

:func:`install_table_presence` answers the case table's tooltip with who else has the case open,
from a snapshot of every current lease refreshed in the background every 30 s.
"""
from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QLabel, QToolTip

from desktop.workers import run_in_background
from gis import presence
from gis.security.permissions import Permission, allowed
from gis.security.users import ROLE_LABELS, Session, User

PRESENCE_STYLE = "QLabel#presence { background: #e3f2fd; color: #0d47a1; padding: 4px 8px; border-radius: 3px; }"
_OWN_SEATS: set[str] = set()  # this process's dialogs: never shown as "someone else"


def can_handle_cases(actor) -> bool:
    """A plain name (no accounts) handles cases; a Session/User only with the permission."""
    if isinstance(actor, (Session, User)):
        return allowed(actor, Permission.CASES_WRITE)
    return True


class CasePresence(QObject):
    def __init__(self, dialog):
        super().__init__(dialog)
        self.dialog, self.store, self.actor = dialog, dialog.store, dialog.actor
        self.seat = presence.new_seat_token()
        _OWN_SEATS.add(self.seat)
        self.handles = can_handle_cases(self.actor)
        self.case_id: int | None = None
        self.others: list[presence.Lease] = []
        self.label = QLabel()
        self.label.setObjectName("presence")
        self.label.setStyleSheet(PRESENCE_STYLE)
        self.label.hide()
        dialog.layout().insertWidget(1, self.label)  # under the "changed by someone" banner
        self.timer = QTimer(self)
        self.timer.setInterval(presence.HEARTBEAT_SECONDS * 1000)
        self.timer.timeout.connect(self.refresh)
        dialog.loaded.connect(self._on_loaded)
        dialog.finished.connect(lambda _result: self.release())

    def _on_loaded(self, bundle) -> None:
        if not self.handles:
            role = ROLE_LABELS[self.actor.role] if hasattr(self.actor, "role") else ""
            for button in self.dialog.action_buttons.values():
                button.setEnabled(False)
                button.setToolTip(f"{role}为只读角色，不能办理案件")
        if self.case_id is None:
            self.case_id = bundle.detail.id
            self.refresh()
            self.timer.start()

    def refresh(self) -> None:
        """Take/renew the lease (or only read, for a read-only user); show the other seats."""
        if self.case_id is None:
            return
        store, actor, case_id, seat, handles = self.store, self.actor, self.case_id, self.seat, self.handles

        def work():
            with store.engine.begin() as connection:
                if handles:
                    return presence.take(connection, case_id, actor, seat)
                return presence.holders(connection, [case_id], exclude_seat=seat).get(case_id, [])

        run_in_background(work, self._show, lambda _exc: None, receiver=self)  # presence is a hint: never an error

    def _show(self, leases) -> None:
        self.others = [lease for lease in leases if lease.seat not in _OWN_SEATS]
        text = presence.describe(self.others)
        self.label.setText(text)
        self.label.setVisible(bool(text))

    def release(self) -> None:
        self.timer.stop()
        if self.case_id is None or not self.handles:
            return
        case_id, seat, store = self.case_id, self.seat, self.store
        self.case_id = None
        try:  # synchronous and short: the lease must be gone before the window may quit
            with store.engine.begin() as connection:
                presence.release(connection, case_id, seat)
        except Exception:  # noqa: BLE001 — unreachable database: the lease expires by itself in 90 s
            pass
        _OWN_SEATS.discard(seat)


class TablePresence(QObject):
    """Event filter on a case table's viewport: tooltips name the seats that have the case open."""

    def __init__(self, view, store_of: Callable[[], object]):
        super().__init__(view)
        self.view, self.store_of = view, store_of
        self.leases: dict[int, list[presence.Lease]] = {}
        view.viewport().installEventFilter(self)
        self.timer = QTimer(self)
        self.timer.setInterval(presence.HEARTBEAT_SECONDS * 1000)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def refresh(self) -> None:
        store = self.store_of()

        def work():
            with store.engine.connect() as connection:
                return presence.holders(connection)

        run_in_background(work, self._set, lambda _exc: None, receiver=self)

    def _set(self, leases: dict) -> None:
        self.leases = {case_id: [lease for lease in found if lease.seat not in _OWN_SEATS]
                       for case_id, found in leases.items()}

    def text_for(self, case_id: int | None) -> str:
        return presence.describe(self.leases.get(case_id, [])) if case_id is not None else ""

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Type.ToolTip or not shiboken6.isValid(self.view):
            return False
        from desktop.widgets.case_table import CASE_ID_ROLE
        from PySide6.QtCore import Qt

        index = self.view.indexAt(event.pos())
        handling = self.text_for(index.data(CASE_ID_ROLE) if index.isValid() else None)
        if not handling:
            return False
        own = index.data(Qt.ItemDataRole.ToolTipRole)
        QToolTip.showText(event.globalPos(), f"{own}\n{handling}" if own else handling, self.view.viewport())
        return True


def install_table_presence(view, store_of: Callable[[], object]) -> TablePresence:
    return TablePresence(view, store_of)
