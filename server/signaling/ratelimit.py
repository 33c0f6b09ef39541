"""Per-connection event budget: one client must not be able to busy the meeting's event loop.

A token bucket allows bursts (a join trickles a dozen ICE candidates at once) but not a sustained
flood. The first refused event of a run is answered with an error; later ones in the same run are
dropped silently (answering every event of a flood would amplify it); once a client has had
``disconnect_after`` events refused it is disconnected. Everyone else's media is untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    REFUSE = "refuse"
    """Refused, and the client should be told (first of a run)."""
    DROP = "drop"
    """Refused silently (the client was already told)."""
    DISCONNECT = "disconnect"


class EventBudget:
    """A token bucket of ``burst`` events refilling at ``rate`` per second."""

    def __init__(self, rate: float, burst: int, disconnect_after: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._disconnect_after = disconnect_after
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._in_run = False
        self.refused = 0

    def take(self) -> Verdict:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self._in_run = False
            return Verdict.ALLOW
        self.refused += 1
        if self.refused >= self._disconnect_after:
            return Verdict.DISCONNECT
        if self._in_run:
            return Verdict.DROP
        self._in_run = True
        return Verdict.REFUSE
