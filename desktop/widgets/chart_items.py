"""pyqtgraph building blocks for the case charts: a CJK font, clickable bar charts, a titled frame.

pyqtgraph draws tick labels with its own font, not through the widget's style sheet, so Chinese
labels need a font that has the glyphs: :func:`cjk_font` picks the first one installed.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "Microsoft YaHei UI", "PingFang SC",
                "WenQuanYi Micro Hei", "SimHei", "Noto Sans SC", "Sarasa Gothic SC")
BAR_COLOUR = "#1e88e5"
SELECTED_COLOUR = "#0d47a1"
TEXT_COLOUR = "#37474f"
_font_family: str | None = None

pg.setConfigOptions(antialias=True, background="w", foreground=TEXT_COLOUR)


def cjk_family() -> str:
    """A font family with Chinese glyphs (the application's default if none of ours is installed)."""
    global _font_family
    if _font_family is None:
        installed = set(QFontDatabase.families())
        _font_family = next((f for f in CJK_FAMILIES if f in installed), QFont().family())
    return _font_family


def cjk_font(point_size: float = 9.0) -> QFont:
    font = QFont(cjk_family())
    font.setPointSizeF(point_size)
    return font


def style_plot(plot: pg.PlotItem) -> None:
    font = cjk_font(8.5)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setStyle(tickFont=font, tickTextOffset=4)
        axis.setTextPen(TEXT_COLOUR)
        axis.setPen(QColor("#90a4ae"))
    plot.showGrid(x=False, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    plot.hideButtons()


class DateAxis(pg.DateAxisItem):
    """Time ticks as the seats read them: 11-03, 18:00, 2026-11 (pyqtgraph's own say "Nov03", "Sun 22")."""

    def tickStrings(self, values, scale, spacing):
        out = []
        for value in values:
            try:
                at = datetime.fromtimestamp(value)
            except (OverflowError, OSError, ValueError):
                out.append("")
                continue
            if spacing >= 28 * 86400:
                out.append(at.strftime("%Y-%m"))
            elif spacing >= 86400 or (at.hour, at.minute) == (0, 0):
                out.append(at.strftime("%m-%d"))
            else:
                out.append(at.strftime("%H:%M"))
        return out


class ChartFrame(QWidget):
    """A title line (Qt label, so CJK and rich text render as elsewhere), optional controls, a plot."""

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.title = QLabel(title)
        self.title.setFont(cjk_font(9.5))
        self.title.setStyleSheet(f"color: {TEXT_COLOUR}; font-weight: bold;")
        self.title.setMinimumWidth(20)
        self.header = QHBoxLayout()
        self.header.setContentsMargins(6, 2, 6, 0)
        self.header.addWidget(self.title)
        self.header.addStretch(1)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumSize(60, 70)
        self.plot_widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        style_plot(self.plot)
        self.empty = pg.TextItem("", color="#90a4ae", anchor=(0.5, 0.5))
        self.empty.setFont(cjk_font(9))
        self.plot.addItem(self.empty, ignoreBounds=True)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addLayout(self.header)
        box.addWidget(self.plot_widget, 1)

    def show_empty(self, text: str) -> None:
        self.empty.setText(text)
        if text:
            self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.empty.setPos(0.5, 0.5)


class BarChart(ChartFrame):
    """Bars with category labels; a click on a bar's column emits its key and the keyboard modifiers."""

    barClicked = Signal(object, object)  # key, Qt.KeyboardModifier

    def __init__(self, title: str, *, horizontal: bool = False, colour: str = BAR_COLOUR, parent=None):
        super().__init__(title, parent)
        self.horizontal = horizontal
        self.colour = colour
        self.keys: list[Hashable] = []
        self.labels: list[str] = []
        self.values = np.zeros(0)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=colour, pen=None)
        self.plot.addItem(self.bars)
        self.value_labels: list[pg.TextItem] = []
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot_widget.scene().sigMouseClicked.connect(self._on_scene_click)
        self.plot_widget.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_bars(self, items: Sequence[tuple[Hashable, str, float]], selected=frozenset(), *,
                 empty_text: str = "没有数据") -> None:
        """``items`` are (key, label, value), drawn in order (top to bottom when horizontal)."""
        self.keys = [k for k, _, _ in items]
        self.labels = [label for _, label, _ in items]
        self.values = np.array([float(v) for _, _, v in items])
        n = len(items)
        positions = np.arange(n, dtype=float)
        # Chosen bars stand out, the others fade — only when a chosen value is on this chart.
        chosen = set(selected) & set(self.keys)
        faded = QColor(self.colour)
        faded.setAlpha(90)
        brushes = [pg.mkBrush(SELECTED_COLOUR if k in chosen else (faded if chosen else self.colour))
                   for k in self.keys]
        if self.horizontal:
            positions = positions[::-1]  # first item on top
            self.bars.setOpts(x=None, x0=0, y=positions, width=self.values, height=0.62, brushes=brushes)
        else:
            self.bars.setOpts(x=positions, x0=None, y=None, height=self.values, width=0.62, brushes=brushes)
        ticks = [list(zip(positions.tolist(), self.labels))]
        (self.plot.getAxis("left") if self.horizontal else self.plot.getAxis("bottom")).setTicks(ticks)
        value_axis = self.plot.getAxis("bottom") if self.horizontal else self.plot.getAxis("left")
        value_axis.setTicks(None)
        top_value = float(self.values.max()) if n else 0.0
        if top_value < 6:  # counts: no 0.5 ticks
            value_axis.setTickSpacing(1, 1)
        else:
            value_axis.setTickSpacing()
        for item in self.value_labels:
            self.plot.removeItem(item)
        self.value_labels = []
        top = float(self.values.max()) if n else 0.0
        for pos, value in zip(positions, self.values):
            label = pg.TextItem(f"{int(value):,}", color=TEXT_COLOUR,
                                anchor=(0, 0.5) if self.horizontal else (0.5, 1))
            label.setFont(cjk_font(7.5))
            label.setPos(*((value, pos) if self.horizontal else (pos, value)))
            self.plot.addItem(label, ignoreBounds=True)
            self.value_labels.append(label)
        self.show_empty("" if n else empty_text)
        if n:
            span = (-0.6, n - 0.4)
            extent = (0, max(top * 1.18, 1))
            if self.horizontal:
                self.plot.setRange(xRange=extent, yRange=span, padding=0)
            else:
                self.plot.setRange(xRange=span, yRange=extent, padding=0)

    def heights(self) -> dict[Hashable, float]:
        """Key → drawn bar length, read back from the pyqtgraph item (for tests and tooltips)."""
        drawn = self.bars.opts["width"] if self.horizontal else self.bars.opts["height"]
        return dict(zip(self.keys, np.atleast_1d(np.asarray(drawn, dtype=float)).tolist()))

    def bar_at(self, x: float, y: float) -> int | None:
        """Index of the bar whose column (row, when horizontal) holds the view point (x, y)."""
        if not self.keys:
            return None
        along = y if self.horizontal else x
        index = int(round(along))
        if self.horizontal:
            index = len(self.keys) - 1 - index
        if 0 <= index < len(self.keys) and abs(along - round(along)) <= 0.45:
            return index
        return None

    def bar_center(self, index: int) -> tuple[float, float]:
        """View coordinates of the middle of bar ``index`` (for tests that click)."""
        value = max(float(self.values[index]), 0.0) / 2
        pos = (len(self.keys) - 1 - index) if self.horizontal else index
        return (value, pos) if self.horizontal else (pos, value)

    def click_bar(self, index: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        self.barClicked.emit(self.keys[index], modifiers)

    def _on_scene_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        view = self.plot.getViewBox()
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view.mapSceneToView(event.scenePos())
        index = self.bar_at(point.x(), point.y())
        if index is not None:
            event.accept()
            self.barClicked.emit(self.keys[index], event.modifiers())
