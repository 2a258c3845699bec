"""Database passwords: from the system keyring if the ``keyring`` package is installed, else asked.

EnvGrid never writes a database password to its own files or settings. ``keyring`` is optional
(``pip install envgrid[keyring]``): on a seat without it, or without a working backend, every
function here answers None/False and the caller asks the user each time. A headless Linux seat
is the usual case of the second kind: keyring installs fine but finds no Secret Service, picks its
``fail`` backend (priority 0) and raises ``keyring.errors.NoKeyringError`` on every call;
:func:`available` says so beforehand, so a dialog does not offer to remember a password.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import URL

SERVICE = "EnvGrid"


def _keyring():
    try:
        import keyring
    except ImportError:
        return None
    return keyring


def available() -> bool:
    """Whether a password can be kept: ``keyring`` installed and a backend that works here."""
    keyring = _keyring()
    if keyring is None:
        return False
    try:
        return float(keyring.get_keyring().priority) > 0
    except Exception:  # noqa: BLE001 — a backend that cannot even say its priority is not usable
        return False


def credential_key(url: URL) -> str:
    """``user@host:port/database``: one keyring entry per login and server, never per workspace file."""
    return f"{url.username or ''}@{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def get_password(key: str) -> str | None:
    """The stored password, or None (no keyring, no backend, nothing stored)."""
    keyring = _keyring()
    if keyring is None:
        return None
    try:
        return keyring.get_password(SERVICE, key)
    except Exception:  # noqa: BLE001 — NoKeyringError, other KeyringErrors, backend errors: fall back to asking
        return None


def store_password(key: str, password: str) -> bool:
    """Save in the keyring; False if there is none (the caller then simply asks next time)."""
    keyring = _keyring()
    if keyring is None:
        return False
    try:
        keyring.set_password(SERVICE, key, password)
    except Exception:  # noqa: BLE001 — as above: no keyring means "ask next time", never a crash
        return False
    return True


def forget_password(key: str) -> bool:
    keyring = _keyring()
    if keyring is None:
        return False
    try:
        keyring.delete_password(SERVICE, key)
    except Exception:  # noqa: BLE001 — as above: no keyring means "ask next time", never a crash
        return False
    return True


def url_with_password(url: URL, ask: Callable[[str], str] | None = None) -> URL:
    """``url`` with a password filled in: the URL's own, else the keyring's, else ``ask(prompt)``.

    SQLite URLs and URLs that already carry a password are returned unchanged; with no keyring
    entry and no ``ask`` the URL stays without one (trust or peer authentication, or .pgpass).
    """
    if url.get_backend_name() != "postgresql" or url.password:
        return url
    key = credential_key(url)
    password = get_password(key)
    if password is None and ask is not None:
        password = ask(f"{key} 的数据库密码: ")
    return url.set(password=password) if password else url
