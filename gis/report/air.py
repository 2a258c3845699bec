"""Days of each AQI level in a period, per air station and for the district.

Daily AQI (日报) per HJ 633-2012 takes 24-hour means of SO2, NO2, PM10, CO and PM2.5 and the day's
maximum 8-hour moving average of O3. Per station, day and pollutant the value comes from, in order:

1. the station's daily frame (HJ 212 CN 2031) for that day, if it holds the pollutant with a usable
   flag (N, T; the device's 24-hour mean is taken as valid) — except O3: a daily frame carries O3's
   24-hour mean, not the maximum 8-hour mean, so O3 never comes from it (as in ``envgrid readings``
   and the alarm rules);
2. else the station's hourly frames (CN 2061) of the day, if they are enough for a valid value.

Validity (GB 3095-2012 Table 4, the rule HJ 663-2013 applies): a 24-hour mean needs at least 20
hourly values of the day, an 8-hour mean at least 6 of its 8 hours, the daily O3 maximum at least 14
valid 8-hour means. Hourly values are stamped with the hour they start (HJ 212 DataTime), so a day
is 00:00–23:00 and its 8-hour windows end at 07:00 … 23:00. The day's AQI is that of its valid
pollutants; a day where no pollutant is valid is a day without valid data (无有效数据), counted as
such, never left out. A valid day without a valid O3 value (a daily frame and too few O3 hours) is
rated on the other pollutants and counted in ``AqiDays.without_o3``: its level may be too low.
The district's day takes, per pollutant, the mean of the stations with a valid daily value (as
a city AQI averages its stations).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, select

from gis.aqi import LEVELS, Pollutant, daily_aqi
from gis.report.period import Period
from gis.storage.readings import DAILY_CN, HOURLY_CN, USABLE_FLAGS
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
    without_o3: int = 0  # valid days rated without O3 (a daily frame, too few O3 hours): maybe too low

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


def _air_stations(connection: Connection) -> dict[int, str]:
    return {r.id: r.name for r in connection.execute(
        select(stations.c.id, stations.c.name).where(stations.c.kind == "air").order_by(stations.c.id))}


def _rows(connection: Connection, cn: str, station_ids: list[int], period: Period):
    """Usable-or-not values of the AQI pollutants: (station id, data time, pollutant, value or None)."""
    codes = {p.code: p for p in Pollutant}
    query = (select(readings.c.station_id, readings.c.data_time, readings.c.pollutant, readings.c.avg, readings.c.flag)
             .where(readings.c.cn == cn, readings.c.station_id.in_(station_ids),
                    readings.c.pollutant.in_(list(codes)), readings.c.data_time >= period.start,
                    readings.c.data_time < period.end)
             .order_by(readings.c.data_time, readings.c.id))  # a re-sent frame (higher id) wins
    for station_id, at, code, value, flag in connection.execute(query):
        yield station_id, at, codes[code], None if value is None or flag not in USABLE_FLAGS else float(value)


def _hourly(connection: Connection, station_ids: list[int], period: Period) -> dict:
    """Usable hourly values: station → day → pollutant → {hour: value}."""
    values: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for station_id, at, pollutant, value in _rows(connection, HOURLY_CN, station_ids, period):
        hours = values[station_id][at.date()][pollutant]
        if value is None:
            hours.pop(at.hour, None)
        else:
            hours[at.hour] = value
    return values


def _daily(connection: Connection, station_ids: list[int], period: Period) -> dict:
    """Usable daily-frame values: station → day → pollutant → value (O3 left out: see the module)."""
    values: dict = defaultdict(lambda: defaultdict(dict))
    for station_id, at, pollutant, value in _rows(connection, DAILY_CN, station_ids, period):
        if pollutant is Pollutant.O3:
            continue
        if value is None:
            values[station_id][at.date()].pop(pollutant, None)
        else:
            values[station_id][at.date()][pollutant] = value
    return values


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


def _tally(name: str, means_by_day: dict[date, dict[Pollutant, float]], days: list[date],
           o3_1h_max: dict[date, float] | None = None) -> AqiDays:
    levels: dict[int, int] = {}
    daily = {}
    without_o3 = 0
    for day in days:
        means = means_by_day.get(day, {})
        aqi = _aqi(means, (o3_1h_max or {}).get(day))
        if aqi is None:
            continue
        level = next(level for level in LEVELS if aqi <= level.highest or level is LEVELS[-1])
        levels[level.number] = levels.get(level.number, 0) + 1
        daily[day] = aqi
        without_o3 += Pollutant.O3 not in means
    return AqiDays(name, levels, len(days) - len(daily), daily, without_o3)


def day_values(daily: dict[Pollutant, float], hours: dict[Pollutant, dict[int, float]]) -> dict[Pollutant, float]:
    """The valid daily values of one station and day: its daily frame's (without O3), the rest from its hours."""
    from_hours = daily_means({p: h for p, h in hours.items() if p not in daily})
    return {p: daily[p] if p in daily else from_hours[p] for p in Pollutant if p in daily or p in from_hours}


def aqi_days(connection: Connection, period: Period) -> list[AqiDays]:
    """One entry per air station (by id), then the district (全区) if there is any station."""
    names = _air_stations(connection)
    if not names:
        return []
    hourly, daily = _hourly(connection, list(names), period), _daily(connection, list(names), period)
    days = period.days
    result = []
    district: dict[date, dict[Pollutant, list[float]]] = defaultdict(lambda: defaultdict(list))
    for station_id, name in names.items():
        station_hours, station_daily = hourly.get(station_id, {}), daily.get(station_id, {})
        means_by_day, o3_1h_max = {}, {}
        for day in days:
            hours = station_hours.get(day, {})
            means_by_day[day] = means = day_values(station_daily.get(day, {}), hours)
            if hours.get(Pollutant.O3):
                o3_1h_max[day] = max(hours[Pollutant.O3].values())
            for pollutant, value in means.items():
                district[day][pollutant].append(value)
        result.append(_tally(name, means_by_day, days, o3_1h_max))
    result.append(_tally(DISTRICT, {day: {p: sum(v) / len(v) for p, v in district[day].items()} for day in days},
                         days))
    return result
