"""Taking a participant back after its connection dropped, without a leave/join storm.

At join the participant gets a resume secret (the server keeps only its digest). When its socket
drops without a goodbye, the participant stays in the meeting as "reconnecting" for a grace
period: the others see that one status change, not a departure. A rejoin with the secret inside the
grace period gets the same participant id, identity, capacity and (re-offered) subscriptions; only
when the grace period runs out does the participant leave.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Callable


def new_secret() -> tuple[str, str]:
    """A fresh resume secret and the digest to keep."""
    secret = secrets.token_urlsafe(24)
    return secret, digest(secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(kept_digest: str, secret: str) -> bool:
    return hmac.compare_digest(kept_digest, digest(secret))


class Grace:
    """The running grace period of one dropped participant."""

    def __init__(self, seconds: float, expire: Callable[[], None]) -> None:
        self._handle = asyncio.get_running_loop().call_later(seconds, expire)

    def cancel(self) -> None:
        self._handle.cancel()
