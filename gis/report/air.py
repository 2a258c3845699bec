"""Days of each AQI level in a period, per air station and for the district, from hourly readings.

Daily AQI (日报) per HJ 633-2012 takes 24-hour means of SO2, NO2, PM10, CO and PM2.5 and the day's
maximum 8-hour moving average of O3. Data validity follows GB 3095-2012 Table 4: a 24-hour mean
needs at least 20 hourly values of the day, an 8-hour mean at least 6 of its 8 hours, the daily
O3 maximum at least 14 valid 8-hour means. Hourly values are stamped with the hour they start
(HJ 212 DataTime), so a day is 00:00–23:00 and its 8-hour windows end at 07:00 … 23:00.
The district's day takes, per pollutant, the mean of the stations with a valid daily value (as
a city AQI averages its stations). A day where no pollutant is valid is a day without data.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, select

from gis.aqi import LEVELS, Pollutant, daily_aqi
from gis.report.period import Period
from gis.storage.readings import HOURLY_CN, USABLE_FLAGS
from gis.storage.schema import readings, stations

DAY_HOURS = 20
WINDOW_HOURS = 6
O3_WINDOWS = 14
DISTRICT = "全区"


@dataclass(frozen=True, slots=True)
class AqiDays:
    """Days per level (1 … 6) and days without valid data, for a station or the district."""

    name: str
    levels: dict[int, int] = field(default_factory=dict)
    no_data: int = 0
    daily: dict[date, int] = field(default_factory=dict)  # day → AQI, valid days only

    @property
    def good_days(self) -> int:
        """优良天数 (levels 1 and 2)."""
        return self.levels.get(1, 0) + self.levels.get(2, 0)

    @property
    def valid_days(self) -> int:
        return sum(self.levels.values())

    @property
    def good_share(self) -> float | None:
        return round(self.good_days * 100 / self.valid_days, 1) if self.valid_days else None


def _hourly(connection: Connection, period: Period) -> tuple[dict[int, str], dict]:
    """Air stations, and usable hourly values: station → day → pollutant → {hour: value}."""
    names = {r.id: r.name for r in connection.execute(
        select(stations.c.id, stations.c.name).where(stations.c.kind == "air").order_by(stations.c.id))}
    values: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    if not names:
        return names, values
    codes = {p.code: p for p in Pollutant}
    query = (select(readings.c.station_id, readings.c.data_time, readings.c.pollutant, readings.c.avg, readings.c.flag)
             .where(readings.c.cn == HOURLY_CN, readings.c.station_id.in_(list(names)),
                    readings.c.pollutant.in_(list(codes)), readings.c.data_time >= period.start,
                    readings.c.data_time < period.end)
             .order_by(readings.c.data_time, readings.c.id))  # a re-sent frame (higher id) wins
    for station_id, at, code, value, flag in connection.execute(query):
        hours = values[station_id][at.date()][codes[code]]
        if value is None or flag not in USABLE_FLAGS:
            hours.pop(at.hour, None)
        else:
            hours[at.hour] = float(value)
    return names, values


def daily_means(hours_by_pollutant: dict[Pollutant, dict[int, float]]) -> dict[Pollutant, float]:
    """The valid daily values of one station and day (24-hour means; O3: daily max 8-hour mean)."""
    means: dict[Pollutant, float] = {}
    for pollutant, hours in hours_by_pollutant.items():
        if pollutant is Pollutant.O3:
            windows = []
            for end in range(7, 24):
                window = [hours[h] for h in range(end - 7, end + 1) if h in hours]
                if len(window) >= WINDOW_HOURS:
                    windows.append(sum(window) / len(window))
            if len(windows) >= O3_WINDOWS:
                means[pollutant] = max(windows)
        elif len(hours) >= DAY_HOURS:
            means[pollutant] = sum(hours.values()) / len(hours)
    return means


def _aqi(means: dict[Pollutant, float], o3_1h_max: float | None = None) -> int | None:
    if not means:
        return None
    concentrations = {str(p): v for p, v in means.items()}
    o3 = means.get(Pollutant.O3)
    if o3 is not None and o3 > 800 and o3_1h_max is None:  # note 3 without the hours: the 8-hour value is
        o3_1h_max = o3                                    # a lower bound of the day's 1-hour maximum
    return daily_aqi(concentrations, o3_1h_max=o3_1h_max).aqi


def _tally(name: str, by_day: dict[date, int | None], days: list[date]) -> AqiDays:
    levels: dict[int, int] = {}
    daily = {}
    for day in days:
        aqi = by_day.get(day)
        if aqi is None:
            continue
        level = next(level for level in LEVELS if aqi <= level.highest or level is LEVELS[-1])
        levels[level.number] = levels.get(level.number, 0) + 1
        daily[day] = aqi
    return AqiDays(name, levels, len(days) - len(daily), daily)


def aqi_days(connection: Connection, period: Period) -> list[AqiDays]:
    """One entry per air station (by id), then the district (全区) if there is any station."""
    names, values = _hourly(connection, period)
    days = period.days
    result = []
    district: dict[date, dict[Pollutant, list[float]]] = defaultdict(lambda: defaultdict(list))
    for station_id, name in names.items():
        by_day = {}
        for day in days:
            means = daily_means(values[station_id][day]) if day in values.get(station_id, {}) else {}
            o3_hours = values[station_id][day].get(Pollutant.O3) if means else None
            by_day[day] = _aqi(means, max(o3_hours.values()) if o3_hours else None)
            for pollutant, value in means.items():
                district[day][pollutant].append(value)
        result.append(_tally(name, by_day, days))
    if names:
        by_day = {day: _aqi({p: sum(v) / len(v) for p, v in district[day].items()}) for day in days}
        result.append(_tally(DISTRICT, by_day, days))
    return result
