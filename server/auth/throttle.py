"""Login throttling: too many failures for one account or from one address block sign-in for a while.

Counting both keys stops guessing one account from many addresses and many accounts from one.
Failures are rows (not process memory) so that several server processes share the count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import LoginAttempt


class LoginThrottle:
    """Policy object: `max_failures` within `window` per username or per remote address."""

    def __init__(self, max_failures: int, window: timedelta) -> None:
        self.max_failures = max_failures
        self.window = window

    async def blocked(self, db: AsyncSession, username: str, remote: str) -> bool:
        """True when either the account or the address has used up its failures in the window."""
        since = datetime.now(UTC) - self.window
        for column, value in ((LoginAttempt.username, username), (LoginAttempt.remote, remote)):
            count = await db.scalar(
                select(func.count()).where(column == value, LoginAttempt.at > since)
            )
            if (count or 0) >= self.max_failures:
                return True
        return False

    async def record_failure(self, db: AsyncSession, username: str, remote: str) -> None:
        db.add(LoginAttempt(username=username[:64], remote=remote[:64], at=datetime.now(UTC)))

    async def clear(self, db: AsyncSession, username: str) -> None:
        """A successful sign-in forgives the account's earlier failures (not the address's)."""
        await db.execute(delete(LoginAttempt).where(LoginAttempt.username == username))

    async def purge(self, db: AsyncSession) -> None:
        """Drop failures older than the window."""
        since = datetime.now(UTC) - self.window
        await db.execute(delete(LoginAttempt).where(LoginAttempt.at <= since))
