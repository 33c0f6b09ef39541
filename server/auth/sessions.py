"""Server-side sessions: the cookie carries a random token, the database keeps only its hash.

Server-side rows (rather than signed cookies) make logout and account deactivation take effect at
once, and a leaked database does not yield usable cookies.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import AuthSession, User

COOKIE_NAME = "lianshen_session"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(db: AsyncSession, user: User, hours: int, remote: str) -> tuple[str, AuthSession]:
    """Create a session for `user`; returns the cookie token and the stored row."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = AuthSession(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        remote=remote[:64],
    )
    db.add(row)
    await db.flush()
    return token, row


async def find_session(db: AsyncSession, token: str) -> tuple[AuthSession, User] | None:
    """The live session and its active user for a cookie token, or None."""
    row = await db.get(AuthSession, _digest(token))
    if row is None or row.expires_at <= datetime.now(UTC):
        return None
    user = await db.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return row, user


async def close_session(db: AsyncSession, token: str) -> None:
    """Forget a session (logout)."""
    await db.execute(delete(AuthSession).where(AuthSession.token_hash == _digest(token)))


async def close_user_sessions(db: AsyncSession, user_id: int) -> None:
    """Sign a person out everywhere (deactivation, password change)."""
    await db.execute(delete(AuthSession).where(AuthSession.user_id == user_id))


async def purge_expired(db: AsyncSession) -> int:
    """Drop expired sessions; returns how many."""
    result = await db.execute(
        select(AuthSession.token_hash).where(AuthSession.expires_at <= datetime.now(UTC))
    )
    hashes = list(result.scalars())
    if hashes:
        await db.execute(delete(AuthSession).where(AuthSession.token_hash.in_(hashes)))
    return len(hashes)
