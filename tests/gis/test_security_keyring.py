"""Database passwords with ``keyring`` installed: a working backend keeps them; a seat without one
(headless Linux: keyring's ``fail`` backend, NoKeyringError on every call) falls back to asking.

With the optional ``keyring`` package installed (``pip install envgrid[keyring]``) the real module is
used with an in-memory backend set by ``keyring.set_keyring``; without it a stand-in module with the
same surface is put in ``sys.modules``.
"""
from __future__ import annotations

import importlib.util
import sys
import types

import pytest
from sqlalchemy.engine import make_url

from gis.security import credentials

URL = make_url("postgresql+psycopg://zuoxi@db.center:5432/envgrid")
KEY = credentials.credential_key(URL)


def _memory_backend_class(base, delete_error):
    class MemoryKeyring(base):
        priority = 1

        def __init__(self):
            super().__init__()
            self.vault: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.vault.get((service, username))

        def set_password(self, service, username, password):
            self.vault[(service, username)] = password

        def delete_password(self, service, username):
            if self.vault.pop((service, username), None) is None:
                raise delete_error("no such password")

    return MemoryKeyring


@pytest.fixture(params=["memory", "none"])
def backend(request, monkeypatch):
    """(kind, the backend object): an in-memory keyring, or keyring's "no backend here"."""
    if importlib.util.find_spec("keyring") is not None:
        import keyring
        from keyring.backend import KeyringBackend
        from keyring.backends import fail
        from keyring.errors import PasswordDeleteError

        previous = keyring.get_keyring()
        chosen = (_memory_backend_class(KeyringBackend, PasswordDeleteError)() if request.param == "memory"
                  else fail.Keyring())
        keyring.set_keyring(chosen)
        yield request.param, chosen
        keyring.set_keyring(previous)
        return

    class NoKeyringError(RuntimeError):  # keyring.errors.NoKeyringError is a KeyringError, a RuntimeError
        pass

    class Fail:
        priority = 0

        def _refuse(self, *args):
            raise NoKeyringError("No recommended backend was available.")

        get_password = set_password = delete_password = _refuse

    chosen = _memory_backend_class(object, KeyError)() if request.param == "memory" else Fail()
    module = types.ModuleType("keyring")
    module.get_keyring = lambda: chosen
    module.get_password, module.set_password, module.delete_password = (
        chosen.get_password, chosen.set_password, chosen.delete_password)
    monkeypatch.setitem(sys.modules, "keyring", module)
    yield request.param, chosen


def test_a_working_keyring_keeps_the_password_and_no_backend_means_asking(backend):
    kind, chosen = backend
    asked = []

    def ask(prompt):
        asked.append(prompt)
        return "typed"

    if kind == "memory":
        assert credentials.available()
        assert credentials.get_password(KEY) is None
        assert credentials.url_with_password(URL, ask=ask).password == "typed" and len(asked) == 1
        assert credentials.store_password(KEY, "s3cret")
        assert chosen.vault == {(credentials.SERVICE, KEY): "s3cret"}
        assert credentials.url_with_password(URL, ask=ask).password == "s3cret" and len(asked) == 1
        assert credentials.forget_password(KEY) and chosen.vault == {}
        assert not credentials.forget_password(KEY)  # nothing to forget: "no", not a crash
    else:
        assert not credentials.available()  # installed, but nothing to offer: the dialog's box stays off
        assert credentials.get_password(KEY) is None
        assert not credentials.store_password(KEY, "s3cret")
        assert not credentials.forget_password(KEY)
        assert credentials.url_with_password(URL, ask=ask).password == "typed"
        assert asked == [f"{KEY} 的数据库密码: "]
        assert credentials.url_with_password(URL).password is None  # no prompt given: trust/.pgpass


def test_not_installed_is_not_available(monkeypatch):
    monkeypatch.setitem(sys.modules, "keyring", None)  # import fails
    assert not credentials.available()
    assert credentials.url_with_password(URL, ask=lambda prompt: "typed").password == "typed"
