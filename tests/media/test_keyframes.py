"""Keyframe requests are throttled upstream; slow consumers resync on keyframes."""

import asyncio
import itertools
from collections.abc import Coroutine
from typing import Any

import av
import pytest
from aiortc import RTCRtpReceiver

from server.bot.media import video_clip
from server.sfu.consumer import Consumer

from .meeting import Meeting, source_name

SUBSCRIBERS = 10
ROUNDS = 30
ROUND_S = 0.05


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_subscriber_keyframe_requests_are_throttled(meeting: Meeting) -> None:
    interval = meeting.room.settings.keyframe_min_interval_s
    await meeting.join("alice")
    names = [f"viewer{i}" for i in range(SUBSCRIBERS)]
    for name in names:
        await meeting.join(name, publish=False)
    for name in names:
        received = meeting.participants[name].receiver
        await received.wait_for_frames([source_name("alice", "video")], 1, timeout=15)

    producer = meeting.peers["alice"].producers["video"]
    requests_before, plis_before = producer.keyframes.requests, producer.keyframes.plis_sent
    target = requests_before + SUBSCRIBERS * ROUNDS
    all_arrived = asyncio.Event()
    request = producer.keyframes.request

    def counting_request() -> None:
        request()
        if producer.keyframes.requests >= target:
            all_arrived.set()

    producer.keyframes.request = counting_request  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()
    pli_times: list[float] = []
    # aiortc 1.16 internal: the SFU sends upstream PLIs through this receiver method
    send_pli = producer._receiver._send_rtcp_pli

    def recording_send_pli(media_ssrc: int) -> Coroutine[Any, Any, None]:
        # Timed when the throttle sends (calls this), not when the loop gets to run the
        # returned coroutine: that wait is the loop's latency, which the throttle does not set.
        pli_times.append(loop.time())
        return send_pli(media_ssrc)

    producer._receiver._send_rtcp_pli = recording_send_pli  # type: ignore[method-assign]

    # every subscriber reports picture loss for alice's video, 20 times a second
    reporters: list[tuple[RTCRtpReceiver, int]] = []
    for name in names:
        slot = next(s for s in meeting.peers[name].slots if s.producer_id == producer.id)
        assert slot.transceiver is not None
        client = meeting.participants[name].subscribe_pc.getTransceivers()
        reporter = next(t.receiver for t in client if t.mid == slot.mid)
        reporters.append((reporter, slot.transceiver.sender._ssrc))
    started = loop.time()
    for _ in range(ROUNDS):
        for reporter, sfu_ssrc in reporters:
            # aiortc 1.16 internal: a receiver's own PLI, as a browser sends it
            await reporter._send_rtcp_pli(sfu_ssrc)
        await asyncio.sleep(ROUND_S)  # pacing the load, not synchronising
    await asyncio.wait_for(all_arrived.wait(), 5)
    elapsed = loop.time() - started

    plis = producer.keyframes.plis_sent - plis_before
    assert producer.keyframes.requests - requests_before >= SUBSCRIBERS * ROUNDS
    assert 1 <= plis <= elapsed / interval + 2
    gaps = [b - a for a, b in itertools.pairwise(pli_times)]
    assert all(gap >= interval * 0.95 for gap in gaps), gaps
    print(f"{SUBSCRIBERS * ROUNDS} subscriber requests in {elapsed:.2f} s -> {plis} PLIs upstream")


@pytest.mark.asyncio
@pytest.mark.timeout(30)
async def test_slow_consumer_resyncs_on_a_keyframe_within_its_bound() -> None:
    clip = video_clip()
    bound = 10
    requests: list[None] = []
    consumer = Consumer("producer", bound, lambda: requests.append(None), lambda c: None)

    def packet(index: int) -> av.Packet:
        out = av.Packet(clip.frames[index])
        out.pts, out.time_base = index * clip.frame_duration, clip.time_base
        out.is_keyframe = clip.keyframes[index]
        return out

    first = asyncio.ensure_future(consumer.pull())
    await asyncio.sleep(0)  # let the subscriber's first pull begin
    assert len(requests) == 2  # asked when the consumer was made, and again at the first pull
    consumer.push(packet(1))  # a delta frame cannot start a stream
    consumer.push(packet(0))
    start = await first
    assert start is not None and start.is_keyframe
    pulled = [start]

    for index in range(1, 60):  # the subscriber stalls while 59 frames arrive
        consumer.push(packet(index))
    assert consumer.max_depth <= bound
    assert consumer.resyncs >= 1 and len(requests) >= 2

    for index in range(bound):  # the publisher answers with a keyframe
        consumer.push(packet(index))
    for _ in range(bound):
        frame = await asyncio.wait_for(consumer.pull(), 1)
        assert frame is not None
        pulled.append(frame)

    assert pulled[1].is_keyframe  # no partial group of pictures after the stall
    assert consumer.max_depth <= bound
    decoder = av.CodecContext.create("libvpx", "r")
    for frame in pulled:
        assert decoder.decode(frame)  # raises on a broken reference chain
