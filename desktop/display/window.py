"""The wall window: dark, frameless, sized from ``unit = height / 1080``; never opens a dialog.

Panels: today's KPIs across the top; the district map, the largest panel, rotating through a
playlist of views; beside it the open 24 h alarm tasks, the air stations' AQI over 24 hours and
the top grids; the latest events along the bottom.

Statistics are re-read off the UI thread (QThreadPool) when the change feed reports a batch,
coalesced to one read per ``REFRESH_MS``; the same read brings the cases the batch named, which
the map then updates in place. Readings (AQI colours, the chart) are read again when the feed
names readings or alarms, and once a minute (SQLite records no change for readings). The
countdown labels tick once a second (text only); the map's pulse runs only while an alarm pulses.

Given a URL instead of an open store, the window shows at once — dark, empty panels, the
unreachable banner — and opens the workspace off the UI thread, again and again with growing
pauses (``desktop.display.opening``), then fills itself: a wall may start before its database.
"""
from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QObject, QRunnable, QSettings, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from sqlalchemy.engine import URL

from desktop.display.aqi_chart import WallAqiChart
from desktop.display.health import DataHealth
from desktop.display.map_panel import MapPanel
from desktop.display.panels import AlarmTaskPanel, ElidedLabel, Row, StatusLabel, TextRows, panel_frame, role_label
from desktop.display.playlist import DEFAULT_ROTATE_SECONDS, SETTING_KEY, Playlist, build_playlist
from desktop.display.opening import backoff, open_wall_store, reason
from desktop.display.snapshot import Snapshot, read_snapshot
from desktop.display.theme import Scale, style_sheet
from desktop.live_feed import LiveFeed
from gis.storage.store import Store

log = logging.getLogger(__name__)
REFRESH_MS = 500          # coalesce change batches; the read itself is well under a second
READINGS_MS = 60_000      # readings and overdue colours are read again this often without any change
MAP_RETRY_MS = 10_000     # the map could not be read: try again
READ_RETRY_MS = 5_000     # a statistics read failed (database unreachable?): try again
IDLE_CURSOR_MS = 5000
TOP_ROWS = 3              # grids per top list
READING_TABLES = frozenset({"readings", "alarms"})
MAP_TABLES = frozenset({"grids", "stations"})


def rotate_setting(value: int | None) -> int:
    """Seconds per map view: ``value`` (``--rotate``), else the machine's setting, else the default; 0 = off."""
    if value is None:
        stored = QSettings("EnvGrid", "EnvGrid").value(SETTING_KEY, DEFAULT_ROTATE_SECONDS)
        try:
            value = int(stored)
        except (TypeError, ValueError):
            log.warning("display: setting %s=%r is not a number of seconds; using %s", SETTING_KEY, stored,
                        DEFAULT_ROTATE_SECONDS)
            value = DEFAULT_ROTATE_SECONDS
    return max(0, int(value))


class _Signals(QObject):
    done = Signal(object, object)   # snapshot, the request it answers
    failed = Signal(str, object)
    opened = Signal(object)         # a Store
    open_failed = Signal(str)


class _Request:
    """What one read is asked for: cases to read again (``fresh``: inserted by the batch), readings."""

    def __init__(self, case_ids: set[int], fresh: set[int], readings: bool):
        self.case_ids, self.fresh, self.readings = case_ids, fresh, readings


class _Read(QRunnable):
    def __init__(self, store, request: _Request, signals: _Signals):
        super().__init__()
        self.store, self.request, self.signals = store, request, signals

    def run(self) -> None:
        try:
            with self.store.engine.connect() as connection:
                snapshot = read_snapshot(connection, case_ids=self.request.case_ids, readings=self.request.readings,
                                         top=TOP_ROWS)
            self.signals.done.emit(snapshot, self.request)
        except Exception as exc:  # noqa: BLE001 — a wall never stops: log and show a status line
            self.signals.failed.emit(str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
                                     self.request)


class _Open(QRunnable):
    def __init__(self, url, signals: _Signals):
        super().__init__()
        self.url, self.signals = url, signals

    def run(self) -> None:
        try:
            store = open_wall_store(self.url)
        except Exception as exc:  # noqa: BLE001 — the wall shows it and tries again
            self.signals.open_failed.emit(reason(exc))
            return
        try:
            self.signals.opened.emit(store)
        except RuntimeError:   # the window went away while the server answered
            store.close()


class DisplayWindow(QWidget):
    """The kiosk view; ``refreshed`` fires after each snapshot is shown, the first time not before the
    map's first picture (tests and ``--shot`` wait on it).

    ``store``: an open :class:`Store` (the caller closes it), or the URL of one, which the window
    opens when it can and closes itself (``store`` is None until then)."""

    refreshed = Signal()

    def __init__(self, store: Store | URL, *, height: int = 1080, live: bool = True,
                 rotate_seconds: int | None = None, parent=None):
        super().__init__(parent)
        opened = isinstance(store, Store)
        self.store: Store | None = store if opened else None
        self.url: URL = store.url if opened else store
        self._owns_store = not opened
        self._open_attempts = 0
        self._closing = False
        self.snapshot: Snapshot | None = None
        self._reading = self._again = False
        self._cases: set[int] = set()
        self._fresh: set[int] = set()
        self._readings_due = True
        self._latest = self._aqi = None
        self._aqi_hour = -1
        self._map_settled = False
        self._owe_refreshed = False
        self.health = DataHealth()   # stale / unreachable banner; tests set health.now
        self.playlist = Playlist()
        self.setWindowTitle("EnvGrid 大屏")
        self._signals = _Signals(self)
        self._signals.done.connect(self._on_read_ok)
        self._signals.done.connect(self._show_snapshot)
        self._signals.failed.connect(self._on_failed)
        self._signals.opened.connect(self._on_opened)
        self._signals.open_failed.connect(self._on_open_failed)
        self._build()
        self.apply_scale(height)
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_MS, timeout=self._start_read)
        self._tick = QTimer(self, interval=1000, timeout=self._on_tick)
        self._tick.start()
        self._readings_timer = QTimer(self, interval=READINGS_MS, timeout=self._on_readings_timer)
        self._readings_timer.start()
        self._map_retry = QTimer(self, singleShot=True, interval=MAP_RETRY_MS, timeout=self._load_map)
        self._read_retry = QTimer(self, singleShot=True, interval=READ_RETRY_MS, timeout=self.request_refresh)
        self._open_retry = QTimer(self, singleShot=True, timeout=self._try_open)
        self.rotate_seconds = rotate_setting(rotate_seconds)
        self._rotate_timer = QTimer(self, interval=max(1, self.rotate_seconds) * 1000, timeout=self.next_view)
        self._cursor_timer = QTimer(self, singleShot=True, interval=IDLE_CURSOR_MS, timeout=self._hide_cursor)
        self._cursor_timer.start()
        self.setMouseTracking(True)
        self.feed = None
        if live:
            self.feed = LiveFeed(self.url, parent=self)
            self.feed.batch.connect(self._on_batch)
            self.feed.gap.connect(self._on_gap)
            self.feed.stateChanged.connect(self._on_state)
        self.map_panel.loaded.connect(self._on_map_loaded)
        self.map_panel.failed.connect(self._on_map_failed)
        self.map_panel.ready.connect(self._on_map_ready)
        if self.store is None:
            self._try_open()
        else:
            self._load_map()
            self.request_refresh()

    # -- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        head = QHBoxLayout()
        head.addWidget(role_label("网格化环境监管 · 指挥中心", "heading"))
        head.addStretch(1)
        self.clock = role_label("", "heading")
        head.addWidget(self.clock)
        outer.addLayout(head)
        self.banner = role_label("", "banner")
        self.banner.hide()
        self.banner.setParent(self)   # over the title, not in the layout: it must not make the full wall taller

        kpi_frame, kpi_box, kpi_title = panel_frame("")
        kpi_title.hide()
        kpi_row = QHBoxLayout()
        self.kpi_values: dict[str, QLabel] = {}
        for i, (key, name) in enumerate((("new", "今日新增案件"), ("dispatched", "今日派发"), ("closed", "今日销号"),
                                         ("overdue", "超期案件"), ("alarms", "今日报警"), ("on_time", "按时办结率"))):
            value, name_label = role_label("—", "big"), role_label(name, "dim")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            name_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            kpi_row.addStretch(1)
            kpi_row.addWidget(value)
            kpi_row.addWidget(name_label)
            self.kpi_values[key] = value
        kpi_row.addStretch(1)
        kpi_box.addLayout(kpi_row)
        outer.addWidget(kpi_frame)

        body = QHBoxLayout()
        self._gaps = [outer, body]   # spaced apart like panels; layouts inside panels are tighter
        self.map_panel = MapPanel()
        body.addWidget(self.map_panel, 11)
        side = QVBoxLayout()
        self._gaps.append(side)
        self.alarm_panel = AlarmTaskPanel()
        side.addWidget(self.alarm_panel, 0)
        self.aqi_chart = WallAqiChart()
        side.addWidget(self.aqi_chart, 1)
        tops = QHBoxLayout()
        self._gaps.append(tops)
        self.top_lists: dict[str, TextRows] = {}
        for key, title in (("overdue", "超期最多的网格"), ("open", "在办最多的网格")):
            frame, box, _title = panel_frame(title)
            self.top_lists[key] = TextRows(TOP_ROWS, value_font="bold")
            box.addWidget(self.top_lists[key], 1)
            tops.addWidget(frame, 1)
        side.addLayout(tops, 0)
        body.addLayout(side, 9)
        outer.addLayout(body, 1)

        ticker_frame, ticker_box, ticker_title = panel_frame("")
        ticker_title.hide()
        line = QHBoxLayout()
        line.addWidget(role_label("最新动态", "title"))
        self.ticker = ElidedLabel()
        line.addWidget(self.ticker, 1)
        self.status = StatusLabel("正在读取…")
        line.addWidget(self.status)
        ticker_box.addLayout(line)
        outer.addWidget(ticker_frame)

    def apply_scale(self, height: int) -> None:
        """Size every font, margin and border from ``unit = height / 1080``; smallest text = height / 40."""
        self.scale = Scale(height)
        self.min_font_px = self.scale.small
        self.setStyleSheet(style_sheet(self.scale))
        m, gap, tight = self.scale.length(14), self.scale.length(12), self.scale.length(3)
        self.layout().setContentsMargins(m, m // 2, m, m)
        for frame in self.findChildren(QFrame, "panel"):
            frame.layout().setContentsMargins(self.scale.length(14), self.scale.length(6), self.scale.length(14),
                                              self.scale.length(8))
        for layout in self.findChildren(QVBoxLayout) + self.findChildren(QHBoxLayout):
            layout.setSpacing(gap if layout in self._gaps else tight)
        self.layout().setSpacing(gap)
        for rows in self.findChildren(TextRows):
            rows.apply_scale(self.scale)
        self.aqi_chart.apply_scale(self.scale)
        self.map_panel.apply_scale(self.scale)

    # -- opening (given a URL) ---------------------------------------------------------------------
    def _try_open(self) -> None:
        QThreadPool.globalInstance().start(_Open(self.url, self._signals))

    def _on_open_failed(self, message: str) -> None:
        wait = backoff(self._open_attempts)
        if message != self.health.error or self._open_attempts == 0:
            log.warning("display: cannot open the workspace (trying again in %s s, and so on): %s", wait, message)
        self._open_attempts += 1
        self.status.setText(f"数据库无法连接：{message}")
        self.health.read_failed(message)
        self._update_banner()
        if not self._closing:
            self._open_retry.start(wait * 1000)

    def _on_opened(self, store: Store) -> None:
        if self._closing:
            store.close()
            return
        log.info("display: opened %s", store.display_name)
        self.store = store
        self.status.setText("正在读取…")
        self._load_map()
        self.request_refresh()

    # -- map and playlist --------------------------------------------------------------------------
    def _load_map(self) -> None:
        if self.store is not None:
            self.map_panel.load(self.store)

    def _on_map_loaded(self, change_id) -> None:
        if self._latest is not None:
            self.map_panel.set_readings(self._latest)   # the values of the last snapshot, as the chart's
        if self.feed is not None and not self.feed.running:
            self.feed.start(change_id)
        self._rebuild_playlist()
        if self.rotate_seconds > 0 and not self._rotate_timer.isActive():
            self._rotate_timer.start()

    def _on_map_failed(self, message: str) -> None:
        self.status.setText(f"地图读取失败：{message}")
        if self.feed is not None and not self.feed.running:
            self.feed.start(None)   # for its connection state: the banner, and a reload once it is back
        self._map_retry.start()
        self._on_map_ready()

    def _on_map_ready(self) -> None:
        self._map_settled = True
        if self._owe_refreshed:
            self._owe_refreshed = False
            self.refreshed.emit()

    def _rebuild_playlist(self) -> None:
        data = self.map_panel.data
        if data is None:
            return
        alarm = self.snapshot.newest_alarm if self.snapshot else None
        moved = self.playlist.set_views(build_playlist(data.district_name, data.grids, alarm))
        if moved or self.map_panel.view is None:
            self._show_current()
        else:
            self.map_panel.position.setText(self._position())

    def _position(self) -> str:
        views = self.playlist.views
        return f"{self.playlist.index + 1}/{len(views)}" if len(views) > 1 else ""

    def _show_current(self) -> None:
        self.map_panel.show_view(self.playlist.current, self._position())

    def next_view(self) -> None:
        """The next view of the playlist (the rotation timer's slot)."""
        self.playlist.advance()
        self._show_current()

    # -- data ------------------------------------------------------------------------------------
    def request_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _start_read(self) -> None:
        if self.store is None:
            return   # not open yet: the first snapshot follows the opening
        if self._reading:
            self._again = True
            return
        self._reading = True
        request = _Request(self._cases, self._fresh, self._readings_due)
        self._cases, self._fresh, self._readings_due = set(), set(), False
        QThreadPool.globalInstance().start(_Read(self.store, request, self._signals))

    def _finish_read(self) -> None:
        self._reading = False
        if self._again:
            self._again = False
            self.request_refresh()

    def _on_failed(self, message: str, request: _Request) -> None:
        log.warning("display: cannot read the workspace: %s", message)
        self._cases |= request.case_ids   # read them again next time, never drop them
        self._fresh |= request.fresh
        self._readings_due = self._readings_due or request.readings
        self.status.setText(f"读取失败：{message}")
        self.health.read_failed(message)
        self._read_retry.start()
        self._update_banner()
        self._finish_read()

    def _show_snapshot(self, snapshot: Snapshot, request: _Request) -> None:
        previous, self.snapshot = self.snapshot, snapshot
        k = snapshot.kpis
        for key, value in (("new", k.new), ("dispatched", k.dispatched), ("closed", k.closed),
                           ("overdue", k.overdue), ("alarms", k.alarms)):
            self.kpi_values[key].setText(str(value))
        self.kpi_values["on_time"].setText("—" if k.on_time_share is None else f"{k.on_time_share:.0%}")
        self.kpi_values["overdue"].setStyleSheet("color: #ff4d4f;" if k.overdue else "")
        for key, rows in (("overdue", snapshot.top_overdue), ("open", snapshot.top_open)):
            self.top_lists[key].set_rows([Row(f"{i + 1}. {row.name}", str(row.count)) for i, row in enumerate(rows)])
        self.ticker.setText("　｜　".join(snapshot.events) or "暂无动态")
        self.alarm_panel.set_tasks(snapshot.alarms, snapshot.alarm_total)
        self.map_panel.apply_cases(request.case_ids, snapshot.cases, request.fresh)
        # Readings change hourly: an unchanged read repaints nothing.
        if snapshot.latest is not None and snapshot.latest != self._latest:
            self._latest = snapshot.latest
            self.map_panel.set_readings(snapshot.latest)
        if snapshot.newest is not None:
            self.health.readings(snapshot.newest)
        if snapshot.aqi is not None and (snapshot.aqi != self._aqi or snapshot.at.hour != self._aqi_hour):
            self._aqi, self._aqi_hour = snapshot.aqi, snapshot.at.hour
            self.aqi_chart.set_series(snapshot.aqi, snapshot.at)
        if previous is None or previous.newest_alarm != snapshot.newest_alarm:
            self._rebuild_playlist()
        self.status.setText(f"更新于 {snapshot.at:%H:%M:%S}")
        self._on_tick()
        self._finish_read()
        if self._map_settled:
            self.refreshed.emit()
        else:
            self._owe_refreshed = True

    def _on_batch(self, changes: list) -> None:
        reload_map = False
        for change in changes:
            table, info = change.table, change.info or {}
            if table == "cases":
                self._cases.add(change.row_id)
                if change.op == "insert":
                    self._fresh.add(change.row_id)
            elif table == "case_events" and info.get("case_id") is not None:
                self._cases.add(int(info["case_id"]))
            elif table in READING_TABLES:
                self._readings_due = True
            elif table in MAP_TABLES:
                reload_map = True
        if reload_map:
            self._load_map()   # grids or stations changed: read the map again (the feed keeps its place)
        self.request_refresh()

    def _on_readings_timer(self) -> None:
        self._readings_due = True
        self.map_panel.refresh_overdue()
        self.request_refresh()

    def _on_gap(self, _reason: str) -> None:
        self._load_map()   # changes were pruned before we read them: everything again
        self._readings_due = True
        self.request_refresh()

    def _on_state(self, state) -> None:
        self.health.feed_state(state.connected, state.since, state.error)
        if state.connected:
            if self.map_panel.data is None:
                self._load_map()
            self._readings_due = True
            self.request_refresh()
        else:
            log.warning("display: change feed %s", state.describe())
        self._update_banner()

    def _on_read_ok(self, *_args) -> None:
        self.health.read_ok()
        self._update_banner()

    def _update_banner(self) -> None:
        """Stale or unreachable: say so and since when (desktop.display.health); touched only on a change."""
        text = self.health.banner()
        if text != self.banner.text():
            self.banner.setText(text)
        if text:
            self._place_banner()
        if self.banner.isHidden() == bool(text):
            self.banner.setVisible(bool(text))
            self.banner.raise_()

    def _place_banner(self) -> None:
        """Over the heading's title, up to the clock (which stays visible); a no-op when nothing moved."""
        margin = self.layout().contentsMargins().left()
        clock = self.clock.geometry()
        self.banner.setGeometry(margin, clock.top(), max(0, clock.left() - 2 * margin), clock.height())

    def _on_tick(self) -> None:
        now = datetime.now()
        self.clock.setText(f"{now:%Y-%m-%d %H:%M:%S}")
        self.alarm_panel.tick(now)
        self._update_banner()

    # -- kiosk -----------------------------------------------------------------------------------
    def _hide_cursor(self) -> None:
        self.setCursor(QCursor(Qt.CursorShape.BlankCursor))

    def mouseMoveEvent(self, event) -> None:
        self.unsetCursor()
        self._cursor_timer.start()
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
        super().keyPressEvent(event)

    def closeEvent(self, event) -> None:
        self._closing = True
        for timer in (self._tick, self._readings_timer, self._rotate_timer, self._map_retry, self._refresh_timer,
                      self._read_retry, self._open_retry):
            timer.stop()
        if self.feed is not None:
            self.feed.stop()
        self.map_panel.shutdown()
        QThreadPool.globalInstance().waitForDone(5000)
        if self._owns_store and self.store is not None:
            self.store.close()
            self.store = None
        super().closeEvent(event)
