"""Password hashing with argon2id, and the minimum a password must satisfy.

Parameters follow RFC 9106's second recommendation (the "low memory" profile: t=3, 64 MiB,
p=4): about 50–100 ms per hash on a seat PC, which is slow for an attacker with a stolen
``users`` table and still unnoticeable at a login. ``HASHER`` is looked up on every call, so the
parameters can be raised later: :func:`needs_rehash` then says which stored hashes are old, and
login re-hashes them with the password it has just verified.
"""
from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
MIN_LENGTH = 8
MAX_LENGTH = 256  # argon2 takes anything, but a megabyte "password" is an attack on the CPU


class WeakPassword(ValueError):
    """The password does not meet the policy; the message (Chinese) says why."""


def check_password_policy(password: str, username: str = "") -> None:
    """Refuse passwords too short, too long, single-character or equal to the user name.

    Raises
    ------
    WeakPassword
    """
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise WeakPassword(f"密码至少需要 {MIN_LENGTH} 个字符")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"密码不能超过 {MAX_LENGTH} 个字符")
    if len(set(password)) == 1:
        raise WeakPassword("密码不能由同一个字符重复组成")
    if username and password.strip().casefold() == username.strip().casefold():
        raise WeakPassword("密码不能与用户名相同")


def hash_password(password: str) -> str:
    """The argon2id PHC string (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``) of ``password``."""
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; a corrupt or foreign hash counts as no match, never as an error
    a caller might turn into "let them in"."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than :data:`HASHER`'s."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def _parameters() -> tuple:
    return (HASHER.type, HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism, HASHER.hash_len, HASHER.salt_len)


@lru_cache(maxsize=4)
def _dummy_hash(parameters: tuple) -> str:
    return HASHER.hash("envgrid-dummy-password")


def burn_dummy_verify(password: str) -> None:
    """Spend the time of one real verification, for an unknown, disabled or locked account.

    Without this, "no such user" answers in microseconds and "wrong password" in ~80 ms, and the
    difference tells an attacker which user names exist. The dummy hash is made once per parameter set.
    """
    verify_password(_dummy_hash(_parameters()), password)
