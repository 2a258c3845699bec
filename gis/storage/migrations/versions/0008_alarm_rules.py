"""Monitoring alarms from rules: ``alarm_rules``, the alarm's rule and repeat count, and readings
that a device re-sends stored once.

- ``alarm_rules``: configurable rules (threshold, AQI level, sudden rise, offline, data flag),
  read by :mod:`gis.monitoring`. No rows here: the demo and ``envgrid alarms set-rules`` install them.
- ``alarms``: ``rule_id``, ``occurrences`` (firings merged into this open alarm), ``last_value``
  and ``last_at`` (data time of the latest firing), and an index to find a station's open alarm.
- ``readings``: a unique index on (mn, cn, data_time, pollutant); inserts skip duplicates. It
  replaces the (mn, cn, data_time) index, which is its prefix. Existing duplicates are removed
  first, keeping the earliest row (the one every reader already saw first).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alarm_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('pollutant', sa.String(length=16), nullable=True),
    sa.Column('station_kind', sa.String(length=10), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('threshold', 'aqi', 'rise', 'offline', 'flag')",
                       name=op.f('ck_alarm_rules_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_rules')),
    sa.UniqueConstraint('code', name=op.f('uq_alarm_rules_code'))
    )
    # No foreign key on rule_id: SQLite could add one only by rebuilding ``alarms``, which drops its
    # change-feed triggers; rules are disabled, never deleted, so the id stays meaningful.
    op.add_column('alarms', sa.Column('rule_id', sa.Integer(), nullable=True))
    op.add_column('alarms', sa.Column('occurrences', sa.Integer(), nullable=False, server_default='1'))
    op.add_column('alarms', sa.Column('last_value', sa.Float(), nullable=True))
    op.add_column('alarms', sa.Column('last_at', sa.DateTime(), nullable=True))
    op.create_index(op.f('ix_alarms_station_id_rule_id_pollutant'), 'alarms',
                    ['station_id', 'rule_id', 'pollutant'], unique=False)
    op.execute("DELETE FROM readings WHERE id NOT IN (SELECT min(id) FROM readings "
               "GROUP BY mn, cn, data_time, pollutant)")
    op.drop_index('ix_readings_mn_cn_data_time', table_name='readings')
    op.create_index(op.f('ix_readings_mn_cn_data_time_pollutant'), 'readings',
                    ['mn', 'cn', 'data_time', 'pollutant'], unique=True)


def downgrade():
    raise NotImplementedError("EnvGrid does not downgrade a workspace; restore a backup instead")
