"""AQI of the air stations over the last 24 hours (pyqtgraph), dark and readable from across the room.

One line per station with data — the ``MAX_LINES`` worst by their latest hour when there are more —
over the HJ 633 level colours as background bands; the legend is a column of text rows beside
the plot (a mark in the line's colour, name, latest AQI), so it obeys the wall's text floor; a short
wall lists fewer stations there.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout

from desktop.display.panels import Row, TextRows, role_label
from desktop.display.snapshot import AQI_HOURS, StationSeries
from desktop.display.theme import DIM, FONT, PANEL, TEXT, Scale
from desktop.widgets.chart_items import DateAxis
from gis.aqi import LEVELS

MAX_LINES = 5
LINE_COLOURS = ("#ffffff", "#4fc3f7", "#ff80ab", "#ffd54f", "#b388ff", "#69f0ae", "#ff8a65", "#90caf9")
NAME_SUFFIXES = ("空气自动监测站", "空气自动站", "自动监测站", "空气监测站", "监测站")
BAND_ALPHA = 60
Y_STEPS = (100, 150, 200, 300, 400, 500)


class AqiAxis(pg.AxisItem):
    """AQI at the HJ 633 level boundaries, as many as the axis' length holds without labels touching."""

    VALUES = (0, 50, 100, 150, 200, 300, 400, 500)

    def tickValues(self, minVal, maxVal, size):
        font = self.style.get("tickFont")
        room = 1.3 * (font.pixelSize() if font is not None and font.pixelSize() > 0 else 12)
        span = (maxVal - minVal) or 1.0
        shown, last = [], None
        for value in self.VALUES:
            if not minVal <= value <= maxVal:
                continue
            at = (value - minVal) / span * size
            if last is None or at - last >= room:
                shown.append(value)
                last = at
        return [(50, shown)]   # (spacing, values): the spacing only sets the labels' decimals, none

    def tickStrings(self, values, scale, spacing):
        return [str(int(value)) for value in values]


def short_station_name(name: str) -> str:
    """``矿区街道空气自动监测站`` → ``矿区街道``: the wall's legend has room for the place only."""
    for suffix in NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def lines_to_draw(series: Sequence[StationSeries], limit: int = MAX_LINES) -> list[StationSeries]:
    """Stations with at least one AQI value, the worst latest hour first, at most ``limit``."""
    with_data = [s for s in series if s.latest is not None]
    return sorted(with_data, key=lambda s: (-s.latest, s.station_id))[:limit]


class WallAqiChart(QFrame):
    def __init__(self):
        super().__init__()
        self.setObjectName("panel")
        box = QVBoxLayout(self)
        self.heading = role_label(f"空气质量指数 AQI · 近{AQI_HOURS}小时", "title")
        box.addWidget(self.heading)
        row = QHBoxLayout()
        box.addLayout(row, 1)
        self.axis = DateAxis(orientation="bottom")
        self.plot_widget = pg.PlotWidget(background=PANEL, axisItems={"bottom": self.axis,
                                                                      "left": AqiAxis(orientation="left")})
        self.plot_widget.setObjectName("plain")
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot_widget.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # the wall is not touched
        row.addWidget(self.plot_widget, 1)
        self.legend = TextRows(MAX_LINES, value_font="bold")   # the worst first; fewer when the wall is short
        row.addWidget(self.legend)
        for level in LEVELS:
            band = pg.LinearRegionItem((level.lowest, level.highest + 1), orientation="horizontal", movable=False,
                                       brush=pg.mkBrush(*level.rgb, BAND_ALPHA), pen=pg.mkPen(None))
            band.setZValue(-10)
            self.plot.addItem(band, ignoreBounds=True)
        self.empty = pg.TextItem("", color=DIM, anchor=(0.5, 0.5))
        self.plot.addItem(self.empty, ignoreBounds=True)
        self.curves: dict[int, pg.PlotDataItem] = {}
        self.shown: list[StationSeries] = []
        self.scale = Scale(1080)
        self._frame(datetime.now(), Y_STEPS[0])   # axes of the last 24 hours before the first data

    def apply_scale(self, scale: Scale) -> None:
        self.scale = scale
        font = QFont(FONT)
        font.setPixelSize(scale.small)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setStyle(tickFont=font, tickTextOffset=scale.length(6))
            axis.setTextPen(QColor(TEXT))
            axis.setPen(QColor(DIM))
        self.plot.getAxis("left").setWidth(round(scale.small * 2.4))
        self.plot.getAxis("bottom").setHeight(round(scale.small * 1.6))
        self.empty.setFont(font)
        for curve in self.curves.values():
            curve.setPen(pg.mkPen(curve.opts["pen"].color(), width=max(2.0, 3.0 * scale.unit)))

    def tick_fonts(self) -> list[QFont]:
        """The fonts the axes draw their numbers with (tests check the text floor on them)."""
        return [self.plot.getAxis(name).style["tickFont"] for name in ("left", "bottom")]

    def set_series(self, series: Sequence[StationSeries], now: datetime) -> None:
        self.shown = lines_to_draw(series)
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curves = {}
        top = 0.0
        for colour, station in zip(LINE_COLOURS, self.shown):
            x = np.array([at.timestamp() for at, _aqi in station.points], dtype=float)
            y = np.array([np.nan if aqi is None else aqi for _at, aqi in station.points], dtype=float)
            top = max(top, float(np.nanmax(y)))
            self.curves[station.station_id] = self.plot.plot(
                x, y, pen=pg.mkPen(colour, width=max(2.0, 3.0 * self.scale.unit)), connect="finite")
        self.legend.set_rows([Row(short_station_name(station.name), str(station.latest), mark=colour)
                              for colour, station in zip(LINE_COLOURS, self.shown)])
        self._frame(now, next((step for step in Y_STEPS if step >= top * 1.1), Y_STEPS[-1]))
        self.empty.setText("" if self.shown else "近24小时没有空气站数据")

    def _frame(self, now: datetime, ceiling: int) -> None:
        start = (now - timedelta(hours=AQI_HOURS)).timestamp()
        self.plot.setRange(xRange=(start, now.timestamp()), yRange=(0, ceiling), padding=0)
        self.empty.setPos((start + now.timestamp()) / 2, ceiling / 2)
