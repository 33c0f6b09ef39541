"""A late joiner's keyframe is asked for when it accepts the m-line, not once its DTLS is up.

The request travels to the publisher while the subscriber's ICE and DTLS finish; a keyframe
that arrives first is kept (the packet path: the producer's cache; the frame path: the
consumer's queue) and starts the stream when the connection can carry it, instead of being
dropped and asked for again (a second request inside the throttle's interval would wait).
"""

import asyncio
from types import SimpleNamespace

import av
import pytest

from server.sfu.consumer import Consumer
from server.sfu.packet_consumer import PacketConsumer
from server.sfu.packets import ForwardedPacket, PacketCache
from tests.unit.test_sfu_packets import FakeOut, Upstream, forwarded


def late_consumer(out: FakeOut, cache: PacketCache, upstream: Upstream,
                  recent: list[ForwardedPacket]) -> PacketConsumer:
    def request(layer: int) -> None:
        upstream.keyframes += 1

    return PacketConsumer("p", True, out, [SimpleNamespace(cache=cache)],  # type: ignore[arg-type, list-item]
                          request, lambda layer, seq: upstream.nacks.append(seq),
                          lambda consumer: None, lambda layer: None, "video/VP8", lambda layer: recent)


def test_a_packet_consumer_asks_before_its_connection_is_up_and_starts_from_the_cached_keyframe() -> None:
    out, cache, upstream = FakeOut(ready=False), PacketCache(64), Upstream()
    run = [forwarded(10, 3000, keyframe=True), forwarded(11, 3000), forwarded(12, 6000)]
    consumer = late_consumer(out, cache, upstream, run)
    assert upstream.keyframes == 1  # asked at once, while ICE and DTLS are still under way

    consumer.forward(run[0])  # the keyframe arrives before the m-line can carry it
    assert out.sent == []

    out.ready = True
    consumer.ready()
    assert [seq for seq, _, _ in out.sent] == [100, 101, 102]  # the run since the keyframe, at once
    # and asks again: the replayed keyframe may overtake the subscriber's end of DTLS and be lost
    assert upstream.keyframes == 2
    consumer.forward(forwarded(13, 9000))
    assert [seq for seq, _, _ in out.sent][-1] == 103  # live packets continue the run


def test_without_a_recent_keyframe_the_ready_consumer_asks_again_and_waits() -> None:
    out, cache, upstream = FakeOut(ready=False), PacketCache(64), Upstream()
    consumer = late_consumer(out, cache, upstream, [])
    out.ready = True
    consumer.ready()
    assert upstream.keyframes == 2
    consumer.forward(forwarded(20, 3000))  # a delta frame cannot start the stream
    assert out.sent == []
    consumer.forward(forwarded(21, 6000, keyframe=True))
    assert [seq for seq, _, _ in out.sent] == [100]


def frame(pts: int, keyframe: bool) -> av.Packet:
    """A frame as the consumer sees it: it reads only whether it is a keyframe."""
    packet = av.Packet(b"frame")
    packet.pts, packet.is_keyframe = pts, keyframe
    return packet


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_a_frame_consumer_keeps_the_newest_keyframe_run_until_its_sender_pulls() -> None:
    requests: list[None] = []
    consumer = Consumer("producer", 10, lambda: requests.append(None), lambda c: None)
    assert len(requests) == 1  # asked when the subscriber accepted the m-line

    consumer.push(frame(0, keyframe=False))  # a delta frame before any keyframe: useless
    consumer.push(frame(1, keyframe=True))
    consumer.push(frame(2, keyframe=False))
    consumer.push(frame(3, keyframe=True))  # a newer keyframe replaces that run
    consumer.push(frame(4, keyframe=False))

    first = await asyncio.wait_for(consumer.pull(), 1)  # DTLS is up: the sender pulls
    second = await asyncio.wait_for(consumer.pull(), 1)
    assert first is not None and first.is_keyframe and first.pts == 3
    assert second is not None and second.pts == 4
    # the first pull found its keyframe waiting, and asks again in case that one is lost (it goes
    # out as soon as our DTLS is up, maybe before the subscriber's)
    assert len(requests) == 2
    assert consumer.dropped == 3
