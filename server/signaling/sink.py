"""Where a live meeting's messages to its people go: the one seam between room logic and transport.

The live meeting, the review and the recording tell people things through a ``MessageSink``; only
the signaling server's socket.io adapter (server.signaling.sio_sink) implements it, so room logic
never touches socket.io and can be driven in tests with any sink that records what it is given.
"""

from __future__ import annotations

from typing import Any, Protocol


class MessageSink(Protocol):
    """One meeting's audience: connections are added when they join and removed when they go."""

    async def send(self, to: str, event: str, payload: dict[str, Any]) -> None:
        """To one connection."""

    async def broadcast(self, event: str, payload: dict[str, Any], skip: str | None = None) -> None:
        """To every connection of the audience but ``skip``."""

    async def add(self, to: str) -> None:
        """Include a connection in the broadcasts from now on."""

    async def remove(self, to: str) -> None:
        """No more broadcasts to this connection."""
