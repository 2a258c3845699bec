"""Initial schema: grids, people and assignments, pollution sources, stations, readings,
alarms, cases with their append-only history, attachments and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

from gis.storage.geometry import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SPATIAL = (("grids", "boundary"), ("pollution_sources", "location"), ("stations", "location"),
           ("cases", "location"))
APPEND_ONLY = ("case_events", "audit_log")


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('table_name', sa.String(length=40), nullable=True),
    sa.Column('row_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_table('case_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_case_categories_code'))
    )
    op.create_table('grids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('boundary', Geometry('GEOMETRY', srid=4490), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('min_lon', sa.Float(), nullable=False),
    sa.Column('min_lat', sa.Float(), nullable=False),
    sa.Column('max_lon', sa.Float(), nullable=False),
    sa.Column('max_lat', sa.Float(), nullable=False),
    sa.Column('east', sa.Text(), nullable=False),
    sa.Column('south', sa.Text(), nullable=False),
    sa.Column('west', sa.Text(), nullable=False),
    sa.Column('north', sa.Text(), nullable=False),
    sa.Column('duties', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name=op.f('ck_grids_level_range')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_grids_version_positive')),
    sa.ForeignKeyConstraint(['parent_id'], ['grids.id'], name=op.f('fk_grids_parent_id_grids'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grids')),
    sa.UniqueConstraint('code', name=op.f('uq_grids_code'))
    )
    op.create_index(op.f('ix_grids_level'), 'grids', ['level'], unique=False)
    op.create_index(op.f('ix_grids_min_lon_max_lon_min_lat_max_lat'), 'grids', ['min_lon', 'max_lon', 'min_lat', 'max_lat'], unique=False)
    op.create_index(op.f('ix_grids_parent_id'), 'grids', ['parent_id'], unique=False)
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('source_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_source_categories_code'))
    )
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_assignments_dates_ordered')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_assignments_grid_id_grids'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_assignments_person_id_people'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    op.create_index(op.f('ix_assignments_grid_id_role'), 'assignments', ['grid_id', 'role'], unique=False)
    op.create_index(op.f('ix_assignments_person_id'), 'assignments', ['person_id'], unique=False)
    op.create_table('pollution_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('location', Geometry('POINT', srid=4490), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('is_key', sa.Boolean(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('permit_no', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('last_inspected', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['source_categories.id'], name=op.f('fk_pollution_sources_category_id_source_categories')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_pollution_sources_grid_id_grids'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pollution_sources'))
    )
    op.create_index(op.f('ix_pollution_sources_category_id'), 'pollution_sources', ['category_id'], unique=False)
    op.create_index(op.f('ix_pollution_sources_grid_id'), 'pollution_sources', ['grid_id'], unique=False)
    op.create_index(op.f('ix_pollution_sources_lon_lat'), 'pollution_sources', ['lon', 'lat'], unique=False)
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', Geometry('POINT', srid=4490), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('department', sa.String(length=100), nullable=True),
    sa.Column('pollution_source_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('reporter_name', sa.String(length=100), nullable=False),
    sa.Column('reporter_phone', sa.String(length=40), nullable=False),
    sa.Column('duplicate_of', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['case_categories.id'], name=op.f('fk_cases_category_id_case_categories')),
    sa.ForeignKeyConstraint(['duplicate_of'], ['cases.id'], name=op.f('fk_cases_duplicate_of_cases')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_cases_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pollution_source_id'], ['pollution_sources.id'], name=op.f('fk_cases_pollution_source_id_pollution_sources'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number'))
    )
    op.create_index(op.f('ix_cases_created_at'), 'cases', ['created_at'], unique=False)
    op.create_index(op.f('ix_cases_grid_id'), 'cases', ['grid_id'], unique=False)
    op.create_index(op.f('ix_cases_state'), 'cases', ['state'], unique=False)
    op.create_table('stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mn', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('location', Geometry('POINT', srid=4490), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('air', 'water', 'outlet')", name=op.f('ck_stations_kind_known')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_stations_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['pollution_sources.id'], name=op.f('fk_stations_source_id_pollution_sources'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stations')),
    sa.UniqueConstraint('mn', name=op.f('uq_stations_mn'))
    )
    op.create_index(op.f('ix_stations_grid_id'), 'stations', ['grid_id'], unique=False)
    op.create_table('alarms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('pollutant', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('feedback_at', sa.DateTime(), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_alarms_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_alarms_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_alarms_station_id_stations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarms'))
    )
    op.create_index(op.f('ix_alarms_raised_at'), 'alarms', ['raised_at'], unique=False)
    op.create_index(op.f('ix_alarms_station_id'), 'alarms', ['station_id'], unique=False)
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_state', sa.String(length=10), nullable=True),
    sa.Column('to_state', sa.String(length=10), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_case_events_grid_id_grids'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    op.create_index(op.f('ix_case_events_case_id_at'), 'case_events', ['case_id', 'at'], unique=False)
    op.create_table('readings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('mn', sa.String(length=32), nullable=False),
    sa.Column('cn', sa.String(length=4), nullable=False),
    sa.Column('data_time', sa.DateTime(), nullable=False),
    sa.Column('pollutant', sa.String(length=16), nullable=False),
    sa.Column('rtd', sa.Float(), nullable=True),
    sa.Column('avg', sa.Float(), nullable=True),
    sa.Column('min', sa.Float(), nullable=True),
    sa.Column('max', sa.Float(), nullable=True),
    sa.Column('flag', sa.String(length=4), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_readings_station_id_stations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_readings'))
    )
    op.create_index(op.f('ix_readings_mn_cn_data_time'), 'readings', ['mn', 'cn', 'data_time'], unique=False)
    op.create_index(op.f('ix_readings_station_id_data_time'), 'readings', ['station_id', 'data_time'], unique=False)
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=260), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['event_id'], ['case_events.id'], name=op.f('fk_attachments_event_id_case_events'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    op.create_index(op.f('ix_attachments_case_id'), 'attachments', ['case_id'], unique=False)
    # ### end Alembic commands ###
    if postgres:
        for table, column in SPATIAL:
            op.execute(f"CREATE INDEX sx_{table}_{column} ON {table} USING GIST ({column})")
        op.execute(
            "CREATE FUNCTION envgrid_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only (痕迹化): % refused', TG_TABLE_NAME, TG_OP; END $$"
        )
    for table in APPEND_ONLY:
        if postgres:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION envgrid_append_only()")
        else:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only (痕迹化): {verb} refused'); END")


def downgrade():
    raise NotImplementedError("EnvGrid does not downgrade a workspace; restore a backup instead")
