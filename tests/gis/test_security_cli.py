"""``envgrid user …`` on a SQLite workspace: first run, adding, listing, passwords, lock and unlock."""
from __future__ import annotations

import io
import json

import pytest
from argon2 import PasswordHasher

from gis.cli import main
from gis.security import passwords
from gis.security.authentication import LoginFailed, login
from gis.storage.store import open_store


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def envgrid(monkeypatch, capsys, sqlite_url):
    def run(*argv, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main([a.replace("DB", sqlite_url) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def _logs_in(url, name, password) -> bool:
    store = open_store(url)
    try:
        login(store.engine, name, password)
        return True
    except LoginFailed:
        return False
    finally:
        store.close()


def test_first_run_then_administration(envgrid, sqlite_url):
    code, _, err = envgrid("user", "list", "--db", "DB")
    assert code == 2 and "no workspace" in err  # a mistyped path is not silently created
    open_store(sqlite_url).close()
    assert envgrid("user", "list", "--db", "DB")[1].startswith("还没有用户账户")
    code, _, err = envgrid("user", "add", "boss", "--db", "DB", "--role", "seat", "--password-stdin",
                           stdin="boss-password\n")
    assert code == 1 and "first account must be the administrator" in err
    code, out, _ = envgrid("user", "add", "boss", "--db", "DB", "--password-stdin", "--display-name", "主任",
                           stdin="boss-password\n")
    assert code == 0 and "管理员" in out

    code, _, err = envgrid("user", "add", "zuoxi", "--db", "DB", "--role", "seat", "--password-stdin",
                           stdin="seat-password\n")
    assert code == 1 and "--as" in err
    code, _, err = envgrid("user", "add", "zuoxi", "--db", "DB", "--role", "seat", "--as", "boss",
                           "--password-stdin", stdin="wrong-password\nseat-password\n")
    assert code == 1 and "用户名或密码错误" in err
    code, _, _ = envgrid("user", "add", "zuoxi", "--db", "DB", "--role", "坐席", "--as", "boss", "--password-stdin",
                         stdin="boss-password\nseat-password\n")
    assert code == 0 and _logs_in(sqlite_url, "zuoxi", "seat-password")

    code, _, err = envgrid("user", "list", "--db", "DB", "--as", "zuoxi", "--password-stdin", stdin="seat-password\n")
    assert code == 1 and "无权管理用户" in err
    code, out, _ = envgrid("user", "list", "--db", "DB", "--as", "boss", "--json", "--password-stdin",
                           stdin="boss-password\n")
    listed = {u["username"]: u for u in json.loads(out)}
    assert listed["boss"]["role"] == "admin" and listed["zuoxi"]["role"] == "seat" and listed["zuoxi"]["active"]

    # A user changes their own password; the administrator locks and unlocks.
    assert envgrid("user", "passwd", "zuoxi", "--db", "DB", "--as", "zuoxi", "--password-stdin",
                   stdin="seat-password\nnew-seat-password\n")[0] == 0
    assert _logs_in(sqlite_url, "zuoxi", "new-seat-password") and not _logs_in(sqlite_url, "zuoxi", "seat-password")
    assert envgrid("user", "lock", "zuoxi", "--db", "DB", "--as", "boss", "--password-stdin",
                   stdin="boss-password\n")[0] == 0
    assert not _logs_in(sqlite_url, "zuoxi", "new-seat-password")
    assert envgrid("user", "unlock", "zuoxi", "--db", "DB", "--as", "boss", "--password-stdin",
                   stdin="boss-password\n")[0] == 0
    assert _logs_in(sqlite_url, "zuoxi", "new-seat-password")
    code, _, err = envgrid("db-roles", "--db", "DB", "--as", "boss", "--password-stdin", stdin="boss-password\n")
    assert code == 1 and "only on PostgreSQL" in err


def test_passwords_are_asked_twice_and_never_taken_from_argv(envgrid, monkeypatch, sqlite_url):
    answers = iter(["boss-password", "boss-passwort"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = envgrid("user", "add", "boss", "--db", "DB")
    assert code == 1 and "不一致" in err
    answers = iter(["boss-password", "boss-password"])
    assert envgrid("user", "add", "boss", "--db", "DB")[0] == 0
    assert _logs_in(sqlite_url, "boss", "boss-password")
    with pytest.raises(SystemExit):  # there is no --password option
        envgrid("user", "add", "x", "--db", "DB", "--password", "in-argv-123")


def test_too_few_stdin_lines_is_a_clear_error(envgrid):
    envgrid("user", "add", "boss", "--db", "DB", "--password-stdin", stdin="boss-password\n")
    code, _, err = envgrid("user", "add", "x1", "--db", "DB", "--role", "seat", "--as", "boss", "--password-stdin",
                           stdin="boss-password\n")
    assert code == 1 and "--password-stdin: no line left" in err
