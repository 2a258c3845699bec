"""Stored readings grouped the way devices sent them: one group per station (MN), CN and DataTime.

Hourly (CN 2061) and daily (CN 2031) groups of air stations also get the AQI of HJ 633-2012
from :mod:`gis.aqi`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select

from gis.storage.schema import readings, stations

# Data flags whose value may enter an AQI: N normal, T above the instrument's range (still a
# measurement). F stopped, M maintenance, D fault, C calibration, B comms trouble… do not.
AQI_FLAGS = {None, "N", "T"}


@dataclass
class ReadingGroup:
    """All pollutants of one station, command code and data time."""

    mn: str
    cn: str
    data_time: datetime
    station_id: int | None
    station: str | None  # name; None for a device whose MN is in no stations row
    kind: str | None  # air / water / outlet
    values: dict[str, dict] = field(default_factory=dict)  # code → {rtd, avg, min, max, flag}
    aqi: dict | None = None  # filled by add_aqi for hourly/daily air groups

    def to_json(self) -> dict:
        data = {"mn": self.mn, "station_id": self.station_id, "station": self.station, "kind": self.kind,
                "cn": self.cn, "data_time": self.data_time.isoformat(), "values": self.values}
        if self.aqi is not None:
            data.update(self.aqi)
        return data


def read_reading_groups(connection: Connection, *, mn: str | None = None, since: datetime | None = None,
                        cn: str | None = None, limit: int = 200, viewer=None) -> list[ReadingGroup]:
    """The latest ``limit`` groups (0 = all) matching the filters, sorted by MN then time.

    Rows stream newest first and reading stops once ``limit`` groups are complete, so a
    workspace with years of data is not read whole for a look at the last hours. A ``viewer``
    (Session) restricted to a grid sees the stations standing in it only (by place, as the
    desktop's station picker and the alarms); devices without a stations row are outside.
    """
    from gis.security.permissions import Permission, authorize
    from gis.storage.readings import read_stations

    session = authorize(connection, viewer, Permission.READ)
    scope = session.user.scope_grid_id if session is not None else None
    query = (select(readings.c.mn, readings.c.cn, readings.c.data_time, readings.c.pollutant, readings.c.rtd,
                    readings.c.avg, readings.c.min, readings.c.max, readings.c.flag, readings.c.station_id,
                    stations.c.name, stations.c.kind)
             .select_from(readings.outerjoin(stations, readings.c.station_id == stations.c.id))
             .order_by(readings.c.data_time.desc(), readings.c.mn, readings.c.cn, readings.c.id))
    if mn is not None:
        query = query.where(readings.c.mn == mn)
    if since is not None:
        query = query.where(readings.c.data_time >= since)
    if cn is not None:
        query = query.where(readings.c.cn == cn)
    if scope is not None:
        query = query.where(readings.c.station_id.in_(
            sorted(s.id for s in read_stations(connection, within_grid=scope))))
    groups: dict[tuple, ReadingGroup] = {}
    # "with": stopping early must close PostgreSQL's server-side cursor too.
    with connection.execution_options(stream_results=True, yield_per=2000).execute(query) as result:
        for row in result:
            key = (row.mn, row.cn, row.data_time)
            group = groups.get(key)
            if group is None:
                if limit and len(groups) == limit:
                    break
                group = groups[key] = ReadingGroup(row.mn, row.cn, row.data_time, row.station_id, row.name,
                                                   row.kind)
            group.values[row.pollutant] = {"rtd": row.rtd, "avg": row.avg, "min": row.min, "max": row.max,
                                           "flag": row.flag}
    return sorted(groups.values(), key=lambda g: (g.mn, g.data_time, g.cn))


def add_aqi(groups: list[ReadingGroup]) -> bool:
    """Compute AQI for hourly (2061) and daily (2031) groups of air stations, in place.

    Uses the averages of SO2, NO2, PM10, CO, O3 and PM2.5 with a usable flag. Hourly PM values
    are hourly averages (``pm_average="1h"``). A daily frame carries O3's 24-hour mean, not the
    daily maximum 8-hour mean HJ 633-2012 asks for, so O3 is left out of the daily AQI (noted).
    Returns False when :mod:`gis.aqi` is not available.
    """
    try:
        from gis.aqi import HJ212_CODES, Pollutant, daily_aqi, hourly_aqi
    except ImportError:
        return False
    for group in groups:
        if group.kind != "air" or group.cn not in ("2061", "2031"):
            continue
        concentrations = {code: v["avg"] for code, v in group.values.items()
                          if code in HJ212_CODES and v["avg"] is not None and v["avg"] >= 0
                          and v["flag"] in AQI_FLAGS}
        notes = []
        if group.cn == "2031" and concentrations.pop(Pollutant.O3.code, None) is not None:
            notes.append("O3 left out: the daily frame has the 24-hour mean, not the max 8-hour mean")
        try:
            if group.cn == "2061":
                result = hourly_aqi(concentrations, pm_average="1h")
            else:
                result = daily_aqi(concentrations)
        except ValueError as exc:  # e.g. SO2 1h above 800 without its 24-hour mean
            group.aqi = {"aqi": None, "aqi_note": str(exc)}
            continue
        group.aqi = {
            "aqi": result.aqi,
            "level": result.level.name if result.level else None,
            "colour": result.level.colour if result.level else None,
            "primary": [str(p) for p in result.primary],
            "iaqi": {str(p): v for p, v in result.iaqi.items()},
            "exceeding": [str(p) for p in result.exceeding],
        }
        if notes:
            group.aqi["aqi_note"] = "; ".join(notes)
    return True
