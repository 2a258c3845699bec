"""The main window: map in the centre, grid tree left, grid info right, cases below.

It takes an open ``Store`` and owns nothing else: the workspace is read by a
loader thread, the widgets are views over what it returns, and the only query on
the GUI thread is the small staff look-up for the selected grid.
"""
from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path

from PySide6.QtCore import QModelIndex, QRect, QSettings, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QDockWidget, QFileDialog, QHeaderView, QLabel, QLineEdit, QMainWindow, QMessageBox,
    QTableView, QTreeView, QVBoxLayout, QWidget,
)

from desktop.case_actions import install_case_actions
from desktop.display.menu import install_display_action
from desktop.grid_panels import install_grid_panels
from desktop.editing import install_editing
from desktop.map_actions import install_map_actions
from desktop.map_interaction import MapInteraction
from desktop.map_layer_control import MapLayerControl
from desktop.case_views import CaseViews
from desktop.live_apply import install_live_feed
from desktop.status_counts import show_counts
from desktop.widgets.grid_tree import GridTreeModel
from desktop.widgets.identify_panel import IdentifyPanel
from desktop.widgets.map_canvas import MapCanvas, format_lonlat, format_scale
from desktop.widgets.map_layers import HighlightLayer, PointLayer
from desktop.workspace_loader import WorkspaceData, WorkspaceLoadThread
from gis.storage.store import Store, StoreError, open_store

DEMO_BANNER = "演示数据：晋城市城区边界为真实数据，其下各级网格划分、人员、污染源与案件均为虚构"
LAST_WORKSPACE_KEY = "workspace/last"
LOADING_TEXT = "正在加载…"
EMPTY_TEXT = "此工作空间还没有网格。\n可用 envgrid import-grids 导入网格边界。"
SCREEN_SHARE = 0.9  # of the screen's available area, on a first run (no saved geometry)


def app_settings() -> QSettings:
    return QSettings("EnvGrid", "EnvGrid")


class MainWindow(QMainWindow):
    dataLoaded = Signal()
    mapReady = Signal()      # the first map image after the data arrived
    loadFailed = Signal(str)

    def __init__(self, store: Store, *, remember: bool = True, session=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.session = session  # the logged-in gis.security Session (desktop.login_dialog), None: single seat
        from desktop.case_actions import set_logged_in

        set_logged_in(session)  # before the case views: they name the seat after it
        self.data: WorkspaceData | None = None
        self._remember = remember
        self._awaiting_map = False
        self._loader: WorkspaceLoadThread | None = None
        self.setObjectName("EnvGridMainWindow")

        self.canvas = MapCanvas()
        self.banner = QLabel(DEMO_BANNER)
        self.banner.setObjectName("demoBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel#demoBanner { background: #fff3cd; color: #7a4f01; padding: 5px 10px;"
                                  " border-bottom: 1px solid #e0c068; font-weight: bold; }")
        self.banner.hide()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.canvas, 1)
        self.setCentralWidget(central)

        self._build_grid_dock()
        self._build_info_dock()
        self._build_case_dock()
        self._build_status_bar()
        self.interaction = MapInteraction(self)  # tools, identify, hover, selection, search, history
        self.layer_control = MapLayerControl(self)  # basemap, layer panel, saved styles, live pins
        self._build_actions()
        self.canvas.cursorMoved.connect(lambda lon, lat: self.cursor_label.setText(format_lonlat(lon, lat)))
        self.canvas.scaleChanged.connect(lambda n: self.scale_label.setText(format_scale(n)))
        self.canvas.renderFinished.connect(self._on_render_finished)

        self._size_to_screen()  # saved geometry, if any, replaces it below
        self.resizeDocks([self.grid_dock, self.info_dock], [300, 280], Qt.Orientation.Horizontal)
        self.resizeDocks([self.case_dock], [320], Qt.Orientation.Vertical)
        self.resizeDocks([self.case_dock, self.chart_dock], [760, 640], Qt.Orientation.Horizontal)
        if remember:
            self._restore_settings()
        self.load()
        from desktop.session_ui import apply_session

        apply_session(self, session)  # 当前用户, actions by role, data scope
        self.live = install_live_feed(self)  # other seats' changes, alarms, connection state (desktop.live_apply)

    # -- construction ---------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState() needs names
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_grid_dock(self) -> None:
        self.grid_model = GridTreeModel(parent=self)
        self.grid_proxy = QSortFilterProxyModel(self)
        self.grid_proxy.setSourceModel(self.grid_model)
        self.grid_proxy.setRecursiveFilteringEnabled(True)  # a matching village keeps its town visible
        self.grid_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.grid_search = QLineEdit()
        self.grid_search.setPlaceholderText("搜索网格名称或编码")
        self.grid_search.setClearButtonEnabled(True)
        self.grid_search.textChanged.connect(self._filter_grids)
        self.grid_view = QTreeView()
        self.grid_view.setModel(self.grid_proxy)
        self.grid_view.setUniformRowHeights(True)
        self.grid_view.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.grid_view.header().setStretchLastSection(False)
        self.grid_view.selectionModel().currentChanged.connect(self._on_grid_current_changed)
        panel = QWidget()
        box = QVBoxLayout(panel)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.grid_search)
        box.addWidget(self.grid_view)
        panel.setMinimumWidth(240)
        self.grid_dock = self._dock("网格目录", "gridDock", panel, Qt.DockWidgetArea.LeftDockWidgetArea)

    def _build_info_dock(self) -> None:
        self.info_panel = IdentifyPanel()
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setMargin(8)
        panel = QWidget()
        box = QVBoxLayout(panel)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.info_panel, 1)
        box.addWidget(self.legend)
        panel.setMinimumWidth(260)
        self.info_dock = self._dock("要素信息", "infoDock", panel, Qt.DockWidgetArea.RightDockWidgetArea)

    def _build_case_dock(self) -> None:
        # Filter bar + lazy table over a query, and the charts: linked through one FilterState.
        self.case_views = CaseViews(self)
        self.case_model = self.case_views.model
        self.case_view = self.case_views.view
        self.case_view.doubleClicked.connect(self._on_case_double_clicked)
        self.case_dock = self._dock("案件列表", "caseDock", self.case_views.table_panel,
                                    Qt.DockWidgetArea.BottomDockWidgetArea)
        self.chart_dock = self._dock("案件统计", "chartDock", self.case_views.charts,
                                     Qt.DockWidgetArea.BottomDockWidgetArea)
        self.splitDockWidget(self.case_dock, self.chart_dock, Qt.Orientation.Horizontal)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.workspace_label = QLabel()
        self.counts_label = QLabel()
        self.cursor_label = QLabel(format_lonlat(0, 0).replace("0.00000", "—"))
        self.scale_label = QLabel(format_scale(float("nan")))
        # All permanent: showMessage() would hide ordinary status widgets while a message is up.
        # The scale is shown by the interaction's editable scale box, next to the GK coordinates.
        for label in (self.workspace_label, self.counts_label, self.cursor_label):
            bar.addPermanentWidget(label)

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        open_action = file_menu.addAction("打开工作空间…", self._open_workspace_dialog)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        from desktop.session_ui import log_out

        self.logout_action = file_menu.addAction("注销…", lambda: log_out(self))  # shown while logged in
        file_menu.addSeparator()
        file_menu.addAction("退出", QKeySequence.StandardKey.Quit, self.close)
        view_menu = self.menuBar().addMenu("视图(&V)")
        toolbar = self.addToolBar("地图")
        toolbar.setObjectName("mapToolBar")
        # Tools, navigation, history, selection, search: one table with their shortcuts.
        self.map_actions = install_map_actions(self, view_menu, toolbar)
        view_menu.addSeparator()
        self.layer_menu = view_menu.addMenu("图层")
        install_display_action(self, view_menu)
        view_menu.addSeparator()
        for dock in (self.grid_dock, self.info_dock, self.layer_control.dock, self.case_dock, self.chart_dock):
            view_menu.addAction(dock.toggleViewAction())
        self.case_actions = install_case_actions(self)  # 案件 menu and tool bar, detail on double-click
        self.grid_panels = install_grid_panels(self)  # 网格 menu: checks and fixes, staff, public signs, import
        self.editing = install_editing(self)  # 编辑 menu: boundary edit session, tools, undo/redo, save
        help_menu = self.menuBar().addMenu("帮助(&H)")
        help_menu.addAction(self.map_actions["shortcuts"])
        help_menu.addAction("关于 EnvGrid", self._about)

    # -- loading --------------------------------------------------------------------
    def load(self) -> None:
        """(Re)read the workspace in a worker thread; the UI says 正在加载… meanwhile."""
        name = self.workspace_name()
        self.workspace_label.setText(f"工作空间：{name}")
        self.workspace_label.setToolTip(self.store.display_name)
        self.setWindowTitle(f"EnvGrid 网格化环境监管 — {name}")
        self.canvas.set_message(LOADING_TEXT)
        self.statusBar().showMessage(LOADING_TEXT)
        self._loader = WorkspaceLoadThread(self.store, self)
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_load_failed)
        self._loader.start()

    def workspace_name(self) -> str:
        """The file name of a SQLite workspace, else the URL without password."""
        if self.store.url.get_backend_name() == "sqlite" and self.store.url.database:
            return Path(self.store.url.database).name
        return self.store.display_name

    @property
    def is_loaded(self) -> bool:
        return self.data is not None

    def _on_loaded(self, data: WorkspaceData) -> None:
        self.data = data
        self.grid_model.set_grids(data.grids)
        self.grid_view.expandToDepth(0)
        self.banner.setVisible(data.demo)
        if data.demo:
            self.setWindowTitle(self.windowTitle() + "（演示数据）")
        show_counts(self)  # the workspace's, or the user's data scope's (desktop.status_counts)
        self._fill_layer_menu(data)
        self.canvas.set_message("" if data.grids else EMPTY_TEXT)
        self.statusBar().showMessage(f"已加载（{data.seconds:.1f} 秒）", 5000)
        self._awaiting_map = True
        self.interaction.set_data(data)  # before the first view, so history starts at full extent
        self.layer_control.set_data(data)  # the layers in the workspace's saved styles and order
        self.case_views.set_data(data)  # after the layers: the map's pins follow the case filter
        self.dataLoaded.emit()

    def _on_load_failed(self, message: str) -> None:
        self.canvas.set_message("加载失败")
        self.statusBar().showMessage(f"加载失败：{message}")
        self.loadFailed.emit(message)

    def _on_render_finished(self) -> None:
        if self._awaiting_map:
            self._awaiting_map = False
            self.mapReady.emit()

    def _fill_layer_menu(self, data: WorkspaceData) -> None:
        self.layer_menu.clear()
        for layer in reversed(data.layers):  # top layer first, as layer panels list them
            count = f"（{len(layer):,}）" if isinstance(layer, PointLayer) else ""
            action = self.layer_menu.addAction(layer.title + count)
            action.setCheckable(True)
            action.setData(layer.key)  # the layer panel keeps the tick in step with the map
            action.setChecked(self.canvas.is_layer_visible(layer.key))
            action.toggled.connect(lambda on, key=layer.key: self.canvas.set_layer_visible(key, on))
        self.legend.setText(self._legend_html(data))

    @staticmethod
    def _legend_html(data: WorkspaceData) -> str:
        parts = []
        for layer in reversed(data.layers):
            if isinstance(layer, PointLayer) and len(layer):
                used = set(layer.classes.tolist())
                items = [f"<span style='color:rgb({r},{g},{b})'>●</span> {escape(name)}"
                         for i, (name, (r, g, b, _a)) in enumerate(layer.palette) if i in used]
                rows = "".join(f"<tr><td>{items[i]}</td><td>{items[i + 1] if i + 1 < len(items) else ''}</td></tr>"
                               for i in range(0, len(items), 2))
                parts.append(f"<tr><td colspan=2><b>{escape(layer.title)}</b></td></tr>{rows}")
        return f"<b>图例</b><table cellspacing=2>{''.join(parts)}</table>" if parts else ""

    # -- selection ------------------------------------------------------------------
    def _filter_grids(self, text: str) -> None:
        self.grid_proxy.setFilterFixedString(text.strip())
        if text.strip():
            self.grid_view.expandAll()

    def _on_grid_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        grid = self.grid_model.grid_at(self.grid_proxy.mapToSource(current))
        if grid is not None:
            self.show_grid(grid.id)

    def select_grid(self, grid_id: int) -> None:
        """Select in the tree (which highlights, zooms and fills the info panel)."""
        source = self.grid_model.index_for_grid(grid_id)
        index = self.grid_proxy.mapFromSource(source)
        if not index.isValid():
            self.grid_search.clear()
            index = self.grid_proxy.mapFromSource(source)
        self.grid_view.scrollTo(index)
        self.grid_view.setCurrentIndex(index)

    def show_grid(self, grid_id: int, *, zoom: bool = True, others=()) -> None:
        from gis.storage.people import current_staff

        grid = self.data.grid(grid_id) if self.data else None
        if grid is None:
            return
        if not self.grid_model.in_scope(grid_id):  # a scoped user: nothing of other grids (desktop.scope_view)
            self.statusBar().showMessage(f"网格「{grid.name}」不在您的数据范围内", 5000)
            return
        self.case_views.grid_shown(grid_id)  # the case table and charts follow the chosen grid
        self.canvas.set_highlight(HighlightLayer(grid.boundary))
        if zoom:
            min_lon, min_lat, max_lon, max_lat = grid.boundary.bounds
            if max_lon - min_lon < 1e-6 and max_lat - min_lat < 1e-6:
                self.canvas.zoom_to_point(min_lon, min_lat, 2000)
            else:
                self.canvas.zoom_to_bbox(grid.boundary.bounds)
        try:
            with self.store.engine.connect() as connection:
                staff = current_staff(connection, [grid_id]).get(grid_id, [])
        except Exception as exc:  # the panel still shows the grid itself
            staff = []
            self.statusBar().showMessage(f"读取责任人失败：{exc}", 8000)
        parent = self.data.grid(grid.parent_id) if grid.parent_id else None
        self.info_panel.show_grid(grid, staff, parent.name if parent else "", self.interaction.grid_counts(grid_id),
                                  others)

    def _select_grid_at(self, lon: float, lat: float) -> None:
        from gis.storage.grids import lowest_grid_at

        if self.data is None:
            return
        shown = {layer.level for layer in self.canvas.layers()
                 if getattr(layer, "level", None) and self.canvas.is_layer_visible(layer.key)
                 and layer.visible_at(self.canvas.viewport())}
        grid = lowest_grid_at(lon, lat, [g for g in self.data.grids if g.level in shown])
        if grid is not None:
            source = self.grid_model.index_for_grid(grid.id)
            self.grid_view.selectionModel().blockSignals(True)  # no zoom: the user is looking here
            self.grid_view.setCurrentIndex(self.grid_proxy.mapFromSource(source))
            self.grid_view.selectionModel().blockSignals(False)
            self.grid_view.scrollTo(self.grid_proxy.mapFromSource(source))
            self.show_grid(grid.id, zoom=False)

    def _on_case_double_clicked(self, index: QModelIndex) -> None:
        case = self.case_model.case_at(index.row())
        if case is None:
            return
        if case.lon is None or case.lat is None:
            self.statusBar().showMessage(f"案件 {case.number} 没有位置", 5000)
            return
        self.canvas.zoom_to_point(case.lon, case.lat, 4000)
        self.statusBar().showMessage(f"案件 {case.number}：{case.category}，{case.state}", 8000)

    # -- workspace, settings --------------------------------------------------------
    def _open_workspace_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "打开工作空间", "", "EnvGrid 工作空间 (*.sqlite *.db);;所有文件 (*)")
        if path:
            self.open_workspace(path)

    def open_workspace(self, db: str) -> None:
        try:
            store = open_store(db)
        except StoreError as exc:
            QMessageBox.warning(self, "无法打开工作空间", str(exc))
            return
        from desktop.login_dialog import LoginCancelled, ask_for_session
        from desktop.session_ui import apply_session, end_session

        try:  # another workspace, other accounts: log in there (or not, for a single-seat file)
            session = ask_for_session(store, parent=self)
        except LoginCancelled:
            store.close()
            return
        end_session(self)
        if self._loader is not None:
            self._loader.wait()
        self.canvas.set_highlight(None)
        self.info_panel.clear()
        self.layer_control.flush()  # style changes belong to the workspace being closed
        self.store.close()
        self.store = store
        self.data = None
        apply_session(self, session)
        self.load()

    def _about(self) -> None:
        QMessageBox.about(self, "关于 EnvGrid", "EnvGrid 网格化环境监管桌面端\n网格、污染源台账与案件的一张图。")

    def _size_to_screen(self) -> None:
        """A first run takes most of the screen's free area, centred: the map is what users came for."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(1400, 900)
            return
        area = screen.availableGeometry()
        frame = QRect(0, 0, round(area.width() * SCREEN_SHARE), round(area.height() * SCREEN_SHARE))
        frame.moveCenter(area.center())
        self.setGeometry(frame)

    def _restore_settings(self) -> None:
        settings = app_settings()
        geometry = settings.value("mainWindow/geometry")
        state = settings.value("mainWindow/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def save_settings(self) -> None:
        settings = app_settings()
        settings.setValue("mainWindow/geometry", self.saveGeometry())
        settings.setValue("mainWindow/state", self.saveState())
        if self.store.url.password is None:  # never write a password into the settings file
            settings.setValue(LAST_WORKSPACE_KEY, self.store.url.render_as_string(hide_password=False))

    def closeEvent(self, event) -> None:
        if self._remember:
            self.save_settings()
        self.live.shutdown()
        self.layer_control.shutdown()
        self.case_views.shutdown()
        self.canvas.shutdown()
        self.interaction.shutdown()
        if self._loader is not None:
            self._loader.wait()
        super().closeEvent(event)
