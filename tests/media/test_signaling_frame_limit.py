"""Messages past the transport's frame limit (4 x max_event_bytes): the transport closes the
connection without reading them, but first says why, so the client reports a refusal instead of
waiting for an answer (server/signaling/frame_limit.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from server.bot.signaling import CALL_TIMEOUT_S, BotError

from .signaling_harness import LiveServer, live  # noqa: F401

pytestmark = pytest.mark.timeout(60)

MAX_EVENT_BYTES = 4096
TRANSPORT_LIMIT = MAX_EVENT_BYTES * 4


@pytest.fixture
def signaling_overrides() -> dict[str, Any]:
    return {"max_event_bytes": MAX_EVENT_BYTES}


async def test_an_oversized_connect_packet_is_refused_as_too_large(live: LiveServer) -> None:  # noqa: F811
    """The connect packet's auth (a join token) beyond the frame limit: refused at once with
    ``too_large``, not left to the client's connect timeout; the server takes the next client."""
    oversized = await live.client(token="x" * (TRANSPORT_LIMIT + 1), connect=False)
    began = time.monotonic()
    with pytest.raises(BotError, match="too_large"):
        await oversized.connect()
    assert time.monotonic() - began < CALL_TIMEOUT_S / 2  # answered, not timed out
    assert oversized.connect_error is not None
    assert oversized.connect_error["code"] == "too_large"
    assert oversized.connect_error["details"] == {"limit": TRANSPORT_LIMIT}
    assert not oversized.sio.connected

    # just under the frame limit the transport reads it and the token is refused on its merits
    malformed = await live.client(token="x" * (TRANSPORT_LIMIT - 100), connect=False)
    with pytest.raises(BotError) as refused:
        await malformed.connect()
    assert refused.value.code not in ("too_large", "connect_failed", "internal")

    honest = await live.client("rep_a")
    await honest.join()
    assert honest.participant_id is not None


async def test_an_oversized_event_is_answered_then_its_connection_closed(live: LiveServer) -> None:  # noqa: F811
    """Past the frame limit a connected client's event is not read: the client is told
    (``error``, too_large) and disconnected; everyone else carries on."""
    chair = await live.bot("chair", publish=())
    rep = await live.client("rep_a")
    await rep.join()
    await rep.sio.emit("chat_send", {"meeting_id": live.world.meeting_x, "text": "长" * TRANSPORT_LIMIT})
    _, error = await rep.wait_event(lambda n, d: n == "error" and d["code"] == "too_large")
    assert error["details"] == {"limit": TRANSPORT_LIMIT}
    await asyncio.wait_for(rep.sio.wait(), CALL_TIMEOUT_S)
    assert not rep.sio.connected

    ack = await chair.call("chat_send", {"meeting_id": live.world.meeting_x, "text": "继续"})
    assert ack["ok"] and chair.sio.connected and not chair.seen("error")
