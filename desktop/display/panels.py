"""Small building blocks of the wall: a titled panel, a one-line label that elides, the alarm task list."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout

from desktop.display.countdown import countdown
from desktop.display.theme import DIM
from desktop.display.snapshot import ALARM_ROWS, AlarmTask
from desktop.widgets.charts import pollutant_name


def role_label(text: str = "", role: str = "text") -> QLabel:
    """A label the window's style sheet sizes by ``role`` (title, big, dim, count …)."""
    label = QLabel(text)
    label.setProperty("role", role)
    return label


def panel_frame(title: str) -> tuple[QFrame, QVBoxLayout, QLabel]:
    frame = QFrame()
    frame.setObjectName("panel")
    box = QVBoxLayout(frame)
    heading = role_label(title, "title")
    box.addWidget(heading)
    return frame, box, heading


class ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit; ``text()`` stays the whole text."""

    def __init__(self, text: str = "", role: str = "text"):
        super().__init__(text)
        self.setProperty("role", role)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(1)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment()) | Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()


def task_text(task: AlarmTask) -> str:
    """``PM2.5 · 南街街道空气自动监测站 · 东屯村第3网格``: the pollutant by name, not by its HJ 212 code."""
    return " · ".join(part for part in (pollutant_name(task.pollutant), task.station, task.grid) if part)


class AlarmTaskPanel(QFrame):
    """Open 24 h alarm tasks with countdowns (red under 2 h); more than fit: a last "及其他 N 条" line."""

    def __init__(self, rows: int = ALARM_ROWS):
        super().__init__()
        self.setObjectName("panel")
        box = QVBoxLayout(self)
        self.heading = role_label("24小时报警任务", "title")
        box.addWidget(self.heading)
        self.rows: list[tuple[ElidedLabel, QLabel]] = []
        for _ in range(rows):
            line = QHBoxLayout()
            text, left = ElidedLabel(), role_label("", "count")
            left.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            line.addWidget(text, 1)
            line.addWidget(left)
            box.addLayout(line)
            self.rows.append((text, left))
        box.addStretch(1)
        self.tasks: list[AlarmTask] = []
        self.total = 0
        self.loaded = False

    def set_tasks(self, tasks: Sequence[AlarmTask], total: int) -> None:
        self.tasks, self.total, self.loaded = list(tasks), max(total, len(tasks)), True
        self.heading.setText(f"24小时报警任务（{self.total}）" if self.total else "24小时报警任务")

    @property
    def shown(self) -> list[AlarmTask]:
        """The tasks with a row of their own (one fewer than rows when a "及其他" line is needed)."""
        if self.total <= len(self.rows):
            return self.tasks[:len(self.rows)]
        return self.tasks[:len(self.rows) - 1]

    @property
    def more_text(self) -> str:
        rest = self.total - len(self.shown)
        return f"及其他 {rest} 条" if rest > 0 else ""

    def tick(self, now: datetime) -> None:
        """Text and colours of the rows at ``now`` (called once a second: text only, no layout)."""
        shown, more = self.shown, self.more_text
        for i, (text, left) in enumerate(self.rows):
            if i < len(shown):
                value, colour = countdown(shown[i].due_at, now)
                _show(text, task_text(shown[i]), "")
                _show(left, value, f"color: {colour};")
            elif i == len(shown) and more:
                _show(text, more, f"color: {DIM};")
                _show(left, "", "")
            else:
                _show(text, "暂无待反馈报警" if i == 0 and self.loaded else "", "")
                _show(left, "", "")


def _show(label: QLabel, text: str, style: str) -> None:
    """Set only what changed: a style sheet set again re-polishes the label even when equal."""
    label.setText(text)
    if label.styleSheet() != style:
        label.setStyleSheet(style)
