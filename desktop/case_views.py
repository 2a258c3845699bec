"""The linked case views of the main window: filter bar + lazy table, charts, and the map's pins.

One ``FilterState`` drives them all. Selecting a grid (tree, map click, map rectangle) filters the
table and the charts; clicking a bar filters the table and the map; selecting a row centres the
map on the case and flashes its pin. Every query runs on the ``QueryRunner``'s threads.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, QSettings, QTimer
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMessageBox, QTableView, QVBoxLayout, QWidget

from desktop.case_export import CaseExportJob, ask_export_path, run_export_with_progress
from desktop.case_fetcher import SqlCaseFetcher
from desktop.case_filter_model import FilterState
from desktop.query_runner import QueryRunner
from desktop.widgets.case_table import CaseTableModel
from desktop.widgets.case_filter_bar import CaseFilterBar
from desktop.widgets.charts import CaseChartsPanel, pollutant_name
from desktop.widgets.map_overlays import MapMarker
from gis.domain import LEVEL_NAMES
from gis.storage.case_queries import CaseFilter, Seat, case_ids, read_case_categories

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

log = logging.getLogger(__name__)
ROW_ZOOM_SCALE = 10_000     # centring on a case keeps a closer zoom, else shows about this much
MAP_FILTER_DELAY_MS = 120


def seat_from_settings() -> tuple[str, list[str]]:
    """Actor name (the case dialogs' ``seat_name``) and the grid codes this seat answers for
    (QSettings ``seat/grids``; none: the whole district) until user accounts carry a scope."""
    from desktop.case_actions import seat_name

    codes = QSettings("EnvGrid", "EnvGrid").value("seat/grids", []) or []
    return seat_name(), [codes] if isinstance(codes, str) else list(codes)


class CaseTableView(QTableView):
    """The case table's view: whole rows, no editing, sort indicator from the model's SQL order."""

    def __init__(self, model: CaseTableModel, parent=None):
        super().__init__(parent)
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((150, 76, 96, 70, 150, 124)):
            self.setColumnWidth(column, width)
        column, order = model.sort_section()
        header.setSortIndicator(column, order)
        self.setSortingEnabled(True)  # header clicks call model.sort → a new ORDER BY in SQL


class CaseViews(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        actor, self._seat_codes = seat_from_settings()
        self.state = FilterState(CaseFilter(seat=Seat(actor=actor)))
        self.runner = QueryRunner(window.store.engine, parent=self)
        self.fetcher = SqlCaseFetcher(self.runner)
        self.model = CaseTableModel(self.fetcher, parent=self)
        self.bar = CaseFilterBar(self.state)
        self.view = CaseTableView(self.model)
        self.table_panel = QWidget()
        box = QVBoxLayout(self.table_panel)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.bar)
        box.addWidget(self.view, 1)
        self.charts = CaseChartsPanel(self.state, self.runner)
        self.export_job: CaseExportJob | None = None
        self.data = None
        self._connected_map = False

        self.bar.pollutant_name = pollutant_name
        self.bar.exportRequested.connect(self.export)
        self.model.countChanged.connect(lambda n: self.bar.set_count(None if n < 0 else n))
        self.view.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.charts.gridChosen.connect(self._on_chart_grid)
        self.state.events.changed.connect(self._on_filter_changed)
        self.runner.failed.connect(lambda text: window.statusBar().showMessage(f"查询失败：{text}", 8000))
        self._map_timer = QTimer(self)
        self._map_timer.setSingleShot(True)
        self._map_timer.setInterval(MAP_FILTER_DELAY_MS)
        self._map_timer.timeout.connect(self._filter_map)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(300)
        self._refresh_timer.timeout.connect(self.refresh)

    # -- workspace ------------------------------------------------------------------------------
    def set_data(self, data) -> None:
        """A workspace was (re)loaded: new store, grids and categories; keep the seat's filter."""
        window = self.window
        self.data = data
        if self.runner.engine is not window.store.engine:  # another workspace: another engine
            self.runner.shutdown()
            self.runner.deleteLater()
            self.runner = QueryRunner(window.store.engine, parent=self)
            self.runner.failed.connect(lambda text: window.statusBar().showMessage(f"查询失败：{text}", 8000))
            self.fetcher.runner = self.runner
            self.charts.runner = self.runner
            self.state.clear()
        self._update_seat()
        self.bar.grid_name = lambda grid_id: (g.name if (g := data.grid(grid_id)) else f"网格 {grid_id}")
        self.charts.grid_level_of = lambda grid_id: (g.level if (g := data.grid(grid_id)) else None)
        self.runner.submit("case-categories", read_case_categories, self.bar.set_categories)
        self.charts.load_stations()
        self.model.set_query(self.state.filter)
        self.bar.show_state()
        self.charts.refresh()
        if not self._connected_map and hasattr(window, "interaction"):
            window.interaction.selectionChanged.connect(self._on_map_selection)
            if hasattr(window, "case_actions"):  # a dialog created or moved a case
                window.case_actions.caseChanged.connect(lambda _id: self._refresh_timer.start())
            self._connected_map = True
        self._filter_map()

    def _update_seat(self) -> None:
        actor, self._seat_codes = seat_from_settings()
        grid_by_code = {g.code: g.id for g in self.data.grids} if self.data else {}
        seat = self.state.filter.seat
        wanted = Seat(actor, frozenset(grid_by_code[c] for c in self._seat_codes if c in grid_by_code),
                      seat.command_center)
        if wanted != seat:
            self.state.set_seat(wanted)

    def refresh(self) -> None:
        """Read again (new or changed cases): table, charts and map, same filter."""
        self._update_seat()
        self.model.reload()
        self.charts.refresh()
        self._filter_map()

    def refresh_keeping_place(self) -> None:
        """As refresh(), for the live feed: the selected row and the scroll position stay (desktop.live_table)."""
        from desktop.live_table import KeepPlace

        self._update_seat()
        self._keep_place = KeepPlace(self.view, getattr(self, "_keep_place", None)).reload()
        self.charts.refresh()
        self._filter_map()

    def shutdown(self) -> None:
        if self.export_job is not None and self.export_job.isRunning():
            self.export_job.cancel()
            self.export_job.wait()
        self._map_timer.stop()
        self._refresh_timer.stop()
        self.runner.shutdown()

    # -- grid selection → filter ---------------------------------------------------------------
    def grid_shown(self, grid_id: int) -> None:
        """The window shows a grid (tree, map click, search): table and charts follow it."""
        self.state.set_grids({grid_id})

    def _on_map_selection(self, _count: int) -> None:
        selected = list(self.window.interaction.selected)
        if selected:
            self.state.set_grids(selected)

    def _on_chart_grid(self, grid_id: int) -> None:
        # One grid chosen: show it on the map and in the tree. Several (Ctrl-click): the filter has
        # them and the map's pins follow; selecting one in the tree would drop the others.
        if self.state.filter.grid_ids == {grid_id} and self.data is not None and self.data.grid(grid_id):
            self.window.select_grid(grid_id)

    # -- filter → table, map --------------------------------------------------------------------
    def _on_filter_changed(self, f: CaseFilter, names: frozenset[str]) -> None:
        self.model.set_filter(f)
        if "grid_ids" in names:
            levels = [g.level for g in map(self.data.grid, f.grid_ids) if g] if self.data else []
            self.window.statusBar().showMessage(
                f"案件筛选：{'、'.join(sorted({LEVEL_NAMES[l] for l in levels}))} {len(f.grid_ids)} 个网格"
                if f.grid_ids else "案件筛选：全部网格", 4000)
        self._map_timer.start()

    def _filter_map(self) -> None:
        pins = self.window.layer_control.pins if hasattr(self.window, "layer_control") else None
        if pins is None or not hasattr(pins, "set_filter"):
            return  # TODO(map): the pin layer predates set_filter; the map then shows every case
        f = self.state.filter
        if f.replace(seat=CaseFilter().seat, now=None) == CaseFilter():
            pins.set_filter(None)
            return
        self.runner.submit("map-ids", lambda c: case_ids(c, f), pins.set_filter)

    # -- row → map -----------------------------------------------------------------------------
    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        case = self.model.case_at(current.row()) if current.isValid() else None
        if case is None:
            return
        self.centre_on_case(case)

    def centre_on_case(self, case) -> None:
        if case.lon is None or case.lat is None:
            self.window.statusBar().showMessage(f"案件 {case.number} 没有位置", 5000)
            return
        canvas = self.window.canvas
        canvas.zoom_to_point(case.lon, case.lat, ROW_ZOOM_SCALE)
        canvas.flash(MapMarker.from_lonlat_point(case.lon, case.lat))
        self.window.statusBar().showMessage(f"案件 {case.number}：{case.category}，{case.state}", 8000)

    # -- export ---------------------------------------------------------------------------------
    def criteria(self) -> list[tuple[str, str]]:
        f = self.state.filter
        name = self.bar.grid_name
        lines = [("工作清单", str(f.work_list) if f.work_list else "全部"),
                 ("状态", "、".join(sorted(f.states)) or "全部"), ("来源", "、".join(sorted(f.sources)) or "全部"),
                 ("类别", self.bar.category_picker.toolTip() if f.category_ids else "全部"),
                 ("网格", "、".join(name(g) for g in sorted(f.grid_ids)) or "全部"),
                 ("网格级别", "、".join(LEVEL_NAMES[l] for l in sorted(f.levels)) or "全部"),
                 ("上报时间", f"{f.start:%Y-%m-%d %H:%M} 至 {f.end:%Y-%m-%d %H:%M}" if f.start and f.end else
                  (f"{f.start:%Y-%m-%d %H:%M} 起" if f.start else (f"{f.end:%Y-%m-%d %H:%M} 前" if f.end else "全部"))),
                 ("报警污染物", "、".join(pollutant_name(p) for p in sorted(f.pollutants)) or "全部"),
                 ("搜索", f.text or "—"), ("席位", f.seat.actor),
                 ("排序", f"{self.model.COLUMNS[self.model.SORT_COLUMNS.index(self.model.order.column)]} "
                          f"{'降序' if self.model.order.descending else '升序'}")]
        return lines

    def export(self, path: str | None = None) -> CaseExportJob | None:
        """Export exactly what the table is filtered to (all rows, in the table's order)."""
        if self.export_job is not None and self.export_job.isRunning():
            self.window.statusBar().showMessage("正在导出，请稍候…", 4000)
            return None
        path = path or ask_export_path(self.window)
        if not path:
            return None
        job = CaseExportJob(self.window.store.engine, self.state.filter, path, order=self.model.order,
                            criteria=self.criteria(), parent=self)
        job.succeeded.connect(lambda p, n: self.window.statusBar().showMessage(f"已导出 {n:,} 条案件到 {p}", 10_000))
        job.failed.connect(self._export_failed)
        self.export_job = job
        self._progress = run_export_with_progress(self.window, job)
        return job

    def _export_failed(self, message: str) -> None:
        if message:
            QMessageBox.warning(self.window, "导出失败", message)
        else:
            self.window.statusBar().showMessage("导出已取消", 5000)


