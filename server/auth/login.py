"""Signing in, shared by the login page and the JSON API so both throttle and log the same way."""

from __future__ import annotations

import asyncio
import logging
from contextlib import nullcontext
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.passwords import typical_verify_seconds, verification_slot
from server.auth.sessions import open_session
from server.auth.throttle import LoginThrottle, forgive
from server.db.models import AuthSession, User

log = logging.getLogger(__name__)
USERNAME_MAX_LENGTH = 64  # the users.username column; the form and the API refuse longer names


class LoginRefused(Exception):
    """Sign-in refused; `locked_until` set tells a lockout from wrong credentials."""

    def __init__(self, locked_until: datetime | None = None, minutes: int = 0) -> None:
        super().__init__("throttled" if locked_until else "bad credentials")
        self.locked_until = locked_until
        self.minutes = minutes

    @property
    def throttled(self) -> bool:
        return self.locked_until is not None


async def sign_in(db: AsyncSession, sessions: async_sessionmaker[AsyncSession], throttle: LoginThrottle,
                  username: str, password: str, remote: str,
                  session_hours: int) -> tuple[str, AuthSession, User]:
    """Check the password and open a session in `db` (the request's unit of work).

    The request's session holds no database connection while an attempt waits for the
    throttle's transactions or for the hashing pool: with every request of a storm holding one
    connection and waiting for a second, the connection pool would run dry and deadlock.

    Order matters: a place in the hashing pool first (`HashingBusy` leaves no trace), then the
    attempt is counted (`throttle.claim`, committed in its own transaction through `sessions`),
    and only then is the password checked, off the event loop. A failure is kept in its own
    commit too, so the refused request's rollback does not erase it.

    An address that has used up its failures on unknown usernames gets its next unknown
    usernames refused without a check (and without a place in the pool), after the time a check
    takes, so the answer looks the same as for an existing account.
    """
    username = username.strip()
    if db.in_transaction():
        await db.commit()  # nothing written yet: let its connection go before needing others
    async with sessions() as probe:  # the lookups decide the path; no connection is kept meanwhile
        user = await probe.scalar(select(User).where(User.username == username))
        skip_check = user is None and await throttle.address_exhausted(probe, remote)
    with nullcontext() if skip_check else verification_slot() as verify:
        locked = await throttle.claim(sessions, username)
        if locked is not None:
            log.warning("login throttled for %r from %s until %s", username, remote, locked.until)
            raise LoginRefused(locked.until, locked.minutes)
        if verify is None:
            await asyncio.sleep(typical_verify_seconds())  # deliberate: as slow as a real check
            ok = False
        else:
            ok = await verify(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        await throttle.record_failure(sessions, username, remote)
        log.info("login failed for %r from %s", username, remote)
        raise LoginRefused()
    account = await db.get_one(User, user.id)  # accounts are never deleted, only deactivated
    await forgive(db, username)
    token, row = await open_session(db, account, session_hours, remote)
    return token, row, account
