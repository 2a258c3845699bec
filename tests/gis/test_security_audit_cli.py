"""``envgrid audit``: logins, failed logins and logouts with their host, for administrators only."""
from __future__ import annotations

import io
import json

import pytest
from argon2 import PasswordHasher

from gis.cli import main
from gis.security import accounts, passwords
from gis.security.authentication import LoginFailed, login, logout
from gis.storage.store import open_store


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def test_audit_lists_logins_and_logouts_for_an_administrator(monkeypatch, capsys, sqlite_url):
    store = open_store(sqlite_url)
    with store.engine.begin() as connection:
        accounts.create_first_admin(connection, "boss", "boss-password")
    admin = login(store.engine, "boss", "boss-password", host="seat-1")
    with store.engine.begin() as connection:
        accounts.create_user(connection, admin, "zhangsan", "seat-password", "坐席")
    with pytest.raises(LoginFailed):
        login(store.engine, "zhangsan", "wrong", host="seat-9")
    logout(store.engine, login(store.engine, "zhangsan", "seat-password", host="seat-2"))
    store.close()

    def envgrid(*argv, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = envgrid("audit", "--db", sqlite_url, "--as", "boss", "--password-stdin", "--user", "zhangsan",
                           "--json", stdin="boss-password\n")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["action"], r["host"]) for r in rows] == [("logout", "seat-2"), ("login", "seat-2"),
                                                        ("login_failed", "seat-9")]
    code, out, _ = envgrid("audit", "--db", sqlite_url, "--as", "boss", "--password-stdin", "--action", "login",
                           "--limit", "1", stdin="boss-password\n")
    assert code == 0 and len(out.splitlines()) == 1 and "boss" in out and " login " in out
    code, _, err = envgrid("audit", "--db", sqlite_url, "--as", "zhangsan", "--password-stdin",
                           stdin="seat-password\n")
    assert code == 1 and "无权查看审计日志" in err
    code, _, err = envgrid("audit", "--db", sqlite_url)
    assert code == 1 and "--as" in err
    code, _, err = envgrid("audit", "--db", sqlite_url, "--as", "boss", "--limit", "0")
    assert code == 1 and "--limit" in err
