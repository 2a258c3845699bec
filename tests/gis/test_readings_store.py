"""Stations and their latest hourly readings, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta

import shapely
from sqlalchemy import insert

from gis.aqi import hourly_aqi
from gis.storage import schema
from gis.storage.readings import latest_hourly_by_station, read_stations

T0 = datetime(2024, 5, 20, 8, 0)


def _stations(connection) -> dict[str, int]:
    rows = [("MN-AIR-1", "城区站", "air", 112.84, 35.49), ("MN-AIR-2", "开发区站", "air", 112.86, 35.51),
            ("MN-WATER", "丹河断面", "water", 112.88, 35.47), ("MN-SILENT", "备用站", "air", 112.81, 35.46)]
    ids = {}
    for mn, name, kind, lon, lat in rows:
        ids[mn] = connection.execute(insert(schema.stations).returning(schema.stations.c.id), {
            "mn": mn, "name": name, "kind": kind, "lon": lon, "lat": lat, "location": shapely.Point(lon, lat),
            "active": mn != "MN-SILENT", "created_at": T0}).scalar_one()
    return ids


def _reading(station_id, mn, at, code, avg, *, cn="2061", flag="N"):
    return {"station_id": station_id, "mn": mn, "cn": cn, "data_time": at, "pollutant": code, "rtd": None,
            "avg": avg, "min": None, "max": None, "flag": flag, "received_at": at + timedelta(minutes=2)}


def test_latest_hourly_values_per_station(store):
    with store.engine.begin() as connection:
        ids = _stations(connection)
        air1, air2, water = ids["MN-AIR-1"], ids["MN-AIR-2"], ids["MN-WATER"]
        connection.execute(insert(schema.readings), [
            # an older hour, then the newest one: only the newest counts
            _reading(air1, "MN-AIR-1", T0 - timedelta(hours=1), "a34004", 300.0),
            _reading(air1, "MN-AIR-1", T0 - timedelta(hours=1), "a21004", 20.0),
            _reading(air1, "MN-AIR-1", T0, "a34004", 80.0),
            _reading(air1, "MN-AIR-1", T0, "a21026", 10.0),
            _reading(air1, "MN-AIR-1", T0, "a05024", 90.0, flag="M"),     # maintenance: not data
            _reading(air1, "MN-AIR-1", T0 + timedelta(minutes=5), "a34004", 999.0, cn="2011"),  # real-time: ignored
            _reading(air2, "MN-AIR-2", T0 - timedelta(hours=2), "a34004", 20.0),
            _reading(air2, "MN-AIR-2", T0 - timedelta(hours=2), "a34002", 40.0, flag=None),
            _reading(water, "MN-WATER", T0, "w01018", 18.5),
            _reading(None, "MN-UNKNOWN", T0, "a34004", 50.0),  # no stations row
        ])
    with store.engine.connect() as connection:
        latest = latest_hourly_by_station(connection)
        assert latest == {air1: {"a34004": 80.0, "a21026": 10.0},
                          air2: {"a34004": 20.0, "a34002": 40.0},
                          water: {"w01018": 18.5}}
        assert latest_hourly_by_station(connection, usable_only=False)[air1]["a05024"] == 90.0
        assert set(latest_hourly_by_station(connection, since=T0 - timedelta(minutes=30))) == {air1, water}
        stations = read_stations(connection)
        assert [s.mn for s in stations] == ["MN-AIR-1", "MN-AIR-2", "MN-WATER", "MN-SILENT"]
        assert stations[0].kind == "air" and stations[0].lon == 112.84
        assert len(read_stations(connection, active_only=True)) == 3
    # What the map does with it: PM2.5 80 µg/m³ (hourly) is IAQI 107, level 轻度污染.
    result = hourly_aqi(latest[air1], pm_average="1h")
    assert result.aqi == 107 and result.level.name == "轻度污染"


def test_no_readings_gives_an_empty_mapping(store):
    with store.engine.connect() as connection:
        assert latest_hourly_by_station(connection) == {}
        assert read_stations(connection) == []
