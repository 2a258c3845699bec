"""案件详情: one case — header, the whole event history, what the reporter is told, and its actions.

The history is the append-only trail (痕迹化): every step with who, when, what, the note
and its photos, internal steps marked 内部. What the reporter may be told (``reporter_trail``)
is on its own tab. The action buttons are exactly ``allowed_actions(state)``; each opens an
:class:`ActionFormDialog` that asks for what the step needs. The step is written with the
version the seat was looking at, so a change by another seat meanwhile is refused
(ConflictError): the dialog says so, reloads, and keeps what was typed for a second try.
"""
from __future__ import annotations

from datetime import datetime
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QTabWidget, QVBoxLayout, QWidget,
)

from desktop.case_action_form import ActionFormDialog
from desktop.case_jobs import ActionRequest, CaseBundle, load_attachment, load_case_bundle, perform_action
from desktop.widgets.photo_strip import THUMB, PhotoStrip, is_image, read_image
from desktop.workers import run_in_background
from gis.domain import LEVEL_NAMES, OPEN_STATES, CaseAction, CaseState, Role
from gis.workflow import ConflictError, WorkflowError, allowed_actions
from gis.workflow.deadlines import describe_time_left, time_left

A, S = CaseAction, CaseState
MUTED = "color:#607d8b"
STATE_COLOURS = {S.CLOSED: "#2e7d32", S.FALSE_REPORT: "#78909c", S.DUPLICATE: "#78909c", S.RETURNED: "#c62828",
                 S.PENDING: "#1565c0"}
ACTION_COLOURS = {A.REGISTER: "#1565c0", A.DISPATCH: "#1565c0", A.RECTIFY: "#2e7d32", A.CLOSE: "#2e7d32",
                  A.RETURN: "#c62828", A.RECHECK_FAIL: "#c62828", A.REMIND: "#d84315", A.ESCALATE: "#6a1b9a",
                  A.TRANSFER: "#6a1b9a", A.NOTE: "#78909c", A.FEEDBACK: "#00838f"}
INTERNAL_BADGE = ("<span style='background-color:#fff3e0;color:#e65100;'>&nbsp;内部&nbsp;</span>")
PUBLIC_BADGE = ("<span style='background-color:#e0f7fa;color:#00838f;'>&nbsp;告知举报人&nbsp;</span>")
BANNER_STYLE = ("QFrame#banner { background:#fff3e0; border:1px solid #ffb74d; border-radius:3px; }"
                " QLabel { color:#bf360c; }")
ANY_STATE_ACTIONS = (A.NOTE, A.FEEDBACK, A.REMIND)  # shown after the actions that move the case


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def _state_badge(state: str) -> str:
    colour = STATE_COLOURS.get(state, "#e65100" if state in OPEN_STATES else "#455a64")
    return f"<span style='background-color:{colour};color:white;'>&nbsp;{escape(state)}&nbsp;</span>"


def event_html(event) -> str:
    """One step of the history as rich text (the photos are shown below it by the card)."""
    colour = ACTION_COLOURS.get(event.action, "#37474f")
    move = ""
    if event.to_state and event.from_state != event.to_state:
        move = f"　{escape(event.from_state or '')} → <b>{escape(event.to_state)}</b>"
    badge = INTERNAL_BADGE if event.internal else (PUBLIC_BADGE if event.action == A.FEEDBACK else "")
    payload = event.payload or {}
    place = event.grid_name or payload.get("department") or ""
    extra = []
    if payload.get("department") and event.grid_name:
        extra.append(f"承办部门：{payload['department']}")
    if payload.get("duplicate_of"):
        extra.append(f"重复于：{payload['duplicate_of']}")
    if payload.get("leader"):
        extra.append(f"督办对象：{payload.get('role', '')} {payload['leader']} {payload.get('phone', '')}")
    if payload.get("border_confirmed"):
        extra.append("网格边界附近，坐席已确认所属网格")
    note = escape(event.note).replace("\n", "<br>") if event.note else ""
    if payload.get("reason") and payload["reason"] != event.note:
        note += f"<br>原因：{escape(payload['reason'])}"
    lines = [f"<b>{_when(event.at)}</b>　{escape(event.actor)}　"
             f"<b style='color:{colour}'>{escape(event.action)}</b>{move}　{badge}"]
    if place:
        lines.append(f"<span style='{MUTED}'>{'至 ' if event.action in (A.DISPATCH, A.ESCALATE, A.TRANSFER) else ''}"
                     f"{escape(place)}</span>")
    if note:
        lines.append(note)
    if extra:
        lines.append(f"<span style='{MUTED}'>{escape('；'.join(extra))}</span>")
    return "<br>".join(lines)


class CaseDetailDialog(QDialog):
    loaded = Signal(object)          # CaseBundle
    actionApplied = Signal(object)   # ActionResult
    caseChanged = Signal(int)        # case id, after any write
    loadFailed = Signal(str)

    def __init__(self, store, case: int | str, actor: str, *, locate=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store, self.case_ref, self.actor, self._locate = store, case, actor, locate
        self.bundle: CaseBundle | None = None
        self.action_form: ActionFormDialog | None = None
        self.action_buttons: dict[str, QPushButton] = {}
        self.event_cards: list[tuple[object, QFrame]] = []
        self._drafts: dict[str, ActionRequest] = {}
        self._strips: list[PhotoStrip] = []
        self._generation = 0
        self.thumbnails_shown = False
        self.setWindowTitle("案件详情")
        self.setModal(False)
        self._build()
        from desktop.case_presence import CasePresence

        self.presence = CasePresence(self)  # "张三 正在处理（自 10:32）"; this seat's lease while open
        self.resize(900, 760)
        self.reload()

    @property
    def case_id(self) -> int | None:
        return self.bundle.detail.id if self.bundle else (self.case_ref if isinstance(self.case_ref, int) else None)

    @property
    def number(self) -> str | None:
        return self.bundle.detail.number if self.bundle else (self.case_ref if isinstance(self.case_ref, str) else None)

    # -- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = QFrame()
        self.banner.setObjectName("banner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_reload = QPushButton("重新加载")
        self.banner_reload.setAutoDefault(False)
        self.banner_reload.clicked.connect(self.reload)
        row = QHBoxLayout(self.banner)
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.banner_reload)
        self.banner.hide()

        self.header = QLabel("正在加载…")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.staff_label = QLabel()
        self.staff_label.setTextFormat(Qt.TextFormat.RichText)
        self.staff_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.staff_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.staff_label.setMinimumWidth(230)
        top = QHBoxLayout()
        top.addWidget(self.header, 3)
        top.addWidget(self.staff_label, 2)

        self.timeline = QWidget()
        self.timeline_layout = QVBoxLayout(self.timeline)
        self.timeline_layout.setContentsMargins(4, 4, 4, 4)
        self.timeline_layout.setSpacing(6)
        timeline_scroll = QScrollArea()
        timeline_scroll.setWidgetResizable(True)
        timeline_scroll.setWidget(self.timeline)
        self.timeline_scroll = timeline_scroll
        self.trail_label = QLabel()
        self.trail_label.setTextFormat(Qt.TextFormat.RichText)
        self.trail_label.setWordWrap(True)
        self.trail_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.trail_label.setMargin(8)
        self.trail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        trail_scroll = QScrollArea()
        trail_scroll.setWidgetResizable(True)
        trail_scroll.setWidget(self.trail_label)
        self.attachment_strip = self._strip()
        attachments = QWidget()
        box = QVBoxLayout(attachments)
        self.attachment_hint = QLabel()
        self.attachment_hint.setStyleSheet(MUTED)
        box.addWidget(self.attachment_hint)
        box.addWidget(self.attachment_strip)
        box.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.addTab(timeline_scroll, "办理过程")
        self.tabs.addTab(trail_scroll, "告知举报人")
        self.tabs.addTab(attachments, "附件")

        self.action_bar = QHBoxLayout()
        self.action_bar.setSpacing(4)
        self.locate_button = QPushButton("在地图上显示")
        self.locate_button.setVisible(self._locate is not None)
        self.locate_button.clicked.connect(self._on_locate)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self.reload)
        self.close_button = QPushButton("关闭")
        self.close_button.clicked.connect(self.close)
        for button in (self.locate_button, self.refresh_button, self.close_button):
            button.setAutoDefault(False)
        bottom = QHBoxLayout()
        bottom.addLayout(self.action_bar)
        bottom.addStretch(1)
        bottom.addWidget(self.locate_button)
        bottom.addWidget(self.refresh_button)
        bottom.addWidget(self.close_button)
        self.actions_title = QLabel("办理操作")
        self.actions_title.setStyleSheet(MUTED)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.actions_title)
        layout.addLayout(bottom)

    def _strip(self) -> PhotoStrip:
        store = self.store
        strip = PhotoStrip(loader=lambda attachment_id: load_attachment(store, attachment_id))
        self._strips.append(strip)
        return strip

    # -- loading --------------------------------------------------------------------------
    def reload(self) -> None:
        self._generation += 1
        generation, store, case, viewer = self._generation, self.store, self.case_id or self.case_ref, self.actor
        self.refresh_button.setEnabled(False)
        run_in_background(lambda: load_case_bundle(store, case, viewer=viewer),
                          lambda bundle: self._on_loaded(generation, bundle),
                          lambda exc: self._on_load_failed(generation, exc), receiver=self)

    def _on_load_failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        self.refresh_button.setEnabled(True)
        from gis.security.permissions import PermissionDenied

        refused = isinstance(exc, (WorkflowError, PermissionDenied))  # their messages are for the user
        message = str(exc) if refused else f"{exc.__class__.__name__}: {exc}"
        self.header.setText(f"<span style='color:#c62828'>无法读取案件：{escape(message)}</span>")
        self.loadFailed.emit(message)

    def _on_loaded(self, generation: int, bundle: CaseBundle) -> None:
        if generation != self._generation:
            return
        self.bundle = bundle
        self.refresh_button.setEnabled(True)
        detail = bundle.detail
        self.setWindowTitle(f"案件详情 — {detail.number}")
        self.header.setText(self._header_html(bundle))
        self.staff_label.setText(self._staff_html(bundle))
        self._fill_timeline(bundle)
        self._fill_trail(bundle)
        self._fill_attachments(bundle)
        self._fill_actions(detail.state)
        self.locate_button.setEnabled(detail.lon is not None)
        self._load_thumbnails(bundle)
        self.loaded.emit(bundle)

    def _header_html(self, bundle: CaseBundle) -> str:
        d = bundle.detail
        left = describe_time_left(time_left(d, bundle.loaded_at))
        due = _when(d.due_at) + (f"（{left}）" if d.due_at and d.state in OPEN_STATES else "")
        if left.startswith("超期"):
            due = f"<b style='color:#c62828'>{escape(due)}</b>"
        else:
            due = escape(due)
        grid = (f"{d.grid.name}（{LEVEL_NAMES.get(d.grid.level, d.grid.level)}，{d.grid_code}）" if d.grid else "—")
        where = f"{d.lon:.6f}, {d.lat:.6f}" if d.lon is not None else "—"
        reporter = "　".join(p for p in (d.reporter_name, d.reporter_phone) if p) or "（匿名）"
        rows = [("来源", escape(d.source)), ("类别", escape(d.category)), ("登记时间", _when(d.created_at)),
                ("办理期限", due), ("所属网格", escape(grid))]
        if d.department:
            rows.append(("承办部门", escape(d.department)))
        place = escape(where) + (f"　{escape(d.address)}" if d.address else "")
        rows += [("位置", place), ("举报人", escape(reporter))]
        if d.duplicate_of:
            rows.append(("重复于", escape(d.duplicate_of)))
        if d.closed_at:
            rows.append(("办结时间", _when(d.closed_at)))
        table = "".join(f"<tr><td style='{MUTED};padding-right:10px'>{k}</td><td>{v}</td></tr>" for k, v in rows)
        return (f"<span style='font-size:x-large;font-weight:bold'>{escape(d.number)}</span>&nbsp;&nbsp;"
                f"<span style='font-size:large'>{_state_badge(d.state)}</span>"
                f"<table cellspacing=2 style='margin-top:6px'>{table}</table>"
                f"<p style='margin-top:6px'><b>问题描述</b><br>{escape(d.description).replace(chr(10), '<br>')}</p>")

    @staticmethod
    def _staff_html(bundle: CaseBundle) -> str:
        d = bundle.detail
        if d.grid is None:
            return f"<b>责任人</b><br><span style='{MUTED}'>案件不在网格中（{escape(d.department or '未指定')}）</span>"
        leaders = (Role.LEADER, Role.DEPUTY, Role.FIRST_LEADER)
        staff = [e for e in d.staff if e[0] in leaders] + [e for e in d.staff if e[0] not in leaders]
        rows = "".join(f"<tr><td style='{MUTED};padding-right:8px'>{escape(str(r))}</td>"
                       f"<td style='padding-right:8px'>{escape(p.name)}</td><td>{escape(p.phone)}</td></tr>"
                       for r, p in staff) or "<tr><td>（未配置人员）</td></tr>"
        return f"<b>{escape(d.grid.name)} 责任人</b><table cellspacing=2>{rows}</table>"

    def _fill_timeline(self, bundle: CaseBundle) -> None:
        while self.timeline_layout.count():
            item = self.timeline_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._strips = [self.attachment_strip]
        self.event_cards = []
        for event in bundle.detail.events:
            card = QFrame()
            card.setObjectName("eventCard")
            colour = "#ffb74d" if event.internal else ACTION_COLOURS.get(event.action, "#90a4ae")
            background = "#fffaf3" if event.internal else "#ffffff"
            card.setStyleSheet(f"QFrame#eventCard {{ background:{background}; border:1px solid #e0e0e0;"
                               f" border-left:4px solid {colour}; border-radius:2px; }}")
            box = QVBoxLayout(card)
            box.setContentsMargins(10, 6, 8, 6)
            label = QLabel(event_html(event))
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.addWidget(label)
            if event.attachments:
                strip = self._strip()
                strip.setFrameShape(QFrame.Shape.NoFrame)
                strip.setStyleSheet("QListWidget { background: transparent; }")
                for info in event.attachments:
                    strip.add_stored(info.id, info.filename, info.mime, info.size)
                box.addWidget(strip)
            self.timeline_layout.addWidget(card)
            self.event_cards.append((event, card))
        self.timeline_layout.addStretch(1)

    def _fill_trail(self, bundle: CaseBundle) -> None:
        d = bundle.detail
        who = "　".join(p for p in (d.reporter_name, d.reporter_phone) if p) or "匿名举报人"
        steps = "".join(f"<tr><td style='{MUTED};padding-right:12px'>{_when(s.at)}</td>"
                        f"<td style='padding-right:12px'>{escape(s.state)}</td><td>{escape(s.text)}</td></tr>"
                        for s in bundle.trail)
        self.trail_label.setText(
            f"<p>可告知举报人（{escape(who)}）的办理进度。内部备注、工作人员姓名不在其中；"
            f"“反馈”的内容按原文告知。</p><table cellspacing=3>{steps}</table>")

    def _fill_attachments(self, bundle: CaseBundle) -> None:
        self.attachment_strip.clear()
        files = bundle.detail.attachments
        for info in files:
            self.attachment_strip.add_stored(info.id, info.filename, info.mime, info.size)
        self.tabs.setTabText(2, f"附件（{len(files)}）")
        self.attachment_hint.setText("双击查看原图；附件只增不删，存有 SHA-256 校验值。" if files else "暂无附件。")

    def _fill_actions(self, state: str) -> None:
        while self.action_bar.count():
            item = self.action_bar.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.action_buttons = {}
        actions = allowed_actions(state)
        ordered = ([a for a in actions if a not in ANY_STATE_ACTIONS]
                   + [a for a in actions if a in ANY_STATE_ACTIONS])
        for action in ordered:
            button = QPushButton(str(action))
            button.setAutoDefault(False)
            if action not in ANY_STATE_ACTIONS:
                button.setStyleSheet("QPushButton { font-weight:bold; }")
            button.clicked.connect(lambda _=False, a=action: self.open_action(a))
            self.action_bar.addWidget(button)
            self.action_buttons[str(action)] = button

    def _load_thumbnails(self, bundle: CaseBundle) -> None:
        wanted = [(info.id, info.filename, info.mime) for info in bundle.detail.attachments
                  if is_image(info.filename, info.mime)][:60]
        if not wanted:
            return
        store = self.store

        def work():
            images = {}
            for attachment_id, _name, _mime in wanted:
                try:
                    _filename, _mime2, data = load_attachment(store, attachment_id)
                except WorkflowError:
                    continue  # a corrupt file shows its placeholder; opening it says why
                images[attachment_id] = read_image(data, THUMB * 2)
            return images

        generation = self._generation
        run_in_background(work, lambda images: self._set_thumbnails(generation, images), lambda exc: None,
                          receiver=self)

    def _set_thumbnails(self, generation: int, images: dict) -> None:
        if generation != self._generation:
            return
        for strip in self._strips:
            for attachment_id, image in images.items():
                strip.set_thumbnail(("stored", attachment_id), image)
        self.thumbnails_shown = True

    # -- actions --------------------------------------------------------------------------
    def open_action(self, action: str) -> ActionFormDialog | None:
        if self.bundle is None:
            return None
        self.hide_banner()
        form = ActionFormDialog(action, self.bundle, self._drafts.get(str(action)), self)
        form.submitted.connect(lambda request: self._run_action(form, request))
        form.finished.connect(lambda _result: setattr(self, "action_form", None)
                              if self.action_form is form else None)
        self.action_form = form
        form.open()
        return form

    def _run_action(self, form: ActionFormDialog, request: ActionRequest) -> None:
        self._drafts[str(request.action)] = request
        form.set_busy(True)
        store, actor = self.store, self.actor
        case_id, version = self.bundle.detail.id, self.bundle.detail.version
        run_in_background(lambda: perform_action(store, case_id, request, actor, version),
                          lambda result: self._on_action_done(form, result),
                          lambda exc: self._on_action_failed(form, exc), receiver=self)

    def _on_action_done(self, form: ActionFormDialog, result) -> None:
        self._drafts.pop(str(result.action), None)
        form.set_busy(False)
        form.accept()
        self.actionApplied.emit(result)
        self.caseChanged.emit(result.case_id)
        self.reload()

    def _on_action_failed(self, form: ActionFormDialog, exc: Exception) -> None:
        if isinstance(exc, ConflictError):
            form.set_busy(False)
            form.reject()
            self.show_banner(f"{exc}。已重新加载最新状态；刚才填写的内容已保留，核对后可再次操作。")
            self.reload()
        elif isinstance(exc, WorkflowError):
            form.show_error(str(exc))
        elif isinstance(exc, OSError):
            form.show_error(f"无法读取照片 {getattr(exc, 'filename', '') or ''}：{exc.strerror or exc}")
        else:
            form.show_error(f"操作失败（{exc.__class__.__name__}: {exc}），未写入任何内容")

    def external_change(self) -> None:
        """The live feed saw this case change: reload — unless the seat is filling in an action over
        the old state, then say so and keep the form (it reloads with the 重新加载 button)."""
        form = self.action_form
        if form is not None and form.busy:
            return  # our own write: its answer reloads
        if form is not None and form.isVisible():
            self.show_banner("此案件已被他人更新。核对后可点击“重新加载”查看最新状态；刚才填写的内容会保留。")
            return
        self.reload()

    def show_banner(self, text: str) -> None:
        self.banner_label.setText(text)
        self.banner.show()

    def hide_banner(self) -> None:
        self.banner.hide()

    def banner_text(self) -> str:
        return "" if self.banner.isHidden() else self.banner_label.text()

    def _on_locate(self) -> None:
        if self.bundle is not None and self.bundle.detail.lon is not None and self._locate is not None:
            self._locate(self.bundle.detail)

    def closeEvent(self, event) -> None:
        if self.action_form is not None and self.action_form.busy:
            event.ignore()  # a write is under way; its answer must reach the seat
            return
        super().closeEvent(event)
