"""One socket.io connection as signaling keeps it, and the shape of the handlers of its events.

Apart from the server (server.signaling.server) so that the handlers registered into its dispatch
table (review, recording) can name these types without importing the server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from server.signaling.auth import Credentials
from server.signaling.ratelimit import EventBudget
from server.signaling.room_state import LiveMeeting, Participant


@dataclass(eq=False)
class Connection:
    """One socket.io connection: who it is, its event budget, where it stands."""

    sid: str
    credentials: Credentials
    budget: EventBudget
    meeting: LiveMeeting | None = None
    participant: Participant | None = None
    lobby_id: str | None = None

    def describe(self) -> str:
        identity = self.credentials.identity
        who = identity.display_name if identity is not None else "resume"
        return f"{self.sid} ({who}, {self.credentials.remote})"


Handler = Callable[[Connection, Any], Awaitable[dict[str, Any]]]
Handlers = dict[str, tuple[TypeAdapter[Any], Handler]]
