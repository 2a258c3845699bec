"""Reading a workspace for the window, off the GUI thread.

``load_workspace`` is plain Python (it runs anywhere, tests call it directly);
``WorkspaceLoadThread`` runs it in a QThread with its own connection from
``store.engine`` and hands the result back through a queued signal. The map
layers are built there too, so the projection to Web Mercator happens once and
never on the GUI thread.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from PySide6.QtCore import QThread, Signal

from desktop.widgets.map_build import grid_layers, source_layer_from_ledger
from desktop.widgets.map_layers import MapLayer
from desktop.widgets.pin_layer import CasePinLayer
from desktop.widgets.station_layer import StationLayer
from gis.domain import OPEN_STATES, CaseSummary, Grid
from gis.map_styles import MapStyles
from gis.storage.store import Store

MAP_LEVELS = (1, 2, 3, 4)  # level-5 units are points of interest, not area grids

# Twelve well-separated colours (Tableau-like); category order picks them.
SOURCE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                  "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#843c39", "#7b4173")


def _rgba(hex_colour: str, alpha: int = 235) -> tuple[int, int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha


@dataclass
class WorkspaceData:
    display_name: str
    demo: bool
    grids: list[Grid]
    sources: list
    source_categories: list[tuple[int, str, str]]
    cases: list[CaseSummary]
    layers: list[MapLayer] = field(default_factory=list)
    seconds: float = 0.0
    stations: list = field(default_factory=list)
    map_styles: MapStyles | None = None  # None: the workspace never saved any

    def __post_init__(self):
        self._grid_by_id = {grid.id: grid for grid in self.grids}

    def grid(self, grid_id: int) -> Grid | None:
        return self._grid_by_id.get(grid_id)

    @property
    def open_cases(self) -> int:
        return sum(1 for case in self.cases if case.state in OPEN_STATES)


def build_map_layers(grids: list[Grid], sources: list, categories: list[tuple[int, str, str]],
                     cases: list[CaseSummary], stations: list = (), latest_readings: dict | None = None,
                     ) -> list[MapLayer]:
    """Bottom to top: area fills, finest grids, coarser grids, sources, grid names; then the live
    layers (stations, case pins), which the canvas draws above all of those."""
    grid_set = grid_layers(grids, levels=MAP_LEVELS)
    layers: list[MapLayer] = [*grid_set.fills, *grid_set.outlines, source_layer_from_ledger(sources, categories)]
    labels = grid_set.labels
    # Live layers: updated in place by the live feed, rendered apart from the rest (pin_layer).
    live = [StationLayer(stations, latest_readings or {}), CasePinLayer(cases)]
    return layers + labels + live


def load_workspace(store: Store) -> WorkspaceData:
    """Everything the main window shows, read in one connection."""
    from gis.map_styles import SETTING_KEY
    from gis.storage.cases import read_case_summaries
    from gis.storage.grids import read_grids
    from gis.storage.info import get_setting
    from gis.storage.readings import latest_hourly_by_station, read_stations
    from gis.storage.sources import read_source_categories, read_sources

    started = time.perf_counter()
    with store.engine.connect() as connection:
        demo = bool(get_setting(connection, "demo", False))
        grids = read_grids(connection)
        categories = read_source_categories(connection)
        sources = read_sources(connection)
        cases = read_case_summaries(connection)
        stations = read_stations(connection, active_only=True)
        latest = latest_hourly_by_station(connection)
        saved_styles = get_setting(connection, SETTING_KEY)
    data = WorkspaceData(store.display_name, demo, grids, sources, categories, cases, stations=stations,
                         map_styles=None if saved_styles is None else MapStyles.from_json(saved_styles))
    data.layers = build_map_layers(grids, sources, categories, cases, stations, latest)
    data.seconds = time.perf_counter() - started
    return data


class WorkspaceLoadThread(QThread):
    """Runs :func:`load_workspace`; ``loaded``/``failed`` arrive queued in the GUI thread."""

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self._store = store

    def run(self) -> None:
        try:
            data = load_workspace(self._store)
        except Exception as exc:  # shown to the user; the window stays usable
            self.failed.emit(f"{exc.__class__.__name__}: {exc}")
            return
        self.loaded.emit(data)
