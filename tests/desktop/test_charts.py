"""The pyqtgraph case charts: right aggregates (read back from the plot items), clicks that filter,
Chinese tick labels in a CJK font."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFontDatabase

from case_world import NOW, build_case_world, python_filter, subtree
from desktop.case_filter_model import FilterState
from desktop.query_runner import QueryRunner
from desktop.widgets.chart_items import CJK_FAMILIES, cjk_family
from desktop.widgets.charts import CaseChartsPanel
from gis.aqi import hourly_aqi
from gis.domain import OPEN_STATES, CaseState
from gis.storage.case_queries import CaseFilter
from gis.storage.store import open_store


@pytest.fixture
def charts(qtbot, tmp_path):
    store = open_store(str(tmp_path / "charts.sqlite"))
    world = build_case_world(store)
    runner = QueryRunner(store.engine)
    state = FilterState(CaseFilter(now=NOW))
    panel = CaseChartsPanel(state, runner)
    levels = {g.id: g.level for g in world.grids.values()}
    panel.grid_level_of = levels.get
    panel.resize(1200, 620)
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.refreshed, timeout=10_000):
        panel.load_stations()
        panel.refresh()
    _settle(qtbot, panel)
    yield world, state, panel
    runner.shutdown()
    store.close()


def _settle(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.pending and not panel.runner.busy, timeout=10_000)


def _click(qtbot, chart, index: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A real mouse click in the middle of a bar."""
    x, y = chart.bar_center(index)
    scene = chart.plot.getViewBox().mapViewToScene(QPointF(x, y))
    pos = chart.plot_widget.mapFromScene(scene)
    qtbot.mouseClick(chart.plot_widget.viewport(), Qt.MouseButton.LeftButton, modifier, pos)


def _open_by_grid(world, rows, level, *, overdue=False):
    counts = Counter()
    for grid in world.grids.values():
        if grid.level == level:
            inside = subtree(world, {grid.id})
            counts[grid.id] = sum(r["grid_id"] in inside and r["state"] in OPEN_STATES
                                  and (not overdue or (r["due_at"] is not None and r["due_at"] < NOW))
                                  for r in rows)
    return {g: n for g, n in counts.items() if n}


def test_charts_show_the_sql_aggregates(charts):
    world, state, panel = charts
    rows = python_filter(world, state.filter)
    assert panel.state_chart.heights() == dict(Counter(r["state"] for r in rows))
    assert panel.state_chart.labels[0] == str(CaseState.PENDING)  # workflow order
    assert panel.grid_chart.heights() == _open_by_grid(world, rows, 2)  # level 2 for the whole district
    assert panel.pollutant_chart.heights() == dict(Counter(a["pollutant"] for a in world.alarms))
    assert panel.pollutant_chart.labels[:1] == ["PM2.5"] or "PM2.5" in panel.pollutant_chart.labels
    new, closed = panel.trend_chart.series()
    days = [NOW.date() - timedelta(days=29 - i) for i in range(30)]
    assert new == [sum(r["created_at"].date() == d for r in rows) for d in days]
    assert closed == [sum(r["closed_at"] is not None and r["closed_at"].date() == d for r in rows) for d in days]


def test_aqi_chart_of_the_chosen_station(qtbot, charts):
    world, state, panel = charts
    assert panel.aqi_chart.station_combo.count() == 2
    by_time: dict = {}
    for r in world.readings:
        if r["station_id"] == panel.station_id and r["flag"] == "N":
            by_time.setdefault(r["data_time"], {})[r["pollutant"]] = r["avg"]
    assert panel.aqi_chart.values() == [hourly_aqi(by_time[t], pm_average="1h").aqi for t in sorted(by_time)]
    other = world.stations[1]
    panel.aqi_chart.station_combo.setCurrentIndex(1)
    panel.aqi_chart.station_combo.activated.emit(1)
    qtbot.waitUntil(lambda: panel.station_id == other and not panel.pending)
    assert panel.aqi_chart.values()[-1] != panel.aqi_chart.values()[0]
    y = panel.aqi_chart.curve.getData()[1]
    assert list(y[-3:]) == [float(v) for v in panel.aqi_chart.values()[-3:]]


def test_clicking_a_state_bar_filters_and_keeps_the_other_bars(qtbot, charts):
    world, state, panel = charts
    index = panel.state_chart.keys.index("处置中")
    _click(qtbot, panel.state_chart, index)
    assert state.filter.states == {"处置中"}
    _settle(qtbot, panel)
    rows = python_filter(world, state.filter)
    assert set(panel.state_chart.keys) >= {"处置中", "待受理"}  # its own filter does not empty the chart
    assert panel.grid_chart.heights() == _open_by_grid(world, rows, 2)
    _click(qtbot, panel.state_chart, panel.state_chart.keys.index("待受理"), Qt.KeyboardModifier.ControlModifier)
    assert state.filter.states == {"处置中", "待受理"}
    _click(qtbot, panel.state_chart, panel.state_chart.keys.index("待受理"))
    assert state.filter.states == {"待受理"}
    _click(qtbot, panel.state_chart, panel.state_chart.keys.index("待受理"))  # again: cleared
    assert state.filter.states == frozenset()


def test_clicking_a_grid_bar_filters_by_that_grid(qtbot, charts):
    world, state, panel = charts
    with qtbot.waitSignal(panel.gridChosen) as chosen:
        _click(qtbot, panel.grid_chart, 0)
    town = panel.grid_chart.keys[0]
    assert chosen.args == [town] and state.filter.grid_ids == {town}
    _settle(qtbot, panel)
    rows = python_filter(world, state.filter)
    assert panel.grid_chart.heights() == _open_by_grid(world, rows, 3)  # now the villages of that town
    assert panel.state_chart.heights() == dict(Counter(r["state"] for r in rows))


def test_pollutant_bar_and_time_range(qtbot, charts):
    world, state, panel = charts
    _click(qtbot, panel.pollutant_chart, panel.pollutant_chart.keys.index("a21026"))
    assert state.filter.pollutants == {"a21026"}
    state.set_time_range(NOW - timedelta(days=10), NOW + timedelta(hours=1))
    _settle(qtbot, panel)
    assert len(panel.trend_chart.days) == 11
    start = NOW - timedelta(days=10)
    assert panel.pollutant_chart.heights() == dict(Counter(a["pollutant"] for a in world.alarms
                                                           if a["raised_at"] >= start))
    assert panel.aqi_chart.points[0].at >= start


def test_tick_labels_use_a_cjk_font(charts):
    _world, _state, panel = charts
    family = cjk_family()
    if not any(f in QFontDatabase.families() for f in CJK_FAMILIES):
        pytest.skip("no CJK font installed here")
    axis = panel.state_chart.plot.getAxis("bottom")
    assert axis.style["tickFont"].family() == family
    assert QFontDatabase.writingSystems(family).count(QFontDatabase.WritingSystem.SimplifiedChinese) == 1
    assert panel.grid_chart.plot.getAxis("left").style["tickFont"].family() == family
