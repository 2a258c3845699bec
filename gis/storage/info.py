"""Workspace counts (``envgrid info``) and workspace settings."""
from __future__ import annotations

from sqlalchemy import Connection, func, select

from gis.storage import schema
from gis.storage.grids import count_by_level


def workspace_info(connection: Connection) -> dict:
    def count(table) -> int:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()

    return {
        "grids": {str(level): n for level, n in count_by_level(connection).items()},
        "people": count(schema.people),
        "sources": count(schema.pollution_sources),
        "stations": count(schema.stations),
        "cases": count(schema.cases),
        "alarms": count(schema.alarms),
    }


def get_setting(connection: Connection, key: str, default=None):
    value = connection.execute(select(schema.settings.c.value).where(schema.settings.c.key == key)).scalar()
    return default if value is None else value


def put_setting(connection: Connection, key: str, value) -> None:
    table = schema.settings
    if connection.execute(select(table.c.key).where(table.c.key == key)).first():
        connection.execute(table.update().where(table.c.key == key).values(value=value))
    else:
        connection.execute(table.insert().values(key=key, value=value))
