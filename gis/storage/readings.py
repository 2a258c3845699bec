"""Monitoring stations and their latest readings, as the map shows them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, select

from gis.storage.schema import readings, stations

HOURLY_CN = "2061"
DAILY_CN = "2031"
# HJ 212 data flags a value may be shown with: N normal, T above the instrument's range
# (still a measurement). F stopped, M maintenance, D fault, C calibration… are not data.
USABLE_FLAGS = (None, "N", "T")


@dataclass(frozen=True, slots=True)
class StationPoint:
    id: int
    mn: str
    name: str
    kind: str  # air / water / outlet
    lon: float
    lat: float
    grid_id: int | None = None
    active: bool = True


def read_stations(connection: Connection, *, active_only: bool = False,
                  within_grid: int | None = None) -> list[StationPoint]:
    """The stations; ``within_grid``: only those standing in that grid's boundary (a user's data
    scope — by place, as alarms are routed, not by the grid the station row names)."""
    query = select(stations.c.id, stations.c.mn, stations.c.name, stations.c.kind, stations.c.lon, stations.c.lat,
                   stations.c.grid_id, stations.c.active).order_by(stations.c.id)
    if active_only:
        query = query.where(stations.c.active.is_(True))
    found = [StationPoint(**row._mapping) for row in connection.execute(query)]
    if within_grid is None:
        return found
    import shapely

    from gis.storage.schema import grids

    boundary = connection.execute(select(grids.c.boundary).where(grids.c.id == within_grid)).scalar()
    if boundary is None:
        return []
    inside = shapely.covers(boundary, shapely.points([(s.lon, s.lat) for s in found])) if found else []
    return [s for s, ok in zip(found, inside) if ok]


def latest_hourly_by_station(connection: Connection, *, since: datetime | None = None,
                             usable_only: bool = True) -> dict[int, dict[str, float]]:
    """The newest hourly (CN 2061) average of every pollutant, per station.

    For each station the latest data time with any hourly row is taken, and all its
    pollutants at that time are returned as ``{station_id: {code: avg}}`` (HJ 212 codes,
    e.g. ``"a34004"``). Values flagged as not data (maintenance, fault…) are left out
    unless ``usable_only`` is False, so a station can map to ``{}``: it reported, but
    nothing usable. Devices without a stations row are not included. ``since`` bounds
    the scan (and drops stations silent since then).
    """
    newest = select(readings.c.station_id, func.max(readings.c.data_time).label("latest")) \
        .where(readings.c.cn == HOURLY_CN, readings.c.station_id.is_not(None))
    if since is not None:
        newest = newest.where(readings.c.data_time >= since)
    newest = newest.group_by(readings.c.station_id).subquery()
    query = (select(readings.c.station_id, readings.c.pollutant, readings.c.avg, readings.c.flag)
             .join(newest, and_(readings.c.station_id == newest.c.station_id,
                                readings.c.data_time == newest.c.latest))
             .where(readings.c.cn == HOURLY_CN)
             .order_by(readings.c.station_id, readings.c.id))  # one row per time and pollutant (unique index)
    result: dict[int, dict[str, float]] = {}
    for row in connection.execute(query):
        values = result.setdefault(int(row.station_id), {})
        if row.avg is None or (usable_only and row.flag not in USABLE_FLAGS):
            values.pop(row.pollutant, None)
            continue
        values[row.pollutant] = float(row.avg)
    return result
