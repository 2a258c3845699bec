"""The wall's panels: the district map, the AQI chart, the alarm task list, the map playlist, the text floor."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import shapely
from PySide6.QtCore import QSettings
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QLabel
from small_workspace import MID_LAT, MID_LON, NORTH, SOUTH, WEST, build_small_workspace

from desktop.display.aqi_chart import MAX_LINES, lines_to_draw, short_station_name
from desktop.display.panels import TextRows, task_text
from desktop.display.playlist import SETTING_KEY, Playlist, build_playlist
from desktop.display.snapshot import StationSeries
from desktop.display.wall_layers import PX_TO_PT, WALL_LEVELS
from desktop.display.window import DisplayWindow
from desktop.widgets.charts import pollutant_name
from desktop.widgets.map_geometry import mercator_bbox
from gis.domain import OPEN_STATES, CaseSource
from gis.storage import schema
from gis.storage.store import open_store
from gis.workflow.cases import create_case

AIR = (("城区空气自动监测站", "a34004", 180.0), ("西郊空气自动监测站", "a34004", 20.0), ("北山空气自动监测站", None, 0.0))
POLLUTANTS = ("a34004", "a21026", "a34002", "a21004", "a05024", "a21005", "a21026")


def _add_stations_and_alarms(store, now: datetime) -> dict:
    """Three air stations (two with 24 h of hourly PM2.5, one silent), a water station, one alarm task
    per entry of POLLUTANTS in the villages; returns ids."""
    with store.engine.begin() as connection:
        villages = [r.id for r in connection.execute(schema.grids.select().where(schema.grids.c.level == 3))]
        ids = {}
        for n, (name, code, value) in enumerate(AIR + (("白水河断面水质站", None, 0.0),)):
            lon, lat = WEST + 0.015 + 0.02 * n, MID_LAT + 0.01 * (n % 2)
            ids[name] = connection.execute(schema.stations.insert().values(
                mn=f"8888888800000{n}", name=name, kind="water" if "水质" in name else "air",
                location=shapely.Point(lon, lat), lon=lon, lat=lat, active=True, created_at=now)
                .returning(schema.stations.c.id)).scalar_one()
            if code:
                hour = now.replace(minute=0, second=0, microsecond=0)
                connection.execute(schema.readings.insert(), [
                    {"station_id": ids[name], "mn": f"8888888800000{n}", "cn": "2061",
                     "data_time": hour - timedelta(hours=h), "pollutant": code, "avg": value + h, "flag": "N",
                     "received_at": now} for h in range(24)])
        station = ids[AIR[0][0]]
        connection.execute(schema.alarms.insert(), [
            {"station_id": station, "pollutant": code, "value": 200.0, "threshold": 75.0,
             "raised_at": now - timedelta(minutes=len(POLLUTANTS) - i), "grid_id": villages[i % len(villages)],
             "case_id": None, "status": "待反馈", "due_at": now + timedelta(hours=1 + i), "feedback": ""}
            for i, code in enumerate(POLLUTANTS)])
    return ids


@pytest.fixture
def wall_url(tmp_path):
    url = str(tmp_path / "wall.sqlite")
    store = open_store(url)
    build_small_workspace(store)
    _add_stations_and_alarms(store, datetime.now())
    store.close()
    return url


def _open_wall(qtbot, store, width=1920, height=1080, **kwargs) -> DisplayWindow:
    win = DisplayWindow(store, height=height, live=kwargs.pop("live", False), **kwargs)
    qtbot.addWidget(win)
    win.resize(width, height)
    with qtbot.waitSignal(win.refreshed, timeout=15_000):
        win.show()
    return win


def test_the_map_shows_grids_stations_and_open_cases_from_the_database(qtbot, wall_store):
    win = _open_wall(qtbot, wall_store)
    canvas = win.map_panel.canvas
    assert canvas.last_image()[0] is not None   # the first picture was painted before ``refreshed``
    with wall_store.engine.connect() as connection:
        levels = {r.level for r in connection.execute(schema.grids.select())}
        stations = connection.execute(schema.stations.select()).all()
        cases = connection.execute(schema.cases.select()).all()
    keys = {layer.key for layer in canvas.layers()}
    assert {f"grid-{level}" for level in levels if level in WALL_LEVELS} <= keys
    assert not {f"grid-{level}" for level in levels if level not in WALL_LEVELS} & keys
    layer = win.map_panel.stations
    assert len(layer) == len(stations)
    by_name = {s.name: s.id for s in stations}
    assert layer.class_of(by_name[AIR[0][0]]) == "aqi5"   # PM2.5 180 µg/m³ in the last hour: 重度污染
    assert layer.class_of(by_name[AIR[1][0]]) == "aqi1"
    assert layer.class_of(by_name[AIR[2][0]]) == "aqi-none"
    pins = win.map_panel.pins
    assert sorted(pins.ids()) == sorted(c.id for c in cases if c.state in OPEN_STATES)


def test_a_new_alarm_case_appears_on_the_map_and_pulses(qtbot, wall_url):
    store, seat = open_store(wall_url), open_store(wall_url)
    win = _open_wall(qtbot, store, live=True)
    qtbot.waitUntil(lambda: win.feed.state is not None and win.feed.state.connected, timeout=5000)
    assert not win.map_panel.pulse.active   # nothing pulses: no timer runs
    with seat.engine.begin() as connection:
        case = create_case(connection, source=str(CaseSource.ALARM), category="water", actor="监测报警",
                           description="PM2.5 超标", lon=MID_LON, lat=MID_LAT)
    pins = win.map_panel.pins
    qtbot.waitUntil(lambda: pins.xy_of(case.id) is not None, timeout=3000)
    assert case.id in pins.pulsing and win.map_panel.pulse.active
    win.close()
    seat.close()
    store.close()


def test_the_chart_has_one_curve_per_station_with_data(qtbot, wall_store):
    win = _open_wall(qtbot, wall_store)
    series = win.snapshot.aqi
    with_data = [s.station_id for s in series if any(aqi is not None for _at, aqi in s.points)]
    assert len(series) == len(AIR) and 0 < len(with_data) < len(series)
    assert sorted(win.aqi_chart.curves) == sorted(with_data)
    for station in series:
        if station.station_id in with_data:
            x, y = win.aqi_chart.curves[station.station_id].getData()
            assert list(y) == [aqi for _at, aqi in station.points]
    legend = win.aqi_chart.legend.shown()
    assert len(legend) == len(with_data) <= win.aqi_chart.legend.fitting()
    assert [(row.text, row.value) for row in legend] == [(short_station_name(s.name), str(s.latest))
                                                         for s in win.aqi_chart.shown]


def test_the_chart_keeps_the_worst_stations_when_there_are_many():
    now = datetime(2026, 11, 23, 12)
    series = [StationSeries(i, f"站{i}", ((now, 40 + 10 * i),)) for i in range(MAX_LINES + 3)]
    series.append(StationSeries(99, "无数据站", ((now, None),)))
    kept = lines_to_draw(series)
    assert len(kept) == MAX_LINES
    worst = sorted((s.latest for s in series if s.latest is not None), reverse=True)
    assert [s.latest for s in kept] == worst[:MAX_LINES]


def test_alarm_tasks_name_their_pollutant_and_end_with_the_rest(qtbot, wall_store):
    win = _open_wall(qtbot, wall_store)
    panel = win.alarm_panel
    rows = panel.list.shown()
    assert win.snapshot.alarm_total == len(POLLUTANTS) > panel.list.fitting() == len(rows)
    shown = panel.shown
    assert len(shown) == len(rows) - 1
    for task, row in zip(shown, rows):
        assert task.pollutant not in row.text and pollutant_name(task.pollutant) in row.text
        assert row.text == task_text(task) and row.value
    assert rows[-1].text == f"及其他 {len(POLLUTANTS) - len(shown)} 条" and rows[-1].value == ""


def test_all_tasks_fit_without_a_rest_line(qtbot, wall_store):
    with wall_store.engine.begin() as connection:
        keep = [r.id for r in connection.execute(schema.alarms.select().order_by(schema.alarms.c.due_at))][:3]
        connection.execute(schema.alarms.delete().where(schema.alarms.c.id.not_in(keep)))
    win = _open_wall(qtbot, wall_store)
    rows = win.alarm_panel.list.shown()
    assert win.alarm_panel.shown == win.snapshot.alarms and len(win.snapshot.alarms) == 3
    assert [row.text for row in rows] == [task_text(task) for task in win.snapshot.alarms]   # no "及其他" line


def test_a_short_panel_shows_fewer_alarm_rows_and_counts_the_rest(qtbot, wall_store):
    win = _open_wall(qtbot, wall_store, 1280, 720)
    panel = win.alarm_panel
    full = panel.list.fitting()
    panel.list.setFixedHeight(2 * panel.list.line)   # room for two rows: one task and the rest
    qtbot.waitUntil(lambda: panel.list.fitting() == 2)
    rows = panel.list.shown()
    assert len(rows) == 2 < full and rows[0].text == task_text(panel.tasks[0])
    assert rows[1].text == f"及其他 {len(POLLUTANTS) - 1} 条"


def test_rotation_goes_through_district_towns_and_the_newest_alarm(qtbot, wall_store):
    win = _open_wall(qtbot, wall_store, rotate_seconds=20)
    assert win._rotate_timer.isActive() and win._rotate_timer.interval() == 20_000
    with wall_store.engine.connect() as connection:
        towns = connection.execute(schema.grids.select().where(schema.grids.c.level == 2)
                                   .order_by(schema.grids.c.level, schema.grids.c.code)).all()
        newest = connection.execute(schema.alarms.select().order_by(schema.alarms.c.raised_at.desc())).first()
        alarm_grid = connection.execute(schema.grids.select().where(schema.grids.c.id == newest.grid_id)).one()
    views = win.playlist.views
    assert [v.kind for v in views] == ["district"] + ["grid"] * len(towns) + ["alarm"]
    assert [v.name for v in views[1:-1]] == [t.name for t in towns]
    assert alarm_grid.name in views[-1].name
    canvas = win.map_panel.canvas
    seen = [win.map_panel.heading.text()]
    for n in range(len(views)):
        win._rotate_timer.timeout.emit()   # what the timer does every 20 s
        view = win.playlist.current
        seen.append(win.map_panel.heading.text())
        assert seen[-1] == view.name
        min_x, min_y, max_x, max_y = mercator_bbox(view.bbox)
        shown = canvas.viewport().extent
        assert shown[0] <= min_x and shown[1] <= min_y and shown[2] >= max_x and shown[3] >= max_y
        assert (canvas.highlight() is None) == (view.kind == "district")
    assert seen == [v.name for v in views] + [views[0].name]   # round and back to the district


def test_rotation_off_and_the_machine_setting(qtbot, wall_store):
    off = _open_wall(qtbot, wall_store, rotate_seconds=0)
    assert not off._rotate_timer.isActive()
    QSettings("EnvGrid", "EnvGrid").setValue(SETTING_KEY, 45)
    configured = _open_wall(qtbot, wall_store)
    assert configured.rotate_seconds == 45 and configured._rotate_timer.interval() == 45_000


def test_the_playlist_keeps_its_place_when_rebuilt():
    grids = [type("G", (), {"id": i, "name": f"G{i}", "level": 1 if i == 0 else 2,
                            "boundary": shapely.box(WEST + i * 0.01, SOUTH, WEST + i * 0.01 + 0.01, NORTH)})()
             for i in range(4)]
    playlist = Playlist(build_playlist("城区", grids))
    playlist.advance()
    playlist.advance()
    here = playlist.current
    alarm = type("A", (), {"name": "某网格", "boundary": shapely.box(WEST, SOUTH, WEST + 0.001, SOUTH + 0.001)})()
    assert not playlist.set_views(build_playlist("城区", grids, alarm))
    assert playlist.current == here and playlist.views[-1].kind == "alarm"
    district = playlist.views[0].bbox
    alarm_box = playlist.views[-1].bbox
    assert alarm_box[2] - alarm_box[0] >= 0.3 * (district[2] - district[0])   # shown with its surroundings


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_no_text_on_the_wall_is_smaller_than_a_fortieth(qtbot, wall_store, width, height):
    win = _open_wall(qtbot, wall_store, width, height)
    floor = height / 40 - 0.5
    labels = win.findChildren(QLabel)
    assert min(label.fontInfo().pixelSize() for label in labels) >= floor
    rows = win.findChildren(TextRows)
    assert len(rows) == 4 and all(QFontInfo(font).pixelSize() >= floor for r in rows for font in r.fonts())
    assert all(font.pixelSize() >= floor for font in win.aqi_chart.tick_fonts())
    text_layers = [layer for layer in win.map_panel.canvas.layers() if getattr(layer, "style", None)
                   and layer.style.label_pt]
    assert text_layers and all(layer.style.label_pt / PX_TO_PT >= floor for layer in text_layers)
    assert win.map_panel.stations.snapshot().number_px >= floor
    assert win.grab().size().height() == height   # everything fits: the layout did not grow the window
