"""Monitoring stations coloured by their current AQI level (HJ 633-2012)."""
from __future__ import annotations

from datetime import datetime

import pytest
import shapely
from PySide6.QtGui import QColor
from small_workspace import build_small_workspace
from sqlalchemy import insert

from desktop.widgets.map_canvas import MapCanvas
from desktop.widgets.map_geometry import lonlat_to_mercator
from desktop.widgets.station_layer import STATION_CLASSES, StationLayer
from desktop.workspace_loader import load_workspace
from gis.aqi import LEVELS, aqi_level, station_hour_aqi
from gis.storage import schema
from gis.storage.readings import StationPoint

PM25, SO2, NO2, WATER_COD = "a34004", "a21026", "a21004", "w01018"
# Hourly PM2.5 concentrations (24-h table) that land in each of the six levels.
PM25_PER_LEVEL = (20.0, 60.0, 100.0, 130.0, 200.0, 400.0)


def stations_with_readings():
    stations = [StationPoint(n + 1, f"MN{n}", f"空气站{n}", "air", 112.81 + 0.015 * n, 35.50) for n in range(6)]
    stations += [StationPoint(7, "MN-NODATA", "无数据站", "air", 112.83, 35.46),
                 StationPoint(8, "MN-W", "丹河断面", "water", 112.86, 35.46),
                 StationPoint(9, "MN-O", "电厂排口", "outlet", 112.89, 35.46)]
    latest = {n + 1: {PM25: value, NO2: 20.0} for n, value in enumerate(PM25_PER_LEVEL)}
    latest[8] = {WATER_COD: 18.0}
    latest[9] = {SO2: 300.0}  # an outlet's SO2 is an emission, not ambient air: no AQI
    return stations, latest


def test_station_aqi_follows_hj633():
    result = station_hour_aqi({PM25: 80.0, SO2: 10.0, "a01001": 21.5})  # temperature is ignored
    assert result.aqi == 107 and result.level.name == "轻度污染"
    assert station_hour_aqi({WATER_COD: 18.0}) is None
    assert station_hour_aqi({PM25: -1.0}) is None  # a negative instrument value is not data
    # SO2 1-h above 800 µg/m³: no 1-h IAQI in HJ 633 (note 2); the station still gets a level.
    heavy = station_hour_aqi({SO2: 900.0})
    assert heavy.aqi is not None and heavy.aqi >= 200


def test_classes_match_aqi_levels():
    stations, latest = stations_with_readings()
    layer = StationLayer(stations, latest)
    for n, value in enumerate(PM25_PER_LEVEL):
        result = layer.aqi_of(n + 1)
        assert result.level == aqi_level(result.aqi) == LEVELS[n]
        assert layer.class_of(n + 1) == f"aqi{n + 1}"
    assert (layer.class_of(7), layer.class_of(8), layer.class_of(9)) == ("aqi-none", "water", "outlet")
    legend = {entry.key: entry for entry in layer.legend()}
    assert legend["aqi4"].label.startswith("中度污染") and legend["aqi4"].count == 1
    assert not legend["aqi1"].editable and legend["water"].editable  # HJ 633 colours are not the user's
    with pytest.raises(ValueError):
        layer.set_class_colour("aqi1", "#000000")


def test_station_colours_on_the_map(qtbot):
    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(600, 400)
    canvas.show()
    qtbot.waitExposed(canvas)
    stations, latest = stations_with_readings()
    layer = StationLayer(stations, latest)
    with qtbot.waitSignal(canvas.renderFinished, timeout=10_000):
        canvas.set_layers([layer])
        canvas.zoom_to_bbox((112.80, 35.44, 112.90, 35.52))

    def pixel(station: StationPoint, dx: float = 0.0, dy: float = 0.0) -> QColor:
        x, y = lonlat_to_mercator(station.lon, station.lat)
        sx, sy = canvas.viewport().world_to_screen(float(x), float(y))
        return canvas.grab().toImage().pixelColor(round(sx + dx), round(sy + dy))

    for n, level in enumerate(LEVELS):
        assert pixel(stations[n]) == QColor(level.colour), level.name  # #00E400, #FFFF00, … #7E0023
    assert pixel(stations[6]) == QColor("#9e9e9e")  # no data is grey, never green
    assert pixel(stations[7], dy=3) == QColor(next(c.colour for c in STATION_CLASSES if c.key == "water"))
    assert pixel(stations[8]) == QColor(next(c.colour for c in STATION_CLASSES if c.key == "outlet"))

    # New readings recolour without touching the rest of the map.
    jobs = canvas.last_job_id
    with qtbot.waitSignal(canvas.live_renderer.rendered, timeout=10_000):
        layer.set_readings({**latest, 1: {PM25: 400.0}})
    assert pixel(stations[0]) == QColor(LEVELS[5].colour) and canvas.last_job_id == jobs


def test_loader_builds_the_station_layer_from_the_latest_readings(store):
    build_small_workspace(store)
    at = datetime(2024, 5, 20, 8)
    with store.engine.begin() as connection:
        station_id = connection.execute(insert(schema.stations).returning(schema.stations.c.id), {
            "mn": "MN-A", "name": "城区站", "kind": "air", "lon": 112.84, "lat": 35.49,
            "location": shapely.Point(112.84, 35.49), "active": True, "created_at": at}).scalar_one()
        connection.execute(insert(schema.readings), [
            {"station_id": station_id, "mn": "MN-A", "cn": "2061", "data_time": at, "pollutant": code, "avg": value,
             "flag": "N", "received_at": at} for code, value in ((PM25, 160.0), (NO2, 30.0))])
    data = load_workspace(store)
    layer = next(layer for layer in data.layers if layer.key == "stations")
    assert isinstance(layer, StationLayer) and len(layer) == 1
    assert layer.class_of(station_id) == "aqi5" and layer.aqi_of(station_id).level.name == "重度污染"
    assert [s.mn for s in data.stations] == ["MN-A"]
