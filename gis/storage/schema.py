"""The EnvGrid schema: one SQLAlchemy Core metadata for SQLite and PostgreSQL/PostGIS.

Migrations in ``migrations/versions`` create exactly this; ``tests/gis/test_schema.py``
compares a migrated database against it on both backends.
"""
from __future__ import annotations

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, Float, ForeignKey, Index, Integer,
    LargeBinary, MetaData, String, Table, Text, UniqueConstraint,
)

from gis.storage.geometry import Geometry

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _stamp():
    return Column("created_at", DateTime, nullable=False)


settings = Table(
    "settings", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
)

grids = Table(
    "grids", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("level", Integer, nullable=False),
    Column("parent_id", Integer, ForeignKey("grids.id", ondelete="RESTRICT"), index=True),
    # MultiPolygon for levels 1-4; a level-5 unit may be a point or a small polygon.
    Column("boundary", Geometry("GEOMETRY"), nullable=False),
    Column("area_m2", Float, nullable=False, default=0.0),
    # Bounding box in degrees: lets the embedded store filter by extent without SpatiaLite.
    Column("min_lon", Float, nullable=False),
    Column("min_lat", Float, nullable=False),
    Column("max_lon", Float, nullable=False),
    Column("max_lat", Float, nullable=False),
    Column("east", Text, nullable=False, default=""),
    Column("south", Text, nullable=False, default=""),
    Column("west", Text, nullable=False, default=""),
    Column("north", Text, nullable=False, default=""),
    Column("duties", Text, nullable=False, default=""),
    Column("valid_from", Date),
    Column("valid_to", Date),
    Column("version", Integer, nullable=False, default=1),
    _stamp(),
    Column("updated_at", DateTime, nullable=False),
    CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
    CheckConstraint("version >= 1", name="version_positive"),
    Index(None, "level"),
    Index(None, "min_lon", "max_lon", "min_lat", "max_lat"),
)

people = Table(
    "people", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("phone", String(40), nullable=False, default=""),
    Column("unit", String(200), nullable=False, default=""),
    Column("title", String(100), nullable=False, default=""),
    _stamp(),
)

assignments = Table(
    "assignments", metadata,
    Column("id", Integer, primary_key=True),
    Column("grid_id", Integer, ForeignKey("grids.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="RESTRICT"), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
    Index(None, "grid_id", "role"),
)

source_categories = Table(
    "source_categories", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("sort_order", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
)

pollution_sources = Table(
    "pollution_sources", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("category_id", Integer, ForeignKey("source_categories.id"), nullable=False, index=True),
    Column("address", String(300), nullable=False, default=""),
    Column("location", Geometry("POINT"), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("grid_id", Integer, ForeignKey("grids.id", ondelete="SET NULL"), index=True),
    Column("is_key", Boolean, nullable=False, default=False),
    Column("contact_name", String(100), nullable=False, default=""),
    Column("contact_phone", String(40), nullable=False, default=""),
    Column("permit_no", String(60), nullable=False, default=""),
    Column("status", String(20), nullable=False),
    Column("last_inspected", Date),
    Column("version", Integer, nullable=False, default=1),
    _stamp(),
    Index(None, "lon", "lat"),
)

stations = Table(
    "stations", metadata,
    Column("id", Integer, primary_key=True),
    Column("mn", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("location", Geometry("POINT"), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("grid_id", Integer, ForeignKey("grids.id", ondelete="SET NULL"), index=True),
    Column("source_id", Integer, ForeignKey("pollution_sources.id", ondelete="SET NULL")),
    Column("active", Boolean, nullable=False, default=True),
    _stamp(),
    CheckConstraint("kind IN ('air', 'water', 'outlet')", name="kind_known"),
)

readings = Table(
    "readings", metadata,
    Column("id", Integer, primary_key=True),
    # Unknown MN: kept with station_id NULL so nothing a device sent is lost.
    Column("station_id", Integer, ForeignKey("stations.id", ondelete="SET NULL")),
    Column("mn", String(32), nullable=False),
    Column("cn", String(4), nullable=False),
    Column("data_time", DateTime, nullable=False),
    Column("pollutant", String(16), nullable=False),
    Column("rtd", Float),
    Column("avg", Float),
    Column("min", Float),
    Column("max", Float),
    Column("flag", String(4)),
    Column("received_at", DateTime, nullable=False),
    Index(None, "station_id", "data_time"),
    # A device re-sending a frame: the insert skips the copy (migration 0008).
    Index(None, "mn", "cn", "data_time", "pollutant", unique=True),
)

case_categories = Table(
    "case_categories", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("sort_order", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
)

cases = Table(
    "cases", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("source", String(20), nullable=False),
    Column("category_id", Integer, ForeignKey("case_categories.id"), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("location", Geometry("POINT")),
    Column("lon", Float),
    Column("lat", Float),
    Column("address", String(300), nullable=False, default=""),
    Column("grid_id", Integer, ForeignKey("grids.id", ondelete="SET NULL"), index=True),
    Column("department", String(100)),
    Column("pollution_source_id", Integer, ForeignKey("pollution_sources.id", ondelete="SET NULL")),
    Column("state", String(10), nullable=False),
    Column("reporter_name", String(100), nullable=False, default=""),
    Column("reporter_phone", String(40), nullable=False, default=""),
    Column("duplicate_of", Integer, ForeignKey("cases.id")),
    Column("created_at", DateTime, nullable=False),
    Column("due_at", DateTime),
    Column("closed_at", DateTime),
    Column("version", Integer, nullable=False, default=1),
    Index(None, "state"),
    Index(None, "created_at"),
)

# Append-only (痕迹化): triggers created by the migration refuse UPDATE and DELETE.
case_events = Table(
    "case_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(20), nullable=False),
    Column("from_state", String(10)),
    Column("to_state", String(10)),
    Column("grid_id", Integer, ForeignKey("grids.id", ondelete="SET NULL")),
    Column("note", Text, nullable=False, default=""),
    Column("internal", Boolean, nullable=False, default=False),
    Column("payload", JSON),
    Index(None, "case_id", "at"),
)

attachments = Table(
    "attachments", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False, index=True),
    Column("event_id", Integer, ForeignKey("case_events.id", ondelete="RESTRICT")),
    Column("filename", String(260), nullable=False),
    Column("mime", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    _stamp(),
)

# Configurable alarm rules (gis.monitoring.rules, migration 0008); ``params`` holds the kind's settings.
alarm_rules = Table(
    "alarm_rules", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(100), nullable=False, default=""),
    Column("kind", String(10), nullable=False),
    Column("pollutant", String(16)),
    Column("station_kind", String(10)),
    Column("params", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("updated_at", DateTime, nullable=False),
    CheckConstraint("kind IN ('threshold', 'aqi', 'rise', 'offline', 'flag')", name="kind_known"),
)

alarms = Table(
    "alarms", metadata,
    Column("id", Integer, primary_key=True),
    Column("station_id", Integer, ForeignKey("stations.id", ondelete="RESTRICT"), nullable=False, index=True),
    Column("pollutant", String(16), nullable=False),
    Column("value", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("raised_at", DateTime, nullable=False),
    Column("grid_id", Integer, ForeignKey("grids.id", ondelete="SET NULL")),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="SET NULL")),
    Column("status", String(10), nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("feedback_at", DateTime),
    Column("feedback", Text, nullable=False, default=""),
    Index(None, "raised_at"),
    # Rule alarms (migration 0008): repeats while open are merged here, not raised again.
    Column("rule_id", Integer),  # alarm_rules.id; no foreign key (see migration 0008)
    Column("occurrences", Integer, nullable=False, default=1, server_default="1"),
    Column("last_value", Float),
    Column("last_at", DateTime),
    Index(None, "station_id", "rule_id", "pollutant"),
    # Repeats recorded as case events, at most one per interval (migration 0010, gis.monitoring.alarms).
    Column("noted_occurrences", Integer, nullable=False, default=1, server_default="1"),
    Column("noted_at", DateTime),
    Column("unnoted_peak", Float),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("user_name", String(100), nullable=False),
    Column("host", String(200), nullable=False, default=""),
    Column("action", String(40), nullable=False),
    Column("table_name", String(40)),
    Column("row_id", Integer),
    Column("before", JSON),
    Column("after", JSON),
    Index(None, "at"),
)

# How long a case may take, per source and optionally per category (category NULL: the source's
# default). Exactly one of ``hours`` (calendar time) and ``workdays`` (counted on work_calendar).
deadline_rules = Table(
    "deadline_rules", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(20), nullable=False),
    Column("category_id", Integer, ForeignKey("case_categories.id", ondelete="CASCADE")),
    Column("hours", Integer),
    Column("workdays", Integer),
    CheckConstraint("(hours IS NULL) <> (workdays IS NULL)", name="one_unit"),
    CheckConstraint("hours IS NULL OR hours > 0", name="hours_positive"),
    CheckConstraint("workdays IS NULL OR workdays > 0", name="workdays_positive"),
    UniqueConstraint("source", "category_id"),
)

# Exceptions to "Monday to Friday": public holidays (is_workday false) and 调休 make-up
# working days on a weekend (is_workday true).
work_calendar = Table(
    "work_calendar", metadata,
    Column("day", Date, primary_key=True),
    Column("is_workday", Boolean, nullable=False),
    Column("name", String(40), nullable=False, default=""),
)

# For duplicate suggestions (same category, recent) and the overdue list.
Index(None, cases.c.category_id, cases.c.created_at)
Index(None, cases.c.due_at)
# Case table, filters and charts at a million cases (migrations 0004, 0007): every filtered or charted
# column behind the default sort, so counts and aggregates read one index and no table rows.
Index("ix_cases_created_at_cover", cases.c.created_at, cases.c.state, cases.c.source, cases.c.category_id,
      cases.c.grid_id, cases.c.due_at, cases.c.closed_at, postgresql_include=["id"])
Index("ix_cases_grid_id_cover", cases.c.grid_id, cases.c.state, cases.c.created_at, cases.c.due_at,
      cases.c.closed_at, cases.c.source, cases.c.category_id, postgresql_include=["id"])
Index("ix_cases_state_cover", cases.c.state, cases.c.due_at, cases.c.grid_id, cases.c.created_at,
      cases.c.closed_at, cases.c.source, cases.c.category_id, postgresql_include=["id"])
Index(None, case_events.c.actor)  # the 我经办的 work list

APPEND_ONLY_TABLES = ("case_events", "audit_log", "attachments")
GEOMETRY_COLUMNS = (("grids", "boundary"), ("pollution_sources", "location"), ("stations", "location"),
                    ("cases", "location"))

# The change feed every seat follows (gis.storage.changes). Rows are written only by the triggers
# of migration 0003, in the transaction of the change itself; ``at`` is UTC. AUTOINCREMENT on
# SQLite: an id is never reused, even after pruning has deleted the newest rows.
changes = Table(
    "changes", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("table_name", String(40), nullable=False),
    Column("row_id", Integer, nullable=False),
    Column("op", String(6), nullable=False),
    Column("info", JSON),
    CheckConstraint("op IN ('insert', 'update', 'delete')", name="op_known"),
    sqlite_autoincrement=True,
)

# What the triggers of ``changes`` watch. ``readings`` only on PostgreSQL, and then one change per
# station per statement (see migration 0003).
CHANGE_TABLES = ("grids", "people", "assignments", "pollution_sources", "stations", "cases", "case_events",
                 "alarms")

# EnvGrid accounts (gis.security.users). ``role`` is one of gis.security.users.UserRole; the
# optional data scope is a second-level grid whose subtree (by code prefix) is all the user sees
# and edits. RESTRICT, never SET NULL: deleting the grid must not silently widen the scope to
# everything. ``password_hash`` is an argon2id PHC string; no plain or reversible password exists.
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(32), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False, default=""),
    Column("role", String(20), nullable=False),
    Column("scope_grid_id", Integer, ForeignKey("grids.id", ondelete="RESTRICT")),
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", DateTime),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_login", DateTime),
    CheckConstraint("role IN ('seat', 'gis_editor', 'leader', 'admin')", name="role_known"),
    CheckConstraint("failed_attempts >= 0", name="failures_not_negative"),
)

# Grid editing (gis.editing, migration 0006). ``grid_history``: every earlier version of a grid,
# written when an edit session saves a change or a deletion, so boundaries can be traced with
# their dates. No foreign key: the history outlives a deleted grid (whose assignments, removed
# with it by CASCADE, are kept in ``staff``). ``four_bounds_review``: grids whose 四至 no longer
# fits their boundary after an edit, with the suggested text, until someone updates the 四至.
grid_history = Table(
    "grid_history", metadata,
    Column("id", Integer, primary_key=True),
    Column("grid_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("code", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("level", Integer, nullable=False),
    Column("parent_id", Integer),
    Column("boundary", Geometry("GEOMETRY"), nullable=False),
    Column("area_m2", Float, nullable=False),
    Column("east", Text, nullable=False, default=""),
    Column("south", Text, nullable=False, default=""),
    Column("west", Text, nullable=False, default=""),
    Column("north", Text, nullable=False, default=""),
    Column("duties", Text, nullable=False, default=""),
    Column("valid_from", Date),
    Column("valid_to", Date),
    Column("change", String(20), nullable=False),
    Column("changed_at", DateTime, nullable=False),
    Column("changed_by", String(100), nullable=False),
    Column("staff", JSON),
    Index(None, "grid_id", "version"),
)

four_bounds_review = Table(
    "four_bounds_review", metadata,
    Column("grid_id", Integer, ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True),
    Column("east", Text, nullable=False),
    Column("south", Text, nullable=False),
    Column("west", Text, nullable=False),
    Column("north", Text, nullable=False),
    Column("flagged_at", DateTime, nullable=False),
)

GEOMETRY_COLUMNS = GEOMETRY_COLUMNS + (("grid_history", "boundary"),)

# "Being handled by X" (gis.presence, migration 0009): one row per open case detail dialog of a
# seat (``seat`` is that dialog's random token), refreshed every 30 s and ignored after 90 s.
case_presence = Table(
    "case_presence", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("seat", String(64), primary_key=True),
    Column("user_name", String(100), nullable=False),
    Column("display_name", String(100), nullable=False, default=""),
    Column("host", String(150), nullable=False, default=""),
    Column("since", DateTime, nullable=False),
    Column("heartbeat_at", DateTime, nullable=False),
)
