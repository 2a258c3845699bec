"""新建案件: the seat's intake form — what, who, where; routed to a grid as soon as the place is known.

The dialog is non-modal so the seat can pick the place on the map behind it. A location
(map click, typed coordinates, or a pollution source from the ledger) is routed at once
with the workspace's :class:`~gis.workflow.GridIndex` (built once, in the background);
near a grid border the seat confirms the grid. The people responsible and possible
duplicates are looked up in the background and shown beside the form.

登记并派发 writes the case and its 派发 in one transaction (``case_jobs.register_case``); a
refused write leaves the form as it was, and nothing in the database.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QCompleter, QDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
    QPushButton, QRadioButton, QSizePolicy, QVBoxLayout, QWidget,
)

from desktop.case_input import COORDINATE_HINT, check_phone, format_decimal, format_dms, normalize_phone, parse_lonlat
from desktop.case_jobs import (IntakeChoices, IntakeRequest, IntakeResult, RouteDetails, load_intake_choices,
                               load_route_details, register_case)
from desktop.widgets.photo_strip import PhotoPicker
from desktop.widgets.pick_tool import LocationMarker, PickLocationTool
from desktop.widgets.route_panel import RoutePanel
from desktop.workers import BackgroundValue, run_in_background
from gis.domain import CaseSource, Grid
from gis.workflow import RouteResult, WorkflowError

SOURCE_LABELS = {CaseSource.PATROL: "巡查上报", CaseSource.COMPLAINT: "群众举报（12369）",
                 CaseSource.ALARM: "监测报警", CaseSource.ASSIGNED: "上级交办"}
ERROR_STYLE = "color:#c62828"
MUTED = "color:#607d8b"
BANNER_STYLE = ("QLabel { background:#ffebee; color:#b71c1c; border:1px solid #ef9a9a; border-radius:3px;"
                " padding:6px 8px; }")
DISPATCH_TEXT, DUPLICATE_TEXT = "登记并派发", "登记为重复件"


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _with_error(widget: QWidget, error: QLabel) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(widget)
    layout.addWidget(error)
    return box


class CaseIntakeDialog(QDialog):
    """The intake form. ``grid_index`` is the workspace's shared :class:`BackgroundValue` of a GridIndex."""

    caseCreated = Signal(object)      # IntakeResult
    routed = Signal(object)           # RouteResult of the current location
    detailsShown = Signal()           # staff and duplicates of the current location are on screen
    choicesLoaded = Signal()

    def __init__(self, store, actor: str, grid_index: BackgroundValue, *, canvas=None,
                 choices: IntakeChoices | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store, self.actor, self.grid_index, self.canvas = store, actor, grid_index, canvas
        self.setWindowTitle("新建案件")
        self.setModal(False)
        self.choices: IntakeChoices | None = None
        self.location: tuple[float, float] | None = None
        self.details: RouteDetails | None = None
        self.busy = False
        self._source_id: int | None = None
        self._sources: dict[int, object] = {}
        self.result_case: IntakeResult | None = None
        self._typed_text = ""                             # coordinate text already applied
        self._lookup_generation = 0
        self._marker: LocationMarker | None = None
        self._previous_tool = None
        self._pick_tool = PickLocationTool(canvas, self._on_map_pick, self.stop_picking) if canvas else None

        self._build()
        grid_index.ready.connect(self._on_index_ready)
        grid_index.failed.connect(self._on_index_failed)
        grid_index.request()
        if canvas is not None:
            canvas.toolChanged.connect(self._on_tool_changed)
        self.finished.connect(self._cleanup)
        if choices is not None:
            self._set_choices(choices)
        else:
            run_in_background(lambda: load_intake_choices(store), self._set_choices, self._on_choices_failed,
                              receiver=self)
        self.resize(980, 700)

    # -- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        self.errors = {name: _error_label() for name in ("description", "phone", "coordinates", "grid")}
        left = QVBoxLayout()
        left.addWidget(self._case_group())
        left.addWidget(self._reporter_group())
        left.addWidget(self._location_group())
        left.addWidget(self._photo_group())
        left.addStretch(1)
        self.panel = RoutePanel(self.errors["grid"])
        self.panel.gridChosen.connect(lambda: self._clear_error("grid"))
        self.panel.duplicateChosen.connect(self._update_primary_button)
        self.route_label, self.staff_label, self.border_box = (self.panel.route_label, self.panel.staff_label,
                                                               self.panel.border_box)
        columns = QHBoxLayout()
        columns.addLayout(left, 11)
        columns.addWidget(self.panel, 9)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.hide()
        self.seat_label = QLabel(f"坐席：{escape(self.actor)}")
        self.seat_label.setStyleSheet(MUTED)
        self.cancel_button = QPushButton("取消")
        self.register_button = QPushButton("仅登记")
        self.register_button.setToolTip("登记为待受理，暂不派发")
        self.dispatch_button = QPushButton(DISPATCH_TEXT)
        self.dispatch_button.setToolTip("登记并派发到所属网格（Ctrl+Enter）")
        self.dispatch_button.setStyleSheet("QPushButton { font-weight:bold; padding:4px 16px; }")
        for button in (self.cancel_button, self.register_button, self.dispatch_button):
            button.setAutoDefault(False)  # Enter in a field must not register a case
        self.cancel_button.clicked.connect(self.reject)
        self.register_button.clicked.connect(lambda: self.submit(dispatch=False))
        self.dispatch_button.clicked.connect(lambda: self.submit(dispatch=True))
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=lambda: self.submit(dispatch=True))
        buttons = QHBoxLayout()
        buttons.addWidget(self.seat_label)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.register_button)
        buttons.addWidget(self.dispatch_button)

        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.banner)
        layout.addLayout(buttons)

    def _form(self, title: str) -> tuple[QGroupBox, QFormLayout]:
        group = QGroupBox(title)
        form = QFormLayout(group)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        return group, form

    def _row(self, form: QFormLayout, text: str, field: QWidget) -> None:
        """A row whose label column has the same width in every group, so the fields line up."""
        label = QLabel(text)
        label.setMinimumWidth(self.fontMetrics().horizontalAdvance("联系电话") + 6)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        label.setContentsMargins(0, 4, 0, 0)
        form.addRow(label, field)

    def _case_group(self) -> QGroupBox:
        group, form = self._form("案件信息")
        self.source_combo = QComboBox()
        for source, label in SOURCE_LABELS.items():
            self.source_combo.addItem(label, str(source))
        self.source_combo.setCurrentIndex(1)  # most calls to a seat are 12369 complaints
        self.category_combo = QComboBox()
        self.category_combo.addItem("正在加载…")
        self.category_combo.setEnabled(False)
        self.category_combo.currentIndexChanged.connect(self._on_category_changed)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setPlaceholderText("时间、地点、现象，如：某路口工地夜间施工扬尘严重，未覆盖")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setFixedHeight(78)
        self.description_edit.textChanged.connect(lambda: self._clear_error("description"))
        self._row(form, "来源", self.source_combo)
        self._row(form, "类别", self.category_combo)
        self._row(form, "问题描述", _with_error(self.description_edit, self.errors["description"]))
        return group

    def _reporter_group(self) -> QGroupBox:
        group, form = self._form("举报人")
        self.reporter_name_edit = QLineEdit()
        self.reporter_name_edit.setPlaceholderText("可匿名")
        self.reporter_phone_edit = QLineEdit()
        self.reporter_phone_edit.setPlaceholderText("手机 13812345678 或座机 0356-2021234")
        self.reporter_phone_edit.textEdited.connect(lambda: self._clear_error("phone"))
        self.reporter_phone_edit.editingFinished.connect(self._check_phone_now)
        self._row(form, "姓名", self.reporter_name_edit)
        self._row(form, "联系电话", _with_error(self.reporter_phone_edit, self.errors["phone"]))
        return group

    def _location_group(self) -> QGroupBox:
        group, form = self._form("位置")
        self.pick_button = QPushButton("在地图上点选")
        self.pick_button.setCheckable(True)
        self.pick_button.setAutoDefault(False)
        self.pick_button.setEnabled(self.canvas is not None)
        self.pick_button.setToolTip("单击地图确定位置；对话框保持打开" if self.canvas else "没有打开的地图")
        self.pick_button.toggled.connect(self._toggle_picking)
        self.source_pick_combo = QComboBox()
        self.source_pick_combo.setEditable(True)
        self.source_pick_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.source_pick_combo.lineEdit().setPlaceholderText("或输入名称查找污染源")
        self.source_pick_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.source_pick_combo.setMinimumContentsLength(12)
        self.source_pick_combo.activated.connect(self._on_source_chosen)
        pick_row = QHBoxLayout()
        pick_row.setContentsMargins(0, 0, 0, 0)
        pick_row.addWidget(self.pick_button)
        pick_row.addWidget(self.source_pick_combo, 1)
        pick_box = QWidget()
        pick_box.setLayout(pick_row)

        self.coord_edit = QLineEdit()
        self.coord_edit.setPlaceholderText(COORDINATE_HINT)
        self.coord_edit.setToolTip("十进制度或度分秒均可；可带 E/N 或 东经/北纬")
        self.coord_edit.returnPressed.connect(self.apply_typed_coordinates)
        self.coord_edit.textEdited.connect(lambda: self._clear_error("coordinates"))
        self.locate_button = QPushButton("定位")
        self.locate_button.setAutoDefault(False)
        self.locate_button.clicked.connect(self.apply_typed_coordinates)
        coord_row = QHBoxLayout()
        coord_row.setContentsMargins(0, 0, 0, 0)
        coord_row.addWidget(self.coord_edit, 1)
        coord_row.addWidget(self.locate_button)
        coord_box = QWidget()
        coord_box.setLayout(coord_row)

        self.address_edit = QLineEdit()
        self.address_edit.setPlaceholderText("街道门牌或参照物（选填）")
        self.location_label = QLabel("尚未确定位置")
        self.location_label.setStyleSheet(MUTED)
        self.location_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._row(form, "选取", pick_box)
        self._row(form, "坐标", _with_error(coord_box, self.errors["coordinates"]))
        self._row(form, "地址", self.address_edit)
        self._row(form, "", self.location_label)
        return group

    def _photo_group(self) -> QGroupBox:
        group, form = self._form("照片")
        self.photos = PhotoPicker()
        self._row(form, "现场照片", self.photos)
        return group

    # -- choices (categories, pollution sources) ------------------------------------------
    def _set_choices(self, choices: IntakeChoices) -> None:
        self.choices = choices
        with QSignalBlocker(self.category_combo):
            self.category_combo.clear()
            for category_id, name in choices.categories:
                self.category_combo.addItem(name, category_id)
        self.category_combo.setEnabled(bool(choices.categories))
        with QSignalBlocker(self.source_pick_combo):
            self.source_pick_combo.clear()
            self.source_pick_combo.addItem("", None)
            for source in choices.sources:
                kind = choices.source_categories.get(source.category_id, "")
                self.source_pick_combo.addItem(f"{source.name}（{kind}）" if kind else source.name, source.id)
            self.source_pick_combo.setCurrentIndex(0)
        completer = QCompleter(self.source_pick_combo.model(), self.source_pick_combo)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.activated[str].connect(self._on_source_completed)
        self.source_pick_combo.setCompleter(completer)
        self._sources = {s.id: s for s in choices.sources}
        self.choicesLoaded.emit()

    def _on_choices_failed(self, exc: Exception) -> None:
        self.category_combo.setItemText(0, "类别读取失败")
        self._show_banner(f"读取案件类别失败：{exc}")

    def select_category(self, name: str) -> None:
        index = self.category_combo.findText(name)
        if index >= 0:
            self.category_combo.setCurrentIndex(index)

    def select_source(self, source: str) -> None:
        index = self.source_combo.findData(str(source))
        if index >= 0:
            self.source_combo.setCurrentIndex(index)

    # -- location -------------------------------------------------------------------------
    def set_location(self, lon: float, lat: float, *, origin: str = "map", source_id: int | None = None) -> None:
        """Use (lon, lat) as the case's place; ``origin`` is map, typed or source."""
        self.location = (lon, lat)
        self._source_id = source_id if origin == "source" else None
        if origin != "source":
            with QSignalBlocker(self.source_pick_combo):
                self.source_pick_combo.setCurrentIndex(0)
        if origin != "typed":
            self.coord_edit.setText(format_decimal(lon, lat))
        self._typed_text = self.coord_edit.text().strip()
        self._clear_error("coordinates")
        self.location_label.setText(f"经度 {lon:.6f}，纬度 {lat:.6f}　（{format_dms(lon, lat)}）")
        if self.canvas is not None:
            if self._marker is None:
                self._marker = LocationMarker(lon, lat)
                self.canvas.add_overlay(self._marker)
            else:
                self._marker.move_to(lon, lat)
                self.canvas.update()
            if origin != "map":
                self.canvas.zoom_to_point(lon, lat, 5000)
        self.update_route()

    def apply_typed_coordinates(self) -> bool:
        text = self.coord_edit.text().strip()
        try:
            lon, lat = parse_lonlat(text)
        except ValueError as exc:
            self._set_error("coordinates", str(exc))
            return False
        self.set_location(lon, lat, origin="typed")
        return True

    def _on_source_chosen(self, index: int) -> None:
        source_id = self.source_pick_combo.itemData(index)
        source = self._sources.get(source_id) if source_id is not None else None
        if source is None:
            return
        if not self.address_edit.text().strip() and source.address:
            self.address_edit.setText(source.address)
        self.set_location(source.lon, source.lat, origin="source", source_id=source.id)

    def _on_source_completed(self, text: str) -> None:
        index = self.source_pick_combo.findText(text)
        if index >= 0:
            self.source_pick_combo.setCurrentIndex(index)
            self._on_source_chosen(index)

    def choose_pollution_source(self, source_id: int) -> None:
        index = self.source_pick_combo.findData(source_id)
        if index >= 0:
            self.source_pick_combo.setCurrentIndex(index)
            self._on_source_chosen(index)

    # -- picking on the map ---------------------------------------------------------------
    @property
    def picking(self) -> bool:
        return self.canvas is not None and self.canvas.map_tool() is self._pick_tool

    def start_picking(self) -> None:
        if self.canvas is not None and not self.picking:
            self._previous_tool = self.canvas.map_tool()
            self.canvas.set_map_tool(self._pick_tool)
        with QSignalBlocker(self.pick_button):
            self.pick_button.setChecked(self.picking)
            self.pick_button.setText("请单击地图…（Esc 取消）" if self.picking else "在地图上点选")

    def stop_picking(self) -> None:
        if self.picking:
            previous, self._previous_tool = self._previous_tool, None
            if previous is not None:
                self.canvas.set_map_tool(previous)
        with QSignalBlocker(self.pick_button):
            self.pick_button.setChecked(False)
            self.pick_button.setText("在地图上点选")

    def _toggle_picking(self, on: bool) -> None:
        self.start_picking() if on else self.stop_picking()

    def _on_tool_changed(self, tool) -> None:
        if tool is not self._pick_tool and self.pick_button.isChecked():
            self._previous_tool = None  # the seat chose another tool: keep it
            self.stop_picking()

    def _on_map_pick(self, lon: float, lat: float) -> None:
        self.stop_picking()
        self.set_location(lon, lat, origin="map")
        self.raise_()
        self.activateWindow()

    # -- routing --------------------------------------------------------------------------
    def _on_index_ready(self, _index) -> None:
        if self.location is not None and self.route is None:
            self.update_route()

    def _on_index_failed(self, message: str) -> None:
        self.panel.clear(f"<span style='color:#c62828'>网格索引建立失败：{escape(message)}</span>")

    @property
    def route(self) -> RouteResult | None:
        return self.panel.route

    def update_route(self) -> None:
        """Route the current location (at once if the index exists) and look up staff and duplicates."""
        self.details = None
        self._lookup_generation += 1  # an answer for the previous point is no longer wanted
        self._clear_error("grid")
        if self.location is None:
            self.panel.clear()
            return
        index = self.grid_index.value
        if index is None:
            self.panel.clear("正在建立网格索引…")
            self.grid_index.request()
            return
        route = index.locate(*self.location)
        self.panel.show_route(route)
        self.routed.emit(route)
        self._look_up_details()

    def _look_up_details(self) -> None:
        if self.route is None or self.location is None:
            return
        grid_ids, category_id, (lon, lat) = self.panel.grid_ids(), self.category_combo.currentData(), self.location
        self._lookup_generation += 1
        generation, store = self._lookup_generation, self.store
        run_in_background(lambda: load_route_details(store, grid_ids, category_id, lon, lat),
                          lambda details: self._on_details(generation, details),
                          lambda exc: self._on_details_failed(generation, exc), receiver=self)

    def _on_details(self, generation: int, details: RouteDetails) -> None:
        if generation != self._lookup_generation:
            return  # the seat moved the point (or changed the category) meanwhile
        self.details = details
        self.panel.show_details(details.staff, details.duplicates)
        self.detailsShown.emit()

    def _on_details_failed(self, generation: int, exc: Exception) -> None:
        if generation == self._lookup_generation:
            self.panel.show_lookup_error(str(exc))

    def _on_category_changed(self, _index: int) -> None:
        if self.route is not None:
            self.details = None
            self._look_up_details()

    # What tests and the window reach through the dialog.
    def selected_grid(self) -> Grid | None:
        return self.panel.selected_grid()

    def choose_grid(self, grid_id: int) -> None:
        self.panel.choose_grid(grid_id)

    @property
    def border_buttons(self) -> list[QRadioButton]:
        return self.panel.border_buttons

    @property
    def duplicate_buttons(self) -> list[QRadioButton]:
        return self.panel.duplicate_buttons

    def duplicate_of(self) -> int | None:
        return self.panel.duplicate_of()

    def _update_primary_button(self) -> None:
        merging = self.duplicate_of() is not None
        self.dispatch_button.setText(DUPLICATE_TEXT if merging else DISPATCH_TEXT)
        self.dispatch_button.setToolTip("登记并标记为所选案件的重复件（不再派发）" if merging
                                        else "登记并派发到所属网格（Ctrl+Enter）")

    # -- validation and submit ------------------------------------------------------------
    def _set_error(self, field: str, message: str) -> None:
        label = self.errors[field]
        label.setText(message)
        label.setVisible(bool(message))

    def _clear_error(self, field: str) -> None:
        self._set_error(field, "")

    def error_text(self, field: str) -> str:
        """The message shown under ``field`` ("" when none)."""
        label = self.errors[field]
        return "" if label.isHidden() else label.text()

    def _check_phone_now(self) -> None:
        self._set_error("phone", check_phone(self.reporter_phone_edit.text()))

    def validate(self, dispatch: bool) -> dict[str, str]:
        """Field → message for everything that stops a 登记; shown under each field."""
        problems: dict[str, str] = {}
        if not self.description_edit.toPlainText().strip():
            problems["description"] = "请填写问题描述"
        if message := check_phone(self.reporter_phone_edit.text()):
            problems["phone"] = message
        typed = self.coord_edit.text().strip()
        if typed and typed != self._typed_text:
            try:
                lon, lat = parse_lonlat(typed)
            except ValueError as exc:
                problems["coordinates"] = str(exc)
            else:
                self.set_location(lon, lat, origin="typed")
        merging = self.duplicate_of() is not None
        if "coordinates" not in problems:
            if self.location is None:
                if dispatch and not merging:
                    problems["coordinates"] = "请在地图上点选、输入坐标或选择污染源，以确定派发网格"
            elif self.route is None:
                problems["grid"] = "网格索引尚未就绪，请稍候再试"
            elif self.route.near_border and self.selected_grid() is None:
                problems["grid"] = "位置靠近网格边界，请在上方选择所属网格"
            elif dispatch and not merging and self.selected_grid() is None:
                problems["grid"] = "该位置不在任何网格内，无法派发；请“仅登记”，由指挥中心另行指定"
        if self.category_combo.currentData() is None:
            problems.setdefault("description", "案件类别尚未加载，请稍候")
        for field in self.errors:
            self._set_error(field, problems.get(field, ""))
        return problems

    def request(self, dispatch: bool) -> IntakeRequest:
        grid = self.selected_grid()
        near = self.route is not None and self.route.near_border
        payload = {}
        if near and grid is not None:
            payload = {"border_confirmed": True, "routed_grid_id": self.route.grid.id if self.route.grid else None,
                       "candidate_grid_ids": [g.id for g, _ in self.panel.options]}
        lon, lat = self.location if self.location else (None, None)
        return IntakeRequest(
            source=self.source_combo.currentData(), category_id=self.category_combo.currentData(),
            description=self.description_edit.toPlainText().strip(),
            reporter_name=self.reporter_name_edit.text().strip(),
            reporter_phone=normalize_phone(self.reporter_phone_edit.text()), address=self.address_edit.text().strip(),
            lon=lon, lat=lat, grid_id=grid.id if near and grid is not None else None,
            pollution_source_id=self._source_id, photos=tuple(self.photos.paths()), dispatch=dispatch,
            duplicate_of=self.duplicate_of(), dispatch_payload=payload)

    def submit(self, dispatch: bool) -> bool:
        """Check the form and, if it is complete, write in the background. False: the form shows why."""
        if self.busy:
            return False
        self.banner.hide()
        problems = self.validate(dispatch)
        if problems:
            first = next(iter(problems))
            focus = {"description": self.description_edit, "phone": self.reporter_phone_edit,
                     "coordinates": self.coord_edit}.get(first)
            if focus is not None:
                focus.setFocus()
            return False
        request = self.request(dispatch)
        index = self.grid_index.value
        store, actor = self.store, self.actor
        self._set_busy(True)
        run_in_background(lambda: register_case(store, request, actor, index), self._on_written,
                          self._on_write_failed, receiver=self)
        return True

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for button in (self.register_button, self.dispatch_button, self.cancel_button):
            button.setEnabled(not busy)
        self.setCursor(Qt.CursorShape.BusyCursor) if busy else self.unsetCursor()

    def _on_written(self, result: IntakeResult) -> None:
        self._set_busy(False)
        self.result_case = result
        self.caseCreated.emit(result)
        self.accept()

    def _on_write_failed(self, exc: Exception) -> None:
        self._set_busy(False)
        if isinstance(exc, WorkflowError):
            message = f"未能登记：{exc}"
        elif isinstance(exc, OSError):
            message = f"无法读取照片 {getattr(exc, 'filename', '') or ''}：{exc.strerror or exc}；未写入任何内容"
        else:
            message = f"登记失败（{exc.__class__.__name__}: {exc}）；未写入任何内容，可稍后重试"
        self._show_banner(message)

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    # -- closing --------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        # QDialog would press a default button on Enter; here Enter belongs to the field
        # (定位 in the coordinate box), and registering needs Ctrl+Enter or a click.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            event.accept()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        if not self.busy:
            super().reject()

    def closeEvent(self, event) -> None:
        if self.busy:
            event.ignore()
            return
        super().closeEvent(event)

    def _cleanup(self) -> None:
        self.stop_picking()
        if self.canvas is not None and self._marker is not None:
            self.canvas.remove_overlay(self._marker)
            self._marker = None
