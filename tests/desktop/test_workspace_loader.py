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
    assert (len(data.grids), len(data.sources), len(data.cases)) == (7, 10, 4)
    assert data.open_cases == 3
    assert data.grid(data.grids[0].id).level == 1
    keys = [layer.key for layer in data.layers]
    # Live layers (stations, case pins) come last: the canvas draws them above the rest.
    assert keys.index("grid-1-fill") < keys.index("grid-3") < keys.index("grid-1") < keys.index("sources") \
        < keys.index("grid-2-labels") < keys.index("stations") < keys.index("cases")
    grids = {layer.level: layer for layer in data.layers if isinstance(layer, GridLayer)}
    assert (grids[1].rings.ring_count, grids[2].rings.ring_count, grids[3].rings.ring_count) == (1, 2, 4)
    cases = next(layer for layer in data.layers if layer.key == "cases")
    assert isinstance(cases, CasePinLayer) and len(cases) == 4
    assert isinstance(next(layer for layer in data.layers if layer.key == "stations"), StationLayer)
    assert data.map_styles is None  # never saved


def test_case_classes_put_open_cases_on_top():
    assert PIN_CLASSES[state_class(CaseState.CLOSED)].key == "closed"
    assert state_class(CaseState.CLOSED) == 0
    assert PIN_CLASSES[state_class(CaseState.PENDING)].key == "new"
    assert PIN_CLASSES[-1].key == "overdue"  # drawn last, on top
    assert state_class(CaseState.RECHECK) not in (0, len(PIN_CLASSES) - 1)
