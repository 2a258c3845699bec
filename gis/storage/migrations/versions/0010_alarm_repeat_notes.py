"""Alarm repeats in the case history, at most one event per alarm per interval.

While an alarm is open its repeats are merged into it (migration 0008); since this revision the
linked 监测报警 case also gets a 备注 event "报警持续：新增 N 次，最高 …", written at the first
repeat and then at most once per the rule's ``repeat_minutes`` (gis.monitoring.alarms). The alarm
keeps what those events have told so far:

- ``noted_occurrences``: how many of ``occurrences`` an event has recorded (raising counts as one).
- ``noted_at``: when the latest such event was written (NULL: none yet, the next repeat is recorded).
- ``unnoted_peak``: the highest value among the repeats no event has recorded yet.

Repeats merged before this revision stay counted on the alarm only: their values were not kept,
so they are taken as recorded rather than reported later with a made-up maximum.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('alarms', sa.Column('noted_occurrences', sa.Integer(), nullable=False, server_default='1'))
    op.add_column('alarms', sa.Column('noted_at', sa.DateTime(), nullable=True))
    op.add_column('alarms', sa.Column('unnoted_peak', sa.Float(), nullable=True))
    op.execute("UPDATE alarms SET noted_occurrences = occurrences")


def downgrade():
    raise NotImplementedError("EnvGrid does not downgrade a workspace; restore a backup instead")
