"""Every open window live: the change feed applied to the map, the case views, the dialogs.

``install_live_feed(window)`` (once, in the window's constructor) gives the window a
:class:`LiveView`. Each time the workspace has loaded it starts a :class:`desktop.live_feed.LiveFeed`
after the change id the loader saw, and then, per coalesced batch:

- cases / case events → the changed cases are read again (one query for the batch) and the pin
  layer is updated in place (add / update / remove; a new 监测报警 case pulses); the case table and
  charts are read again a moment later, keeping the seat's selected row and scroll; the counts in
  the status bar follow; an open detail dialog of the case reloads (or, while the seat fills in an
  action form over the old state, says it was changed by someone else); grid levels filled by open
  or overdue cases are re-classed from one SQL count per grid (``gis.storage.grid_counts``);
- grids → the changed grids are read again and the grid layers rebuilt off the GUI thread; the
  tree, the map's indexes, the highlight and the info panel follow, the view and selection stay;
- people / assignments → the info panel, if it shows an affected grid;
- pollution sources → the source layer is rebuilt; stations → the station layer; readings and
  alarms → the stations' AQI colours (SQLite has no readings trigger: alarms and a slow timer);
- a new alarm → a red notice over the map with [定位] [查看] and a sound (switchable off).

While the follower is disconnected a banner says so and since when; the status bar too. All
database reads run on one worker thread, in order; the GUI thread only applies results.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from desktop.live_feed import LiveFeed
from desktop.widgets.alarm_notice import AlarmNoticeBar, AlarmSound
from gis.domain import OPEN_STATES, CaseSource
from gis.storage.changes import FollowerState

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

log = logging.getLogger(__name__)
TABLE_REFRESH_MS = 400      # the table and charts re-read at most this often while changes stream in
STATISTICS_MS = 400         # case counts per grid (map fills) likewise
REBUILD_DELAY_MS = 150      # grid / source / station layer rebuilds
READINGS_DELAY_MS = 1000    # station AQI colours
SQLITE_READINGS_MS = 60_000  # SQLite has no readings trigger: re-read the stations' AQI this often
RETRY_FIRST_MS, RETRY_MAX_MS = 250, 5000  # a failed read of changed rows is retried, never dropped
BANNER_GRACE_MS = 500       # a killed connection that is back at once does not flash a banner
BANNER_STYLE = ("QLabel#liveBanner { background: #fdecea; color: #b71c1c; padding: 5px 10px;"
                " border-bottom: 1px solid #f5a5a0; font-weight: bold; }")


def disconnected_text(state: FollowerState) -> str:
    return f"与数据库的连接已断开（自 {state.since:%H:%M:%S}），正在重连…"


class _Reader(QObject):
    """Runs ``fn(connection)`` on one worker thread, in submission order; ``done(result)`` on the GUI thread."""

    _finished = Signal(object, object, object)  # callback, result, exception

    def __init__(self, parent=None):
        super().__init__(parent)
        self.engine = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="envgrid-live-read")
        self._finished.connect(self._deliver)
        self.pending = 0
        self.closed = False

    def submit(self, fn, done) -> None:
        if self.closed or self.engine is None:
            return
        engine = self.engine
        self.pending += 1

        def work():
            try:
                with engine.connect() as connection:
                    result = fn(connection)
            except Exception as exc:  # noqa: BLE001 — reported on the GUI thread
                self._finished.emit(done, None, exc)
                return
            self._finished.emit(done, result, None)

        self._pool.submit(work)

    def _deliver(self, done, result, exc) -> None:
        self.pending -= 1
        if self.closed:
            return
        if exc is not None:
            log.warning("live update: reading failed: %s", exc)
            done(None, exc)
            return
        done(result, None)

    def shutdown(self) -> None:
        self.closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)


class LiveView(QObject):
    """The window's live side: feed, appliers, banner, notice, sound. See the module docstring."""

    applied = Signal(int)  # changes applied (tests and benchmarks wait on it)

    def __init__(self, window: MainWindow, *, poll_interval: float = 0.25):
        super().__init__(window)
        self.window = window
        self.feed = LiveFeed(None, poll_interval=poll_interval, parent=self)
        self.reader = _Reader(self)
        self.sound = AlarmSound(self)
        self.applied_changes = 0
        self._cases: dict = {}          # id → CaseSummary, as the window knows them
        self._case_pos: dict[int, int] = {}
        self._open = 0
        self._total = 0
        self._pending_grids: set[int] = set()
        self._pending_sources = False
        self._pending_stations = False
        self._rebuilding = False
        self._generation = 0
        self._closed = False

        self.banner = QLabel()
        self.banner.setObjectName("liveBanner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.notice = AlarmNoticeBar()
        layout = window.centralWidget().layout()
        layout.insertWidget(0, self.banner)
        layout.insertWidget(max(0, layout.indexOf(window.canvas)), self.notice)
        self.status_label = QLabel()
        self.status_label.setObjectName("liveStatus")
        window.statusBar().addPermanentWidget(self.status_label)
        self.notice.locateRequested.connect(self._locate_alarm)
        self.notice.openRequested.connect(self._open_alarm)
        self._add_sound_action()

        self._banner_timer = self._timer(BANNER_GRACE_MS, self._show_banner_if_still_down)
        self._table_timer = self._timer(TABLE_REFRESH_MS, self._refresh_table)
        self._statistics_timer = self._timer(STATISTICS_MS, self._refresh_statistics)
        self._rebuild_timer = self._timer(REBUILD_DELAY_MS, self._rebuild_layers)
        self._readings_timer = self._timer(READINGS_DELAY_MS, self._refresh_readings)
        self._sqlite_timer = QTimer(self)
        self._sqlite_timer.setInterval(SQLITE_READINGS_MS)
        self._sqlite_timer.timeout.connect(self._readings_timer.start)

        self.feed.batch.connect(self.apply)
        self.feed.stateChanged.connect(self._on_state)
        self.feed.gap.connect(self._on_gap)
        window.dataLoaded.connect(self._on_loaded)

    def _timer(self, ms: int, slot) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    def _add_sound_action(self) -> None:
        menu = next((a.menu() for a in self.window.menuBar().actions() if a.text().startswith("视图")), None)
        if menu is None:
            return
        self.sound_action = menu.addAction("新报警提示音")
        self.sound_action.setCheckable(True)
        self.sound_action.setChecked(self.sound.enabled)
        self.sound_action.toggled.connect(lambda on: setattr(self.sound, "enabled", on))

    # -- life -------------------------------------------------------------------------------------
    def _on_loaded(self) -> None:
        data, store = self.window.data, self.window.store
        if data is None or self._closed:
            return
        self._generation += 1
        self._cases = {case.id: case for case in data.cases}
        self._case_pos = {case.id: n for n, case in enumerate(data.cases)}
        self._open = sum(1 for case in data.cases if case.state in OPEN_STATES)
        # data.cases may hold only what is pinned (open + recently closed); the total is counted apart.
        self._total = getattr(data, "case_count", len(data.cases))
        self._pending_grids, self._pending_sources, self._pending_stations = set(), False, False
        self.reader.engine = store.engine
        self.feed.db = store.url
        self.feed.start(getattr(data, "change_id", None))
        if store.url.get_backend_name() == "sqlite":
            self._sqlite_timer.start()
        else:
            self._sqlite_timer.stop()

    def shutdown(self) -> None:
        self._closed = True
        for timer in (self._banner_timer, self._table_timer, self._statistics_timer, self._rebuild_timer,
                      self._readings_timer, self._sqlite_timer):
            timer.stop()
        self.feed.stop()
        self.sound.stop()
        self.reader.shutdown()

    # -- connection state -------------------------------------------------------------------------
    def _on_state(self, state: FollowerState) -> None:
        if state.connected:
            self._banner_timer.stop()
            self.banner.hide()
            self.status_label.setText("实时更新：已连接")
            self.status_label.setToolTip(f"自 {state.since:%H:%M:%S} 起与数据库保持连接")
            self.status_label.setStyleSheet("")
        else:
            self.banner.setText(disconnected_text(state))
            self.status_label.setText(f"实时更新：已断开（自 {state.since:%H:%M:%S}）")
            self.status_label.setToolTip(state.error)
            self.status_label.setStyleSheet("color: #b71c1c; font-weight: bold;")
            if self.banner.isHidden() and not self._banner_timer.isActive():
                self._banner_timer.start()

    def _show_banner_if_still_down(self) -> None:
        state = self.feed.state
        if state is not None and not state.connected:
            self.banner.setText(disconnected_text(state))
            self.banner.show()

    def _on_gap(self, message: str) -> None:
        self.window.statusBar().showMessage(f"部分变更记录已被清理，正在重新加载工作空间（{message}）", 10_000)
        self.window.load()

    # -- batches ----------------------------------------------------------------------------------
    def apply(self, changes: list) -> None:
        """One coalesced batch of :class:`gis.storage.changes.Change` (GUI thread)."""
        if self.window.data is None or self._closed:
            return
        case_ids: set[int] = set()
        new_cases: set[int] = set()
        new_alarms: set[int] = set()
        staff_grids: set[int] = set()
        people = readings = False
        for change in changes:
            table, info = change.table, change.info or {}
            if table == "cases":
                case_ids.add(change.row_id)
                if change.op == "insert":
                    new_cases.add(change.row_id)
            elif table == "case_events":
                if info.get("case_id") is not None:
                    case_ids.add(int(info["case_id"]))
            elif table == "grids":
                self._pending_grids.add(change.row_id)
            elif table == "assignments":
                if info.get("grid_id") is not None:
                    staff_grids.add(int(info["grid_id"]))
            elif table == "people":
                people = True
            elif table == "pollution_sources":
                self._pending_sources = True
            elif table == "stations":
                self._pending_stations = True
            elif table in ("readings", "alarms"):
                readings = True
                if table == "alarms" and change.op == "insert":
                    new_alarms.add(change.row_id)
        if case_ids or new_alarms:
            self._read_cases(case_ids, new_cases, new_alarms, len(changes))
        else:
            self._count(len(changes))
        if self._pending_grids or self._pending_sources or self._pending_stations:
            self._rebuild_timer.start()
        if readings and not self._readings_timer.isActive():
            self._readings_timer.start()
        if people or staff_grids:
            self._refresh_info_panel(None if people else staff_grids)

    def _count(self, n: int) -> None:
        self.applied_changes += n
        self.applied.emit(n)

    # -- cases ------------------------------------------------------------------------------------
    def _read_cases(self, case_ids: set[int], new_cases: set[int], new_alarms: set[int], n: int,
                    attempt: int = 0) -> None:
        from gis.storage.live_reads import read_alarm_notices, read_cases_by_id

        generation = self._generation

        def read(connection):
            return read_cases_by_id(connection, case_ids), read_alarm_notices(connection, new_alarms)

        def done(result, exc):
            if generation != self._generation or self._closed:
                return
            if exc is not None:  # the feed has moved past these changes: read them again, never drop them
                delay = min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt)
                self.window.statusBar().showMessage(f"读取更新失败，{delay / 1000:g} 秒后重试：{exc}", delay)
                QTimer.singleShot(delay, self, lambda: self._read_cases(case_ids, new_cases, new_alarms, n,
                                                                         attempt + 1))
                return
            found, alarms = result
            self._apply_cases(case_ids, found, new_cases)
            in_scope = self.window.grid_model.in_scope  # a scoped seat is not alerted to other grids' alarms
            self._announce([a for a in alarms if in_scope(a.grid_id)],
                           [found[i] for i in sorted(new_cases) if i in found and in_scope(found[i].grid_id)])
            self._count(n)

        self.reader.submit(read, done)

    def _apply_cases(self, asked: set[int], found: dict, new_cases: set[int]) -> None:
        pins = self.window.layer_control.pins
        data = self.window.data
        removed = False
        for case_id in asked:
            case = found.get(case_id)
            old = self._cases.get(case_id)
            if old is not None and old.state in OPEN_STATES:
                self._open -= 1
            if case is None:  # deleted
                if self._cases.pop(case_id, None) is not None or case_id not in new_cases:
                    self._total -= 1
                removed = removed or case_id in self._case_pos
                if pins is not None:
                    pins.remove_pin(case_id)
                continue
            if case_id in new_cases and old is None:
                self._total += 1
            if old is None and case.state not in OPEN_STATES and case_id not in new_cases:
                continue  # closed long ago, outside what the map pins: nothing shown changes
            if case.state in OPEN_STATES:
                self._open += 1
            self._cases[case_id] = case
            position = self._case_pos.get(case_id)
            if position is None:
                self._case_pos[case_id] = len(data.cases)
                data.cases.append(case)
            else:
                data.cases[position] = case
            if pins is not None:
                self._update_pin(pins, case, old, fresh_alarm=case_id in new_cases
                                 and case.source == CaseSource.ALARM and case.state in OPEN_STATES)
        if removed:
            data.cases[:] = [c for c in data.cases if c.id in self._cases]
            self._case_pos = {case.id: n for n, case in enumerate(data.cases)}
        self._show_counts()
        if not self._table_timer.isActive():  # at most one re-read per interval while changes stream in
            self._table_timer.start()
        self.refresh_statistics_soon()
        details = getattr(getattr(self.window, "case_actions", None), "details", [])
        for dialog in list(details):
            if dialog.case_id in asked and dialog.isVisible() and hasattr(dialog, "external_change"):
                dialog.external_change()

    @staticmethod
    def _update_pin(pins, case, old, *, fresh_alarm: bool) -> None:
        if pins.xy_of(case.id) is None:
            pins.add_pin(case, pulse=True if fresh_alarm else None)
            return
        pulse_until = pins.pulsing.get(case.id)
        pins.update_pin(case)
        # update_pin ends a pulse once the case leaves 待受理; an alarm that was dispatched on
        # arrival keeps pulsing until someone actually changes its state.
        if pulse_until is not None and old is not None and old.state == case.state and case.id not in pins.pulsing:
            pins.pulsing[case.id] = pulse_until
            pins.changed()

    def _show_counts(self) -> None:
        from desktop.status_counts import show_counts

        self.window.data.total_cases = self._total  # what a later change of user shows (scope_view)
        show_counts(self.window, self._total, self._open)  # a scoped user's: recounted in the scope

    def _refresh_table(self) -> None:
        views = self.window.case_views
        if hasattr(views, "refresh_keeping_place"):
            views.refresh_keeping_place()
        else:
            views.refresh()

    def refresh_statistics_soon(self) -> None:
        """Count cases per grid again shortly (a deadline passed, or a batch of case changes)."""
        if not self._closed and not self._statistics_timer.isActive():
            self._statistics_timer.start()

    def _refresh_statistics(self, attempt: int = 0) -> None:
        """Open and overdue cases per grid, counted again in SQL and rolled up on the reader thread;
        the GUI thread only re-classes the grid levels filled by them (``LayerPanel.update_statistics``)."""
        from gis.grid_statistics import rolled_up_statistics
        from gis.storage.grid_counts import read_case_counts

        data, generation = self.window.data, self._generation
        grids_now = list(data.grids)

        def done(stats, exc):
            if generation != self._generation or self._closed:
                return
            if exc is not None:  # the counts would stay stale: try again, as case reads do
                delay = min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt)
                QTimer.singleShot(delay, self, lambda: self._refresh_statistics(attempt + 1))
                return
            self.window.data.grid_stats.update(stats)
            self.window.layer_control.panel.update_statistics(stats)

        self.reader.submit(lambda connection: rolled_up_statistics(grids_now, read_case_counts(connection)), done)

    # -- alarms -----------------------------------------------------------------------------------
    def _announce(self, alarms: list, new_cases: list) -> None:
        from desktop.widgets.charts import pollutant_name

        told = {a.case_id for a in alarms}
        items = [(f"新报警：站点 {a.station_name or a.station_mn} {pollutant_name(a.pollutant)} {a.value:g}"
                  f"（限值 {a.threshold:g}）" + (f" → 案件 {a.case_number}" if a.case_number else ""),
                  ("alarm", a), a.lon is not None, a.case_id is not None) for a in alarms]
        items += [(f"新报警案件：{c.number} {c.category}" + (f"，{c.grid_name}" if c.grid_name else ""),
                   ("case", c), c.lon is not None, True)
                  for c in new_cases if c.source == CaseSource.ALARM and c.id not in told]
        for text, payload, can_locate, can_open in items:
            self.notice.notify(text, payload, can_locate=can_locate, can_open=can_open)
        if items:
            self.sound.play()

    def _locate_alarm(self, payload) -> None:
        kind, item = payload
        lon, lat = item.lon, item.lat
        if lon is None or lat is None:
            return
        from desktop.widgets.map_overlays import MapMarker

        canvas = self.window.canvas
        canvas.zoom_to_point(lon, lat, 10_000)
        canvas.flash(MapMarker.from_lonlat_point(lon, lat))

    def _open_alarm(self, payload) -> None:
        kind, item = payload
        case_id = item.case_id if kind == "alarm" else item.id
        if case_id is not None and hasattr(self.window, "case_actions"):
            self.window.case_actions.open_case(case_id)

    # -- stations ---------------------------------------------------------------------------------
    def _refresh_readings(self) -> None:
        from gis.storage.readings import latest_hourly_by_station

        generation = self._generation

        def done(latest, exc):
            layer = self.window.layer_control.stations
            if exc is None and generation == self._generation and layer is not None:
                layer.set_readings(latest)

        self.reader.submit(latest_hourly_by_station, done)

    # -- grids, sources, stations: the layers ------------------------------------------------------
    def _rebuild_layers(self) -> None:
        if self._rebuilding:  # one at a time; what arrives meanwhile goes into the next one
            return
        grid_ids, self._pending_grids = self._pending_grids, set()
        sources, self._pending_sources = self._pending_sources, False
        stations, self._pending_stations = self._pending_stations, False
        if not (grid_ids or sources or stations):
            return
        data, generation = self.window.data, self._generation
        grids_now = list(data.grids)
        self._rebuilding = True

        def build(connection):
            return _build_layers(connection, grids_now, grid_ids, sources, stations)

        def done(result, exc):
            self._rebuilding = False
            if generation != self._generation or self._closed:
                return
            if exc is not None:  # try again with the next rebuild: what changed is not forgotten
                self._pending_grids |= grid_ids
                self._pending_sources |= sources
                self._pending_stations |= stations
                self._rebuild_timer.start(RETRY_MAX_MS)
                return
            self._adopt_layers(result, grid_ids)
            if self._pending_grids or self._pending_sources or self._pending_stations:
                self._rebuild_timer.start(REBUILD_DELAY_MS)

        self.reader.submit(build, done)

    def _adopt_layers(self, built: dict, grid_ids: set[int]) -> None:
        window, data = self.window, self.window.data
        if "grids" in built:
            data.grids = built["grids"]
            data._grid_by_id = {grid.id: grid for grid in data.grids}
            self._refresh_grid_tree()
        if "sources" in built:
            data.sources, data.source_categories = built["sources"], built["categories"]
        if "stations" in built:
            data.stations = built["stations"]
        old = {layer.key: layer for layer in data.layers}
        layers = [*built.get("fills", [l for l in data.layers if l.key.startswith("grid-") and l.key.endswith("-fill")]),
                  *built.get("outlines", [l for l in data.layers if _is_outline(l.key)]),
                  built.get("source_layer", old.get("sources"))]
        layers += built.get("labels", [l for l in data.layers if l.key.startswith("grid-") and l.key.endswith("-labels")])
        known = {l.key for l in layers if l is not None} | {"stations", "cases"}
        layers += [l for l in data.layers if l.key not in known and not l.key.startswith("grid-")]
        layers += [built.get("station_layer", old.get("stations")), old.get("cases")]
        data.layers = [l for l in layers if l is not None]
        panel = window.layer_control.panel
        editing = getattr(getattr(window, "editing", None), "layers", None)
        # An open edit session draws the levels it changed from its own grids: keep them over the new layers.
        shown = editing.compose() if editing is not None and editing.active else data.layers
        panel.load(shown, panel.styles(), zoom_to_full=False)
        if "grids" in built:
            selected = list(window.interaction.selected)
            window.interaction.set_data(data)  # hit-testing and search over the new names and shapes
            if selected:
                window.interaction.set_selection([g for g in selected if data.grid(g) is not None])
            actions = getattr(window, "case_actions", None)
            if actions is not None and hasattr(actions, "_new_index"):
                actions.grid_index = actions._new_index()  # intake routes by the new boundaries
            self._refresh_info_panel(grid_ids, geometry=True)
        self._show_counts()

    def _refresh_grid_tree(self) -> None:
        window = self.window
        current = window.grid_model.grid_id(window.grid_proxy.mapToSource(window.grid_view.currentIndex()))
        scroll = window.grid_view.verticalScrollBar().value()
        window.grid_model.set_grids(window.data.grids)
        window.grid_view.expandToDepth(0)
        if current is not None and window.data.grid(current) is not None:
            index = window.grid_proxy.mapFromSource(window.grid_model.index_for_grid(current))
            parent = index.parent()
            while parent.isValid():
                window.grid_view.expand(parent)
                parent = parent.parent()
            selection = window.grid_view.selectionModel()
            selection.blockSignals(True)  # no zoom, no new filter: only the names changed
            window.grid_view.setCurrentIndex(index)
            selection.blockSignals(False)
            window.grid_view.viewport().update()
        window.grid_view.verticalScrollBar().setValue(scroll)

    def _refresh_info_panel(self, grid_ids: set[int] | None, *, geometry: bool = False) -> None:
        """Show the grid in the info panel again if it is one of ``grid_ids`` (None: any grid)."""
        from desktop.widgets.map_layers import HighlightLayer
        from gis.storage.people import current_staff

        window = self.window
        current = window.info_panel.current
        if current is None or current[0] != "grid" or (grid_ids is not None and current[1] not in grid_ids):
            return
        grid_id, generation = current[1], self._generation
        grid = window.data.grid(grid_id)
        if grid is None:
            window.info_panel.clear()
            window.canvas.set_highlight(None)
            return
        if geometry:
            window.canvas.set_highlight(HighlightLayer(grid.boundary))

        def done(staff, exc):
            if exc is not None or generation != self._generation or window.info_panel.current != ("grid", grid_id):
                return
            grid_now = window.data.grid(grid_id)
            if grid_now is None:
                return
            parent = window.data.grid(grid_now.parent_id) if grid_now.parent_id else None
            counts = window.interaction.grid_counts(grid_id) if window.interaction.indexes(wait=False) else None
            window.info_panel.show_grid(grid_now, staff.get(grid_id, []), parent.name if parent else "", counts)

        self.reader.submit(lambda connection: current_staff(connection, [grid_id]), done)


def _is_outline(key: str) -> bool:
    return key.startswith("grid-") and not key.endswith(("-fill", "-labels"))


def _build_layers(connection, grids_now: list, grid_ids: set[int], sources: bool, stations: bool) -> dict:
    """Worker thread: read what changed and build the layers that show it."""
    from desktop.widgets.map_build import MAP_LEVELS, grid_layers, source_layer_from_ledger
    from desktop.widgets.station_layer import StationLayer
    from gis.storage.live_reads import read_grids_by_id
    from gis.storage.readings import latest_hourly_by_station, read_stations
    from gis.storage.sources import read_source_categories, read_sources

    started = time.perf_counter()
    built: dict = {}
    if grid_ids:
        changed = read_grids_by_id(connection, grid_ids)
        by_id = {grid.id: grid for grid in grids_now}
        for grid_id in grid_ids:
            if grid_id in changed:
                by_id[grid_id] = changed[grid_id]
            else:
                by_id.pop(grid_id, None)
        grids = sorted(by_id.values(), key=lambda g: (g.level, g.code))
        grid_set = grid_layers(grids, levels=MAP_LEVELS, prepare=True)
        built.update(grids=grids, fills=grid_set.fills, outlines=grid_set.outlines, labels=grid_set.labels)
    if sources:
        categories, rows = read_source_categories(connection), read_sources(connection)
        built.update(sources=rows, categories=categories, source_layer=source_layer_from_ledger(rows, categories))
    if stations:
        points = read_stations(connection, active_only=True)
        built.update(stations=points, station_layer=StationLayer(points, latest_hourly_by_station(connection)))
    log.debug("live layers rebuilt in %.0f ms", 1000 * (time.perf_counter() - started))
    return built


def install_live_feed(window: MainWindow) -> LiveView:
    """Make ``window`` live (call once, in its constructor); ``shutdown()`` it in closeEvent."""
    return LiveView(window)
