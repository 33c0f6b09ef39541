"""Password hashing with argon2id (argon2-cffi's tuned defaults)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when the username is unknown, so that a missing account costs the same time as a
# wrong password and response timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("lianshen-no-such-user")

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    """Hash a new password; refuses ones too short to be worth storing."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"密码至少 {MIN_LENGTH} 位 / password must have at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; also burns the same time when there is no hash to check."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
