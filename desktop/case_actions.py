"""The 案件 menu and tool bar: 新建案件 (Ctrl+N), 打开案件…, and the detail dialog on a table double-click.

:class:`CaseActions` owns what the case dialogs share within one workspace: the grid index
for routing (built once, in the background, from the grids the window already loaded) and
the open dialogs (one intake form, one detail dialog per case). The seat's name is the
``seat_name`` setting until there are logins.
"""
from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QLineEdit

from desktop.case_detail_dialog import CaseDetailDialog
from desktop.case_intake_dialog import CaseIntakeDialog
from desktop.case_jobs import IntakeResult
from desktop.widgets.case_table import CASE_ID_ROLE
from desktop.widgets.map_overlays import MapMarker
from desktop.workers import BackgroundValue
from gis.domain import CaseAction
from gis.workflow import GridIndex

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

SEAT_NAME_KEY = "seat_name"
CASE_ZOOM_SCALE = 4000
_logged_in = None  # the Session of this process's login (desktop.session_ui), if any


def set_logged_in(session) -> None:
    global _logged_in
    _logged_in = session


def actor():
    """What the case services get as actor: the logged-in Session (checked, audited), else the seat name."""
    return _logged_in if _logged_in is not None else seat_name()


def seat_name() -> str:
    """Who the case events name as actor: the logged-in user, else the ``seat_name`` setting, else the OS user."""
    if _logged_in is not None:
        return _logged_in.actor_name
    name = str(QSettings("EnvGrid", "EnvGrid").value(SEAT_NAME_KEY, "") or "").strip()
    if name:
        return name
    try:
        return getpass.getuser() or "坐席"
    except Exception:  # no user name in the environment (service accounts, some containers)
        return "坐席"


def set_seat_name(name: str) -> None:
    QSettings("EnvGrid", "EnvGrid").setValue(SEAT_NAME_KEY, name.strip())


class CaseActions(QObject):
    caseChanged = Signal(int)  # a case was created or moved by a dialog of this window

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.intake: CaseIntakeDialog | None = None
        self.details: list[CaseDetailDialog] = []
        self._store = window.store
        self.grid_index = self._new_index()
        window.dataLoaded.connect(self._on_data_loaded)

        menu = window.menuBar().addMenu("案件(&C)")
        self.new_action = QAction("新建案件…", window)
        self.new_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_action.setToolTip("登记一件新案件并派发到网格（Ctrl+N）")
        self.new_action.triggered.connect(self.new_case)
        self.open_action = QAction("打开案件…", window)
        self.open_action.setToolTip("按案件编号打开案件详情")
        self.open_action.triggered.connect(self.ask_and_open)
        self.seat_action = QAction("设置坐席名称…", window)
        self.seat_action.triggered.connect(self.ask_seat_name)
        for action in (self.new_action, self.open_action):
            menu.addAction(action)
            window.addAction(action)
        menu.addSeparator()
        menu.addAction(self.seat_action)
        self.menu = menu
        self.toolbar = window.addToolBar("案件")
        self.toolbar.setObjectName("caseToolBar")
        self.toolbar.addAction(self.new_action)
        view = getattr(window, "case_view", None)
        if view is not None:
            self.connect_case_view(view)

    def connect_case_view(self, view) -> None:
        """Open the detail dialog when a row of ``view`` is double-clicked (rows carry CASE_ID_ROLE)."""
        view.doubleClicked.connect(self._on_row_activated)
        from desktop.case_presence import install_table_presence

        self.table_presence = install_table_presence(view, lambda: self.window.store)  # "张三 正在处理" tooltips

    # -- the workspace's grid index -------------------------------------------------------
    def _new_index(self) -> BackgroundValue:
        window, store = self.window, self.window.store

        def build() -> GridIndex:
            data = window.data
            if data is not None and data.grids:
                return GridIndex(data.grids)  # the window has them already: no second read
            with store.engine.connect() as connection:
                return GridIndex.from_connection(connection)

        return BackgroundValue(build, self)

    def _on_data_loaded(self) -> None:
        if self.window.store is not self._store:  # another workspace: its dialogs would write to the old one
            for dialog in [d for d in (self.intake, *self.details) if d is not None]:
                dialog.close()
            self.intake, self.details = None, []
            self._store = self.window.store
        self.grid_index = self._new_index()  # grids may have changed on a reload

    # -- intake ---------------------------------------------------------------------------
    def new_case(self) -> CaseIntakeDialog:
        if self.intake is not None and self.intake.isVisible():
            self.intake.raise_()
            self.intake.activateWindow()
            return self.intake
        dialog = CaseIntakeDialog(self.window.store, seat_name(), self.grid_index, canvas=self.window.canvas,
                                  parent=self.window)
        dialog.actor = actor()  # after construction: the form shows the name, the services get the Session
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.caseCreated.connect(self._on_case_created)
        dialog.finished.connect(lambda _r: setattr(self, "intake", None) if self.intake is dialog else None)
        self.intake = dialog
        dialog.show()
        return dialog

    def _on_case_created(self, result: IntakeResult) -> None:
        case, action = result.case, result.action
        text = f"已登记案件 {case.number}"
        if action is not None and action.action == CaseAction.DUPLICATE:
            text += "，已合并为重复件"
        elif action is not None and case.grid is not None:
            text += f"，已派发至 {case.grid.name}"
        self.window.statusBar().showMessage(text, 15000)
        self.caseChanged.emit(case.id)

    # -- detail ---------------------------------------------------------------------------
    def open_case(self, case: int | str) -> CaseDetailDialog:
        for dialog in self.details:
            if case in (dialog.case_id, dialog.number):
                dialog.show()
                dialog.raise_()
                dialog.activateWindow()
                return dialog
        dialog = CaseDetailDialog(self.window.store, case, actor(), locate=self.show_on_map, parent=self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.caseChanged.connect(self.caseChanged)
        dialog.finished.connect(lambda _r: self.details.remove(dialog) if dialog in self.details else None)
        self.details.append(dialog)
        dialog.show()
        return dialog

    def ask_and_open(self) -> None:
        view = getattr(self.window, "case_view", None)
        current = view.currentIndex() if view is not None else QModelIndex()
        suggestion = current.siblingAtColumn(0).data() if current.isValid() else ""
        number, ok = QInputDialog.getText(self.window, "打开案件", "案件编号：", QLineEdit.EchoMode.Normal,
                                          str(suggestion or ""))
        if ok and number.strip():
            self.open_case(number.strip().upper())

    def _on_row_activated(self, index: QModelIndex) -> None:
        case_id = index.data(CASE_ID_ROLE)
        if case_id is not None:
            self.open_case(int(case_id))

    def show_on_map(self, detail) -> None:
        canvas = self.window.canvas
        canvas.zoom_to_point(detail.lon, detail.lat, CASE_ZOOM_SCALE)
        canvas.flash(MapMarker.from_lonlat_point(detail.lon, detail.lat))

    def ask_seat_name(self) -> None:
        name, ok = QInputDialog.getText(self.window, "坐席名称", "案件办理记录中的操作人：", QLineEdit.EchoMode.Normal,
                                        seat_name())
        if ok and name.strip():
            set_seat_name(name)


def install_case_actions(window: MainWindow) -> CaseActions:
    return CaseActions(window)
