"""Migration 0002 on a workspace that already has 0001 data: rules, calendar and 其他 appear, nothing is lost."""
from __future__ import annotations

from alembic import command
from sqlalchemy import func, select, text

from gis.storage import schema
from gis.storage.store import _alembic_config, create_store_engine, open_store, resolve_db_url, schema_head


def test_upgrade_from_0001_keeps_categories_and_adds_other(db_url):
    engine = create_store_engine(resolve_db_url(db_url))
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
        connection.execute(schema.case_categories.insert(), [
            {"code": "dust", "name": "扬尘", "sort_order": 0, "active": True},
            {"code": "fume", "name": "油烟", "sort_order": 5, "active": True}])
    engine.dispose()

    store = open_store(db_url)
    with store.engine.connect() as connection:
        categories = connection.execute(select(schema.case_categories.c.code, schema.case_categories.c.sort_order)
                                        .order_by(schema.case_categories.c.sort_order)).all()
        rules = connection.execute(select(func.count()).select_from(schema.deadline_rules)).scalar_one()
        days = connection.execute(select(func.count()).select_from(schema.work_calendar)).scalar_one()
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    store.close()
    assert [tuple(c) for c in categories] == [("dust", 0), ("fume", 5), ("other", 6)]
    assert (rules, days, version) == (4, 33 + 6, schema_head())


def test_a_new_workspace_has_the_default_categories(store):
    with store.engine.connect() as connection:
        names = connection.execute(select(schema.case_categories.c.name)
                                   .order_by(schema.case_categories.c.sort_order)).scalars().all()
    assert names[0] == "扬尘污染" and names[-1] == "其他" and len(names) == 11
