"""Password hashing with argon2id; its cost is a setting (auth.argon2_*), applied process-wide.

The cost is process-wide because every code path that hashes or verifies (CLI, API, demo seed)
must agree, and verification reads the cost from the stored hash anyway. Tests lower it to keep
a suite that signs in hundreds of times fast; production keeps argon2-cffi's RFC 9106 defaults.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8


class _Hashing:
    """The configured hasher plus a dummy hash of the same cost (see `verify_password`)."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self.dummy = hasher.hash("lianshen-no-such-user")


_current = _Hashing(PasswordHasher())


def configure_hashing(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Set the argon2id cost for new hashes (existing hashes keep verifying with their own).

    Called with the auth settings wherever a process starts (server app, CLI).
    """
    global _current
    hasher = _current.hasher
    if (hasher.time_cost, hasher.memory_cost, hasher.parallelism) != (time_cost, memory_kib, parallelism):
        _current = _Hashing(PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                           parallelism=parallelism))


def hash_password(password: str) -> str:
    """Hash a new password; refuses ones too short to be worth storing."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"密码至少 {MIN_LENGTH} 位 / password must have at least {MIN_LENGTH} characters")
    return _current.hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches.

    With no account, a dummy hash of the same cost is verified instead, so that a missing username
    costs the same time as a wrong password and timing does not reveal which usernames exist.
    """
    try:
        return _current.hasher.verify(password_hash or _current.dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
