"""Charts of the period report, painted with QPainter as vectors (labels stay text in the PDF).

Each function paints into ``rect`` (device units) and sizes its text from the style's fonts.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from desktop.report_style import INK, MUTED, RULE, Metrics, font, mm

AXIS_PT, LABEL_PT, VALUE_PT = 7.5, 8.0, 7.5
LEFT_ALIGN = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT_ALIGN = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTRE = Qt.AlignmentFlag.AlignCenter


def nice_step(largest: float, ticks: int = 5) -> float:
    """A 1/2/5 × 10^n step so that about ``ticks`` steps cover ``largest``."""
    if largest <= 0:
        return 1
    raw = largest / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(1, factor * power)
    return max(1, 10 * power)


def _text(painter: QPainter, rect: QRectF, text: str, points: float, align, *, bold=False, colour=INK) -> None:
    painter.setFont(font(points, bold=bold))
    painter.setPen(colour)
    painter.drawText(rect, int(align), text)


def _no_data(painter: QPainter, rect: QRectF, message: str = "本期无数据") -> None:
    painter.setPen(QPen(RULE, mm(0.2)))
    painter.drawRect(rect)
    _text(painter, rect, message, LABEL_PT, CENTRE, colour=MUTED)


def legend(painter: QPainter, x: float, y: float, items: list[tuple[str, QColor]], *, outline=False) -> float:
    """Swatches and names in one line from (x, y); returns the x after the last one."""
    metrics = Metrics(painter.device())(LABEL_PT)
    box = mm(3)
    for name, colour in items:
        painter.setPen(QPen(RULE, mm(0.15)) if outline else Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRect(QRectF(x, y - box / 2, box, box))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        width = metrics.horizontalAdvance(name)
        _text(painter, QRectF(x + box + mm(1), y - mm(3), width + mm(1), mm(6)), name, LABEL_PT, LEFT_ALIGN)
        x += box + mm(1) + width + mm(4)
    return x


def horizontal_bars(painter: QPainter, rect: QRectF, items: list[tuple[str, int]], colour: QColor) -> None:
    """One bar per (label, value), top to bottom, the value at the end of the bar."""
    if not items or not any(v for _, v in items):
        _no_data(painter, rect)
        return
    metrics = Metrics(painter.device())
    label_w = min(rect.width() * 0.38, max(metrics(LABEL_PT).horizontalAdvance(n) for n, _ in items) + mm(2))
    value_w = metrics(VALUE_PT).horizontalAdvance("00000")
    bar_left, bar_right = rect.left() + label_w, rect.right() - value_w
    row = rect.height() / len(items)
    largest = max(v for _, v in items)
    painter.setPen(QPen(RULE, mm(0.2)))
    painter.drawLine(QPointF(bar_left, rect.top()), QPointF(bar_left, rect.bottom()))
    for i, (name, value) in enumerate(items):
        top = rect.top() + i * row
        label = metrics(LABEL_PT).elidedText(name, Qt.TextElideMode.ElideRight, label_w - mm(2))
        _text(painter, QRectF(rect.left(), top, label_w - mm(1.5), row), label, LABEL_PT, RIGHT_ALIGN)
        length = (bar_right - bar_left - mm(1)) * value / largest
        bar_h = min(row * 0.62, mm(5))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRect(QRectF(bar_left, top + (row - bar_h) / 2, length, bar_h))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        _text(painter, QRectF(bar_left + length + mm(1), top, value_w, row), f"{value:,}", VALUE_PT, LEFT_ALIGN)


def _value_axis(painter: QPainter, plot: QRectF, largest: float) -> float:
    """Horizontal grid lines and their values left of ``plot``; returns the axis maximum."""
    step = nice_step(largest)
    top_value = step * max(1, math.ceil(largest / step))
    value = 0.0
    while value <= top_value + 1e-9:
        y = plot.bottom() - plot.height() * value / top_value
        painter.setPen(QPen(RULE if value == 0 else QColor("#dde3e8"), mm(0.2 if value == 0 else 0.12)))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        _text(painter, QRectF(plot.left() - mm(12), y - mm(2), mm(11), mm(4)), f"{value:,.0f}", AXIS_PT,
              RIGHT_ALIGN, colour=MUTED)
        value += step
    return top_value


def grouped_bars(painter: QPainter, rect: QRectF, labels: list[str], series: list[tuple[str, QColor, list[int]]],
                 *, label_every: int = 1, values_on_bars: bool = True) -> None:
    """Vertical bars, one group per label, one bar per series; a legend above the plot."""
    largest = max((v for _, _, values in series for v in values), default=0)
    if not labels or largest <= 0:
        _no_data(painter, rect)
        return
    legend(painter, rect.left() + mm(13), rect.top() + mm(2.5), [(name, colour) for name, colour, _ in series])
    plot = QRectF(rect.left() + mm(13), rect.top() + mm(7), rect.width() - mm(14), rect.height() - mm(16))
    top_value = _value_axis(painter, plot, largest)
    group = plot.width() / len(labels)
    bar = min(group * 0.8 / len(series), mm(7))
    for i, label in enumerate(labels):
        x0 = plot.left() + i * group + (group - bar * len(series)) / 2
        for k, (_, colour, values) in enumerate(series):
            h = plot.height() * values[i] / top_value
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRect(QRectF(x0 + k * bar, plot.bottom() - h, bar * 0.92, h))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if values_on_bars and values[i]:
                _text(painter, QRectF(x0 + k * bar - mm(2), plot.bottom() - h - mm(3.6), bar + mm(4), mm(3.4)),
                      str(values[i]), VALUE_PT - 1, CENTRE, colour=MUTED)
        if i % label_every == 0:
            _text(painter, QRectF(plot.left() + i * group - mm(6), plot.bottom() + mm(0.8), group + mm(12), mm(8)),
                  label, AXIS_PT, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)


def line_chart(painter: QPainter, rect: QRectF, labels: list[str], series: list[tuple[str, QColor, list[int]]],
               *, label_every: int = 1) -> None:
    """One line per series over the labels (days); a legend above the plot."""
    largest = max((v for _, _, values in series for v in values), default=0)
    if not labels or largest <= 0:
        _no_data(painter, rect)
        return
    legend(painter, rect.left() + mm(13), rect.top() + mm(2.5), [(name, colour) for name, colour, _ in series])
    plot = QRectF(rect.left() + mm(13), rect.top() + mm(7), rect.width() - mm(14), rect.height() - mm(16))
    top_value = _value_axis(painter, plot, largest)
    step = plot.width() / max(1, len(labels) - 1)
    for _, colour, values in series:
        points = [QPointF(plot.left() + i * step, plot.bottom() - plot.height() * v / top_value)
                  for i, v in enumerate(values)]
        painter.setPen(QPen(colour, mm(0.45 if len(points) <= 40 else 0.3)))
        painter.drawPolyline(points)
        if len(points) > 40:
            continue  # a quarter: markers would only blur the lines
        painter.setBrush(colour)
        painter.setPen(Qt.PenStyle.NoPen)
        for p in points:
            painter.drawEllipse(p, mm(0.55), mm(0.55))
        painter.setBrush(Qt.BrushStyle.NoBrush)
    for i, label in enumerate(labels):
        if i % label_every == 0:
            x = plot.left() + i * step
            _text(painter, QRectF(x - mm(6), plot.bottom() + mm(0.8), mm(12), mm(4)), label, AXIS_PT,
                  Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)


def stacked_bars(painter: QPainter, rect: QRectF, rows: list[tuple[str, list[int]]],
                 parts: list[tuple[str, QColor]]) -> None:
    """One horizontal 100 % bar per row, split into ``parts`` (counts), each part's count written in it."""
    if not rows:
        _no_data(painter, rect, "无空气自动监测站")
        return
    metrics = Metrics(painter.device())
    legend(painter, rect.left(), rect.top() + mm(2.5), parts, outline=True)
    body = QRectF(rect.left(), rect.top() + mm(7), rect.width(), rect.height() - mm(7))
    label_w = min(body.width() * 0.3, max(metrics(LABEL_PT).horizontalAdvance(n) for n, _ in rows) + mm(2))
    left, right = body.left() + label_w, body.right()
    row = body.height() / len(rows)
    bar_h = min(row * 0.7, mm(5.5))
    for i, (name, counts) in enumerate(rows):
        top = body.top() + i * row
        _text(painter, QRectF(body.left(), top, label_w - mm(1.5), row), name, LABEL_PT, RIGHT_ALIGN,
              bold=(i == len(rows) - 1 and name == "全区"))
        total = sum(counts)
        x = left
        for (part, colour), count in zip(parts, counts):
            if not count:
                continue
            w = (right - left) * count / total
            painter.setPen(QPen(QColor("#ffffff"), mm(0.15)))
            painter.setBrush(colour)
            cell = QRectF(x, top + (row - bar_h) / 2, w, bar_h)
            painter.drawRect(cell)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if w >= metrics(VALUE_PT).horizontalAdvance(str(count)) + mm(1):
                text_colour = QColor("#ffffff") if colour.lightnessF() < 0.45 else INK
                _text(painter, cell, str(count), VALUE_PT, CENTRE, colour=text_colour)
            x += w
