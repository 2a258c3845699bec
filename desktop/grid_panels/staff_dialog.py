"""Leaders and staff of one grid: appoint or replace, the contact card, and the grid's history.

Tab 负责人: the people responsible today; below, appoint someone to a role from the people list
(searchable) or as a new person, from a start date. Replacing ends the current holder's term the
day before (gis.editing.staff keeps every term, so the history stays answerable). The phone of
a new person is checked as it is typed (gis.phones), with the reason next to the field.
Tab 联系卡: the grid's card as on the public sign, with 复制. Tab 历史: staff changes and
earlier boundary versions (grid_history), newest first.
"""
from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, QSortFilterProxyModel, QStringListModel, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QGroupBox,
    QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListView, QPushButton, QRadioButton, QTableWidget,
    QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from desktop.grid_panels.staff_data import appoint, current_records, grid_history, read_people
from gis.domain import LEVEL_NAMES, Grid, Role
from gis.editing.staff import end_role, grid_staff_history
from gis.phones import PhoneError, phone_problem
from gis.signs import build_sign, contact_text, display_phone

# Roles that one person holds at a time (replacing by default); 网格员 and 监督员 may be several.
SINGLE_ROLES = (Role.LEADER, Role.FIRST_LEADER)
ERROR_STYLE = "color:#c62828"


class ContactCard(QWidget):
    """The grid's contact card (rich text) and a 复制 button giving the plain-text version."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setStyleSheet("QLabel { background: #fffdf7; border: 2px solid #b3161b; padding: 10px; }")
        self.copy_button = QPushButton("复制")
        self.copy_button.setToolTip("复制为文字，可粘贴到微信或文档")
        self.copy_button.clicked.connect(self.copy)
        self.text = ""
        layout = QVBoxLayout(self)
        layout.addWidget(self.label, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.copy_button)
        layout.addLayout(row)

    def set_sign(self, sign) -> None:
        from html import escape

        self.text = contact_text(sign)
        people = "".join(f"<tr><td style='color:#b3161b;padding-right:10px'>{escape(p.role)}</td>"
                         f"<td style='font-size:15px;font-weight:bold;padding-right:14px'>{escape(p.name)}</td>"
                         f"<td style='font-size:15px;font-weight:bold'>{escape(display_phone(p.phone))}</td></tr>"
                         for p in sign.people) or "<tr><td>（未配置责任人）</td></tr>"
        bounds = "<br>".join(escape(b) for b in sign.bounds_phrases())
        parent = f"　上级：{escape(sign.parent_name)}" if sign.parent_name else ""
        self.label.setText(
            f"<div style='font-size:18px;font-weight:bold'>{escape(sign.name)}</div>"
            f"<div style='color:#5f6b73'>{escape(sign.level_name)}　编码 {escape(sign.code)}{parent}</div>"
            f"<p style='margin-top:6px'>{bounds}</p><table>{people}</table>"
            f"<p style='color:#b3161b;font-weight:bold'>环保举报热线 {escape(sign.hotline)}</p>")

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)


class StaffDialog(QDialog):
    """Leaders and staff of ``grid`` (the store is read and written directly, in transactions)."""

    changed = Signal(int)  # grid id, after an appointment or an end of term

    def __init__(self, store, grid: Grid, *, parent_grid: Grid | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.grid = grid
        self.parent_grid = parent_grid
        self.setWindowTitle(f"负责人与联系卡 — {grid.name}")
        self.resize(720, 620)
        header = QLabel(f"<b style='font-size:16px'>{grid.name}</b>　{LEVEL_NAMES.get(grid.level, '')}　"
                        f"<span style='color:#607d8b'>编码 {grid.code}</span>")
        self.tabs = QTabWidget()
        self.tabs.addTab(self._staff_tab(), "负责人")
        self.card = ContactCard()
        self.tabs.addTab(self.card, "联系卡")
        self.history = QTableWidget(0, 4)
        self.history.setHorizontalHeaderLabels(["日期", "类别", "内容", "操作人"])
        _plain_table(self.history)
        self.tabs.addTab(self.history, "历史")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        self.reload()

    # -- construction ------------------------------------------------------------------------
    def _staff_tab(self) -> QWidget:
        self.current = QTableWidget(0, 4)
        self.current.setHorizontalHeaderLabels(["岗位", "姓名", "电话", "任职起始"])
        _plain_table(self.current)
        self.end_button = QPushButton("结束任职…")
        self.end_button.setToolTip("所选人员在“起始日期”前一天卸任（没有接任者）")
        self.end_button.clicked.connect(self.end_selected)

        self.role_box = QComboBox()
        for role in Role:
            self.role_box.addItem(str(role), role)
        self.role_box.currentIndexChanged.connect(self._role_changed)
        self.replace_box = QCheckBox("替换现任（现任人员任职至起始日期前一天）")
        self.start_edit = QDateEdit(QDate.currentDate())
        self.start_edit.setCalendarPopup(True)
        self.start_edit.setDisplayFormat("yyyy-MM-dd")

        self.existing_radio = QRadioButton("从人员名单选择")
        self.new_radio = QRadioButton("新增人员")
        self.existing_radio.setChecked(True)
        self.existing_radio.toggled.connect(self._mode_changed)
        self.search = QLineEdit()
        self.search.setPlaceholderText("搜索姓名、电话或单位")
        self.search.setClearButtonEnabled(True)
        self.people_model = QStringListModel(self)
        self.people_proxy = QSortFilterProxyModel(self)
        self.people_proxy.setSourceModel(self.people_model)
        self.people_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search.textChanged.connect(lambda text: self.people_proxy.setFilterFixedString(text.strip()))
        self.people_list = QListView()
        self.people_list.setModel(self.people_proxy)
        self.people_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.people_list.selectionModel().currentChanged.connect(lambda *_: self._validate())

        self.name_edit = QLineEdit()
        self.phone_edit = QLineEdit()
        self.phone_edit.setPlaceholderText("手机 13812345678 或 0356-2123456")
        self.phone_error = QLabel()
        self.phone_error.setStyleSheet(ERROR_STYLE)
        self.phone_error.setWordWrap(True)
        self.unit_edit = QLineEdit()
        self.title_edit = QLineEdit()
        for edit in (self.name_edit, self.phone_edit):
            edit.textChanged.connect(self._validate)
        new_box = QWidget()
        new_form = QFormLayout(new_box)
        new_form.setContentsMargins(0, 0, 0, 0)
        new_form.addRow("姓名", self.name_edit)
        phone_row = QHBoxLayout()
        phone_row.addWidget(self.phone_edit, 1)
        phone_row.addWidget(self.phone_error, 2)
        new_form.addRow("电话", phone_row)
        new_form.addRow("单位", self.unit_edit)
        new_form.addRow("职务", self.title_edit)
        self.new_box = new_box

        self.appoint_button = QPushButton("任命")
        self.appoint_button.setDefault(True)
        self.appoint_button.clicked.connect(self.appoint)
        self.form_error = QLabel()
        self.form_error.setStyleSheet(ERROR_STYLE)
        self.form_error.setWordWrap(True)

        group = QGroupBox("任命或更换负责人")
        form = QFormLayout(group)
        form.addRow("岗位", self.role_box)
        form.addRow("", self.replace_box)
        form.addRow("起始日期", self.start_edit)
        mode = QHBoxLayout()
        mode.addWidget(self.existing_radio)
        mode.addWidget(self.new_radio)
        mode.addStretch(1)
        form.addRow("人员", mode)
        form.addRow("", self.search)
        form.addRow("", self.people_list)
        form.addRow("", new_box)
        action = QHBoxLayout()
        action.addWidget(self.form_error, 1)
        action.addWidget(self.appoint_button)
        form.addRow(action)

        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(QLabel("<b>现任负责人</b>"))
        layout.addWidget(self.current, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.end_button)
        layout.addLayout(row)
        layout.addWidget(group, 2)
        self._role_changed()
        self._mode_changed()
        return tab

    # -- data --------------------------------------------------------------------------------
    def reload(self) -> None:
        with self.store.engine.connect() as connection:
            self.people = read_people(connection)
            self.records = grid_staff_history(connection, self.grid.id)
            history = grid_history(connection, self.grid)
        self.people_model.setStringList([_person_line(p) for p in self.people])
        self._current = current_records(self.records)
        self.current.setRowCount(len(self._current))
        for row, record in enumerate(self._current):
            for column, text in enumerate((str(record.role), record.person.name, record.person.phone,
                                           record.start_date.isoformat())):
                self.current.setItem(row, column, QTableWidgetItem(text))
        self.history.setRowCount(len(history))
        for row, entry in enumerate(history):
            for column, text in enumerate((entry.when.isoformat(), entry.kind, entry.text, entry.by)):
                self.history.setItem(row, column, QTableWidgetItem(text))
        staff = [(r.role, r.person) for r in self._current]
        self.card.set_sign(build_sign(self.grid, staff=staff, parent=self.parent_grid))
        self._validate()

    def _role_changed(self) -> None:
        self.replace_box.setChecked(self.role_box.currentData() in SINGLE_ROLES)

    def _mode_changed(self) -> None:
        existing = self.existing_radio.isChecked()
        self.search.setVisible(existing)
        self.people_list.setVisible(existing)
        self.new_box.setVisible(not existing)
        self._validate()

    def selected_person(self):
        index = self.people_proxy.mapToSource(self.people_list.currentIndex())
        return self.people[index.row()] if index.isValid() and index.row() < len(self.people) else None

    def select_person(self, person_id: int) -> None:
        for row, person in enumerate(self.people):
            if person.id == person_id:
                self.people_list.setCurrentIndex(self.people_proxy.mapFromSource(self.people_model.index(row)))
                return

    def _validate(self) -> str | None:
        """The reason the form cannot be submitted (shown), or None."""
        problem = None
        self.phone_error.setText("")
        if self.new_radio.isChecked():
            phone = self.phone_edit.text()
            if phone.strip():
                self.phone_error.setText(phone_problem(phone) or "")
            if not self.name_edit.text().strip():
                problem = "请填写姓名"
            elif not phone.strip():
                problem = "请填写电话（公示牌上要印出）"
            elif self.phone_error.text():
                problem = "电话号码不正确"
        elif self.selected_person() is None:
            problem = "请从名单中选择人员"
        self.appoint_button.setEnabled(problem is None)
        self.form_error.setText(problem or "")
        return problem

    # -- writing -----------------------------------------------------------------------------
    def start_date(self) -> date:
        return self.start_edit.date().toPython()

    def appoint(self) -> bool:
        if self._validate() is not None:
            return False
        role = self.role_box.currentData()
        new = None
        person_id = None
        if self.new_radio.isChecked():
            new = {"name": self.name_edit.text(), "phone": self.phone_edit.text(), "unit": self.unit_edit.text(),
                   "title": self.title_edit.text()}
        else:
            person_id = self.selected_person().id
        try:
            with self.store.engine.connect() as connection:
                appoint(connection, self.grid.id, role, self.start_date(), person_id=person_id, new_person=new,
                        replace=self.replace_box.isChecked())
                connection.commit()
        except PhoneError as exc:
            self.phone_error.setText(str(exc))
            self.form_error.setText("电话号码不正确")
            return False
        except ValueError as exc:
            self.form_error.setText(str(exc))
            return False
        self.form_error.setText("")
        for edit in (self.name_edit, self.phone_edit, self.unit_edit, self.title_edit):
            edit.clear()
        self.reload()
        self.changed.emit(self.grid.id)
        return True

    def end_selected(self) -> bool:
        row = self.current.currentRow()
        if not 0 <= row < len(self._current):
            self.form_error.setText("请先在“现任负责人”中选择一行")
            return False
        record = self._current[row]
        end = self.start_date() - timedelta(days=1)
        if end < record.start_date:
            self.form_error.setText(f"{record.person.name}自 {record.start_date} 起任职，卸任日期不能早于此日")
            return False
        with self.store.engine.connect() as connection:
            end_role(connection, record.assignment_id, end)
            connection.commit()
        self.reload()
        self.changed.emit(self.grid.id)
        return True


def _person_line(person) -> str:
    extra = " ".join(part for part in (person.unit, person.title) if part)
    return f"{person.name}　{person.phone}" + (f"　{extra}" if extra else "")


def _plain_table(table: QTableWidget) -> None:
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
