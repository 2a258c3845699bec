"""AQI days from daily (CN 2031) frames first, hourly (CN 2061) values otherwise, on both backends.

Week Mon 2026-07-06 … Sun 07-12. Station A (all values µg/m³, CO mg/m³), hand-computed on the
24-hour tables (O3: 8-hour) of HJ 633-2012 (IAQI rounded up):

=====  ===========================================================  ==========================
day    data                                                          daily AQI
=====  ===========================================================  ==========================
07-06  daily frame PM2.5 40, NO2 120, O3 200 (a 24-hour mean: not   NO2 100+50/100·40 = 120
       an 8 h value, 137 if taken for one); hours: NO2 20 ×24 (the   (hours alone: PM2.5 57)
       frame wins), O3 100 ×24 (8 h max 100: 50)
07-07  hours only: PM2.5 60/70 alternating (mean 65: 50+50/40·30 =   O3 8 h max 180:
       87.5 → 88); O3 0 until 09, 10…17 = 120 160 200 240 240 200    100+50/55·20 = 118.2 → 119
       160 120, 40 after (windows: …16 → 165, 17 → 180, 18 → 170)
07-08  hours only: PM2.5 19 hours, O3 13 hours (8 windows)            no valid data
07-09  daily frame only: PM2.5 40 (57), O3 200, PM10 999 flagged D   57, rated without O3
       (fault)
=====  ===========================================================  ==========================

Station B: daily frame on 07-06 with NO2 40 (IAQI 50). The district's 07-06 averages NO2 over A and
B (80 → 100) with A's PM2.5 40 (57) and O3 100 (50): 100.
"""
from __future__ import annotations

from datetime import date, datetime

import pytest
import shapely

from gis.report.air import aqi_days
from gis.report.build import build_report
from gis.report.period import Period
from gis.report.tables import aqi_table
from gis.storage import schema

WEEK = Period("week", date(2026, 7, 6), date(2026, 7, 12))
PM25, PM10, NO2, O3 = "a34004", "a34002", "a21004", "a05024"
O3_0707 = {10: 120.0, 11: 160.0, 12: 200.0, 13: 240.0, 14: 240.0, 15: 200.0, 16: 160.0, 17: 120.0}


def _station(connection, mn: str) -> int:
    return connection.execute(schema.stations.insert().values(
        mn=mn, name=f"站{mn}", kind="air", location=shapely.Point(112.85, 35.45), lon=112.85, lat=35.45,
        active=True, created_at=datetime(2026, 1, 1)).returning(schema.stations.c.id)).scalar_one()


def _row(station_id, mn, cn, at, code, value, flag="N"):
    return {"station_id": station_id, "mn": mn, "cn": cn, "data_time": at, "pollutant": code, "avg": value,
            "flag": flag, "received_at": at}


@pytest.fixture
def air_store(store):
    rows = []
    with store.engine.begin() as connection:
        a, b = _station(connection, "A"), _station(connection, "B")
        day = datetime(2026, 7, 6)
        rows += [_row(a, "A", "2031", day, code, v) for code, v in ((PM25, 40.0), (NO2, 120.0), (O3, 200.0))]
        rows += [_row(b, "B", "2031", day, NO2, 40.0)]
        for h in range(24):
            rows += [_row(a, "A", "2061", day.replace(hour=h), NO2, 20.0),
                     _row(a, "A", "2061", day.replace(hour=h), O3, 100.0)]
        day = datetime(2026, 7, 7)
        for h in range(24):
            rows += [_row(a, "A", "2061", day.replace(hour=h), PM25, 60.0 if h % 2 else 70.0),
                     _row(a, "A", "2061", day.replace(hour=h), O3, O3_0707.get(h, 0.0 if h < 10 else 40.0))]
        day = datetime(2026, 7, 8)
        rows += [_row(a, "A", "2061", day.replace(hour=h), PM25, 80.0) for h in range(19)]
        rows += [_row(a, "A", "2061", day.replace(hour=h), O3, 300.0) for h in range(13)]
        day = datetime(2026, 7, 9)
        rows += [_row(a, "A", "2031", day, PM25, 40.0), _row(a, "A", "2031", day, O3, 200.0),
                 _row(a, "A", "2031", day, PM10, 999.0, flag="D")]
        connection.execute(schema.readings.insert(), rows)
    return store


def test_daily_frames_first_then_hours(air_store):
    with air_store.engine.connect() as connection:
        station_a, station_b, district = aqi_days(connection, WEEK)
    assert station_a.daily == {date(2026, 7, 6): 120, date(2026, 7, 7): 119, date(2026, 7, 9): 57}
    assert station_a.levels == {3: 2, 2: 1} and station_a.no_data == 4  # 07-08 and the weekend
    assert station_a.without_o3 == 1  # 07-09: the daily frame has no max 8-hour O3, and there are no hours
    assert station_b.daily == {date(2026, 7, 6): 50} and station_b.no_data == 6
    assert district.daily == {date(2026, 7, 6): 100, date(2026, 7, 7): 119, date(2026, 7, 9): 57}
    assert district.without_o3 == 1 and district.no_data == 4


def test_the_table_counts_days_without_data_and_says_when_o3_is_missing(air_store):
    with air_store.engine.connect() as connection:
        table = aqi_table(build_report(connection, WEEK, generated_at=datetime(2026, 7, 20)))
    by_name = {row[0]: row for row in table.rows}
    assert by_name["全区"][1:] == (0, 2, 1, 0, 0, 0, 4, pytest.approx(66.7))  # 100, 57 良; 119 轻度
    assert "CN 2031" in table.note and "全区有1天缺O3日最大8小时值" in table.note


def test_day_values_take_the_frame_then_the_valid_hours():
    from gis.aqi import Pollutant
    from gis.report.air import day_values

    hours = {Pollutant.NO2: {h: 20.0 for h in range(24)}, Pollutant.O3: {h: 100.0 for h in range(24)},
             Pollutant.PM25: {h: 50.0 for h in range(19)}}
    assert day_values({Pollutant.NO2: 120.0}, hours) == {Pollutant.NO2: 120.0, Pollutant.O3: 100.0}
    assert day_values({}, {Pollutant.PM25: {h: 50.0 for h in range(20)}}) == {Pollutant.PM25: 50.0}
