"""The wall window: dark, frameless, sized from ``unit = height / 1080``; never opens a dialog.

Statistics are re-read off the UI thread (QThreadPool) when the change feed reports a batch,
coalesced to one read per ``REFRESH_MS``; countdown labels tick once a second (text only).
"""
from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.display.countdown import countdown
from desktop.display.snapshot import Snapshot, read_snapshot
from desktop.live_feed import LiveFeed

log = logging.getLogger(__name__)
REFRESH_MS = 500          # coalesce change batches; the read itself is well under a second
STALE_MINUTES = 10        # silent feed for this long: banner
IDLE_CURSOR_MS = 5000
BG, PANEL, TEXT, DIM, ACCENT = "#0b1220", "#131d33", "#e8eefc", "#8fa3c7", "#3fa9ff"


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str)


class _Read(QRunnable):
    def __init__(self, store, signals: _Signals):
        super().__init__()
        self.store, self.signals = store, signals

    def run(self) -> None:
        try:
            with self.store.engine.connect() as connection:
                self.signals.done.emit(read_snapshot(connection))
        except Exception as exc:  # noqa: BLE001 — a wall never stops: log and show a status line
            self.signals.failed.emit(str(exc).splitlines()[0][:200])


class DisplayWindow(QWidget):
    """The kiosk view; ``refreshed`` fires after each snapshot is shown (tests wait on it)."""

    refreshed = Signal()

    def __init__(self, store, *, height: int = 1080, live: bool = True, parent=None):
        super().__init__(parent)
        self.store = store
        self.snapshot: Snapshot | None = None
        self._reading = self._again = False
        self._last_change = datetime.now()
        self._connected = True
        self.setWindowTitle("EnvGrid 大屏")
        self._signals = _Signals(self)
        self._signals.done.connect(self._show_snapshot)
        self._signals.failed.connect(self._on_failed)
        self._build()
        self.apply_scale(height)
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_MS, timeout=self._start_read)
        self._tick = QTimer(self, interval=1000, timeout=self._on_tick)
        self._tick.start()
        self._cursor_timer = QTimer(self, singleShot=True, interval=IDLE_CURSOR_MS, timeout=self._hide_cursor)
        self._cursor_timer.start()
        self.setMouseTracking(True)
        self.feed = None
        if live:
            self.feed = LiveFeed(store.url, parent=self)
            self.feed.batch.connect(self._on_batch)
            self.feed.gap.connect(lambda _reason: self.request_refresh())
            self.feed.stateChanged.connect(self._on_state)
            self.feed.start(None)
        self.request_refresh()

    # -- layout ----------------------------------------------------------------------------------
    def _label(self, text: str = "", role: str = "text") -> QLabel:
        label = QLabel(text)
        label.setProperty("role", role)
        return label

    def _panel(self, title: str) -> tuple[QFrame, QVBoxLayout]:
        frame = QFrame()
        frame.setObjectName("panel")
        box = QVBoxLayout(frame)
        box.addWidget(self._label(title, "title"))
        return frame, box

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        head = QHBoxLayout()
        head.addWidget(self._label("网格化环境监管 · 指挥中心", "heading"))
        head.addStretch(1)
        self.clock = self._label("", "heading")
        head.addWidget(self.clock)
        outer.addLayout(head)
        self.banner = self._label("", "banner")
        self.banner.hide()
        outer.addWidget(self.banner)

        kpi_frame, kpi_box = self._panel("今日态势")
        kpi_grid = QGridLayout()
        self.kpi_values: dict[str, QLabel] = {}
        for i, (key, name) in enumerate((("new", "新增案件"), ("dispatched", "已派发"), ("closed", "已销号"),
                                         ("overdue", "超期案件"), ("alarms", "今日报警"), ("on_time", "按时办结率"))):
            value = self._label("—", "big")
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            name_label = self._label(name, "dim")
            name_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            kpi_grid.addWidget(value, 0, i)
            kpi_grid.addWidget(name_label, 1, i)
            self.kpi_values[key] = value
        kpi_box.addLayout(kpi_grid)
        outer.addWidget(kpi_frame)

        middle = QHBoxLayout()
        alarm_frame, alarm_box = self._panel("24小时报警任务")
        self.alarm_rows: list[tuple[QLabel, QLabel]] = []
        for _ in range(6):
            row = QHBoxLayout()
            text, left = self._label(), self._label("", "count")
            left.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            row.addWidget(text, 1)
            row.addWidget(left)
            alarm_box.addLayout(row)
            self.alarm_rows.append((text, left))
        alarm_box.addStretch(1)
        middle.addWidget(alarm_frame, 3)
        self.top_lists: dict[str, list[QLabel]] = {}
        for key, title in (("overdue", "超期案件最多的网格"), ("open", "在办案件最多的网格")):
            frame, box = self._panel(title)
            self.top_lists[key] = [self._label() for _ in range(5)]
            for label in self.top_lists[key]:
                box.addWidget(label)
            box.addStretch(1)
            middle.addWidget(frame, 2)
        outer.addLayout(middle, 1)

        ticker_frame, ticker_box = self._panel("最新动态")
        self.ticker = self._label()
        self.ticker.setWordWrap(True)
        ticker_box.addWidget(self.ticker)
        outer.addWidget(ticker_frame)
        self.status = self._label("正在读取…", "status")
        outer.addWidget(self.status)

    def apply_scale(self, height: int) -> None:
        """Size every font, margin and border from ``unit = height / 1080``; smallest text = height / 40."""
        u = height / 1080
        small = max(27, round(27 * u))          # 1080 / 40 = 27
        self.min_font_px = small
        self.setStyleSheet(f"""
            QWidget {{ background: {BG}; color: {TEXT}; font-family: 'Noto Sans CJK SC'; font-size: {small}px; }}
            QFrame#panel {{ background: {PANEL}; border: {max(1, round(2 * u))}px solid #22304f;
                            border-radius: {round(10 * u)}px; }}
            QFrame#panel QLabel {{ background: transparent; }}
            QLabel[role="title"] {{ color: {ACCENT}; font-size: {round(32 * u)}px; font-weight: bold; }}
            QLabel[role="heading"] {{ font-size: {round(44 * u)}px; font-weight: bold; }}
            QLabel[role="big"] {{ font-size: {round(96 * u)}px; font-weight: bold; color: #ffffff; }}
            QLabel[role="dim"] {{ color: {DIM}; font-size: {small}px; }}
            QLabel[role="count"] {{ font-size: {round(34 * u)}px; font-weight: bold; font-family: 'Noto Sans Mono CJK SC'; }}
            QLabel[role="banner"] {{ background: #b3261e; color: white; font-size: {round(36 * u)}px;
                                     padding: {round(8 * u)}px; }}
            QLabel[role="status"] {{ color: {DIM}; font-size: {small}px; }}
        """)
        m = round(16 * u)
        self.layout().setContentsMargins(m, m, m, m)
        self.layout().setSpacing(m)

    # -- data ------------------------------------------------------------------------------------
    def request_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _start_read(self) -> None:
        if self._reading:
            self._again = True
            return
        self._reading = True
        QThreadPool.globalInstance().start(_Read(self.store, self._signals))

    def _finish_read(self) -> None:
        self._reading = False
        if self._again:
            self._again = False
            self.request_refresh()

    def _on_failed(self, message: str) -> None:
        log.warning("display: cannot read the workspace: %s", message)
        self.status.setText(f"读取失败：{message}")
        self._finish_read()

    def _show_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        k = snapshot.kpis
        for key, value in (("new", k.new), ("dispatched", k.dispatched), ("closed", k.closed),
                           ("overdue", k.overdue), ("alarms", k.alarms)):
            self.kpi_values[key].setText(str(value))
        self.kpi_values["on_time"].setText("—" if k.on_time_share is None else f"{k.on_time_share:.0%}")
        self.kpi_values["overdue"].setStyleSheet("color: #ff4d4f;" if k.overdue else "")
        for key, rows in (("overdue", snapshot.top_overdue), ("open", snapshot.top_open)):
            for i, label in enumerate(self.top_lists[key]):
                label.setText(f"{i + 1}. {rows[i].name}  {rows[i].count}" if i < len(rows) else "")
        self.ticker.setText("　｜　".join(snapshot.events) or "暂无动态")
        self.status.setText(f"更新于 {snapshot.at:%H:%M:%S}")
        self._on_tick()
        self._finish_read()
        self.refreshed.emit()

    def _on_batch(self, changes: list) -> None:
        self._last_change = datetime.now()
        self.request_refresh()

    def _on_state(self, state) -> None:
        self._connected = bool(state.connected)
        if state.connected:
            self._last_change = datetime.now()
            self.request_refresh()
        else:
            log.warning("display: change feed %s", state.describe())
            self._stale_since = state.since
        self._update_banner()

    def _update_banner(self) -> None:
        now = datetime.now()
        silent = (now - self._last_change).total_seconds() > STALE_MINUTES * 60
        if not self._connected or (self.feed is not None and silent):
            since = getattr(self, "_stale_since", None) if not self._connected else self._last_change
            self.banner.setText(f"数据已停止更新（自 {(since or self._last_change):%H:%M}）")
            self.banner.show()
        else:
            self.banner.hide()

    def _on_tick(self) -> None:
        now = datetime.now()
        self.clock.setText(f"{now:%Y-%m-%d %H:%M:%S}")
        tasks = self.snapshot.alarms if self.snapshot else []
        for i, (text, left) in enumerate(self.alarm_rows):
            if i < len(tasks):
                task = tasks[i]
                text.setText(f"{task.station} · {task.pollutant} · {task.grid}")
                value, colour = countdown(task.due_at, now)
                left.setText(value)
                left.setStyleSheet(f"color: {colour};")
            else:
                text.setText("" if i else ("暂无待反馈报警" if self.snapshot else ""))
                left.setText("")
        if now.second == 0:
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
        self._tick.stop()
        if self.feed is not None:
            self.feed.stop()
        QThreadPool.globalInstance().waitForDone(5000)
        super().closeEvent(event)
