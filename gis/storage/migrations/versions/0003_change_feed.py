"""Change feed: the ``changes`` table, written by triggers on every watched table, so every writer
(the app, the CLI, another seat, raw SQL) is seen in the transaction of the change itself.

PostgreSQL: one row trigger function for all tables, a statement-level trigger on ``readings``
(one change per station per statement, from the transition table), ``pg_notify`` once per
transaction, and ``envgrid_change_horizon()``, which readers use so that a change committing
late with a smaller id is never skipped (the reasoning is in ``gis/storage/changes.py``).
SQLite: one trigger per table and operation; writers are serialised there, so ids commit in order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies (a migration must not follow later code): table → the columns copied into ``info``.
WATCHED = {
    "grids": ("code", "level"),
    "people": (),  # names and phones stay out of a feed that integrations print
    "assignments": ("grid_id", "person_id", "role"),
    "pollution_sources": ("grid_id", "status"),
    "stations": ("mn", "grid_id"),
    "cases": ("number", "state", "grid_id"),
    "case_events": ("case_id", "action", "to_state"),
    "alarms": ("station_id", "status", "grid_id", "case_id"),
}
# Advisory-lock namespace of in-flight writers: key1 = LOCK_BASE + (floor >> 31), key2 = floor's low
# 31 bits, so floors up to 2**47 fit. Nothing else in EnvGrid may use two-key locks with key1 in
# [LOCK_BASE, LOCK_BASE + 65535].
LOCK_BASE = 0x45470000  # "EG"


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('row_id', sa.Integer(), nullable=False),
    sa.Column('op', sa.String(length=6), nullable=False),
    sa.Column('info', sa.JSON(), nullable=True),
    sa.CheckConstraint("op IN ('insert', 'update', 'delete')", name=op.f('ck_changes_op_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_changes')),
    sqlite_autoincrement=True,
    )
    if postgres:
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _postgres_triggers():
    # Functions run as their owner (SECURITY DEFINER, fixed search_path): seats need no privilege on
    # ``changes`` or its sequence, so no role can forge or skip a change row. OR REPLACE because
    # ``wipe_workspace`` drops the tables but leaves functions behind.
    definer = "SECURITY DEFINER SET search_path FROM CURRENT"
    # Once per transaction, BEFORE its first change id is drawn: a shared lock whose key is a lower
    # bound of every id this transaction will draw (the sequence can only move up), and one NOTIFY
    # (delivered at commit; one per transaction, not per row, so a bulk import sends one). The GUC
    # holds the transaction id, so a stray session-level SET cannot make a transaction skip this;
    # a rolled-back savepoint undoes lock and GUC together.
    op.execute(f"""
        CREATE OR REPLACE FUNCTION envgrid_change_guard() RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            floor_id bigint;
        BEGIN
            IF current_setting('envgrid.change_guard', true) IS DISTINCT FROM pg_current_xact_id()::text THEN
                SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO floor_id FROM changes_id_seq;
                PERFORM pg_advisory_xact_lock_shared({LOCK_BASE} + (floor_id >> 31)::int,
                                                     (floor_id & 2147483647)::int);
                PERFORM set_config('envgrid.change_guard', pg_current_xact_id()::text, true);
                PERFORM pg_notify('envgrid_changes', floor_id::text);
            END IF;
        END $$""")
    # Per table its own IF branch: plpgsql resolves record fields only in the branch it runs.
    branches = "\n".join(
        f"            {'IF' if i == 0 else 'ELSIF'} TG_TABLE_NAME = '{table}' THEN info := json_build_object("
        + ", ".join(f"'{c}', r.{c}" for c in columns) + ");"
        for i, (table, columns) in enumerate((t, c) for t, c in WATCHED.items() if c))
    op.execute(f"""
        CREATE OR REPLACE FUNCTION envgrid_record_change() RETURNS trigger LANGUAGE plpgsql {definer} AS $$
        DECLARE
            r record;
            info json;
        BEGIN
            IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
{branches}
            END IF;
            PERFORM envgrid_change_guard();
            INSERT INTO changes (at, table_name, row_id, op, info)
            VALUES (clock_timestamp() AT TIME ZONE 'UTC', TG_TABLE_NAME, r.id, lower(TG_OP), info);
            RETURN NULL;
        END $$""")
    # Readings arrive by the thousand per COPY: one change per station per statement, from the
    # transition table. Unknown devices (station_id NULL) have nothing a seat could show.
    op.execute(f"""
        CREATE OR REPLACE FUNCTION envgrid_record_readings() RETURNS trigger LANGUAGE plpgsql {definer} AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_rows WHERE station_id IS NOT NULL) THEN
                PERFORM envgrid_change_guard();
                INSERT INTO changes (at, table_name, row_id, op, info)
                SELECT clock_timestamp() AT TIME ZONE 'UTC', 'readings', station_id, 'insert',
                       json_build_object('rows', count(*))
                FROM new_rows WHERE station_id IS NOT NULL GROUP BY station_id ORDER BY station_id;
            END IF;
            RETURN NULL;
        END $$""")
    # The highest id a reader may consume: every id at or below it is committed (visible to a
    # snapshot taken after this returns) or will never be. The sequence is read BEFORE the locks.
    op.execute(f"""
        CREATE OR REPLACE FUNCTION envgrid_change_horizon() RETURNS bigint LANGUAGE plpgsql VOLATILE {definer} AS $$
        DECLARE
            allocated bigint;
            in_flight bigint;
        BEGIN
            SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO allocated FROM changes_id_seq;
            SELECT min(((l.classid::bigint - {LOCK_BASE}) << 31) | l.objid::bigint) INTO in_flight
            FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.objsubid = 2
              AND l.classid::bigint BETWEEN {LOCK_BASE} AND {LOCK_BASE + 65535}
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());
            RETURN least(allocated, in_flight);
        END $$""")
    for table in WATCHED:
        op.execute(f"CREATE TRIGGER {table}_changes AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION envgrid_record_change()")
    op.execute("CREATE TRIGGER readings_changes AFTER INSERT ON readings REFERENCING NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION envgrid_record_readings()")


def _sqlite_triggers():
    # strftime's %f has milliseconds; SQLAlchemy's SQLite DateTime reads six fractional digits.
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
    for table, columns in WATCHED.items():
        for verb, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            info = ("json_object(" + ", ".join(f"'{c}', {row}.{c}" for c in columns) + ")") if columns else "NULL"
            op.execute(f"CREATE TRIGGER {table}_changes_{verb.lower()} AFTER {verb} ON {table} BEGIN "
                       f"INSERT INTO changes (at, table_name, row_id, op, info) "
                       f"VALUES ({now}, '{table}', {row}.id, '{verb.lower()}', {info}); END")


def downgrade():
    raise NotImplementedError("EnvGrid does not downgrade a workspace; restore a backup instead")
