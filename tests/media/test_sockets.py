"""The SFU's UDP sockets are read empty on every wake-up (server/sfu/sockets.py)."""

import asyncio
import socket
from typing import Any

from .meeting import Meeting

JUNK = b"\x00lianshen-drain-test"
"""Neither STUN, DTLS nor RTP: aioice queues it and aiortc ignores it."""


async def test_a_publish_socket_is_read_empty_in_one_loop_turn(meeting: Meeting) -> None:
    await meeting.join("alice")
    pc = meeting.peers["alice"].publish_connection
    assert pc is not None
    gatherer = pc.getTransceivers()[0].receiver.transport.transport.iceGatherer
    protocol = gatherer._connection._protocols[0]
    loop = asyncio.get_running_loop()
    seen: list[int] = []
    at_end_of_first_turn: asyncio.Future[int] = loop.create_future()
    deliver = protocol.datagram_received

    def watched(data: bytes, addr: tuple[Any, ...]) -> None:
        if data == JUNK:
            if not seen:  # runs after every callback of this loop turn
                loop.call_soon(lambda: at_end_of_first_turn.set_result(len(seen)))
            seen.append(1)
        deliver(data, addr)

    protocol.datagram_received = watched
    burst = 20
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for _ in range(burst):  # queued in the kernel before the loop looks at the socket
            sender.sendto(JUNK, protocol.transport.get_extra_info("sockname"))

    # asyncio alone reads one datagram per socket per turn: this would be 1
    assert await asyncio.wait_for(at_end_of_first_turn, 5) == burst
