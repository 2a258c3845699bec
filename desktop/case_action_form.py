"""The small form behind each action button of 案件详情: it asks for exactly what the action needs.

What a step needs comes from the state machine (``transitions.rule_for``): a reason for
退回/误报/复查不通过, the rectification note for 整改完成, a grid or department for 派发, a
department for 转办, the earlier case for 重复. Every action may carry a note and photos.
The form does not write: it emits ``submitted(ActionRequest)``; the detail dialog runs it
and answers with :meth:`show_error` or closes the form.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QCompleter, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
    QPlainTextEdit, QRadioButton, QVBoxLayout, QWidget,
)

from desktop.case_jobs import ActionRequest, CaseBundle
from desktop.widgets.photo_strip import PhotoPicker
from gis.domain import LEVEL_NAMES, CaseAction
from gis.workflow.transitions import CITY_DEPARTMENT, MissingInput, Move, Need, escalation_target, rule_for

A = CaseAction
ERROR_STYLE = "color:#c62828"
MUTED = "color:#607d8b"
REASON_LABELS = {A.RETURN: "退回原因", A.FALSE_REPORT: "核实情况", A.RECHECK_FAIL: "不通过原因"}
NOTE_LABELS = {A.RECTIFY: "整改情况", A.NOTE: "备注内容", A.FEEDBACK: "反馈内容"}
NOTE_HINTS = {
    A.RECTIFY: "整改措施、完成时间、现场情况；请附整改后照片",
    A.NOTE: "仅工作人员可见",
    A.FEEDBACK: "将原文告知举报人，请勿写入工作人员姓名等内部信息",
    A.REMIND: "留空则自动生成督办内容（含责任人及电话）",
}
PHOTO_ACTIONS = {A.RECTIFY, A.ACCEPT, A.FALSE_REPORT, A.RECHECK_FAIL, A.CLOSE, A.NOTE, A.FEEDBACK, A.RETURN,
                 A.ESCALATE, A.TRANSFER, A.DISPATCH, A.SUBMIT_RECHECK}


def _searchable(combo: QComboBox, placeholder: str) -> None:
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.lineEdit().setPlaceholderText(placeholder)
    completer = QCompleter(combo.model(), combo)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    combo.setCompleter(completer)


class ActionFormDialog(QDialog):
    submitted = Signal(object)  # ActionRequest

    def __init__(self, action: str, bundle: CaseBundle, draft: ActionRequest | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.action, self.bundle = CaseAction(action), bundle
        detail = bundle.detail
        self.rule = rule_for(detail.state, self.action, detail.number)
        self.setWindowTitle(f"{self.action} — 案件 {detail.number}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.errors: dict[str, QLabel] = {}
        self.reason_edit = self.note_edit = None
        self.grid_combo = self.department_combo = self.duplicate_combo = None
        self.to_grid = self.to_department = None
        self.photos: PhotoPicker | None = None

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        arrow = f"{detail.state} → {self.rule.to_state}" if self.rule.to_state else f"状态不变（{detail.state}）"
        form.addRow("状态", QLabel(arrow))
        needs = self.rule.needs
        if self.rule.move is Move.DESTINATION:
            form.addRow("派发到", self._destination_field())
        if Need.DEPARTMENT in needs:
            self.department_combo = self._department_combo()
            form.addRow("承办部门", self._checked("department", self.department_combo))
        if Need.DUPLICATE_OF in needs:
            form.addRow("原案件", self._checked("duplicate", self._duplicate_combo()))
        if self.rule.move is Move.PARENT:
            form.addRow("上报至", self._escalation_label())
        if Need.REASON in needs:
            self.reason_edit = self._text(REASON_LABELS.get(self.action, "原因"))
            form.addRow(REASON_LABELS.get(self.action, "原因"), self._checked("reason", self.reason_edit))
        else:
            required = Need.NOTE in needs
            label = NOTE_LABELS.get(self.action, "说明")
            self.note_edit = self._text(NOTE_HINTS.get(self.action, "选填"))
            form.addRow(label + ("" if required else "（选填）"), self._checked("note", self.note_edit))
        if self.action in PHOTO_ACTIONS:
            self.photos = PhotoPicker(button_text="添加照片…" if self.action != A.RECTIFY else "添加整改照片…")
            form.addRow("照片", self.photos)
        visibility = QLabel("内部记录，不告知举报人" if self.rule.internal else "举报人可查询此步骤（按固定用语告知）"
                            if self.action != A.FEEDBACK else "此内容将原文告知举报人")
        visibility.setStyleSheet(MUTED)
        form.addRow("", visibility)

        self.error_banner = QLabel()
        self.error_banner.setStyleSheet(ERROR_STYLE)
        self.error_banner.setWordWrap(True)
        self.error_banner.hide()
        self.buttons = QDialogButtonBox()
        self.ok_button = self.buttons.addButton(str(self.action), QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.buttons)
        self.busy = False
        if draft is not None:
            self.restore(draft)
        self.resize(560, self.sizeHint().height())

    # -- fields ---------------------------------------------------------------------------
    def _checked(self, name: str, widget: QWidget) -> QWidget:
        error = QLabel()
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        error.hide()
        self.errors[name] = error
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        layout.addWidget(error)
        return box

    @staticmethod
    def _text(placeholder: str) -> QPlainTextEdit:
        edit = QPlainTextEdit()
        edit.setPlaceholderText(placeholder)
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(84)
        return edit

    def _department_combo(self) -> QComboBox:
        combo = QComboBox()
        combo.addItem("")
        combo.addItems(self.bundle.departments)
        _searchable(combo, "选择或输入部门名称")
        return combo

    def _destination_field(self) -> QWidget:
        detail = self.bundle.detail
        self.grid_combo = QComboBox()
        codes = self.bundle.grid_codes
        current = detail.grid.id if detail.grid else None
        children = [g for g in self.bundle.grids if g.parent_id == current and current is not None]
        others = [g for g in self.bundle.grids if g.id != current and g not in children and g.level < 5]
        ordered = ([detail.grid] if detail.grid else []) + children + others
        for grid in ordered:
            label = f"{grid.name}（{LEVEL_NAMES.get(grid.level, grid.level)}，{codes.get(grid.id, '')}）"
            if grid.id == current:
                label += "　当前网格"
            self.grid_combo.addItem(label, grid.id)
        _searchable(self.grid_combo, "输入网格名称或编码")
        self.department_combo = self._department_combo()
        self.to_grid, self.to_department = QRadioButton("网格"), QRadioButton("部门")
        group = QButtonGroup(self)
        group.addButton(self.to_grid)
        group.addButton(self.to_department)
        self.to_grid.setChecked(not detail.department)
        self.to_department.setChecked(bool(detail.department))
        self.to_grid.toggled.connect(self._sync_destination)
        grid_row, dept_row = QHBoxLayout(), QHBoxLayout()
        grid_row.addWidget(self.to_grid)
        grid_row.addWidget(self.grid_combo, 1)
        dept_row.addWidget(self.to_department)
        dept_row.addWidget(self.department_combo, 1)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid_row)
        layout.addLayout(dept_row)
        self._sync_destination()
        return self._checked("destination", box)

    def _sync_destination(self) -> None:
        self.grid_combo.setEnabled(self.to_grid.isChecked())
        self.department_combo.setEnabled(self.to_department.isChecked())

    def _duplicate_combo(self) -> QComboBox:
        combo = self.duplicate_combo = QComboBox()
        combo.addItem("")
        for dup in self.bundle.duplicates:
            text = f"{dup.number}（{dup.state}，相距 {dup.distance_m:,.0f} 米）{dup.description[:24]}"
            combo.addItem(text, dup.number)
        _searchable(combo, "选择附近的案件，或输入原案件编号")
        return combo

    def _escalation_label(self) -> QLabel:
        detail = self.bundle.detail
        by_id = {g.id: g for g in self.bundle.grids}
        try:
            target, department = escalation_target(detail.grid, detail.department, by_id.get)
        except MissingInput as exc:
            label = QLabel(str(exc))
            label.setStyleSheet(ERROR_STYLE)
            label.setWordWrap(True)
            return label
        if target is None:
            return QLabel(department or CITY_DEPARTMENT)
        return QLabel(f"{target.name}（{LEVEL_NAMES.get(target.level, target.level)}）")

    # -- values ---------------------------------------------------------------------------
    def _combo_value(self, combo: QComboBox) -> str:
        text = combo.currentText().strip()
        index = combo.findText(text)
        data = combo.itemData(index) if index >= 0 else None
        return str(data) if data is not None else text

    def request(self) -> ActionRequest:
        grid_id = department = duplicate = None
        if self.rule.move is Move.DESTINATION:
            if self.to_grid.isChecked():
                index = self.grid_combo.findText(self.grid_combo.currentText())
                grid_id = self.grid_combo.itemData(index) if index >= 0 else None
            else:
                department = self.department_combo.currentText().strip() or None
        elif self.department_combo is not None:
            department = self.department_combo.currentText().strip() or None
        if self.duplicate_combo is not None:
            duplicate = self._combo_value(self.duplicate_combo) or None
            duplicate = duplicate.split("（")[0].strip() if duplicate else None
        return ActionRequest(
            self.action, note=self.note_edit.toPlainText().strip() if self.note_edit else "",
            reason=self.reason_edit.toPlainText().strip() if self.reason_edit else "", grid_id=grid_id,
            department=department, duplicate_of=duplicate, photos=tuple(self.photos.paths()) if self.photos else ())

    def restore(self, draft: ActionRequest) -> None:
        if self.note_edit is not None:
            self.note_edit.setPlainText(draft.note)
        if self.reason_edit is not None:
            self.reason_edit.setPlainText(draft.reason)
        if self.photos is not None:
            self.photos.add_files(draft.photos)
        if self.department_combo is not None and draft.department:
            self.department_combo.setCurrentText(draft.department)
        if self.grid_combo is not None and draft.grid_id is not None:
            self.grid_combo.setCurrentIndex(max(0, self.grid_combo.findData(draft.grid_id)))
        if self.duplicate_combo is not None and draft.duplicate_of:
            self.duplicate_combo.setCurrentText(str(draft.duplicate_of))

    def validate(self) -> dict[str, str]:
        request = self.request()
        needs = self.rule.needs
        problems = {}
        if Need.REASON in needs and not request.reason:
            problems["reason"] = f"请填写{REASON_LABELS.get(self.action, '原因')}"
        if Need.NOTE in needs and not request.note:
            problems["note"] = f"请填写{NOTE_LABELS.get(self.action, '说明')}"
        if self.rule.move is Move.DESTINATION and request.grid_id is None and not request.department:
            problems["destination"] = "请选择派发的网格，或填写部门"
        if Need.DEPARTMENT in needs and not request.department:
            problems["department"] = "请选择或填写承办部门"
        if Need.DUPLICATE_OF in needs and not request.duplicate_of:
            problems["duplicate"] = "请选择或输入原案件编号"
        for name, label in self.errors.items():
            label.setText(problems.get(name, ""))
            label.setVisible(name in problems)
        return problems

    def _submit(self) -> None:
        if self.busy or self.validate():
            return
        self.error_banner.hide()
        self.submitted.emit(self.request())

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.ok_button.setEnabled(not busy)
        self.ok_button.setText("正在提交…" if busy else str(self.action))

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self.error_banner.setText(message)
        self.error_banner.show()

    def reject(self) -> None:
        if not self.busy:
            super().reject()
