"""The MessageSink over python-socketio: a meeting's audience is a socket.io room."""

from __future__ import annotations

from typing import Any

import socketio


class SocketIoSink:
    """Messages of one meeting, as socket.io events on the server's connections (``to`` is a sid)."""

    def __init__(self, sio: socketio.AsyncServer, channel: str) -> None:
        self._sio = sio
        self.channel = channel

    async def send(self, to: str, event: str, payload: dict[str, Any]) -> None:
        await self._sio.emit(event, payload, to=to)

    async def broadcast(self, event: str, payload: dict[str, Any], skip: str | None = None) -> None:
        await self._sio.emit(event, payload, room=self.channel, skip_sid=skip)

    async def add(self, to: str) -> None:
        await self._sio.enter_room(to, self.channel)

    async def remove(self, to: str) -> None:
        await self._sio.leave_room(to, self.channel)
