"""``envgrid backup`` / ``envgrid restore`` for both backends, checked against a manifest.

Layout
------
``OUT`` is the backup itself: a SQLite database file (SQLite's online backup API, so seats may
keep writing meanwhile) or a ``pg_dump -Fc`` archive. Next to it, ``OUT.manifest.json`` records
the backend, schema revision, size, SHA-256 and the row count of every EnvGrid table — counted
in the backup's own snapshot (the copied SQLite file; on PostgreSQL the snapshot exported to
pg_dump), so the counts describe exactly what was saved even under load. Keep the two together.

Restoring checks the checksum, refuses a target that is not empty, restores, compares every
count with the manifest, then migrates the workspace forward if the backup is older than this
EnvGrid. On PostgreSQL GRANTs and row-level-security policies are left out (they name
cluster-wide roles that may not exist on the target server): run ``envgrid db-roles`` after.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import URL

from gis.storage.schema import metadata
from gis.storage.store import MIGRATIONS, open_store, resolve_db_url

FORMAT = "envgrid-backup"
FORMAT_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"
# pg_restore TOC entries left out: privileges and policies name roles of the source cluster; the
# extension's comment may only be set by its owner.
_SKIPPED_TOC = re.compile(r"^\s*\d+;\s+\d+\s+\d+\s+(ACL|DEFAULT ACL|POLICY|COMMENT - EXTENSION)\b")


class BackupError(RuntimeError):
    """Backup or restore refused or failed; nothing was overwritten. The message says what to do."""


@dataclass
class Manifest:
    backend: str
    schema_revision: str | None
    created_at: str
    source: str
    file: str
    size: int
    sha256: str
    tables: dict[str, int]
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BackupError(f"manifest {path} not found: it is written next to the backup by envgrid backup "
                              "and is needed to check the restore") from None
        except (OSError, ValueError) as exc:
            raise BackupError(f"manifest {path} unreadable: {exc}") from exc
        if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"{path} is not an EnvGrid backup manifest (format {FORMAT} v{FORMAT_VERSION})")
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass
class RestoreResult:
    manifest: Manifest
    counts: dict[str, int]
    revision_after: str | None
    notes: list[str] = field(default_factory=list)


def manifest_path(backup_file: Path | str) -> Path:
    path = Path(backup_file)
    return path.with_name(path.name + MANIFEST_SUFFIX)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _count_tables(execute, present: set[str]) -> dict[str, int]:
    """Rows per EnvGrid table that exists (an older backup lacks newer tables), by name."""
    return {name: int(execute(f'SELECT count(*) FROM "{name}"')) for name in sorted(present & set(metadata.tables))}


def _check_out(out: Path) -> None:
    if out.exists() or manifest_path(out).exists():
        raise BackupError(f"{out} (or its manifest) already exists; choose another name or remove it first")
    if not out.parent.is_dir():
        raise BackupError(f"directory {out.parent} does not exist")


def _finish(tmp: Path, out: Path, manifest: Manifest) -> Manifest:
    manifest.size, manifest.sha256 = tmp.stat().st_size, _sha256(tmp)
    manifest.write(manifest_path(out))
    os.replace(tmp, out)  # the backup appears only complete, after its manifest
    return manifest


def backup(db: str | Path | URL, out: str | Path) -> Manifest:
    """Back up the workspace ``db`` to ``out`` (+ ``out.manifest.json``).

    Raises
    ------
    BackupError
        ``out`` exists, the source is missing or not an EnvGrid workspace, pg_dump missing or failed.
    """
    url = db if isinstance(db, URL) else resolve_db_url(db)
    out = Path(out).expanduser().resolve()
    _check_out(out)
    tmp = out.with_name(f".{out.name}.partial")
    try:
        if url.get_backend_name() == "sqlite":
            manifest = _backup_sqlite(Path(url.database or ""), tmp)
        else:
            manifest = _backup_postgres(url, tmp)
        manifest.file = out.name
        manifest.source = url.render_as_string(hide_password=True)
        return _finish(tmp, out, manifest)
    finally:
        tmp.unlink(missing_ok=True)


def _manifest(backend: str, revision: str | None, tables: dict[str, int]) -> Manifest:
    return Manifest(backend, revision, datetime.now().isoformat(timespec="seconds"), "", "", 0, "", tables)


def _sqlite_revision_and_counts(connection: sqlite3.Connection) -> tuple[str | None, dict[str, int]]:
    present = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "alembic_version" not in present:
        raise BackupError("not an EnvGrid workspace (no schema version)")
    revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return (revision[0] if revision else None), _count_tables(lambda q: connection.execute(q).fetchone()[0], present)


def _backup_sqlite(path: Path, tmp: Path) -> Manifest:
    if not path.is_file():
        raise BackupError(f"no workspace at {path}")
    source = sqlite3.connect(path, timeout=10)
    target = sqlite3.connect(tmp)
    try:
        source.backup(target)  # the online backup API: a consistent copy while seats keep writing
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        revision, counts = _sqlite_revision_and_counts(target)
    finally:
        target.close()
        source.close()
    return _manifest("sqlite", revision, counts)


def _tool(name: str) -> str:
    """Path of pg_dump / pg_restore: ``ENVGRID_PG_BIN`` if set, else the PATH."""
    folder = os.environ.get("ENVGRID_PG_BIN")
    found = shutil.which(name, path=folder) if folder else shutil.which(name)
    if not found:
        where = f"in ENVGRID_PG_BIN={folder}" if folder else "on PATH"
        raise BackupError(f"{name} not found {where}: install the PostgreSQL client tools (e.g. postgresql-client, "
                          "the same major version as the server) or point ENVGRID_PG_BIN at their bin directory")
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment carrying it (never on the command line,
    where ``ps`` shows it)."""
    from gis.security.credentials import url_with_password

    url = url_with_password(url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed (exit {done.returncode}): " + " | ".join(detail[-5:]))


def _postgres_engine(url: URL):
    from gis.security.credentials import url_with_password

    return create_engine(url_with_password(url), connect_args={"connect_timeout": 10})


def _backup_postgres(url: URL, tmp: Path) -> Manifest:
    pg_dump = _tool("pg_dump")
    uri, env = _libpq(url)
    engine = _postgres_engine(url)
    try:
        with engine.connect() as plain:
            connection = plain.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                # Counted and dumped from one snapshot: the manifest matches the dump even under load.
                # The session waits idle while pg_dump runs; a server-wide idle timeout must not end it.
                connection.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = 0")
                snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                present = set(connection.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").scalars())
                if "alembic_version" not in present:
                    raise BackupError("not an EnvGrid workspace (no schema version)")
                revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                counts = _count_tables(lambda q: connection.exec_driver_sql(q).scalar_one(), present)
                _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={tmp}", f"--dbname={uri}"],
                     env, "pg_dump")
    except BackupError:
        raise
    except Exception as exc:
        raise BackupError(f"cannot read {url.render_as_string(hide_password=True)}: {exc}") from exc
    finally:
        engine.dispose()
    return _manifest("postgresql", revision, counts)


def _check_backup(inp: Path, backend: str) -> Manifest:
    if not inp.is_file():
        raise BackupError(f"backup file {inp} not found")
    manifest = Manifest.read(manifest_path(inp))
    if manifest.backend != backend:
        raise BackupError(f"{inp} is a {manifest.backend} backup; it can only be restored into a "
                          f"{manifest.backend} workspace, not {backend}")
    if _sha256(inp) != manifest.sha256:
        raise BackupError(f"{inp} does not match its manifest (SHA-256 differs): damaged or a different file")
    known = {rev.revision for rev in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if manifest.schema_revision is not None and manifest.schema_revision not in known:
        raise BackupError(f"the backup has schema version {manifest.schema_revision}, newer than this EnvGrid "
                          "understands; restore it with a newer EnvGrid")
    return manifest


def _compare(manifest: Manifest, counts: dict[str, int]) -> list[str]:
    return [f"{t}: backup {manifest.tables.get(t)} rows, restored {counts.get(t)}"
            for t in sorted(set(manifest.tables) | set(counts)) if manifest.tables.get(t) != counts.get(t)]


def restore(inp: str | Path, db: str | Path | URL) -> RestoreResult:
    """Restore backup ``inp`` into the EMPTY workspace ``db``, check every count, migrate forward.

    Raises
    ------
    BackupError
        Missing file or manifest, checksum mismatch, target not empty, tool missing or failed,
        counts differ (the message lists the tables).
    """
    url = db if isinstance(db, URL) else resolve_db_url(db)
    inp = Path(inp).expanduser().resolve()
    backend = url.get_backend_name()
    manifest = _check_backup(inp, backend)
    if backend == "sqlite":
        counts = _restore_sqlite(inp, Path(url.database or ""), manifest)
        notes = []
    else:
        counts = _restore_postgres(inp, url)
        notes = [(f"GRANTs and row-level-security policies were not restored: run envgrid db-roles --db "
                  f"{url.render_as_string(hide_password=True)}")]
    problems = _compare(manifest, counts)
    if problems:
        raise BackupError("restored row counts differ from the manifest — do not use this workspace:\n  "
                          + "\n  ".join(problems))
    store = open_store(url)  # an older backup is migrated to this EnvGrid's schema here
    try:
        with store.engine.connect() as connection:
            revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    finally:
        store.close()
    return RestoreResult(manifest, counts, revision, notes)


def _restore_sqlite(inp: Path, target: Path, manifest: Manifest) -> dict[str, int]:
    siblings = [target.with_name(target.name + s) for s in ("-wal", "-journal")]
    if target.exists() and target.stat().st_size > 0:
        with sqlite3.connect(f"file:{target}?mode=ro", uri=True) as probe:
            tables = probe.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        probe.close()
        if tables:
            raise BackupError(f"{target} is not empty; restore only into a new file or an empty database")
    if any(p.exists() and p.stat().st_size > 0 for p in siblings):
        raise BackupError(f"{target} has a journal beside it ({', '.join(str(p) for p in siblings if p.exists())}); "
                          "it is in use or was not closed cleanly — choose another target")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{inp}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        _, counts = _sqlite_revision_and_counts(copy)
    finally:
        copy.close()
        source.close()
    if _compare(manifest, counts):
        target.unlink(missing_ok=True)  # we created it; leave the target as empty as we found it
    return counts


def _existing_tables(connection) -> list[str]:
    """User tables (not PostGIS's or any extension's): the target must have none."""
    return list(connection.exec_driver_sql(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> 'information_schema' "
        "AND left(n.nspname, 3) <> 'pg_' AND NOT EXISTS (SELECT 1 FROM pg_depend d "
        "WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') ORDER BY 1").scalars())


def _restore_postgres(inp: Path, url: URL) -> dict[str, int]:
    pg_restore = _tool("pg_restore")
    uri, env = _libpq(url)
    shown = url.render_as_string(hide_password=True)
    engine = _postgres_engine(url)
    try:
        with engine.connect() as connection:
            tables = _existing_tables(connection)
    except Exception as exc:
        engine.dispose()
        hint = f" — create it first: createdb {url.database}" if "does not exist" in str(exc) else ""
        raise BackupError(f"cannot connect to {shown}: {str(getattr(exc, 'orig', exc)).strip()}{hint}") from exc
    if tables:
        engine.dispose()
        raise BackupError(f"{shown} is not empty ({', '.join(tables[:5])}…); restore only into an empty database "
                          f"(createdb a new one)")
    try:
        listing = subprocess.run([pg_restore, "--list", str(inp)], env=env, capture_output=True, text=True,
                                 check=False)
        if listing.returncode != 0:
            raise BackupError(f"pg_restore --list failed: {listing.stderr.strip()}")
        kept = [line for line in listing.stdout.splitlines() if not _SKIPPED_TOC.match(line)]
        with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False, encoding="utf-8") as toc:
            toc.write("\n".join(kept) + "\n")
        try:
            # One transaction and stop at the first error: a failed restore leaves the target empty.
            _run([pg_restore, "--no-owner", "--exit-on-error", "--single-transaction", f"--use-list={toc.name}",
                  f"--dbname={uri}", str(inp)], env, "pg_restore")
        finally:
            os.unlink(toc.name)
        with engine.connect() as connection:
            present = set(connection.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").scalars())
            return _count_tables(lambda q: connection.exec_driver_sql(q).scalar_one(), present)
    finally:
        engine.dispose()
