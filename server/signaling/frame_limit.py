"""A message past the transport's limit is answered before its connection closes.

Under Engine.IO, aiohttp stops reading a websocket message as soon as its length passes
``max_http_buffer_size`` and closes the connection with 1009 (message too big): nothing of the
message is read, which is what the limit is for. But socket.io clients do not report close codes,
so a client whose connect packet (its auth) was too large heard nothing it understood and waited
until its own timeout. Here the server first says why, in the terms socket.io clients do report:
a refused connect (``connect_error`` with ``too_large``) for a connection that has not connected
yet, else an ``error`` event; then it closes as before. The message itself is still never read.

Engine.IO builds its websocket through its async driver (``engineio.async_drivers.aiohttp``);
this module gives one server a driver whose aiohttp response says those last words.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

import socketio
from aiohttp import WSCloseCode, web
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as engineio_aiohttp
from socketio import packet as sio_packet

from server.signaling.errors import SignalingError

logger = logging.getLogger(__name__)

Answer = Callable[[str], str]
"""The Engine.IO text frame that answers an oversized message on the Engine.IO session ``sid``."""


class _AnsweringResponse(web.WebSocketResponse):
    """A websocket that sends ``last_words`` before it closes for a message too big."""

    def __init__(self, last_words: Callable[[], str], *, max_msg_size: int) -> None:
        super().__init__(max_msg_size=max_msg_size)
        self._last_words = last_words

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"", drain: bool = True) -> bool:
        if code == WSCloseCode.MESSAGE_TOO_BIG and not self.closed:
            with contextlib.suppress(ConnectionError):  # the client went first: nobody to tell
                await self.send_str(self._last_words())
        return await super().close(code=code, message=message, drain=drain)


class _AnsweringWebSocket(engineio_aiohttp.WebSocket):
    """Engine.IO's aiohttp websocket, over a response that answers an oversized message."""

    def __init__(self, handler: Any, server: Any, *, answer: Answer) -> None:
        super().__init__(handler, server)
        self._answer = answer

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        sid = self.handler.__self__.sid  # the handler is the Engine.IO session's own method
        self._sock = _AnsweringResponse(lambda: self._answer(sid), max_msg_size=self.server.max_http_buffer_size)
        await self._sock.prepare(environ["aiohttp.request"])
        self.environ = environ
        await self.handler(self)
        return self._sock


def answer_oversized(sio: socketio.AsyncServer) -> None:
    """Make ``sio`` (in aiohttp mode) answer a message past its transport limit before closing."""
    sio.eio._async = {**sio.eio._async, "websocket": functools.partial(
        _AnsweringWebSocket, answer=functools.partial(_too_large, sio))}


def _too_large(sio: socketio.AsyncServer, eio_sid: str) -> str:
    refusal = SignalingError("too_large", limit=sio.eio.max_http_buffer_size)
    sid = sio.manager.sid_from_eio_sid(eio_sid, "/")
    if sid is None:  # not connected yet: the message was its connect packet
        logger.warning("socket.io connection refused: connect packet past the transport limit (%d bytes)",
                       sio.eio.max_http_buffer_size)
        answer = sio.packet_class(sio_packet.CONNECT_ERROR, data={"message": refusal.message,
                                                                  "data": refusal.payload()})
    else:
        logger.warning("socket.io connection %s closed: message past the transport limit (%d bytes)",
                       sid, sio.eio.max_http_buffer_size)
        answer = sio.packet_class(sio_packet.EVENT, data=["error", refusal.payload()])
    text: str = eio_packet.Packet(eio_packet.MESSAGE, data=answer.encode()).encode()
    return text
