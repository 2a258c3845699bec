"""Linked views in the main window: one FilterState drives table, charts and map pins; grids,
bars, rows and the time range filter in every direction; Excel gets exactly what is filtered."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QPointF, Qt

from case_world import NOW, build_case_world, python_filter, python_order
from desktop.case_filter_model import FilterState
from desktop.main_window import MainWindow
from desktop.widgets.case_filter_bar import CaseFilterBar
from desktop.widgets.pin_layer import CLASS_INDEX
from gis.storage.case_queries import CaseFilter, CaseOrder, Seat, WorkList
from gis.storage.store import open_store


# -- FilterState, plain Python ----------------------------------------------------------------------
def test_filter_state_events_per_field_and_no_empty_changes():
    state = FilterState()
    seen, states = [], []
    state.events.changed.connect(lambda f, names: seen.append(names))
    state.events.states.connect(states.append)
    assert state.update(states={"处置中"}) == {"states"}
    assert state.update(states={"处置中"}) == frozenset()  # same value: nothing emitted
    state.toggle("states", "待受理")
    state.choose("states", "待受理")
    state.choose("states", "待受理")  # choosing the only choice again clears it
    assert states == [{"处置中"}, {"处置中", "待受理"}, {"待受理"}, frozenset()]
    assert seen == [{"states"}] * 4
    state.update(seat=Seat("张三"), text="油烟", work_list=WorkList.MINE)
    state.clear()
    assert state.filter == CaseFilter(seat=Seat("张三"))  # the seat stays
    with state.events.changed.blocked():
        state.set_grids({3})
    assert seen[-1] != {"grid_ids"} and state.filter.grid_ids == {3}
    with pytest.raises(TypeError, match="no filter field"):
        state.update(colour="red")


def test_filter_bar_and_state_show_each_other(qtbot):
    state = FilterState()
    bar = CaseFilterBar(state, today=lambda: NOW.date())
    qtbot.addWidget(bar)
    bar.state_picker.menu_.actions()[2].trigger()  # the first state in the menu
    assert state.filter.states == {"待受理"}
    state.update(sources={"群众举报"}, work_list=WorkList.OVERDUE)
    assert bar.source_picker.text() == "来源：群众举报" and bar.work_buttons[WorkList.OVERDUE].isChecked()
    bar.work_buttons[WorkList.TODO].click()
    assert state.filter.work_list == WorkList.TODO
    bar.search.setText("凤台街")
    bar.search.textEdited.emit("凤台街")
    qtbot.waitUntil(lambda: state.filter.text == "凤台街")
    bar.time_combo.setCurrentIndex(2)
    bar.time_combo.activated.emit(2)  # 近7天
    assert (state.filter.start, state.filter.end) == (datetime(2024, 5, 14), datetime(2024, 5, 21))
    state.set_time_range(datetime(2024, 3, 1), datetime(2024, 3, 3))  # from elsewhere: shown as 自定义
    assert bar.time_combo.currentText() == "自定义…" and bar.start_edit.isVisibleTo(bar)
    assert bar.end_edit.date().toPython().isoformat() == "2024-03-02"
    state.set_grids({7})
    assert bar.grid_chip.isVisibleTo(bar) and "网格 7" in bar.grid_chip.text()
    bar.grid_chip.click()
    assert state.filter.grid_ids == frozenset()
    bar.clear_button.click()
    assert state.filter.states == frozenset() and state.filter.work_list is None


# -- the main window --------------------------------------------------------------------------------
@pytest.fixture
def world_window(qtbot, tmp_path):
    store = open_store(str(tmp_path / "linked.sqlite"))
    world = build_case_world(store, demo=True)
    window = MainWindow(store, remember=False)
    qtbot.addWidget(window)
    window.resize(1500, 950)
    window.show()
    qtbot.waitUntil(lambda: window.is_loaded, timeout=20_000)
    views = window.case_views
    views.state.update(now=NOW)  # the world's clock, for what is overdue
    _settle(qtbot, views)
    yield world, window, views
    window.close()
    store.close()


def _settle(qtbot, views) -> None:
    qtbot.waitUntil(lambda: views.model.total is not None and not views.model.loading and not views.charts.pending
                    and not views.runner.busy and not views._map_timer.isActive(), timeout=10_000)


def _all_rows(qtbot, views) -> list[str]:
    model = views.model
    while model.canFetchMore():
        model.fetchMore()
        qtbot.waitUntil(lambda: not model.loading)
    return [c.number for c in model.loaded_cases()]


def _expected(world, views) -> list[str]:
    rows = python_filter(world, views.state.filter)
    return [r["number"] for r in python_order(world, rows, CaseOrder(), nulls_largest=False)]


def _shown_pins(window) -> set[int]:
    pins = window.layer_control.pins
    return {case_id for case_id in pins.ids() if pins.is_shown(case_id)}


def _visible_class(window, ids) -> set[int]:
    """Of ``ids``, those whose pin class is switched on (closed cases are hidden by default; cases
    closed before the map's window — open + the last 30 days — have no pin at all)."""
    pins = window.layer_control.pins
    return {i for i in ids if pins.class_of(i) is not None and pins.visible[CLASS_INDEX[pins.class_of(i)]]}


def test_the_window_shows_every_case_lazily(qtbot, world_window):
    world, window, views = world_window
    assert views.model.total == len(world.rows) and views.model.rowCount() < len(world.rows)
    assert views.bar.count_label.text() == f"共 {len(world.rows)} 条"
    assert window.chart_dock.widget() is views.charts


def test_clicking_a_bar_filters_table_and_map(qtbot, world_window):
    world, window, views = world_window
    chart = views.charts.state_chart
    x, y = chart.bar_center(chart.keys.index("处置中"))
    pos = chart.plot_widget.mapFromScene(chart.plot.getViewBox().mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(chart.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    _settle(qtbot, views)
    assert views.state.filter.states == {"处置中"}
    assert _all_rows(qtbot, views) == _expected(world, views)
    assert {views.model.data(views.model.index(r, 3)) for r in range(views.model.rowCount())} == {"处置中"}
    located = {r["id"] for r in python_filter(world, views.state.filter) if r["lon"] is not None}
    qtbot.waitUntil(lambda: _shown_pins(window) == located)
    assert window.layer_control.pins.filtered


def test_selecting_a_grid_filters_table_and_charts(qtbot, world_window):
    world, window, views = world_window
    town = world.grids["140502002"]
    window.select_grid(town.id)  # the tree
    _settle(qtbot, views)
    assert views.state.filter.grid_ids == {town.id}
    assert _all_rows(qtbot, views) == _expected(world, views)
    rows = python_filter(world, views.state.filter)
    assert views.charts.state_chart.heights() == dict(Counter(r["state"] for r in rows))
    assert {world.grid_by_id(g).level for g in views.charts.grid_chart.keys} == {3}  # the villages below
    assert "东街道" in views.bar.grid_chip.text()
    # A rectangle selection on the map: several grids at once.
    villages = [world.grids["140502001001"].id, world.grids["140502002002"].id]
    window.interaction.set_selection(villages)
    _settle(qtbot, views)
    assert views.state.filter.grid_ids == set(villages)
    assert views.model.total == len(python_filter(world, views.state.filter))


def test_map_click_on_a_grid_filters_too(qtbot, world_window):
    world, window, views = world_window
    window._select_grid_at(112.81, 35.46)  # south-west: 西南社区 (or deeper when visible)
    _settle(qtbot, views)
    (grid_id,) = views.state.filter.grid_ids
    assert world.grid_by_id(grid_id).code.startswith("140502001001")
    assert views.model.total == len(python_filter(world, views.state.filter))


def test_selecting_a_row_centres_and_flashes_its_pin(qtbot, world_window):
    world, window, views = world_window
    row = next(r for r in range(views.model.rowCount()) if views.model.case_at(r).lon is not None)
    case = views.model.case_at(row)
    views.view.selectRow(row)
    assert window.canvas.flashing
    centre = window.canvas.lonlat_at(window.canvas.width() / 2, window.canvas.height() / 2)
    assert centre == pytest.approx((case.lon, case.lat), abs=1e-6)


def test_one_time_range_drives_table_charts_and_map(qtbot, world_window):
    world, window, views = world_window
    views.bar._today = lambda: NOW.date()
    views.bar.time_combo.setCurrentIndex(2)
    views.bar.time_combo.activated.emit(2)  # 近7天
    _settle(qtbot, views)
    f = views.state.filter
    assert f.start == datetime(2024, 5, 14) and f.end == datetime(2024, 5, 21)
    assert _all_rows(qtbot, views) == _expected(world, views)
    assert [d.day for d in views.charts.trend_chart.days][0] == f.start.date()
    assert len(views.charts.trend_chart.days) == 7
    located = {r["id"] for r in python_filter(world, f) if r["lon"] is not None}
    qtbot.waitUntil(lambda: _shown_pins(window) == _visible_class(window, located))
    assert 0 < len(_shown_pins(window)) < len(window.layer_control.pins)


def test_excel_export_is_exactly_the_filtered_table(qtbot, world_window, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    world, window, views = world_window
    views.state.update(grid_ids={world.grids["140502001"].id}, sources={"群众举报", "巡查上报"})
    views.model.sort(views.model.SORT_COLUMNS.index("number"), Qt.SortOrder.AscendingOrder)
    _settle(qtbot, views)
    path = tmp_path / "cases.xlsx"
    job = views.export(str(path))
    with qtbot.waitSignal(job.succeeded, timeout=20_000) as done:
        pass
    expected = sorted(r["number"] for r in python_filter(world, views.state.filter))
    assert done.args == [str(path), len(expected)]
    book = openpyxl.load_workbook(path, read_only=True)
    numbers = [row[0] for row in book["案件"].iter_rows(min_row=2, values_only=True)]
    assert numbers == expected  # the same rows, in the table's order
    about = dict(book["筛选条件"].iter_rows(values_only=True))
    assert about["网格"] == "西街道" and "群众举报" in about["来源"]
    job.wait()


def test_case_changed_by_a_dialog_refreshes(qtbot, world_window):
    world, window, views = world_window
    calls = views.fetcher.count_calls
    window.case_actions.caseChanged.emit(world.rows[0]["id"])
    qtbot.waitUntil(lambda: views.fetcher.count_calls > calls, timeout=5000)
    _settle(qtbot, views)
    assert views.model.total == len(world.rows)
