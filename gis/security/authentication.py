"""Logging in: argon2id check, lockout after repeated failures, audit of every attempt.

:func:`login` takes the Engine, not a Connection, on purpose: a failed attempt raises, and its
failure count and audit row must be committed all the same. Handing it a caller's transaction
would let the caller's rollback erase the very record that stops password guessing.

Unknown, disabled and locked accounts spend the time of a real verification (a dummy hash), so
the answer time does not tell which user names exist.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select

from gis.security import passwords
from gis.security.audit import audited, local_host
from gis.security.users import AccountError, Session, get_user, normalize_username, open_session
from gis.storage.schema import users

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


class LoginFailed(AccountError):
    """Wrong user name or password; deliberately does not say which."""

    def __init__(self, message: str = "用户名或密码错误"):
        super().__init__(message)


class AccountLocked(LoginFailed):
    def __init__(self, until: datetime):
        super().__init__(f"连续登录失败次数过多，账户已锁定至 {until:%H:%M}，请稍后再试或联系管理员解锁")
        self.until = until


class AccountDisabled(LoginFailed):
    def __init__(self):
        super().__init__("账户已停用，请联系管理员")


def login(engine: Engine, username: str, password: str, *, host: str | None = None,
          now: datetime | None = None, max_failures: int = MAX_FAILURES,
          lockout: timedelta = LOCKOUT) -> Session:
    """Check the password and return a :class:`Session`; every attempt is audited and committed.

    After ``max_failures`` consecutive wrong passwords the account is locked for ``lockout``;
    a success resets the count, and a hash made with old parameters is replaced.

    Raises
    ------
    LoginFailed
        Unknown user or wrong password (same message for both).
    AccountLocked, AccountDisabled
        Subclasses of LoginFailed; raised only after the password time has been spent.
    """
    now = now or datetime.now()
    host = host if host is not None else local_host()
    with engine.begin() as connection:
        outcome = _attempt(connection, username, password, host, now, max_failures, lockout)
    if isinstance(outcome, LoginFailed):
        raise outcome
    return outcome


def _attempt(connection: Connection, username: str, password: str, host: str, now: datetime,
             max_failures: int, lockout: timedelta) -> Session | LoginFailed:
    attempted = str(username or "").strip()[:100]
    try:
        name = normalize_username(username)
    except AccountError:
        name = None
    user = get_user(connection, name) if name else None
    # Something with a .host for the audit rows before there is a session.
    who = _Anonymous(user.username if user else attempted or "?", host)

    def refuse(reason: str, error: LoginFailed, extra: dict | None = None) -> LoginFailed:
        audited(connection, who, "login_failed", "users", user.id if user else None, None,
                {"reason": reason, **(extra or {})}, now=now)
        return error

    if user is None:
        passwords.burn_dummy_verify(password)
        return refuse("unknown_user", LoginFailed())
    if not user.active:
        passwords.burn_dummy_verify(password)
        return refuse("disabled", AccountDisabled())
    if user.locked_at(now):
        passwords.burn_dummy_verify(password)
        return refuse("locked", AccountLocked(user.locked_until), {"locked_until": user.locked_until})

    stored = connection.execute(select(users.c.password_hash).where(users.c.id == user.id)).scalar_one()
    if not passwords.verify_password(stored, password):
        # Increment in SQL: two seats guessing at once must both be counted.
        failures = connection.execute(
            users.update().where(users.c.id == user.id).values(failed_attempts=users.c.failed_attempts + 1)
            .returning(users.c.failed_attempts)).scalar_one()
        if failures >= max_failures:
            until = now + lockout
            # The count restarts: after the lock, another max_failures wrong tries lock again.
            connection.execute(users.update().where(users.c.id == user.id)
                               .values(locked_until=until, failed_attempts=0))
            return refuse("wrong_password", AccountLocked(until), {"failed_attempts": failures, "locked_until": until})
        return refuse("wrong_password", LoginFailed(), {"failed_attempts": failures})

    values = {"failed_attempts": 0, "locked_until": None, "last_login": now}
    if passwords.needs_rehash(stored):
        values["password_hash"] = passwords.hash_password(password)
    connection.execute(users.update().where(users.c.id == user.id).values(**values))
    session = open_session(connection, get_user(connection, user.username), host=host, now=now)
    audited(connection, session, "login", "users", user.id, None,
            {"role": session.role, "rehashed": "password_hash" in values}, now=now)
    return session


def logout(engine: Engine, session: Session, *, now: datetime | None = None) -> None:
    """Record the end of ``session`` in the audit log (the window closed, the user switched)."""
    now = now or datetime.now()
    with engine.begin() as connection:
        audited(connection, session, "logout", "users", session.user.id, None,
                {"since": session.started_at}, now=now)


class _Anonymous:
    """The audit actor of a failed attempt: the name that was tried, and the host."""

    def __init__(self, username: str, host: str):
        self.username, self.host = username, host
