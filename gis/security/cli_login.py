"""Logging in from a command (``envgrid case … --as USER``): password from ENVGRID_PASSWORD or asked.

The environment variable is for scripts and integrations (set it in the service's environment,
not on the command line, where ``ps`` would show it); interactive use gets a getpass prompt.
"""
from __future__ import annotations

import getpass
import os

from sqlalchemy import Engine

from gis.security.authentication import login
from gis.security.users import AccountError, Session, user_count

PASSWORD_ENV = "ENVGRID_PASSWORD"


def login_for_cli(engine: Engine, username: str | None, *, writes: bool) -> Session | None:
    """The Session of ``--as USER``; None on a workspace without accounts, or for a read without --as.

    Raises
    ------
    AccountError
        A writing command on a workspace with accounts without ``--as`` (message says what to do);
        LoginFailed/AccountLocked (subclasses) for a wrong password or a locked account.
    """
    if not username:
        if not writes:
            return None
        with engine.connect() as connection:
            if user_count(connection) == 0:
                return None  # single-seat workspace: the --actor name, as before accounts existed
        raise AccountError("此工作空间已有用户账户：修改数据的命令需要 --as 用户名（密码取自环境变量 "
                           f"{PASSWORD_ENV}，否则会询问）")
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass(f"{username} 的密码: ")
    return login(engine, username, password)
