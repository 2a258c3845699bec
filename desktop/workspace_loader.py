"""Reading a workspace for the window, off the GUI thread.

``load_workspace`` is plain Python (it runs anywhere, tests call it directly);
``WorkspaceLoadThread`` runs it in a QThread with its own connection from
``store.engine`` and hands the result back through a queued signal. The map
layers are built there too, so the projection to Web Mercator happens once and
never on the GUI thread.

Cases are read for the map's pins and the map's counts only: every open case plus those
closed recently (``gis.storage.map_pins``: the last 30 days by default, workspace setting
``map_pin_closed_days``), never the whole history — the case table pages through that
itself. ``WorkspaceData.total_cases`` is the workspace's count, ``cases`` what is pinned.
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
from gis.grid_statistics import grid_statistics
from gis.map_styles import MapStyles
from gis.storage.map_pins import PinWindow
from gis.storage.store import Store

MAP_LEVELS = (1, 2, 3, 4)  # level-5 units are points of interest, not area grids


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
    pin_window: PinWindow | None = None  # which cases ``cases`` holds (open + recently closed)
    total_cases: int | None = None       # every case in the workspace (None: ``len(cases)``)
    grid_stats: dict = field(default_factory=dict)  # gis.grid_statistics: statistic → grid id → value
    change_id: int | None = None  # the change feed's position before the reads: live updates follow from it

    def __post_init__(self):
        self._grid_by_id = {grid.id: grid for grid in self.grids}

    def grid(self, grid_id: int) -> Grid | None:
        return self._grid_by_id.get(grid_id)

    @property
    def case_count(self) -> int:
        return len(self.cases) if self.total_cases is None else self.total_cases

    @property
    def open_cases(self) -> int:
        return sum(1 for case in self.cases if case.state in OPEN_STATES)


def build_map_layers(grids: list[Grid], sources: list, categories: list[tuple[int, str, str]],
                     cases: list[CaseSummary], stations: list = (), latest_readings: dict | None = None,
                     pin_window: PinWindow | None = None) -> list[MapLayer]:
    """Bottom to top: area fills, finest grids, coarser grids, sources, grid names; then the live
    layers (stations, case pins), which the canvas draws above all of those."""
    grid_set = grid_layers(grids, levels=MAP_LEVELS)
    layers: list[MapLayer] = [*grid_set.fills, *grid_set.outlines, source_layer_from_ledger(sources, categories)]
    labels = grid_set.labels
    # Live layers: updated in place by the live feed, rendered apart from the rest (pin_layer).
    pins = CasePinLayer(cases)
    if pin_window is not None:
        pins.describe_window(pin_window.closed_days, pin_window.describe())
    live = [StationLayer(stations, latest_readings or {}), pins]
    return layers + labels + live


def load_workspace(store: Store, *, closed_days: int | None = None) -> WorkspaceData:
    """Everything the main window shows, read in one connection.

    ``closed_days``: pin cases closed this many days back (default: the workspace's setting, 30).
    """
    from gis.map_styles import SETTING_KEY
    from gis.storage.map_pins import read_pin_cases
    from gis.storage.changes import latest_change_id
    from gis.storage.grids import read_grids
    from gis.storage.info import get_setting
    from gis.storage.readings import latest_hourly_by_station, read_stations
    from gis.storage.sources import read_source_categories, read_sources

    started = time.perf_counter()
    with store.engine.connect() as connection:
        # First, in the same connection: a change after it is applied even if a read below saw it
        # already (idempotent), and none committed before the reads is missed (gis.storage.changes).
        change_id = latest_change_id(connection)
        demo = bool(get_setting(connection, "demo", False))
        grids = read_grids(connection)
        categories = read_source_categories(connection)
        sources = read_sources(connection)
        cases, pin_window = read_pin_cases(connection, closed_days=closed_days)
        stations = read_stations(connection, active_only=True)
        latest = latest_hourly_by_station(connection)
        saved_styles = get_setting(connection, SETTING_KEY)
    data = WorkspaceData(store.display_name, demo, grids, sources, categories, cases, stations=stations,
                         map_styles=None if saved_styles is None else MapStyles.from_json(saved_styles),
                         pin_window=pin_window, total_cases=pin_window.total_cases)
    data.layers = build_map_layers(grids, sources, categories, cases, stations, latest, pin_window)
    data.grid_stats = grid_statistics(grids, sources, cases)
    data.seconds = time.perf_counter() - started
    data.change_id = change_id
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
