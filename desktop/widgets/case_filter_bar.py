"""The bar above the case table: work lists, pickers, time range, search — a view of FilterState.

Every control writes into the shared ``FilterState``; every change of the state (from a chart
bar, the map, the grid tree) is shown back here. While the bar writes, it ignores the echo;
while it shows the state, its widgets' signals are blocked, so neither side loops.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QMenu, QPushButton, QToolButton,
    QVBoxLayout, QWidget,
)

from desktop.case_filter_model import FilterState
from gis.domain import LEVEL_NAMES, CaseSource, CaseState
from gis.storage.case_queries import WorkList

SEARCH_DELAY_MS = 300
ALL_WORK = "全部"
WORK_TIPS = {
    None: "全部案件",
    WorkList.TODO: "未办结、且在本席位负责的网格（指挥中心：待受理、退回）",
    WorkList.MINE: "本席位登记或处理过的案件",
    WorkList.OVERDUE: "未办结且已过办结期限",
    WorkList.JURISDICTION: "本席位负责的网格及其下级网格内的全部案件",
    WorkList.CLOSED: "已销号、误报、重复",
}
TIME_PRESETS = (("全部时间", None), ("今天", 1), ("近7天", 7), ("近30天", 30), ("近90天", 90), ("今年", "year"),
                ("自定义…", "custom"))


def preset_range(preset, today: date) -> tuple[datetime | None, datetime | None]:
    """Start and end (exclusive, midnight) of a time preset ending today."""
    end = datetime.combine(today + timedelta(days=1), time())
    if preset is None:
        return None, None
    if preset == "year":
        return datetime(today.year, 1, 1), end
    return end - timedelta(days=preset), end


class StickyMenu(QMenu):
    """A menu of check boxes that stays open while the user ticks several."""

    def mouseReleaseEvent(self, event) -> None:
        action = self.activeAction()
        if action is not None and action.isEnabled() and action.isCheckable():
            action.trigger()
            event.accept()
            return
        super().mouseReleaseEvent(event)


class ChoicePicker(QToolButton):
    """A button with a menu of checkable choices; the text says what is chosen."""

    chosen = Signal(frozenset)

    def __init__(self, label: str, parent=None):
        super().__init__(parent)
        self.label = label
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setObjectName("choicePicker")
        self.menu_ = StickyMenu(self)
        self.setMenu(self.menu_)
        self._actions: dict[object, QAction] = {}
        self._names: dict[object, str] = {}
        self._update_text()

    def set_choices(self, choices: Iterable[tuple[object, str]]) -> None:
        selected = self.selected()
        self.menu_.clear()
        self._actions, self._names = {}, {}
        clear = self.menu_.addAction("全部（清除）")
        clear.triggered.connect(lambda: self._emit(frozenset()))
        self.menu_.addSeparator()
        for value, name in choices:
            action = self.menu_.addAction(name)
            action.setCheckable(True)
            action.setChecked(value in selected)
            action.toggled.connect(lambda _on: self._emit(self.selected()))
            self._actions[value], self._names[value] = action, name
        self._update_text()

    def selected(self) -> frozenset:
        return frozenset(v for v, a in self._actions.items() if a.isChecked())

    def set_selected(self, values: Iterable) -> None:
        values = set(values)
        for value, action in self._actions.items():
            action.blockSignals(True)
            action.setChecked(value in values)
            action.blockSignals(False)
        self._update_text()

    def _emit(self, values: frozenset) -> None:
        self.set_selected(values)
        self.chosen.emit(values)

    def _update_text(self) -> None:
        chosen = [self._names[v] for v in self._actions if self._actions[v].isChecked()]
        if not chosen:
            text = f"{self.label}：全部"
        elif len(chosen) == 1:
            text = f"{self.label}：{chosen[0]}"
        else:
            text = f"{self.label}：{chosen[0]} 等{len(chosen)}项"
        self.setText(text)
        self.setToolTip("、".join(chosen) if chosen else f"不限{self.label}")


class CaseFilterBar(QWidget):
    """Work-list tabs and pickers over one ``FilterState``."""

    exportRequested = Signal()

    def __init__(self, state: FilterState, *, today: Callable[[], date] = date.today, parent=None):
        super().__init__(parent)
        self.state = state
        self._today = today
        self._writing = False
        self._custom_time = False  # the seat chose 自定义: keep the date fields even on a preset's range
        self.grid_name: Callable[[int], str] = lambda grid_id: f"网格 {grid_id}"
        self.pollutant_name: Callable[[str], str] = lambda code: code

        self.work_group = QButtonGroup(self)
        self.work_group.setExclusive(True)
        self.work_buttons: dict[WorkList | None, QToolButton] = {}
        work_row = QHBoxLayout()
        work_row.setSpacing(0)
        for i, work in enumerate((None, *WorkList)):
            button = QToolButton()
            button.setText(ALL_WORK if work is None else str(work))
            button.setToolTip(WORK_TIPS[work])
            button.setCheckable(True)
            button.setObjectName("workListButton")
            self.work_group.addButton(button, i)
            self.work_buttons[work] = button
            work_row.addWidget(button)
        self.work_group.idClicked.connect(self._on_work_clicked)

        self.search = QLineEdit()
        self.search.setPlaceholderText("搜索编号、描述或地址（空格分隔多个词）")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(120)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._commit_search)
        self.search.textEdited.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._commit_search)

        self.count_label = QLabel("")
        self.count_label.setObjectName("caseCount")
        self.export_button = QPushButton("导出 Excel")
        self.export_button.setToolTip("把当前筛选出的全部案件导出为 Excel 工作簿")
        self.export_button.clicked.connect(self.exportRequested)

        self.state_picker = ChoicePicker("状态")
        self.state_picker.set_choices((str(s), str(s)) for s in CaseState)
        self.source_picker = ChoicePicker("来源")
        self.source_picker.set_choices((str(s), str(s)) for s in CaseSource)
        self.category_picker = ChoicePicker("类别")
        self.level_picker = ChoicePicker("网格级别")
        self.level_picker.set_choices(LEVEL_NAMES.items())
        self.state_picker.chosen.connect(lambda v: self._write(states=v))
        self.source_picker.chosen.connect(lambda v: self._write(sources=v))
        self.category_picker.chosen.connect(lambda v: self._write(category_ids=v))
        self.level_picker.chosen.connect(lambda v: self._write(levels=v))

        self.time_combo = QComboBox()
        for label, preset in TIME_PRESETS:
            self.time_combo.addItem(label, preset)
        self.time_combo.setToolTip("上报时间范围：表格、图表和地图共用")
        self.time_combo.activated.connect(self._on_time_preset)
        self.start_edit, self.end_edit = QDateEdit(), QDateEdit()
        for edit in (self.start_edit, self.end_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self._on_custom_dates)
            edit.hide()
        self.to_label = QLabel("至")
        self.to_label.hide()

        self.grid_chip = self._chip("grid_ids")
        self.pollutant_chip = self._chip("pollutants")
        self.clear_button = QToolButton()
        self.clear_button.setText("清除筛选")
        self.clear_button.clicked.connect(lambda: self.state.clear())

        top = QHBoxLayout()
        top.addLayout(work_row)
        top.addSpacing(12)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.export_button)
        bottom = QHBoxLayout()
        for widget in (self.state_picker, self.source_picker, self.category_picker, self.level_picker,
                       self.time_combo, self.start_edit, self.to_label, self.end_edit, self.grid_chip,
                       self.pollutant_chip):
            bottom.addWidget(widget)
        bottom.addStretch(1)
        bottom.addWidget(self.clear_button)
        # Let a small window squeeze the controls (their text clips) rather than grow the window.
        for widget in (*self.work_buttons.values(), self.count_label, self.export_button, self.state_picker,
                       self.source_picker, self.category_picker, self.level_picker, self.time_combo,
                       self.grid_chip, self.pollutant_chip, self.clear_button):
            widget.setMinimumWidth(24)
        self.search.setMinimumWidth(60)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 2)
        box.setSpacing(3)
        box.addLayout(top)
        box.addLayout(bottom)
        self.setStyleSheet(
            "QToolButton#workListButton { padding: 3px 10px; border: 1px solid #b0bec5; background: #fafafa; }"
            "QToolButton#workListButton:checked { background: #1e88e5; color: white; border-color: #1565c0; }"
            "QToolButton#filterChip { background: #e3f2fd; border: 1px solid #90caf9; border-radius: 9px;"
            " padding: 1px 8px; }"
            "QToolButton#choicePicker { padding: 2px 16px 2px 6px; }"
            "QLabel#caseCount { color: #455a64; padding: 0 6px; }")
        state.events.changed.connect(self._on_state_changed)
        self.show_state()

    # -- state → widgets ------------------------------------------------------------------------
    def set_categories(self, categories: Iterable[tuple[int, str]]) -> None:
        self.category_picker.set_choices(categories)
        self.category_picker.set_selected(self.state.filter.category_ids)

    def set_count(self, total: int | None, loaded: int | None = None) -> None:
        if total is None or total < 0:
            self.count_label.setText("正在统计…")
        else:
            self.count_label.setText(f"共 {total:,} 条")

    def _on_state_changed(self, _filter, _names) -> None:
        if not self._writing:
            self.show_state()

    def show_state(self) -> None:
        f = self.state.filter
        widgets = (self.work_group, self.search, self.time_combo, self.start_edit, self.end_edit)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.work_buttons[f.work_list].setChecked(True)
            if self.search.text().strip() != f.text.strip():
                self.search.setText(f.text)
            self.state_picker.set_selected(f.states)
            self.source_picker.set_selected(f.sources)
            self.category_picker.set_selected(f.category_ids)
            self.level_picker.set_selected(f.levels)
            self._show_time(f.start, f.end)
            self._show_chip(self.grid_chip, "网格", [self.grid_name(g) for g in sorted(f.grid_ids)])
            self._show_chip(self.pollutant_chip, "报警污染物", [self.pollutant_name(p) for p in sorted(f.pollutants)])
        finally:
            for widget in widgets:
                widget.blockSignals(False)

    def _show_time(self, start: datetime | None, end: datetime | None) -> None:
        today = self._today()
        index = None if self._custom_time else next(
            (i for i, (_label, preset) in enumerate(TIME_PRESETS)
             if preset != "custom" and preset_range(preset, today) == (start, end)), None)
        custom = index is None
        if custom:
            index = len(TIME_PRESETS) - 1
            first = (start or datetime(2000, 1, 1)).date()
            last = ((end or datetime.combine(today + timedelta(days=1), time())) - timedelta(microseconds=1)).date()
            self.start_edit.setDate(QDate(first.year, first.month, first.day))
            self.end_edit.setDate(QDate(last.year, last.month, last.day))
        self.time_combo.setCurrentIndex(index)
        for widget in (self.start_edit, self.to_label, self.end_edit):
            widget.setVisible(custom)

    def _chip(self, field: str) -> QToolButton:
        chip = QToolButton()
        chip.setObjectName("filterChip")
        chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        chip.clicked.connect(lambda: self.state.clear(field))
        chip.hide()
        return chip

    @staticmethod
    def _show_chip(chip: QToolButton, label: str, names: list[str]) -> None:
        if not names:
            chip.hide()
            return
        shown = "、".join(names[:2]) + (f" 等{len(names)}个" if len(names) > 2 else "")
        chip.setText(f"{label}：{shown}  ✕")
        chip.setToolTip("、".join(names) + "\n点击取消这项筛选")
        chip.show()

    # -- widgets → state ------------------------------------------------------------------------
    def _write(self, **changes) -> None:
        self._writing = True
        try:
            self.state.update(**changes)
        finally:
            self._writing = False
        self.show_state()  # pickers may need their text refreshed, chips their visibility

    def _on_work_clicked(self, button_id: int) -> None:
        self._write(work_list=(None, *WorkList)[button_id])

    def _commit_search(self) -> None:
        self._search_timer.stop()
        self._write(text=self.search.text().strip())

    def _on_time_preset(self, index: int) -> None:
        preset = self.time_combo.itemData(index)
        self._custom_time = preset == "custom"
        if preset == "custom":
            f = self.state.filter
            today = self._today()
            start = f.start or datetime.combine(today - timedelta(days=29), time())
            end = f.end or datetime.combine(today + timedelta(days=1), time())
            self._write(start=start, end=end)
            return
        self._write(**dict(zip(("start", "end"), preset_range(preset, self._today()))))

    def _on_custom_dates(self, _date) -> None:
        first, last = self.start_edit.date().toPython(), self.end_edit.date().toPython()
        if last < first:
            first, last = last, first
        self._write(start=datetime.combine(first, time()), end=datetime.combine(last + timedelta(days=1), time()))
