""""Being handled by X": ``case_presence``, one row per case detail dialog a seat has open.

A row is a lease (gis.presence): taken when the dialog opens, refreshed every 30 s, deleted on
close, and ignored once its heartbeat is older than 90 s (a seat that crashed or lost the network).
Not in the change feed: it changes every 30 s per open dialog and is read where it is shown.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_presence',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seat', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('host', sa.String(length=150), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_presence_case_id_cases'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'seat', name=op.f('pk_case_presence'))
    )


def downgrade():
    raise NotImplementedError("EnvGrid does not downgrade a workspace; restore a backup instead")
