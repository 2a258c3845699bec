"""Case pins: colours by state, overdue red, closed hidden, incremental updates, alarm pulses."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import shapely
from PySide6.QtGui import QColor

from desktop import workspace_loader
from desktop.main_window import MainWindow
from desktop.widgets.map_canvas import BACKGROUND, MapCanvas
from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.map_layers import GridLayer, GridStyle
from desktop.widgets.pin_layer import PIN_CLASSES, CasePinLayer
from desktop.widgets.pin_pulse import PulseOverlay
from gis.domain import CaseSource, CaseState, CaseSummary

NOW = datetime.now()
BOX = (112.80, 35.45, 112.90, 35.55)
HEAD_ABOVE_TIP = 11.0 * 1.6 - 11.0 / 2  # pin 11 px wide, 17.6 tall: head centre 12.1 px above the tip


def case(case_id: int, state: str, lon: float, lat: float, *, due_in_h: float = 24, source: str = CaseSource.COMPLAINT,
         created_min_ago: float = 120) -> CaseSummary:
    return CaseSummary(case_id, f"AJ{case_id:06d}", source, "水污染", state, None, "", lon, lat,
                       NOW - timedelta(minutes=created_min_ago), NOW + timedelta(hours=due_in_h),
                       NOW if state == CaseState.CLOSED else None)


def colour_of(key: str) -> QColor:
    return QColor(next(c.colour for c in PIN_CLASSES if c.key == key))


def near(a: QColor, b: QColor, tolerance: int = 10) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a.getRgb()[:3], b.getRgb()[:3]))


def head_pixel(canvas: MapCanvas, lon: float, lat: float) -> QColor:
    """The colour of a pin's head (beside its white centre dot) whose tip is at lon/lat."""
    x, y = lonlat_to_mercator(lon, lat)
    sx, sy = canvas.viewport().world_to_screen(float(x), float(y))
    return canvas.grab().toImage().pixelColor(round(sx + 3.5), round(sy - HEAD_ABOVE_TIP))


@pytest.fixture
def canvas(qtbot):
    widget = MapCanvas()
    qtbot.addWidget(widget)
    widget.resize(500, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def show(qtbot, canvas, layers) -> None:
    with qtbot.waitSignal(canvas.renderFinished, timeout=10_000):
        canvas.set_layers(layers)
        canvas.zoom_to_bbox(BOX)


def test_pins_are_coloured_by_state_overdue_red_closed_hidden(qtbot, canvas):
    cases = [case(1, CaseState.PENDING, 112.82, 35.47), case(2, CaseState.DISPATCHED, 112.86, 35.47),
             case(3, CaseState.IN_PROGRESS, 112.82, 35.52),
             case(4, CaseState.IN_PROGRESS, 112.86, 35.52, due_in_h=-2),  # past its deadline
             case(5, CaseState.CLOSED, 112.88, 35.50)]
    pins = CasePinLayer(cases, now=NOW)
    show(qtbot, canvas, [pins])
    assert near(head_pixel(canvas, 112.82, 35.47), colour_of("new"))
    assert near(head_pixel(canvas, 112.86, 35.47), colour_of("dispatched"))
    assert near(head_pixel(canvas, 112.82, 35.52), colour_of("progress"))
    assert near(head_pixel(canvas, 112.86, 35.52), QColor("#e53935"))  # overdue is red
    assert pins.class_of(4) == "overdue"
    # Closed cases are hidden by default; shown, they are small faded dots.
    x, y = lonlat_to_mercator(112.88, 35.50)
    sx, sy = canvas.viewport().world_to_screen(float(x), float(y))
    assert canvas.grab().toImage().pixelColor(round(sx), round(sy)) == BACKGROUND
    with qtbot.waitSignal(canvas.renderFinished, timeout=10_000):
        pins.set_class_visible("closed", True)
    faded = canvas.grab().toImage().pixelColor(round(sx), round(sy))
    assert faded != BACKGROUND and not near(faded, colour_of("new"), 40)
    legend = {entry.key: entry for entry in pins.legend()}
    assert (legend["overdue"].count, legend["closed"].count, legend["new"].count) == (1, 1, 1)
    assert pins.legend()[0].key == "overdue"  # listed top first, as drawn


def test_deadline_passing_turns_a_pin_red(qtbot, canvas):
    pins = CasePinLayer([case(1, CaseState.DISPATCHED, 112.85, 35.50, due_in_h=1)], now=NOW)
    show(qtbot, canvas, [pins])
    assert pins.refresh_overdue(NOW + timedelta(minutes=30)) is False
    with qtbot.waitSignal(canvas.renderFinished, timeout=10_000):
        assert pins.refresh_overdue(NOW + timedelta(hours=2)) is True
    assert near(head_pixel(canvas, 112.85, 35.50), QColor("#e53935"))


def test_add_move_update_remove_render_only_the_pins(qtbot, canvas):
    grid = GridLayer(2, [1], ["测试网格"], [shapely.box(*BOX)], style=GridStyle("#0000ff", 3.0))
    pins = CasePinLayer([case(1, CaseState.PENDING, 112.82, 35.47)], now=NOW)
    show(qtbot, canvas, [grid, pins])
    static_jobs, live_jobs = canvas.last_job_id, canvas.live_renderer.jobs_started

    with qtbot.waitSignal(canvas.live_renderer.rendered, timeout=10_000):
        pins.add_pin(case(2, CaseState.DISPATCHED, 112.87, 35.52))
    assert near(head_pixel(canvas, 112.87, 35.52), colour_of("dispatched"))

    with qtbot.waitSignal(canvas.live_renderer.rendered, timeout=10_000):
        pins.move_pin(2, 112.84, 35.53)
    assert not near(head_pixel(canvas, 112.87, 35.52), colour_of("dispatched"))
    assert near(head_pixel(canvas, 112.84, 35.53), colour_of("dispatched"))

    with qtbot.waitSignal(canvas.live_renderer.rendered, timeout=10_000):
        pins.update_pin(case(1, CaseState.IN_PROGRESS, 112.82, 35.47))
    assert near(head_pixel(canvas, 112.82, 35.47), colour_of("progress"))

    with qtbot.waitSignal(canvas.live_renderer.rendered, timeout=10_000):
        pins.remove_pin(1)
    assert not near(head_pixel(canvas, 112.82, 35.47), colour_of("progress"))
    assert len(pins) == 1 and pins.ids() == [2]

    # A burst of updates in one event-loop turn renders once; the grids were never rendered again.
    with qtbot.waitSignal(canvas.live_renderer.rendered, timeout=10_000):
        for n in range(10, 60):
            pins.add_pin(case(n, CaseState.PENDING, 112.81 + n * 0.0015, 35.46))
    assert canvas.last_job_id == static_jobs
    assert canvas.live_renderer.jobs_started <= live_jobs + 5
    assert len(pins) == 51


def test_slots_are_reused_and_arrays_grow(qtbot):
    pins = CasePinLayer([], now=NOW)
    for n in range(100):
        pins.add_pin(case(n, CaseState.PENDING, 112.8 + n * 1e-3, 35.5))
    for n in range(0, 100, 2):
        pins.remove_pin(n)
    for n in range(100, 150):
        pins.add_pin(case(n, CaseState.DISPATCHED, 112.8, 35.5 + n * 1e-4))
    assert len(pins) == 100 and pins.xy_of(0) is None and pins.xy_of(149) is not None
    snapshot = pins.snapshot()
    assert len(snapshot.xy) == 100
    with pytest.raises(KeyError):
        pins.move_pin(0, 112.8, 35.5)


def test_new_alarm_pulses_on_an_overlay_and_stops(qtbot, canvas):
    pins = CasePinLayer([case(1, CaseState.PENDING, 112.82, 35.47)], now=NOW, pulse_seconds=1.2)
    show(qtbot, canvas, [pins])
    pulse = PulseOverlay(canvas, pins)
    assert not pulse.active  # an old complaint does not pulse
    with qtbot.waitSignal(canvas.live_renderer.rendered, timeout=10_000):
        pins.add_pin(case(2, CaseState.PENDING, 112.86, 35.52, source=CaseSource.ALARM, created_min_ago=0))
    assert pulse.active and 2 in pins.pulsing
    static_jobs, live_jobs = canvas.last_job_id, canvas.live_renderer.jobs_started
    qtbot.waitUntil(lambda: pulse.frames >= 2, timeout=3000)
    assert (canvas.last_job_id, canvas.live_renderer.jobs_started) == (static_jobs, live_jobs)  # only repaints
    qtbot.waitUntil(lambda: not pulse.active, timeout=4000)  # expired: the timer stops, idle CPU stays idle
    assert not pins.pulsing
    # Taking an alarm up stops its pulse at once.
    pins.add_pin(case(3, CaseState.PENDING, 112.84, 35.50, source=CaseSource.ALARM))
    assert pulse.active
    pins.update_pin(case(3, CaseState.DISPATCHED, 112.84, 35.50, source=CaseSource.ALARM))
    assert not pulse.active


def test_recent_alarms_pulse_when_the_workspace_opens():
    pins = CasePinLayer([case(1, CaseState.PENDING, 112.8, 35.5, source=CaseSource.ALARM, created_min_ago=5),
                         case(2, CaseState.PENDING, 112.8, 35.5, source=CaseSource.ALARM, created_min_ago=600)],
                        now=NOW)
    assert set(pins.pulsing) == {1}


def test_live_feed_updates_the_window_without_reloading(qtbot, workspace, monkeypatch):
    calls = []
    original = workspace_loader.load_workspace
    monkeypatch.setattr(workspace_loader, "load_workspace", lambda store: calls.append(1) or original(store))
    window = MainWindow(workspace.store, remember=False)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    with qtbot.waitSignal(window.mapReady, timeout=20_000):
        window.show()
    assert calls == [1]
    canvas, pins = window.canvas, window.layer_control.pins
    static_jobs = canvas.last_job_id
    before = len(pins)
    with qtbot.waitSignal(canvas.live_renderer.rendered, timeout=10_000):
        pins.add_pin(case(900, CaseState.PENDING, 112.83, 35.48, source=CaseSource.ALARM, created_min_ago=0))
    assert len(pins) == before + 1 and window.layer_control.pulse.active
    with qtbot.waitSignal(canvas.live_renderer.rendered, timeout=10_000):
        pins.move_pin(900, 112.84, 35.49)
    with qtbot.waitSignal(canvas.live_renderer.rendered, timeout=10_000):
        pins.remove_pin(900)
    assert len(pins) == before and not window.layer_control.pulse.active
    assert calls == [1] and canvas.last_job_id == static_jobs
    window.close()
