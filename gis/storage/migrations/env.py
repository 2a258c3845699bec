"""Alembic environment: EnvGrid always passes an open connection (see gis.storage.store)."""
from alembic import context

from gis.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
