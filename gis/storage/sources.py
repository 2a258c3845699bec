"""The pollution-source ledger (污染源台账) and its configurable category list."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import shapely
from sqlalchemy import Connection, select

from gis.domain import SOURCE_CATEGORIES, SourceStatus
from gis.storage.rows import seed_code_list
from gis.storage.schema import pollution_sources as T, source_categories


@dataclass(slots=True)
class PollutionSource:
    id: int | None
    name: str
    category_id: int
    lon: float
    lat: float
    grid_id: int | None = None
    address: str = ""
    is_key: bool = False
    contact_name: str = ""
    contact_phone: str = ""
    permit_no: str = ""
    status: str = SourceStatus.OPERATING
    last_inspected: date | None = None


def seed_source_categories(connection: Connection) -> dict[str, int]:
    """Insert the seeds' categories if the list is empty; return code → id."""
    return seed_code_list(connection, source_categories, SOURCE_CATEGORIES)


def read_source_categories(connection: Connection) -> list[tuple[int, str, str]]:
    query = select(source_categories.c.id, source_categories.c.code, source_categories.c.name) \
        .order_by(source_categories.c.sort_order)
    return [tuple(row) for row in connection.execute(query)]


def insert_sources(connection: Connection, new: Sequence[PollutionSource]) -> None:
    now = datetime.now()
    if not new:
        return
    connection.execute(T.insert(), [
        {"name": s.name, "category_id": s.category_id, "address": s.address,
         "location": shapely.Point(s.lon, s.lat), "lon": s.lon, "lat": s.lat, "grid_id": s.grid_id,
         "is_key": s.is_key, "contact_name": s.contact_name, "contact_phone": s.contact_phone,
         "permit_no": s.permit_no, "status": str(s.status), "last_inspected": s.last_inspected,
         "version": 1, "created_at": now} for s in new])


def read_sources(connection: Connection) -> list[PollutionSource]:
    columns = [T.c[f] for f in PollutionSource.__slots__]
    return [PollutionSource(**row._mapping) for row in connection.execute(select(*columns).order_by(T.c.id))]
