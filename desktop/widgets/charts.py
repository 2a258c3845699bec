"""The case charts, linked to the table and the map through one ``FilterState``.

Cases by state, daily new vs closed, top grids by open or overdue cases, alarms by pollutant and
the AQI of a chosen station. Every aggregate is counted in the database (``gis.storage.case_stats``)
on the query runner's threads; a newer filter supersedes a running one. Clicking a bar filters:
plain click chooses that value alone (again: clears it), Ctrl-click adds or removes it.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QWidget

from desktop.case_filter_model import FilterState
from desktop.query_runner import QueryRunner
from desktop.widgets.chart_items import BarChart, ChartFrame, DateAxis, cjk_font, style_plot
from gis.aqi import LEVELS
from gis.domain import LEVEL_NAMES
from gis.storage import case_stats
from gis.storage.case_queries import CaseFilter

# HJ 212-2017 pollutant codes the demo and common devices send, for bar labels.
POLLUTANT_NAMES = {
    "a34004": "PM2.5", "a34002": "PM10", "a21026": "SO₂", "a21004": "NO₂", "a05024": "O₃", "a21005": "CO",
    "a21002": "NOx", "a34013": "烟尘", "a24088": "非甲烷总烃", "a25002": "苯", "w01018": "COD",
    "w21003": "氨氮", "w01001": "pH", "w21011": "总磷", "w21001": "总氮",
}
NEW_COLOUR, CLOSED_COLOUR = "#1e88e5", "#43a047"
AQI_DEFAULT_HOURS = 7 * 24
REFRESH_DELAY_MS = 30  # a burst of filter changes (a reset touches many fields) → one round of queries


def pollutant_name(code: str) -> str:
    return POLLUTANT_NAMES.get(code, code)


class TrendChart(ChartFrame):
    """Daily new and closed cases over the filter's time range (last 30 days without one)."""

    def __init__(self, parent=None):
        super().__init__("每日新增与办结", parent)
        self.title.setText(f"每日新增与办结  <span style='color:{NEW_COLOUR}'>━ 新增</span>"
                           f"  <span style='color:{CLOSED_COLOUR}'>━ 办结</span>")
        self.plot.setAxisItems({"bottom": DateAxis(orientation="bottom")})
        style_plot(self.plot)
        self.new_curve = self.plot.plot([], [], pen=pg.mkPen(NEW_COLOUR, width=2), symbol="o", symbolSize=4,
                                        symbolBrush=NEW_COLOUR, symbolPen=None)
        self.closed_curve = self.plot.plot([], [], pen=pg.mkPen(CLOSED_COLOUR, width=2), symbol="o", symbolSize=4,
                                           symbolBrush=CLOSED_COLOUR, symbolPen=None)
        self.days: list = []

    def set_days(self, days: list[case_stats.DayCount]) -> None:
        self.days = list(days)
        # Noon of each day, so the point sits in the middle of its date label.
        x = np.array([datetime(d.day.year, d.day.month, d.day.day, 12).timestamp() for d in days])
        step = max(1, round(len(days) / 6))  # about six dated ticks, whatever the range
        self.plot.getAxis("bottom").setTicks([[(x[i], f"{d.day:%m-%d}") for i, d in enumerate(days) if i % step == 0],
                                              [(v, "") for v in x]])
        self.new_curve.setData(x, [d.new for d in days])
        self.closed_curve.setData(x, [d.closed for d in days])
        self.show_empty("" if days else "没有数据")
        if len(x):
            top = max(max(d.new for d in days), max(d.closed for d in days), 1)
            self.plot.setRange(xRange=(x[0] - 43200, x[-1] + 43200), yRange=(0, top * 1.12), padding=0)

    def series(self) -> tuple[list, list]:
        """(new, closed) as drawn."""
        return ([int(v) for v in self.new_curve.getData()[1]] if self.days else [],
                [int(v) for v in self.closed_curve.getData()[1]] if self.days else [])


class AqiChart(ChartFrame):
    """Hourly AQI of one station, over HJ 633 level colours."""

    stationChosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__("空气质量指数 AQI（小时）", parent)
        self.plot.setAxisItems({"bottom": DateAxis(orientation="bottom")})
        style_plot(self.plot)
        self.station_combo = QComboBox()
        self.station_combo.setFont(cjk_font(8.5))
        self.station_combo.setMinimumContentsLength(10)
        self.station_combo.activated.connect(lambda i: self.stationChosen.emit(self.station_combo.itemData(i)))
        self.header.addWidget(self.station_combo)
        for level in LEVELS:
            band = pg.LinearRegionItem((level.lowest, level.highest + 1), orientation="horizontal", movable=False,
                                       brush=pg.mkBrush(*level.rgb, 38), pen=pg.mkPen(None))
            band.setZValue(-10)
            self.plot.addItem(band, ignoreBounds=True)
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#37474f", width=1.6), connect="finite")
        self.points: list[case_stats.AqiPoint] = []

    def set_stations(self, stations: list[tuple[int, str]], current: int | None) -> None:
        self.station_combo.blockSignals(True)
        self.station_combo.clear()
        for station_id, name in stations:
            self.station_combo.addItem(name, station_id)
        if current is not None:
            self.station_combo.setCurrentIndex(max(0, self.station_combo.findData(current)))
        self.station_combo.blockSignals(False)

    def set_points(self, points: list[case_stats.AqiPoint]) -> None:
        self.points = list(points)
        x = np.array([p.at.timestamp() for p in points], dtype=float)
        y = np.array([np.nan if p.aqi is None else p.aqi for p in points], dtype=float)
        self.curve.setData(x, y)
        self.show_empty("" if points else "该站点在此时间范围内没有小时数据")
        if len(x):
            top = np.nanmax(y) if np.isfinite(y).any() else 100
            self.plot.setRange(xRange=(x[0], x[-1] + 1), yRange=(0, max(top * 1.15, 60)), padding=0)

    def values(self) -> list[int | None]:
        return [p.aqi for p in self.points]


class CaseChartsPanel(QWidget):
    """Five linked charts over ``state``; queries go through ``runner``."""

    gridChosen = Signal(int)      # a top-grid bar was clicked (the window also selects it on the map)
    refreshed = Signal()          # every chart has its latest data

    def __init__(self, state: FilterState, runner: QueryRunner, *, now: Callable[[], datetime] = datetime.now,
                 parent=None):
        super().__init__(parent)
        self.state, self.runner, self._now = state, runner, now
        self._pending: set[str] = set()
        self.station_id: int | None = None
        self.grid_level_of: Callable[[int], int | None] = lambda _grid_id: None  # the window knows the grids

        self.state_chart = BarChart("案件状态", horizontal=True)
        self.trend_chart = TrendChart()
        self.grid_chart = BarChart("网格排行", horizontal=True, colour="#fb8c00")
        self.pollutant_chart = BarChart("报警污染物", colour="#8e24aa")
        self.aqi_chart = AqiChart()
        self.grid_by = QComboBox()
        self.grid_by.addItem("未办结", "open")
        self.grid_by.addItem("已超期", "overdue")
        self.grid_level = QComboBox()
        self.grid_level.addItem("自动级别", None)
        for level in (2, 3, 4):
            self.grid_level.addItem(LEVEL_NAMES[level], level)
        for combo in (self.grid_by, self.grid_level, self.aqi_chart.station_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8 if combo is self.aqi_chart.station_combo else 4)
        for combo in (self.grid_by, self.grid_level):
            combo.setFont(cjk_font(8.5))
            combo.activated.connect(lambda _i: self._submit({"grids"}))
            self.grid_chart.header.addWidget(combo)

        self.state_chart.barClicked.connect(lambda key, mods: self._pick("states", key, mods))
        self.pollutant_chart.barClicked.connect(lambda key, mods: self._pick("pollutants", key, mods))
        self.grid_chart.barClicked.connect(self._on_grid_bar)
        self.aqi_chart.stationChosen.connect(self.set_station)

        grid = QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(6)
        grid.addWidget(self.state_chart, 0, 0)
        grid.addWidget(self.trend_chart, 0, 1)
        grid.addWidget(self.grid_chart, 0, 2)
        grid.addWidget(self.pollutant_chart, 1, 0)
        grid.addWidget(self.aqi_chart, 1, 1, 1, 2)
        for column in range(3):
            grid.setColumnStretch(column, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(lambda: self._submit(None))
        state.events.changed.connect(lambda _f, _names: self._timer.start())
        state.events.scope_grid_id.connect(lambda _scope: self.load_stations())  # another user logged in

    # -- data ---------------------------------------------------------------------------------
    def load_stations(self) -> None:
        """Fill the station picker with the air stations (AQI is for air) in the data scope, show the first."""
        scope = self.state.filter.scope_grid_id

        def read(connection):
            from gis.storage.readings import read_stations
            return [(s.id, s.name) for s in read_stations(connection, active_only=True, within_grid=scope)
                    if s.kind == "air"]

        def done(stations):
            current = self.station_id if any(s == self.station_id for s, _ in stations) else (
                stations[0][0] if stations else None)
            self.aqi_chart.set_stations(stations, current)
            self.station_id = current
            self._submit({"aqi"})

        self.runner.submit("chart-stations", read, done)

    def set_station(self, station_id: int) -> None:
        self.station_id = station_id
        self._submit({"aqi"})

    def refresh(self) -> None:
        self._submit(None)

    @property
    def pending(self) -> bool:
        return bool(self._pending) or self._timer.isActive()

    def _filter(self) -> CaseFilter:
        f = self.state.filter
        return f if f.now else f.replace(now=self._now())

    def _auto_level(self, f: CaseFilter) -> int:
        """The level the seat chose, else the one below the filtered grid (二级 for the district)."""
        chosen = self.grid_level.currentData()
        if chosen:
            return chosen
        levels = [level for level in map(self.grid_level_of, f.grid_ids) if level]
        return min(5, min(levels) + 1) if levels else 2

    def _submit(self, which: set[str] | None) -> None:
        f = self._filter()
        which = which or {"states", "trend", "grids", "pollutants", "aqi"}
        jobs = {
            "states": (lambda c: case_stats.cases_by_state(c, f), self._show_states),
            "trend": (lambda c: case_stats.daily_new_vs_closed(c, f), self.trend_chart.set_days),
            "pollutants": (lambda c: case_stats.alarms_by_pollutant(c, f), self._show_pollutants),
        }
        by, level = self.grid_by.currentData(), self._auto_level(f)
        jobs["grids"] = (lambda c: case_stats.top_grids(c, f, by=by, level=level), self._show_grids)
        station = self.station_id
        if station is not None:
            start, end = f.start, f.end
            jobs["aqi"] = (lambda c: self._read_aqi(c, station, start, end), self.aqi_chart.set_points)
        for name in sorted(which & set(jobs)):
            fn, show = jobs[name]
            self._pending.add(name)
            self.runner.submit(f"chart-{name}", fn, lambda result, n=name, s=show: self._done(n, s, result),
                               lambda exc, n=name: self._failed(n, exc))

    @staticmethod
    def _read_aqi(connection, station_id: int, start, end):
        if start is None and end is None:  # no range chosen: the station's last week of data
            return case_stats.station_aqi_recent(connection, station_id, hours=AQI_DEFAULT_HOURS)
        return case_stats.station_aqi_series(connection, station_id, start, end)

    def _done(self, name: str, show, result) -> None:
        self._pending.discard(name)
        show(result)
        if not self._pending:
            self.refreshed.emit()

    def _failed(self, name: str, exc: Exception) -> None:
        self._pending.discard(name)
        chart = {"states": self.state_chart, "trend": self.trend_chart, "grids": self.grid_chart,
                 "pollutants": self.pollutant_chart, "aqi": self.aqi_chart}[name]
        chart.show_empty(f"读取失败：{exc}")
        if not self._pending:
            self.refreshed.emit()

    # -- views --------------------------------------------------------------------------------
    def _show_states(self, counts: dict[str, int]) -> None:
        selected = self.state.filter.states
        items = [(s, s, n) for s, n in counts.items()]
        items += [(s, s, 0) for s in sorted(selected) if s not in counts]  # a chosen state with none left
        self.state_chart.set_bars(items, selected)

    def _show_grids(self, grids: list[case_stats.GridCount]) -> None:
        self.grid_chart.set_bars([(g.grid_id, g.name, g.count) for g in grids], self.state.filter.grid_ids,
                                 empty_text="没有未办结案件" if self.grid_by.currentData() == "open" else "没有超期案件")

    def _show_pollutants(self, counts: dict[str, int]) -> None:
        selected = self.state.filter.pollutants
        self.pollutant_chart.set_bars([(code, pollutant_name(code), n) for code, n in counts.items()], selected,
                                      empty_text="此时间范围内没有报警")

    # -- clicks -------------------------------------------------------------------------------
    def _pick(self, field: str, key, modifiers) -> None:
        if Qt.KeyboardModifier(modifiers) & Qt.KeyboardModifier.ControlModifier:
            self.state.toggle(field, key)
        else:
            self.state.choose(field, key)

    def _on_grid_bar(self, grid_id: int, modifiers) -> None:
        if Qt.KeyboardModifier(modifiers) & Qt.KeyboardModifier.ControlModifier:
            self.state.toggle("grid_ids", grid_id)
        else:
            self.state.choose("grid_ids", grid_id)
        if grid_id in self.state.filter.grid_ids:
            self.gridChosen.emit(grid_id)
