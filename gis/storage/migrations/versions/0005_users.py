"""User accounts: the ``users`` table (argon2id hashes, roles, lockout, optional data scope).

Database roles, GRANTs and the row-level-security policies on ``users`` are not created here:
they are cluster-wide objects whose names an administrator chooses, installed with
``envgrid db-roles`` (gis.security.pg_roles), which a migration must not do behind their back.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('scope_grid_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login', sa.DateTime(), nullable=True),
    sa.CheckConstraint("role IN ('seat', 'gis_editor', 'leader', 'admin')", name=op.f('ck_users_role_known')),
    sa.CheckConstraint('failed_attempts >= 0', name=op.f('ck_users_failures_not_negative')),
    sa.ForeignKeyConstraint(['scope_grid_id'], ['grids.id'], name=op.f('fk_users_scope_grid_id_grids'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )


def downgrade():
    raise NotImplementedError("EnvGrid does not downgrade a workspace; restore a backup instead")
