"""Opening the wall's workspace when the database may not be there yet (no Qt here).

A wall is started by a kiosk script, perhaps before the database server is up. So a ``--db`` that
may work later — the server refuses or does not answer, the database is not created or still
empty, the SQLite file not written yet — opens the window anyway and is tried again with growing pauses
(``OPEN_BACKOFF``); one that can never work — bad syntax, an unknown driver, a SQLite path whose
folder does not exist — is an error at once (``check_wall_url``), as is a database EnvGrid refuses
to open (a newer schema, someone else's tables).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from gis.storage.store import POSTGIS_TABLES, Store, StoreError, create_store_engine, open_store, resolve_db_url

OPEN_BACKOFF = (1, 2, 4, 8, 15, 30)   # seconds between attempts; the last one repeats


class NotThereYet(StoreError):
    """The SQLite file does not exist (yet): someone may still write it."""


def check_wall_url(db) -> URL:
    """``--db`` as a URL, or StoreError if it can never work (checked without connecting)."""
    url = resolve_db_url(db)
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database or "").parent
        if not folder.is_dir():
            raise StoreError(f"--db: folder {folder} does not exist")
    try:
        create_store_engine(url).dispose()   # loads the dialect and its driver, opens nothing
    except Exception as exc:
        raise StoreError(f"--db: cannot use {url.render_as_string(hide_password=True)}: "
                         f"{type(exc).__name__}: {exc}") from exc
    return url


def open_wall_store(url: URL) -> Store:
    """Open the workspace at ``url``; StoreError if not now (``may_work_later`` says whether later).

    A wall only looks: it creates no workspace, neither a SQLite file nor the schema in an empty
    database (a restore or ``envgrid demo`` may be filling it right now); it waits for one."""
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise NotThereYet(f"no workspace at {url.database} yet")
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            empty = not set(inspect(connection).get_table_names()) - POSTGIS_TABLES
    except Exception as exc:
        raise StoreError(f"cannot open workspace {shown}: {type(exc).__name__}: {exc}") from exc
    finally:
        engine.dispose()
    if empty:
        raise NotThereYet(f"no EnvGrid workspace in {shown} yet")
    return open_store(url, create=False)


def may_work_later(exc: BaseException) -> bool:
    """Whether opening failed for a reason that may pass: the database's (unreachable, refusing,
    not created), not EnvGrid's refusal of what it found there."""
    return isinstance(exc, NotThereYet) or isinstance(exc.__cause__, DBAPIError)


def reason(exc: BaseException) -> str:
    """The driver's own words, short: ``Connection refused``, ``database "x" does not exist``."""
    cause = exc.__cause__
    text = str(getattr(cause, "orig", None) or cause or exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    line = line.rsplit(" failed: ", 1)[-1]
    return line.removeprefix("FATAL:").strip()[:200]


def backoff(attempt: int) -> int:
    """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
    return OPEN_BACKOFF[min(attempt, len(OPEN_BACKOFF) - 1)]
