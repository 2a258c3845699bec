"""The wall's district map: the app's canvas and layers in the dark wall style, a title, a legend.

``load(store)`` reads grids (levels 1–3), stations with their latest values and the open cases in
a worker thread and builds the grid layers there (projection and simplification stay off the GUI
thread); ``loaded(change_id)`` says from where the change feed should follow. After that the map
is kept current in place: ``apply_cases`` for the cases a batch of changes named (a new alarm case
pulses), ``set_readings`` for the stations' colours. ``show_view`` zooms to a playlist view and
outlines its grid; the title names it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout

from desktop.display.panels import role_label
from desktop.display.playlist import MapView
from desktop.display.theme import Scale
from desktop.display.wall_layers import (
    SYMBOL_FACTOR, WALL_LEVELS, WallAqiNumbers, WallMapCanvas, WallPinLayer, WallStationLayer, wall_grid_layers,
)
from desktop.render_command import read_map_data
from desktop.widgets.map_layers import HighlightLayer
from desktop.widgets.pin_layer import PIN_CLASSES
from desktop.widgets.pin_pulse import PulseOverlay
from desktop.widgets.station_layer import STATION_CLASSES
from desktop.workers import run_in_background
from gis.aqi import LEVELS
from gis.domain import OPEN_STATES, CaseSource
from gis.storage.changes import latest_change_id
from gis.storage.map_pins import read_pin_cases

log = logging.getLogger(__name__)
VIEW_OUTLINE = {"grid": ((63, 169, 255, 28), (92, 200, 255, 255)), "alarm": ((255, 77, 79, 40), (255, 77, 79, 255))}
LEGEND_PINS = ("new", "dispatched", "progress", "overdue")
SHORT_LEVEL = {1: "优", 2: "良", 3: "轻度", 4: "中度", 5: "重度", 6: "严重"}


@dataclass
class MapData:
    """What one load read: grid rows (id, name, level, boundary), stations, latest values, open cases."""

    grids: list
    stations: list
    latest: dict
    cases: list
    change_id: int
    layers: list

    @property
    def district_name(self) -> str:
        return next((g.name for g in self.grids if g.level == 1), "")


def read_map(connection, scale: Scale) -> MapData:
    """Worker thread: the map's rows (as ``envgrid render`` reads them) and its grid layers, built."""
    change_id = latest_change_id(connection)  # first: a change after it is applied even if read below
    data = read_map_data(connection, levels=WALL_LEVELS, sources=False, cases=False)
    cases, _window = read_pin_cases(connection, closed_days=0)
    layers = wall_grid_layers(data.grids, scale.unit, scale.small)
    return MapData(data.grids, data.stations, data.latest, cases, change_id, layers)


def _read_map(store, scale: Scale) -> MapData:
    with store.engine.connect() as connection:
        return read_map(connection, scale)


class MapPanel(QFrame):
    loaded = Signal(object)   # the change id the feed should follow from
    failed = Signal(str)
    ready = Signal()          # the first picture after a load is on screen

    def __init__(self):
        super().__init__()
        self.setObjectName("panel")
        box = QVBoxLayout(self)
        head = QHBoxLayout()
        self.heading = role_label("区域态势", "title")
        self.position = role_label("", "dim")
        head.addWidget(self.heading, 1)
        head.addWidget(self.position)
        box.addLayout(head)
        self.canvas = WallMapCanvas()
        box.addWidget(self.canvas, 1)
        self.legend = role_label("", "dim")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)   # a narrow wall wraps it rather than growing
        box.addWidget(self.legend)
        self.scale = Scale(1080)
        self.data: MapData | None = None
        self.stations: WallStationLayer | None = None
        self.pins: WallPinLayer | None = None
        self.view: MapView | None = None
        self.loading = False
        self._load_again = None
        self._states: dict[int, str] = {}   # case id → state last shown
        self._await_render = False
        self.canvas.renderFinished.connect(self._on_render)
        self.pulse = PulseOverlay(self.canvas, scale=SYMBOL_FACTOR)
        self._write_legend()

    def apply_scale(self, scale: Scale) -> None:
        self.scale = scale
        self.pulse.scale = SYMBOL_FACTOR * scale.unit
        if self.data is not None:  # sizes are baked into the layers: build them again (rare: a resize of the wall)
            self.data.layers = wall_grid_layers(self.data.grids, scale.unit, scale.small)
            self._adopt(self.data)

    # -- loading -----------------------------------------------------------------------------------
    def load(self, store) -> None:
        """Read the map again (off the GUI thread); asked during a load, once more after it."""
        if self.loading:
            self._load_again = store
            return
        self.loading, self._load_again = True, None
        scale = self.scale
        run_in_background(lambda: _read_map(store, scale), self._on_loaded, self._on_failed, receiver=self)

    def _finish_load(self) -> None:
        self.loading = False
        if self._load_again is not None:
            self.load(self._load_again)

    def _on_loaded(self, data: MapData) -> None:
        self.data = data
        self._adopt(data)
        self._finish_load()
        self.loaded.emit(data.change_id)

    def _on_failed(self, exc: Exception) -> None:
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        log.warning("display: cannot read the map: %s", message)
        self._finish_load()
        self.failed.emit(message)

    def _adopt(self, data: MapData) -> None:
        symbols = SYMBOL_FACTOR * self.scale.unit
        self.stations = WallStationLayer(data.stations, data.latest, scale=symbols, number_px=self.scale.small)
        self.pins = WallPinLayer(data.cases, scale=symbols)
        self._states = {case.id: case.state for case in data.cases}
        self.pulse.set_pins(self.pins)
        self._await_render = True
        self._set_layers(zoom_to_full=self.view is None)
        if self.view is not None:
            self.show_view(self.view)

    def _set_layers(self, *, zoom_to_full: bool = False) -> None:
        """Grids, then the stations' AQI numbers (placed after the towns' names), then the live layers."""
        numbers = WallAqiNumbers(self.stations.snapshot())
        self.canvas.set_layers([*self.data.layers, numbers, self.stations, self.pins], zoom_to_full=zoom_to_full)

    def _on_render(self) -> None:
        if self._await_render:
            self._await_render = False
            self.ready.emit()

    def shutdown(self) -> None:
        self.pulse.timer.stop()
        self.canvas.shutdown()

    # -- live --------------------------------------------------------------------------------------
    def apply_cases(self, asked, found: dict, fresh=frozenset()) -> None:
        """The cases ``asked`` for as read again (``found``; missing: deleted). Open ones are pins;
        a case inserted in this batch (``fresh``) that is an alarm pulses."""
        pins = self.pins
        if pins is None:
            return
        for case_id in asked:
            case = found.get(case_id)
            old_state = self._states.get(case_id)
            if case is None or case.state not in OPEN_STATES or case.lon is None:
                self._states.pop(case_id, None)
                pins.remove_pin(case_id)
                continue
            self._states[case_id] = case.state
            if pins.xy_of(case_id) is None:
                alarm = case_id in fresh and case.source == CaseSource.ALARM
                pins.add_pin(case, pulse=True if alarm else None)
                continue
            pulse_until = pins.pulsing.get(case_id)
            pins.update_pin(case)
            # An alarm dispatched on arrival keeps pulsing until its state really changes (as live_apply).
            if pulse_until is not None and old_state == case.state and case_id not in pins.pulsing:
                pins.pulsing[case_id] = pulse_until
                pins.changed()

    def set_readings(self, latest: dict) -> None:
        if self.stations is not None:
            before = self.stations.aqi
            self.stations.set_readings(latest)
            if not np.array_equal(before, self.stations.aqi):
                self._set_layers()   # the numbers are static: the map is drawn again (hourly at most)

    def refresh_overdue(self) -> None:
        if self.pins is not None:
            self.pins.refresh_overdue()

    # -- views -------------------------------------------------------------------------------------
    def show_view(self, view: MapView | None, position: str = "") -> None:
        self.view = view
        if view is None:
            return
        self.heading.setText(view.name)
        self.position.setText(position)
        outline = VIEW_OUTLINE.get(view.kind)
        self.canvas.set_highlight(None if outline is None or view.geometry is None else
                                  HighlightLayer(view.geometry, fill=outline[0], outline=outline[1],
                                                 width=3.0 * self.scale.unit))
        self.canvas.zoom_to_bbox(view.bbox)

    def _write_legend(self) -> None:
        dots = "　".join(f"<span style='color:{level.colour}'>●</span>{SHORT_LEVEL[level.number]}" for level in LEVELS)
        pins = {c.key: c for c in PIN_CLASSES}
        marks = "　".join(f"<span style='color:{pins[key].colour}'>▼</span>{pins[key].label}" for key in LEGEND_PINS)
        kinds = {c.key: c for c in STATION_CLASSES}
        others = "　".join(f"<span style='color:{kinds[key].colour}'>{mark}</span>{kinds[key].label}"
                          for key, mark in (("water", "▲"), ("outlet", "■")))
        self.legend.setText(f"空气站 AQI　{dots}<br>案件　{marks}　　{others}")
