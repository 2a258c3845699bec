"""Flowing content onto A4 pages: headings, paragraphs, tables with repeated headers, figures.

Layout happens first (a list of paint operations per page), painting after, so every page can say
"第 3 页 共 8 页". Operations paint in device units of the QPdfWriter (300 dpi).
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPen

from desktop.report_style import (ACCENT, BOTTOM, INK, LEFT, MUTED, RULE, TOP, WIDTH, ZEBRA, Metrics, font, mm)
from gis.report.tables import COUNT, KPI, PERCENT, ReportTable, cell_text

Op = Callable[[QPainter], None]
TABLE_PT, HEADING_PT, BODY_PT, CAPTION_PT = 8.5, 13.0, 10.5, 8.0
WRAP = Qt.TextFlag.TextWordWrap | Qt.TextFlag.TextWrapAnywhere
PAD_X, PAD_Y = mm(1.4), mm(1.0)


def draw_text(painter: QPainter, rect: QRectF, text: str, points: float, *, bold=False, colour=INK,
              align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, wrap=False) -> None:
    painter.setFont(font(points, bold=bold))
    painter.setPen(colour)
    painter.drawText(rect, int(align) | (int(WRAP) if wrap else 0), text)


class Flow:
    """A cursor down the pages; ``place(height, op)`` puts a block below the last one (a new page if needed)."""

    def __init__(self, device):
        self.metrics = Metrics(device)
        self.pages: list[list[Op]] = []
        self.y = TOP
        self.new_page()

    def new_page(self) -> None:
        self.pages.append([])
        self.y = TOP

    def room(self) -> float:
        return BOTTOM - self.y

    def ensure(self, height: float) -> None:
        if height > self.room() and self.y > TOP:
            self.new_page()

    def place(self, height: float, paint: Callable[[QPainter, float], None], *, keep: float = 0.0) -> float:
        """Reserve ``height`` (plus ``keep`` that must follow on the same page); ``paint(painter, top)`` later."""
        self.ensure(height + keep)
        top = self.y
        self.pages[-1].append(lambda painter, top=top: paint(painter, top))
        self.y += height
        return top

    def space(self, height: float) -> None:
        self.y = min(self.y + height, BOTTOM)

    # -- blocks ------------------------------------------------------------------------------------
    def text_height(self, text: str, points: float, width: float, bold=False) -> float:
        bounds = self.metrics(points, bold).boundingRect(QRectF(0, 0, width, 1e6), int(WRAP), text)
        return bounds.height()

    def heading(self, text: str, *, keep: float = mm(40)) -> None:
        height = mm(10)

        def paint(painter, top):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(ACCENT)
            painter.drawRect(QRectF(LEFT, top + mm(2.5), mm(1.2), mm(5.5)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            draw_text(painter, QRectF(LEFT + mm(3), top + mm(1.5), WIDTH, mm(7.5)), text, HEADING_PT, bold=True,
                      colour=ACCENT)
        self.place(height, paint, keep=keep)

    def paragraph(self, text: str, points: float = BODY_PT, *, colour=INK, indent: float = 0.0) -> None:
        width = WIDTH - indent
        height = self.text_height(text, points, width) + mm(1.5)
        self.place(height, lambda painter, top: draw_text(
            painter, QRectF(LEFT + indent, top, width, height), text, points, colour=colour,
            align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, wrap=True))

    def subheading(self, text: str, *, keep: float = mm(45)) -> None:
        """A line that stays on the page of what follows it (``keep``)."""
        height = self.text_height(text, BODY_PT, WIDTH) + mm(2)
        self.place(height, lambda painter, top: draw_text(
            painter, QRectF(LEFT, top, WIDTH, height), text, BODY_PT, bold=True, colour=INK,
            align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), keep=keep)

    def caption(self, text: str) -> None:
        self.paragraph(text, CAPTION_PT, colour=MUTED)

    def figure(self, height: float, paint: Callable[[QPainter, QRectF], None], *, left=LEFT, width=WIDTH) -> None:
        self.place(height, lambda painter, top: paint(painter, QRectF(left, top, width, height)))

    # -- tables ------------------------------------------------------------------------------------
    def table(self, table: ReportTable, *, widths: list[float] | None = None, empty: str = "本期无") -> None:
        """The table with its header row repeated on every page it runs onto; zebra rows."""
        weights = widths or [c.width for c in table.columns]
        scale = WIDTH / sum(weights)
        columns = [w * scale for w in weights]
        header_h = max(self.text_height(c.header, TABLE_PT, w - 2 * PAD_X, True)
                       for c, w in zip(table.columns, columns)) + 2 * PAD_Y
        rows = [[cell_text(c, v, row) for c, v in zip(table.columns, row)] for row in table.rows]
        if not rows:
            self.place(header_h, lambda p, top: self._header(p, top, table, columns, header_h))
            self.place(mm(7), lambda p, top: self._empty_row(p, top, empty))
            return
        heights = [max(self.text_height(t, TABLE_PT, w - 2 * PAD_X) for t, w in zip(texts, columns)) + 2 * PAD_Y
                   for texts in rows]
        first = True
        for i, (texts, height) in enumerate(zip(rows, heights)):
            if first or height > self.room():
                if not first:
                    self.new_page()
                self.place(header_h, lambda p, top: self._header(p, top, table, columns, header_h),
                           keep=height)
                first = False
            self.place(height, lambda p, top, i=i, texts=texts, height=height:
                       self._row(p, top, table, columns, texts, height, i))

    def _header(self, painter, top, table, columns, height) -> None:
        x = LEFT
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ACCENT)
        painter.drawRect(QRectF(LEFT, top, WIDTH, height))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for column, width in zip(table.columns, columns):
            draw_text(painter, QRectF(x + PAD_X, top, width - 2 * PAD_X, height), column.header, TABLE_PT,
                      bold=True, colour=Qt.GlobalColor.white, align=Qt.AlignmentFlag.AlignCenter, wrap=True)
            x += width

    def _row(self, painter, top, table, columns, texts, height, index) -> None:
        if index % 2:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(ZEBRA)
            painter.drawRect(QRectF(LEFT, top + mm(0.15), WIDTH, height - mm(0.15)))  # keep the rule above
            painter.setBrush(Qt.BrushStyle.NoBrush)
        x = LEFT
        for column, width, text in zip(table.columns, columns, texts):
            numeric = column.kind in (COUNT, PERCENT, KPI)
            align = (Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignVCenter
            colour = INK
            if text.startswith("↑") or text.startswith("↓"):
                colour = MUTED
            draw_text(painter, QRectF(x + PAD_X, top, width - 2 * PAD_X, height), text, TABLE_PT, colour=colour,
                      align=align, wrap=True)
            x += width
        painter.setPen(QPen(RULE, mm(0.12)))
        painter.drawLine(QRectF(LEFT, top, WIDTH, height).bottomLeft(), QRectF(LEFT, top, WIDTH, height).bottomRight())

    def _empty_row(self, painter, top, text) -> None:
        draw_text(painter, QRectF(LEFT, top, WIDTH, mm(7)), text, TABLE_PT, colour=MUTED,
                  align=Qt.AlignmentFlag.AlignCenter)
        painter.setPen(QPen(RULE, mm(0.12)))
        painter.drawLine(QRectF(LEFT, top, WIDTH, mm(7)).bottomLeft(), QRectF(LEFT, top, WIDTH, mm(7)).bottomRight())
