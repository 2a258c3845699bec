"""Reading a workspace for the window, on SQLite and (in CI) PostgreSQL."""
from __future__ import annotations

from desktop.widgets.map_layers import GridLayer
from desktop.widgets.pin_layer import PIN_CLASSES, CasePinLayer, state_class
from desktop.widgets.station_layer import StationLayer
from desktop.workspace_loader import load_workspace
from gis.domain import CaseState
from small_workspace import build_small_workspace


def test_load_workspace_reads_everything_and_builds_layers(store):
    build_small_workspace(store, demo=True)
    data = load_workspace(store)
    assert data.demo is True
    # Pins: every open case; the one closed on 2024-05-20 is outside the 30-day window.
    assert (len(data.grids), len(data.sources), len(data.cases)) == (7, 10, 3)
    assert data.open_cases == 3 and data.total_cases == data.case_count == 4
    assert data.grid(data.grids[0].id).level == 1
    keys = [layer.key for layer in data.layers]
    # Live layers (stations, case pins) come last: the canvas draws them above the rest.
    assert keys.index("grid-1-fill") < keys.index("grid-3") < keys.index("grid-1") < keys.index("sources") \
        < keys.index("grid-2-labels") < keys.index("stations") < keys.index("cases")
    grids = {layer.level: layer for layer in data.layers if isinstance(layer, GridLayer)}
    assert (grids[1].rings.ring_count, grids[2].rings.ring_count, grids[3].rings.ring_count) == (1, 2, 4)
    cases = next(layer for layer in data.layers if layer.key == "cases")
    assert isinstance(cases, CasePinLayer) and len(cases) == 3
    assert "30" in cases.title and "近 30 天" in cases.description
    assert isinstance(next(layer for layer in data.layers if layer.key == "stations"), StationLayer)
    assert data.map_styles is None  # never saved


def test_case_classes_put_open_cases_on_top():
    assert PIN_CLASSES[state_class(CaseState.CLOSED)].key == "closed"
    assert state_class(CaseState.CLOSED) == 0
    assert PIN_CLASSES[state_class(CaseState.PENDING)].key == "new"
    assert PIN_CLASSES[-1].key == "overdue"  # drawn last, on top
    assert state_class(CaseState.RECHECK) not in (0, len(PIN_CLASSES) - 1)


def test_pins_cover_open_cases_and_a_bounded_window_of_closed_ones(store):
    from datetime import timedelta

    from gis.storage.info import put_setting
    from gis.storage.map_pins import read_pin_cases
    from small_workspace import NOW

    build_small_workspace(store)
    with store.engine.connect() as connection:
        recent, window = read_pin_cases(connection, now=NOW + timedelta(days=10))
        stale, _ = read_pin_cases(connection, now=NOW + timedelta(days=31))
        open_only, none = read_pin_cases(connection, closed_days=0, now=NOW)
    assert [c.state for c in recent].count(CaseState.CLOSED) == 1 and len(recent) == 4
    assert window.closed_days == 30 and window.total_cases == 4
    assert len(stale) == 3 and all(c.state != CaseState.CLOSED for c in stale)
    assert len(open_only) == 3 and none.closed_days == 0 and "不含已办结" in none.describe()
    assert [c.created_at for c in recent] == sorted((c.created_at for c in recent), reverse=True)
    with store.engine.begin() as connection:
        put_setting(connection, "map_pin_closed_days", 5000)  # the workspace asks for a longer window
    data = load_workspace(store)
    assert len(data.cases) == 4 and data.pin_window.closed_days == 3650  # capped at ten years
    assert len(load_workspace(store, closed_days=0).cases) == 3


def test_grid_statistics_roll_up_the_hierarchy(store):
    from datetime import datetime

    from gis.grid_statistics import GRID_STATISTICS, grid_statistics

    build_small_workspace(store)
    data = load_workspace(store, closed_days=3650)
    stats = grid_statistics(data.grids, data.sources, data.cases, now=datetime(2030, 1, 1))
    assert set(stats) == set(GRID_STATISTICS)
    district = next(g for g in data.grids if g.level == 1)
    assert stats["sources"][district.id] == sum(1 for s in data.sources if s.grid_id is not None)
    assert stats["open_cases"][district.id] == 3
    assert stats["overdue_cases"][district.id] == 3  # in 2030 every open case is past its deadline
    for grid in data.grids:
        children = [g for g in data.grids if g.parent_id == grid.id]
        if children:  # a parent holds at least what its children hold
            assert stats["open_cases"][grid.id] >= sum(stats["open_cases"][c.id] for c in children)
