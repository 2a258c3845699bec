"""Case table at a million cases, second pass: a covering index led by the state, and the row id
carried in the covering indexes on PostgreSQL.

- ``ix_cases_state_cover`` (state, due_at, grid_id, created_at, closed_at, source, category_id):
  待办, 已超期 and the open/overdue grid ranking read only the open cases' entries.
- PostgreSQL indexes do not carry the row id as SQLite's do: ``INCLUDE (id)`` lets a page's ids
  come from the index alone (index-only scans). The two covering indexes of 0004 are rebuilt so.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COVER = ["created_at", "state", "source", "category_id", "grid_id", "due_at", "closed_at"]
GRID_COVER = ["grid_id", "state", "created_at", "due_at", "closed_at", "source", "category_id"]
STATE_COVER = ["state", "due_at", "grid_id", "created_at", "closed_at", "source", "category_id"]


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for name, columns in (("ix_cases_created_at_cover", COVER), ("ix_cases_grid_id_cover", GRID_COVER)):
            op.drop_index(name, table_name="cases")
            op.create_index(name, "cases", columns, unique=False, postgresql_include=["id"])
    op.create_index("ix_cases_state_cover", "cases", STATE_COVER, unique=False, postgresql_include=["id"])
    if not postgres:
        op.execute("ANALYZE cases")  # SQLite plans from sqlite_stat1


def downgrade():
    op.drop_index("ix_cases_state_cover", table_name="cases")
    if op.get_bind().dialect.name == "postgresql":
        for name, columns in (("ix_cases_created_at_cover", COVER), ("ix_cases_grid_id_cover", GRID_COVER)):
            op.drop_index(name, table_name="cases")
            op.create_index(name, "cases", columns, unique=False)
