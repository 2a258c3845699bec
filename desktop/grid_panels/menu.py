"""The 网格 menu: problem panel, leaders and staff, public signs, import with preview.

Installed by ``install_grid_panels(window)``; needs of the window only ``store``, ``data``
(``grid(id)``, ``grids``), ``canvas``, ``info_panel``, ``statusBar()`` and ``load()``. The edit
controller is optional: ``set_editor(controller)`` (or ``window.editing``, the controller
found once the window is built) routes quick fixes onto its undo stack.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFileDialog, QInputDialog, QMessageBox

from desktop.grid_panels.problem_panel import ProblemPanel
from desktop.workers import run_in_background
from gis.domain import LEVEL_NAMES


def zoom_to_problem(canvas, problem) -> None:
    """Zoom to a validation problem's region (or point) and flash it."""
    from desktop.widgets.map_overlays import MapMarker

    geometry = getattr(problem, "geometry", None)
    if geometry is not None and not geometry.is_empty:
        x0, y0, x1, y1 = geometry.bounds
        pad = max(x1 - x0, y1 - y0, 0.0005) * 0.6
        canvas.zoom_to_bbox((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
        canvas.flash(MapMarker.from_lonlat_geometry(geometry))
        return
    lon, lat = problem.location
    if lon == lon and lat == lat:  # not NaN (an empty grid has no place)
        canvas.zoom_to_point(lon, lat, 2000)
        canvas.flash(MapMarker.from_lonlat_point(lon, lat))


class GridPanels(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.editor = None
        self.problems = ProblemPanel(window.store, zoom=self._zoom)
        self.problems.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
        self.problems.fixApplied.connect(self._after_fix)
        self.dock = QDockWidget("网格检查", window)
        self.dock.setObjectName("gridProblemDock")
        self.dock.setWidget(self.problems)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()

        menu = window.menuBar().addMenu("网格(&G)")
        self.menu = menu
        self.actions = {
            "check": menu.addAction("检查网格（空隙、重叠、缺负责人）", self.show_problems),
            "staff": menu.addAction("负责人与联系卡…", self.edit_staff),
        }
        menu.addSeparator()
        self.actions["sign"] = menu.addAction("打印当前网格公示牌…", self.print_current_sign)
        self.actions["signs"] = menu.addAction("批量打印公示牌…", self.print_level_signs)
        menu.addSeparator()
        self.actions["import"] = menu.addAction("导入网格（预览）…", self.import_grids)
        menu.addAction(self.dock.toggleViewAction())
        window.info_panel.staffRequested.connect(self.edit_staff)
        # The edit controller may be installed after us (window.editing): adopt it once the window is built.
        QTimer.singleShot(0, self._adopt_editor)

    def _adopt_editor(self) -> None:
        if self.editor is None:
            editor = getattr(self.window, "editing", None) or getattr(self.window, "edit_controller", None)
            if editor is not None and hasattr(editor, "push"):
                self.set_editor(editor)

    def set_editor(self, editor) -> None:
        """Route quick fixes through the edit controller (``push``) and follow its session."""
        self.editor = editor
        self.problems.set_editor(editor)

    def _zoom(self, problem) -> None:
        zoom = getattr(self.editor, "zoom_to_problem", None)
        if zoom is not None:
            zoom(problem)
        else:
            zoom_to_problem(self.window.canvas, problem)

    def _after_fix(self, label: str) -> None:
        if self.editor is None or getattr(self.editor, "session", None) is None:
            self.window.load()  # saved directly: show the fixed boundaries

    # -- actions -----------------------------------------------------------------------------
    def show_problems(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.problems.refresh()

    def current_grid(self):
        current = getattr(self.window.info_panel, "current", None)
        data = self.window.data
        if data is None or not current or current[0] != "grid":
            return None
        return data.grid(current[1])

    def edit_staff(self, grid_id: int | None = None) -> None:
        from desktop.grid_panels.staff_dialog import StaffDialog

        data = self.window.data
        grid = data.grid(grid_id) if (data is not None and grid_id) else self.current_grid()
        if grid is None:
            self.window.statusBar().showMessage("请先在地图或网格目录中选择一个网格", 6000)
            return
        parent = data.grid(grid.parent_id) if grid.parent_id else None
        dialog = StaffDialog(self.window.store, grid, parent_grid=parent, parent=self.window)
        dialog.changed.connect(lambda gid: self.window.show_grid(gid, zoom=False))
        dialog.exec()

    def print_current_sign(self) -> None:
        grid = self.current_grid()
        if grid is None:
            self.window.statusBar().showMessage("请先在地图或网格目录中选择一个网格", 6000)
            return
        self._print(f"公示牌-{grid.name}.pdf", grid_code=grid.code)

    def print_level_signs(self) -> None:
        grid = self.current_grid()
        choices = [f"{LEVEL_NAMES[n]}（全部）" for n in (2, 3, 4, 5)]
        if grid is not None and grid.level < 5:
            choices.insert(0, f"“{grid.name}”的下级网格")
        choice, ok = QInputDialog.getItem(self.window, "批量打印公示牌", "打印哪些网格的公示牌：", choices, 0, False)
        if not ok:
            return
        if choice.startswith("“"):
            self._print(f"公示牌-{grid.name}-下级.pdf", parent_code=grid.code)
        else:
            level = (2, 3, 4, 5)[choices.index(choice) - (1 if grid is not None and grid.level < 5 else 0)]
            self._print(f"公示牌-{LEVEL_NAMES[level]}.pdf", level=level)

    def _print(self, suggested: str, **which) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "保存公示牌", suggested, "PDF 文件 (*.pdf)")
        if path:
            size, ok = QInputDialog.getItem(self.window, "纸张", "纸张大小：", ["A4", "A3"], 0, False)
            if ok:
                self.write_signs(path, size, **which)

    def write_signs(self, path: str, size: str = "A4", **which) -> None:
        """Read the signs and write the PDF off the GUI thread; the status bar says when it is done."""
        from desktop.sign_pdf import MAP_H, MAP_W, write_signs_pdf
        from gis.signs import read_signs

        store, bar = self.window.store, self.window.statusBar()

        def work():
            with store.engine.connect() as connection:
                signs = read_signs(connection, aspect=MAP_W / MAP_H, **which)
            return write_signs_pdf(signs, path, size)

        bar.showMessage("正在生成公示牌…")
        run_in_background(work, lambda pages: bar.showMessage(f"已生成公示牌 {pages} 页：{Path(path).name}", 10_000),
                          lambda exc: QMessageBox.warning(self.window, "公示牌", f"未能生成公示牌：{exc}"),
                          receiver=self.window)

    def import_grids(self) -> None:
        from desktop.grid_panels.import_dialog import ImportDialog

        path, _ = QFileDialog.getOpenFileName(self.window, "导入网格", "",
                                              "矢量文件 (*.shp *.geojson *.json *.gpkg *.kml *.kmz);;所有文件 (*)")
        if not path:
            return
        dialog = ImportDialog(self.window.store, path, parent=self.window)
        if dialog.exec():
            self.window.load()
