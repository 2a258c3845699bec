"""Indexes for the case table, its filters and the charts at a million cases.

- ``ix_cases_created_at_cover`` (created_at, state, source, category_id, grid_id, due_at, closed_at):
  every column a case filter or chart tests, led by the default sort. A count, a chart aggregate
  or a page in 上报时间 order reads this index alone — a range for a time filter, else the whole
  index — and never looks up table rows it will throw away. Without it SQLite takes ~0.5–5 s per
  query at 1,000,000 cases; with it ≤ ~0.2 s (``benchmarks/bench_case_queries.py``).
- ``ix_cases_grid_id_cover`` (grid_id, state, created_at, due_at, closed_at, source, category_id):
  the same columns led by the grid, so a selected grid's subtree is read alone (a village: a few
  thousand entries) for the table's count, the charts and the map's pins.
- ``ix_case_events_actor``: the 我经办的 work list (cases with an event by the seat's actor).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COVER = ["created_at", "state", "source", "category_id", "grid_id", "due_at", "closed_at"]
GRID_COVER = ["grid_id", "state", "created_at", "due_at", "closed_at", "source", "category_id"]


def upgrade():
    op.create_index("ix_cases_created_at_cover", "cases", COVER, unique=False)
    op.create_index("ix_cases_grid_id_cover", "cases", GRID_COVER, unique=False)
    op.create_index(op.f("ix_case_events_actor"), "case_events", ["actor"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE cases")  # SQLite plans from sqlite_stat1; PostgreSQL's autovacuum analyses


def downgrade():
    raise NotImplementedError("EnvGrid does not downgrade a workspace; restore a backup instead")
