"""Sign-in throttling per account, with growing locks, plus a far looser limit per address.

Per account (the username typed): after `max_failures` wrong passwords in a row the username is
locked for `first_lock`, and every further failure after that doubles the lock, up to `longest_lock`.
Each attempt is counted *before* its password is checked, by one compare-and-set on the username's
`login_locks` row in its own short transaction: however many attempts arrive at once, at most
`max_failures` of them reach the password check, and a successful one clears the count.

Unknown usernames get a row too and lock the same way, so a lockout does not reveal which usernames
exist. Nothing is counted per address for real accounts: colleagues behind one office address must
not lock each other out. Per address only failures on usernames that do not exist are counted
(`login_failures`); beyond `address_unknown_failures` of them within `first_lock`, that address's
attempts on unknown usernames are no longer checked at all (see server.auth.login).

Everything is in the database (not process memory) so that several server processes share it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import LoginAttempt, LoginLock, User
from server.settings import AuthSettings

# Compare-and-set rounds before giving up; each lost round means another attempt was counted.
_ROUNDS = 100


@dataclass(frozen=True)
class Locked:
    """A refused attempt: the username is locked until `until`."""

    until: datetime

    @property
    def minutes(self) -> int:
        """Whole minutes left (at least 1), for messages."""
        return max(1, math.ceil((self.until - datetime.now(UTC)).total_seconds() / 60))


@dataclass(frozen=True)
class LockedAccount:
    """A username's record of consecutive failures and its lock (`locked_until` may have passed)."""

    username: str
    failures: int
    locked_until: datetime | None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > datetime.now(UTC)


class LoginThrottle:
    """The policy (from auth settings) applied to `login_locks` and `login_failures`."""

    def __init__(self, max_failures: int, first_lock: timedelta, longest_lock: timedelta,
                 address_unknown_failures: int) -> None:
        self.max_failures = max_failures
        self.first_lock = first_lock
        self.longest_lock = longest_lock
        self.address_unknown_failures = address_unknown_failures

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> LoginThrottle:
        return cls(auth.login_max_failures, timedelta(minutes=auth.login_window_minutes),
                   timedelta(minutes=auth.login_lock_max_minutes), auth.login_address_unknown_failures)

    def lock_for(self, failures: int) -> timedelta | None:
        """How long `failures` wrong passwords in a row lock the username (None: not yet)."""
        if failures < self.max_failures:
            return None
        return min(self.first_lock * 2 ** min(failures - self.max_failures, 32), self.longest_lock)

    async def claim(self, sessions: async_sessionmaker[AsyncSession], username: str) -> Locked | None:
        """Count one attempt on `username` before its password is checked, or refuse it (Locked).

        The count is committed at once in its own transaction, and taken as a failure until
        `forgive` forgets it; with the attempt that reaches `max_failures` the lock starts, so no
        concurrent attempt can pass the check and a correct password simply clears it again.
        """
        username = username[:64]
        for _ in range(_ROUNDS):
            async with sessions() as db:
                now = datetime.now(UTC)
                row = (await db.execute(select(LoginLock.failures, LoginLock.locked_until,
                                               LoginLock.last_failure_at)
                                        .where(LoginLock.username == username))).one_or_none()
                if row is None:
                    lock = self.lock_for(1)
                    # An INSERT's result is a CursorResult (rowcount); execute() is typed for any statement.
                    inserted = cast(CursorResult[Any], await db.execute(
                        _insert_ignoring_conflict(db, username, now, now + lock if lock else None)))
                    if inserted.rowcount == 1:
                        await db.commit()
                        return None
                    continue
                if row.locked_until is not None and row.locked_until > now:
                    return Locked(row.locked_until)
                forgotten = row.last_failure_at <= now - self.longest_lock
                failures = 1 if forgotten else row.failures + 1
                lock = self.lock_for(failures)
                changed = cast(CursorResult[Any], await db.execute(
                    update(LoginLock)
                    .where(LoginLock.username == username, LoginLock.failures == row.failures)
                    .values(failures=failures, last_failure_at=now, locked_until=now + lock if lock else None)))
                if changed.rowcount == 1:
                    await db.commit()
                    return None
        raise RuntimeError(f"sign-in count for {username!r} kept changing under {_ROUNDS} attempts")

    async def address_exhausted(self, db: AsyncSession, remote: str) -> bool:
        """True when `remote` has used up its failures on usernames that do not exist."""
        since = datetime.now(UTC) - self.first_lock
        count = await db.scalar(
            select(func.count()).select_from(LoginAttempt)
            .where(LoginAttempt.remote == remote[:64], LoginAttempt.at > since,
                   LoginAttempt.username.not_in(select(User.username))))
        return (count or 0) >= self.address_unknown_failures

    async def record_failure(self, sessions: async_sessionmaker[AsyncSession], username: str,
                             remote: str) -> None:
        """Keep a failed attempt (who, from where) in its own transaction, so the refused request's
        rollback does not erase it, and drop history too old to matter to any limit."""
        async with sessions() as db:
            now = datetime.now(UTC)
            db.add(LoginAttempt(username=username[:64], remote=remote[:64], at=now))
            stale = now - max(self.longest_lock, self.first_lock)
            await db.execute(delete(LoginAttempt).where(LoginAttempt.at <= stale))
            await db.execute(delete(LoginLock).where(LoginLock.last_failure_at <= stale))  # lock over too
            await db.commit()


async def forgive(db: AsyncSession, username: str) -> None:
    """Forget the username's failures and lock (a correct password, an administrator)."""
    await db.execute(delete(LoginLock).where(LoginLock.username == username))


async def failures_of(db: AsyncSession, username: str) -> LockedAccount | None:
    """The username's failures on record and its lock, if any failure is on record."""
    row = await db.get(LoginLock, username)
    return None if row is None else LockedAccount(row.username, row.failures, row.locked_until)


async def locked_accounts(db: AsyncSession) -> list[tuple[User, LockedAccount]]:
    """Existing accounts locked right now, soonest unlocked first."""
    rows = await db.execute(
        select(User, LoginLock).join(LoginLock, LoginLock.username == User.username)
        .where(LoginLock.locked_until > datetime.now(UTC)).order_by(LoginLock.locked_until, User.username))
    return [(user, LockedAccount(lock.username, lock.failures, lock.locked_until)) for user, lock in rows]


def _insert_ignoring_conflict(db: AsyncSession, username: str, now: datetime,
                              locked_until: datetime | None) -> sqlite.Insert | postgresql.Insert:
    """INSERT of a first count that does nothing when a concurrent attempt inserted it first."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(LoginLock).values(
        username=username, failures=1, last_failure_at=now, locked_until=locked_until,
    ).on_conflict_do_nothing(index_elements=["username"])
