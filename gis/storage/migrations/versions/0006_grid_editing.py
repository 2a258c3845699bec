"""Grid editing: ``grid_history`` (earlier versions of grid boundaries and fields, with dates) and
``four_bounds_review`` (grids whose 四至 no longer fits their boundary, with the suggested text).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

from gis.storage.geometry import Geometry

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('grid_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('boundary', Geometry('GEOMETRY', srid=4490), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('east', sa.Text(), nullable=False),
    sa.Column('south', sa.Text(), nullable=False),
    sa.Column('west', sa.Text(), nullable=False),
    sa.Column('north', sa.Text(), nullable=False),
    sa.Column('duties', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('change', sa.String(length=20), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('staff', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_history'))
    )
    op.create_index(op.f('ix_grid_history_grid_id_version'), 'grid_history', ['grid_id', 'version'], unique=False)
    op.create_table('four_bounds_review',
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('east', sa.Text(), nullable=False),
    sa.Column('south', sa.Text(), nullable=False),
    sa.Column('west', sa.Text(), nullable=False),
    sa.Column('north', sa.Text(), nullable=False),
    sa.Column('flagged_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_four_bounds_review_grid_id_grids'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('grid_id', name=op.f('pk_four_bounds_review'))
    )
    if postgres:
        # Every geometry column has a GiST index (tests/gis/test_store.py checks it); QGIS uses it
        # when the history is shown as a layer.
        op.execute("CREATE INDEX sx_grid_history_boundary ON grid_history USING GIST (boundary)")


def downgrade():
    raise NotImplementedError("EnvGrid does not downgrade a workspace; restore a backup instead")
