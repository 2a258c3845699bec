"""Case workflow: deadline rules, the work calendar, indexes for duplicates and overdue cases,
append-only attachments, and the default case categories (so 其他 always exists).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from datetime import date, timedelta

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copies: a migration must seed the same rows whatever the code says later.
DEFAULT_DEADLINES = (("监测报警", 24), ("群众举报", 72), ("巡查上报", 168), ("上级交办", 120))
CASE_CATEGORIES = (
    ("air_dust", "扬尘污染"), ("air_smoke", "露天焚烧"), ("catering_fume", "餐饮油烟"), ("coal", "散煤燃烧"),
    ("vocs", "VOCs排放"), ("water", "水污染"), ("waste", "固废乱堆乱倒"), ("noise", "噪声扰民"),
    ("hazardous", "危险废物"), ("monitoring", "监测超标"), ("other", "其他"),
)
# 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04): holidays, then 调休 working days.
HOLIDAYS_2026 = (
    ("元旦", date(2026, 1, 1), date(2026, 1, 3)),
    ("春节", date(2026, 2, 15), date(2026, 2, 23)),
    ("清明节", date(2026, 4, 4), date(2026, 4, 6)),
    ("劳动节", date(2026, 5, 1), date(2026, 5, 5)),
    ("端午节", date(2026, 6, 19), date(2026, 6, 21)),
    ("中秋节", date(2026, 9, 25), date(2026, 9, 27)),
    ("国庆节", date(2026, 10, 1), date(2026, 10, 7)),
)
MAKEUP_WORKDAYS_2026 = (
    ("元旦调休上班", date(2026, 1, 4)),
    ("春节调休上班", date(2026, 2, 14)),
    ("春节调休上班", date(2026, 2, 28)),
    ("劳动节调休上班", date(2026, 5, 9)),
    ("国庆节调休上班", date(2026, 9, 20)),
    ("国庆节调休上班", date(2026, 10, 10)),
)


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    deadline_rules = op.create_table('deadline_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('hours', sa.Integer(), nullable=True),
    sa.Column('workdays', sa.Integer(), nullable=True),
    sa.CheckConstraint('(hours IS NULL) <> (workdays IS NULL)', name=op.f('ck_deadline_rules_one_unit')),
    sa.CheckConstraint('hours IS NULL OR hours > 0', name=op.f('ck_deadline_rules_hours_positive')),
    sa.CheckConstraint('workdays IS NULL OR workdays > 0', name=op.f('ck_deadline_rules_workdays_positive')),
    sa.ForeignKeyConstraint(['category_id'], ['case_categories.id'], name=op.f('fk_deadline_rules_category_id_case_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_rules')),
    sa.UniqueConstraint('source', 'category_id', name=op.f('uq_deadline_rules_source_category_id'))
    )
    work_calendar = op.create_table('work_calendar',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_work_calendar'))
    )
    op.create_index(op.f('ix_cases_category_id_created_at'), 'cases', ['category_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_cases_due_at'), 'cases', ['due_at'], unique=False)

    op.bulk_insert(deadline_rules, [{"source": source, "category_id": None, "hours": hours, "workdays": None}
                                    for source, hours in DEFAULT_DEADLINES])
    days = [{"day": start + timedelta(days=i), "is_workday": False, "name": name}
            for name, start, end in HOLIDAYS_2026 for i in range((end - start).days + 1)]
    days += [{"day": day, "is_workday": True, "name": name} for name, day in MAKEUP_WORKDAYS_2026]
    op.bulk_insert(work_calendar, days)
    _seed_case_categories()

    # Photos are evidence (痕迹化): like the event trail, never rewritten or removed. A later
    # batch migration that recreates this table on SQLite must create these triggers again.
    if postgres:
        op.execute("CREATE TRIGGER attachments_append_only BEFORE UPDATE OR DELETE ON attachments "
                   "FOR EACH ROW EXECUTE FUNCTION envgrid_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER attachments_no_{verb.lower()} BEFORE {verb} ON attachments "
                       f"BEGIN SELECT RAISE(ABORT, 'attachments is append-only (痕迹化): {verb} refused'); END")


def _seed_case_categories():
    """The default list when there is none (the demo's seeding then finds it); 其他 in any case."""
    table = sa.table("case_categories", sa.column("id", sa.Integer), sa.column("code", sa.String),
                     sa.column("name", sa.String), sa.column("sort_order", sa.Integer),
                     sa.column("active", sa.Boolean))
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.code, table.c.name, table.c.sort_order)).all()
    if not rows:
        op.bulk_insert(table, [{"code": code, "name": name, "sort_order": i, "active": True}
                               for i, (code, name) in enumerate(CASE_CATEGORIES)])
    elif not any(code == "other" or name == "其他" for code, name, _ in rows):
        last = max(order for *_, order in rows)
        op.bulk_insert(table, [{"code": "other", "name": "其他", "sort_order": last + 1, "active": True}])


def downgrade():
    raise NotImplementedError("EnvGrid does not downgrade a workspace; restore a backup instead")
