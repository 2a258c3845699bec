"""Small building blocks of the wall: a titled panel, a one-line label that elides, rows that fit, the alarm tasks."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop.display.countdown import countdown
from desktop.display.theme import DIM, FONT, MONO, Scale
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


class StatusLabel(ElidedLabel):
    """A status line: whole while short, its width capped at ``max_chars`` characters and elided
    beyond them (a long error must not push the ticker off the wall), shrinking further if need be."""

    def __init__(self, text: str = "", role: str = "status", max_chars: int = 28):
        super().__init__(text, role)
        self.max_chars = max_chars
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        width = min(metrics.horizontalAdvance(self.text()), self.max_chars * self.font().pixelSize())
        return QSize(width + margins.left() + margins.right() + 2, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(2 * self.fontMetrics().height(), super().minimumSizeHint().height())

    def setText(self, text: str) -> None:
        if text != self.text():
            super().setText(text)
            self.updateGeometry()


def task_text(task: AlarmTask) -> str:
    """``PM2.5 · 南街街道空气自动监测站 · 东屯村第3网格``: the pollutant by name, not by its HJ 212 code."""
    return " · ".join(part for part in (pollutant_name(task.pollutant), task.station, task.grid) if part)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a :class:`TextRows`: text on the left (elided), a value on the right."""

    text: str = ""
    value: str = ""
    colour: str = ""        # of the text; "" = the panel's
    value_colour: str = ""
    mark: str = ""          # colour of a "━" drawn before the text (a chart's legend); "" = none


class TextRows(QWidget):
    """Up to ``capacity`` one-line rows, as many as its height holds and at least one: the text
    elided at the right, the value right-aligned (``value_font``: "count", the wall's bold digits,
    or "bold", the text's font in bold). Its minimum is one row, so a short wall shows fewer rows
    instead of growing; ``fitting()`` says how many, and ``fitted`` fires when that changes.
    New rows repaint it and nothing else (no layout)."""

    fitted = Signal(int)

    def __init__(self, capacity: int, *, value_font: str = "count"):
        super().__init__()
        self.setObjectName("plain")
        self.capacity, self.value_font = capacity, value_font
        self.rows: list[Row] = []
        self._fonts = (QFont(FONT), QFont(MONO))
        self._spacing = 3
        self._fit = capacity
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def apply_scale(self, scale: Scale) -> None:
        text = QFont(FONT)
        text.setPixelSize(scale.small)
        value = QFont(MONO if self.value_font == "count" else FONT)
        value.setPixelSize(scale.px(32) if self.value_font == "count" else scale.small)
        value.setBold(True)
        self._fonts, self._spacing = (text, value), scale.length(3)
        self.updateGeometry()
        self._refit()
        self.update()

    def fonts(self) -> tuple[QFont, QFont]:
        """The text's and the values' fonts (tests check the text floor on them)."""
        return self._fonts

    @property
    def line(self) -> int:
        return max(QFontMetrics(font).height() for font in self._fonts) + self._spacing

    def fitting(self) -> int:
        return max(1, min(self.capacity, (self.height() + self._spacing) // self.line))

    def shown(self) -> list[Row]:
        """The rows on screen now."""
        return self.rows[:self.fitting()]

    def set_rows(self, rows: Sequence[Row]) -> None:
        rows = list(rows)[:self.capacity]
        if rows != self.rows:
            widen = self._width(rows) > self._width(self.rows)
            self.rows = rows
            if widen:
                self.updateGeometry()
            self.update()

    def _width(self, rows: Sequence[Row]) -> int:
        text, value = (QFontMetrics(font) for font in self._fonts)
        mark = text.horizontalAdvance("━ ")
        return max((text.horizontalAdvance(r.text) + (mark if r.mark else 0)
                    + (value.horizontalAdvance(r.value) + text.horizontalAdvance("　") if r.value else 0)
                    for r in rows), default=0)

    def sizeHint(self) -> QSize:
        return QSize(max(self._width(self.rows), 4 * self._fonts[0].pixelSize()), self.capacity * self.line)

    def minimumSizeHint(self) -> QSize:
        return QSize(3 * self._fonts[0].pixelSize(), self.line)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._refit()

    def _refit(self) -> None:
        fit = self.fitting()
        if fit != self._fit:
            self._fit = fit
            self.fitted.emit(fit)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        text_font, value_font = self._fonts
        text_metrics, value_metrics = QFontMetrics(text_font), QFontMetrics(value_font)
        line, width = self.line, self.width()
        ink = self.palette().color(self.foregroundRole())
        for i, row in enumerate(self.shown()):
            top = i * line
            right = width
            if row.value:
                painter.setFont(value_font)
                painter.setPen(QColor(row.value_colour) if row.value_colour else ink)
                painter.drawText(QRect(0, top, width, line), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 row.value)
                right -= value_metrics.horizontalAdvance(row.value) + text_metrics.horizontalAdvance("　")
            painter.setFont(text_font)
            left = 0
            if row.mark:
                painter.setPen(QColor(row.mark))
                painter.drawText(QRect(0, top, right, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 "━")
                left = text_metrics.horizontalAdvance("━ ")
            painter.setPen(QColor(row.colour) if row.colour else ink)
            shown = text_metrics.elidedText(row.text, Qt.TextElideMode.ElideRight, max(0, right - left))
            painter.drawText(QRect(left, top, max(0, right - left), line),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)
        painter.end()


class AlarmTaskPanel(QFrame):
    """Open 24 h alarm tasks with countdowns (red under 2 h), as many rows as fit; more tasks than
    rows: the last row says "及其他 N 条"."""

    def __init__(self, rows: int = ALARM_ROWS):
        super().__init__()
        self.setObjectName("panel")
        box = QVBoxLayout(self)
        self.heading = role_label("24小时报警任务", "title")
        box.addWidget(self.heading)
        self.list = TextRows(rows)
        box.addWidget(self.list, 1)
        self.tasks: list[AlarmTask] = []
        self.total = 0
        self.loaded = False
        self._now: datetime | None = None
        self.list.fitted.connect(lambda _n: self._now is not None and self.tick(self._now))

    def set_tasks(self, tasks: Sequence[AlarmTask], total: int) -> None:
        self.tasks, self.total, self.loaded = list(tasks), max(total, len(tasks)), True
        self.heading.setText(f"24小时报警任务（{self.total}）" if self.total else "24小时报警任务")

    @property
    def shown(self) -> list[AlarmTask]:
        """The tasks with a row of their own (one fewer than rows when a "及其他" line is needed)."""
        rows = self.list.fitting()
        if self.total <= rows:
            return self.tasks[:rows]
        return self.tasks[:rows - 1]

    @property
    def more_text(self) -> str:
        rest = self.total - len(self.shown)
        return f"及其他 {rest} 条" if rest > 0 else ""

    def tick(self, now: datetime) -> None:
        """Text and colours of the rows at ``now`` (called once a second: a repaint at most, no layout)."""
        self._now = now
        rows = []
        for task in self.shown:
            value, colour = countdown(task.due_at, now)
            rows.append(Row(task_text(task), value, value_colour=colour))
        if self.more_text:
            rows.append(Row(self.more_text, colour=DIM))
        elif not rows and self.loaded:
            rows.append(Row("暂无待反馈报警"))
        self.list.set_rows(rows)
