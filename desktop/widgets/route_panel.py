"""The right side of 新建案件: where the case goes, who answers for it, and what it may duplicate.

A view: the intake dialog hands it a :class:`~gis.workflow.RouteResult` (at once) and the
:class:`~desktop.case_jobs.RouteDetails` (staff, duplicates; when the background look-up
returns). Near a border it lists the grids within reach as radio buttons and the seat's
choice is :meth:`selected_grid`; a duplicate picked under 疑似重复案件 is :meth:`duplicate_of`.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QGroupBox, QLabel, QRadioButton, QVBoxLayout, QWidget

from gis.domain import LEVEL_NAMES, Grid, Role
from gis.workflow import RouteResult

ERROR_STYLE = "color:#c62828"
WARN_STYLE = "color:#e65100"
MUTED = "color:#607d8b"
LEADER_ROLES = (Role.LEADER, Role.DEPUTY, Role.FIRST_LEADER)
NO_LOCATION_TEXT = "确定位置后自动匹配最低一级网格。"
DUPLICATE_HINT = "同类别、200 米内、30 天内未办结的案件会列在这里。"


def metres(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} 米"


def grid_text(grid: Grid) -> str:
    return f"{grid.name}（{LEVEL_NAMES.get(grid.level, grid.level)}，{grid.code}）"


def staff_html(staff) -> str:
    """Leaders first (网格长, 副网格长, 第一网格长), then the others, each with a phone."""
    ordered = [e for e in staff if e[0] in LEADER_ROLES] + [e for e in staff if e[0] not in LEADER_ROLES]
    if not ordered:
        return f"<span style='{MUTED}'>（该网格未配置责任人）</span>"
    rows = "".join(f"<tr><td style='{MUTED};padding-right:8px'>{escape(str(role))}</td>"
                   f"<td style='padding-right:10px'><b>{escape(p.name)}</b></td><td>{escape(p.phone or '—')}</td></tr>"
                   for role, p in ordered)
    return f"<table cellspacing=1>{rows}</table>"


def _label(rich: bool = True) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class RoutePanel(QWidget):
    gridChosen = Signal()       # the seat picked a grid near a border
    duplicateChosen = Signal()  # the seat picked (or unpicked) a case to merge into

    def __init__(self, grid_error: QLabel, parent: QWidget | None = None):
        super().__init__(parent)
        self.route: RouteResult | None = None
        self.options: list[tuple[Grid, str]] = []   # grids to choose from near a border, with a note
        self.staff: dict[int, list] | None = None
        self.duplicates: list = []

        route_group = QGroupBox("所属网格与责任人")
        self.route_label = _label()
        self.route_label.setText(NO_LOCATION_TEXT)
        self.border_box = QGroupBox("请选择所属网格")
        self.border_box.setStyleSheet(f"QGroupBox {{ {WARN_STYLE}; font-weight:bold; }}")
        self.border_layout = QVBoxLayout(self.border_box)
        self.border_group = QButtonGroup(self)
        self.border_group.buttonToggled.connect(self._on_border_toggled)
        self.border_box.hide()
        self.staff_title = _label()
        self.staff_label = _label()
        box = QVBoxLayout(route_group)
        for widget in (self.route_label, self.border_box, grid_error, self.staff_title, self.staff_label):
            box.addWidget(widget)
        box.addStretch(1)

        duplicate_group = QGroupBox("疑似重复案件")
        self.duplicate_hint = _label(rich=False)
        self.duplicate_hint.setText(DUPLICATE_HINT)
        self.duplicate_hint.setStyleSheet(MUTED)
        self.duplicate_layout = QVBoxLayout()
        self.duplicate_group = QButtonGroup(self)
        self.duplicate_group.buttonToggled.connect(lambda _b, on: self.duplicateChosen.emit() if on else None)
        box = QVBoxLayout(duplicate_group)
        box.addWidget(self.duplicate_hint)
        box.addLayout(self.duplicate_layout)
        box.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(route_group, 3)
        layout.addWidget(duplicate_group, 2)

    # -- input ----------------------------------------------------------------------------
    def clear(self, message: str = NO_LOCATION_TEXT) -> None:
        self.route, self.options, self.staff = None, [], None
        self._fill_border_choices()
        self.show_duplicates([])
        self.staff_title.clear()
        self.staff_label.clear()
        self.route_label.setText(message)

    def show_route(self, route: RouteResult) -> None:
        self.clear()
        self.route = route
        if route.near_border:
            if route.grid is not None:
                self.options.append((route.grid, f"点位在此网格内，距边界 {metres(route.distance_to_border_m)}"))
            self.options += [(g, f"距点位 {metres(d)}") for g, d in
                             zip(route.candidates_near_border, route.candidate_distances_m, strict=True)]
        self._fill_border_choices()
        if route.grid is None and not route.near_border:
            self.route_label.setText(f"<span style='{ERROR_STYLE}'>该位置不在任何网格内。</span>"
                                     "可“仅登记”，由指挥中心另行指定承办网格或部门。")
        elif route.grid is None:
            self.route_label.setText("该位置不在任何网格内，但靠近以下网格：")
        else:
            grid = route.grid
            name = (f"<b style='font-size:large'>{escape(grid.name)}</b>　"
                    f"<span style='{MUTED}'>{LEVEL_NAMES.get(grid.level, grid.level)} · {grid.code}</span>")
            if route.near_border:
                self.route_label.setText(f"点位所在：{name}<br><span style='{WARN_STYLE}'>距网格边界仅 "
                                         f"{metres(route.distance_to_border_m)}，请在下方确认所属网格。</span>")
            else:
                self.route_label.setText(f"派发至：{name}")
        self._show_staff()

    def grid_ids(self) -> list[int]:
        """The grids whose staff the panel may show."""
        if self.route is None:
            return []
        return [g.id for g, _ in self.options] or ([self.route.grid.id] if self.route.grid else [])

    def show_details(self, staff: dict[int, list], duplicates) -> None:
        self.staff = staff
        self._show_staff()
        self.show_duplicates(duplicates)

    def show_lookup_error(self, message: str) -> None:
        self.staff_label.setText(f"<span style='{ERROR_STYLE}'>查询责任人失败：{escape(message)}</span>")

    # -- grid near a border ---------------------------------------------------------------
    def _fill_border_choices(self) -> None:
        for button in self.border_group.buttons():
            self.border_group.removeButton(button)
            button.deleteLater()
        for grid, note in self.options:
            button = QRadioButton(f"{grid_text(grid)}　{note}")
            button.setProperty("grid_id", grid.id)
            self.border_group.addButton(button)
            self.border_layout.addWidget(button)
        self.border_box.setVisible(bool(self.options))

    @property
    def border_buttons(self) -> list[QRadioButton]:
        return self.border_group.buttons()

    def choose_grid(self, grid_id: int) -> None:
        for button in self.border_buttons:
            if button.property("grid_id") == grid_id:
                button.setChecked(True)

    def _on_border_toggled(self, _button, checked: bool) -> None:
        if checked:
            self._show_staff()
            self.gridChosen.emit()

    def selected_grid(self) -> Grid | None:
        """The grid the case goes to: the routed one, or near a border the one the seat confirmed."""
        if self.route is None:
            return None
        if not self.route.near_border:
            return self.route.grid
        checked = self.border_group.checkedButton()
        if checked is None:
            return None
        return next((g for g, _ in self.options if g.id == checked.property("grid_id")), None)

    def _show_staff(self) -> None:
        grid = self.selected_grid()
        confirmed = grid is not None
        if grid is None and self.route is not None:
            grid = self.route.grid or (self.options[0][0] if self.options else None)
        if grid is None:
            self.staff_title.clear()
            self.staff_label.clear()
            return
        pending = "" if confirmed else f"　<span style='{WARN_STYLE}'>（待确认网格）</span>"
        self.staff_title.setText(f"<b>{escape(grid.name)} 责任人</b>{pending}")
        if self.staff is None:
            self.staff_label.setText(f"<span style='{MUTED}'>正在查询…</span>")
        else:
            self.staff_label.setText(staff_html(self.staff.get(grid.id, [])))

    # -- duplicates -----------------------------------------------------------------------
    def show_duplicates(self, duplicates) -> None:
        for button in self.duplicate_group.buttons():
            self.duplicate_group.removeButton(button)
            button.deleteLater()
        self.duplicates = list(duplicates)
        if not duplicates:
            self.duplicate_hint.setText("附近没有同类别的未办结案件。" if self.staff is not None else DUPLICATE_HINT)
            self.duplicateChosen.emit()
            return
        self.duplicate_hint.setText(f"附近有 {len(duplicates)} 件同类别未办结案件，可能反映的是同一问题：")
        keep = QRadioButton("不合并，登记为新案件")
        keep.setProperty("case_id", None)
        self.duplicate_group.addButton(keep)
        self.duplicate_layout.addWidget(keep)
        for dup in duplicates:
            text = (f"合并为重复件：{dup.number}（{dup.state}，相距 {dup.distance_m:,.0f} 米"
                    f"{'，' + dup.grid_name if dup.grid_name else ''}）\n{dup.description[:40]}")
            button = QRadioButton(text)
            button.setToolTip(dup.description)
            button.setProperty("case_id", dup.case_id)
            self.duplicate_group.addButton(button)
            self.duplicate_layout.addWidget(button)
        keep.setChecked(True)

    @property
    def duplicate_buttons(self) -> list[QRadioButton]:
        return self.duplicate_group.buttons()

    def duplicate_of(self) -> int | None:
        checked = self.duplicate_group.checkedButton()
        return None if checked is None else checked.property("case_id")
