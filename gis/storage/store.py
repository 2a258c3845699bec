"""Opening a workspace database: URL resolution, engine set-up, schema migration.

A workspace is either one SQLite file (the embedded default) or a PostgreSQL/PostGIS
database shared by a command center. Opening migrates an older schema forward and
refuses a newer one, so two EnvGrid versions never silently disagree about the data.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic import command
from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url

MIGRATIONS = Path(__file__).with_name("migrations")
POSTGIS_TABLES = {"spatial_ref_sys"}  # created by the extension, not by someone else


class StoreError(RuntimeError):
    """A workspace could not be opened; the message says which and why."""


def default_data_dir() -> Path:
    return Path(user_data_dir("EnvGrid", appauthor=False))


def default_db_path() -> Path:
    return default_data_dir() / "demo-workspace.sqlite"


def resolve_db_url(db: str | Path | None) -> URL:
    """Turn ``--db`` (a file path or a SQLAlchemy URL) into a URL.

    ``postgresql://`` is taken to mean the psycopg 3 driver, which is what we ship.
    """
    if db is None:
        db = default_db_path()
    text = str(db)
    if "://" not in text:
        return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser().resolve()))
    try:
        url = make_url(text)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise StoreError(f"--db: not a database URL or file path: {text!r} ({exc})") from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"--db: unsupported database {url.get_backend_name()!r}; "
                         "use a SQLite file path or postgresql://…")
    return url


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin_before_savepoint(connection, _name) -> None:
    """pysqlite (kept in its deferred-transaction mode, see gis.workflow.cases._savepoint) emits no
    BEGIN before a SAVEPOINT: outside a transaction SQLite would then open one for the savepoint
    and its RELEASE would commit everything so far. Begin the real transaction first."""
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


def create_store_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def schema_head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


@dataclass
class Store:
    """An open workspace: the engine plus what callers need to know about it."""

    engine: Engine
    url: URL

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def display_name(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()


def open_store(db: str | Path | URL | None = None, *, migrate: bool = True, create: bool = True) -> Store:
    """Open (and create or migrate) the workspace at ``db``.

    With ``create=False`` a SQLite file that does not exist is an error instead of a new,
    empty workspace — what read-only commands want when a path is mistyped.

    Raises
    ------
    StoreError
        The server is unreachable, or the database was written by a newer EnvGrid.
    """
    url = db if isinstance(db, URL) else resolve_db_url(db)
    if not create and url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise StoreError(f"no workspace at {url.database}")
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            _check_and_migrate(connection, migrate)
    except StoreError:
        engine.dispose()
        raise
    except Exception as exc:
        engine.dispose()
        shown = url.render_as_string(hide_password=True)
        raise StoreError(f"cannot open workspace {shown}: {exc.__class__.__name__}: {exc}") from exc
    return Store(engine, url)


def wipe_workspace(store: Store) -> None:
    """Drop every EnvGrid table and rebuild the empty schema (``envgrid demo --force``).

    Dropping, not deleting, because the history tables refuse DELETE by design.
    """
    from gis.storage.schema import metadata

    with store.engine.connect() as connection:
        if not store.is_postgres:
            # SQLite checks the self-referencing grids.parent_id row by row while dropping;
            # the pragma only takes effect outside a transaction, so it comes first.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            metadata.drop_all(connection)
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            if store.is_postgres:
                connection.exec_driver_sql("DROP FUNCTION IF EXISTS envgrid_append_only()")
            _check_and_migrate(connection, migrate=True)
        if not store.is_postgres:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def _check_and_migrate(connection, migrate: bool) -> None:
    script = ScriptDirectory(str(MIGRATIONS))
    current = MigrationContext.configure(connection).get_current_revision()
    head = script.get_current_head()
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise StoreError(
            f"this workspace has schema version {current}, newer than this EnvGrid understands "
            f"(up to {head}); update EnvGrid to open it — nothing was changed"
        )
    if current == head:
        return
    foreign = set(inspect(connection).get_table_names()) - POSTGIS_TABLES
    if current is None and foreign:
        names = ", ".join(sorted(foreign)[:5])
        raise StoreError(f"the database already holds tables that are not an EnvGrid workspace ({names}…)")
    if not migrate:
        raise StoreError(f"workspace schema {current} is older than {head}; open it with migration on")
    command.upgrade(_alembic_config(connection), "head")
