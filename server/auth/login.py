"""Signing in, shared by the login page and the JSON API so both throttle and log the same way."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.passwords import verify_password
from server.auth.sessions import open_session
from server.auth.throttle import LoginThrottle
from server.db.models import AuthSession, User

log = logging.getLogger(__name__)


class LoginRefused(Exception):
    """Sign-in refused; `throttled` tells a lockout from wrong credentials."""

    def __init__(self, throttled: bool) -> None:
        super().__init__("throttled" if throttled else "bad credentials")
        self.throttled = throttled


async def sign_in(db: AsyncSession, throttle: LoginThrottle, username: str, password: str,
                  remote: str, session_hours: int) -> tuple[str, AuthSession, User]:
    """Check the password and open a session; failures are counted, lockouts refused early.

    A failure is recorded in its own commit so that the caller's rollback of the refused request
    does not erase the evidence the throttle counts.
    """
    username = username.strip()
    if await throttle.blocked(db, username, remote):
        log.warning("login throttled for %r from %s", username, remote)
        raise LoginRefused(throttled=True)
    user = await db.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        await throttle.record_failure(db, username, remote)
        await db.commit()
        log.info("login failed for %r from %s", username, remote)
        raise LoginRefused(throttled=False)
    await throttle.clear(db, username)
    token, row = await open_session(db, user, session_hours, remote)
    return token, row, user
