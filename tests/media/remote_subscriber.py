"""A subscriber in a process of its own, signaled over stdin/stdout: run it in another network
namespace to put a real network link (and its losses) between it and the SFU.

The SFU's tests hand SDP over in-process (``meeting.py``); a subscriber behind a lossy link has to
live in another namespace, hence another process, and its pipes are the simplest signaling channel
that crosses the namespace boundary without a server. One JSON object per line:

- in ``{"offer": sdp, "sources": {mid: source}}``; out ``{"answer": sdp}``
- in ``{"report": true}``; out ``{"report": {source: stats}, "now": monotonic seconds,
  "loop_lag_s": seconds}``; with ``"restart_gaps": true`` each source's ``longest_gap_s`` then
  starts again from zero (freezes measured over a window)
- out, unasked, ``{"decoding": source}`` when a source's first frame decoded (first keyframe)
- end of input: the process closes its connection and exits.

Every frame of every source is decoded (not just a sample), so a decode error anywhere after the
first keyframe shows. ``python -m tests.media.remote_subscriber --gather 10.77.0.2``

Video NACKs are repeated as a browser repeats them (see :data:`RENACK_INTERVAL_S`), and a keyframe
lets go of older frames still missing packets, as a browser's packet buffer does
(:func:`_keyframes_skip_holes`): the tests ask how the SFU serves a browser on a lossy link, not
how aiortc's receiver copes with one.
"""

import argparse
import asyncio
import dataclasses
import json
import sys
import time
from collections.abc import Coroutine
from typing import Any

from aiortc import RTCRtpReceiver
from aiortc.rtp import RtpPacket

from server.bot.participant import Participant
from server.bot.receiver import MediaReceiver
from server.sfu.packets import SEQ_MOD, seq_newer_or_equal, starts_keyframe

DECODE_ALL = 1 << 30
FIRST_DECODE_TIMEOUT_S = 60.0
RENACK_INTERVAL_S = 0.1
"""How often packets still missing are asked for again.

A browser repeats a NACK every round trip until the packet arrives (libwebrtc's NackRequester:
100 ms until it has measured the round trip, at most 10 times; here without a cap, aiortc's
receiver forgets a missing packet 128 sequence numbers on). aiortc's receiver NACKs a gap once,
at the packet that reveals it, and repeats it only along with the next gap: one lost
retransmission would freeze its picture until the link happens to lose another packet (measured:
up to 1.07 s at 3 % loss), a trait of that client rather than of the SFU under test.
"""


LAG_TICK_S = 0.05


class LoopLag:
    """The longest the event loop was late for a timer: how long this process was starved.

    On a loaded machine a process can wait for the CPU longer than any freeze a test allows; with
    this number a failed freeze assertion says whether the network or the machine stalled.
    """

    def __init__(self) -> None:
        self.longest_s = 0.0
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LAG_TICK_S
            await asyncio.sleep(LAG_TICK_S)  # the probe itself: how late does it wake?
            self.longest_s = max(self.longest_s, loop.time() - due)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def report(receiver: MediaReceiver, lag: LoopLag) -> dict[str, Any]:
    """Every source's counters, how long each has waited for its next frame so far, and the
    process's longest event loop stall."""
    now = time.monotonic()
    sources = {}
    for source, stats in receiver.stats.items():
        entry = dataclasses.asdict(stats)
        last = stats.last_frame_at
        entry["since_last_frame_s"] = now - last if last is not None else None
        sources[source] = entry
    return {"report": sources, "now": now, "loop_lag_s": lag.longest_s}


async def _announce_decoding(receiver: MediaReceiver, source: str) -> None:
    def decoding() -> bool:
        stats = receiver.stats.get(source)
        return stats is not None and stats.decoded > 0

    try:
        await receiver.wait_for(decoding, FIRST_DECODE_TIMEOUT_S)
    except TimeoutError:
        return  # the test waiting for this line times out itself, with its own message
    _say({"decoding": source})


async def _repeat_nacks(receiver: RTCRtpReceiver) -> None:
    """NACK every packet still missing again each :data:`RENACK_INTERVAL_S`, as a browser does."""
    # aiortc 1.16 internals: a video receiver's NackGenerator (``.missing``: sequence numbers not
    # received yet) and ``_send_rtcp_nack(media_ssrc, lost)``, which the receiver calls at each new
    # gap; shadowed on this instance to learn the media SSRC from aiortc's own first NACK.
    generator = receiver._RTCRtpReceiver__nack_generator  # type: ignore[attr-defined]
    if generator is None:
        return  # audio: aiortc never NACKs it, nor does a browser
    send = receiver._send_rtcp_nack
    media_ssrc: list[int] = []

    async def remembering(ssrc: int, lost: list[int]) -> None:
        media_ssrc[:] = [ssrc]
        await send(ssrc, lost)

    receiver._send_rtcp_nack = remembering  # type: ignore[method-assign,assignment]
    while True:
        await asyncio.sleep(RENACK_INTERVAL_S)  # the repeat timer itself
        if media_ssrc and generator.missing:
            await send(media_ssrc[0], sorted(generator.missing))


def _keyframes_skip_holes(receiver: RTCRtpReceiver, mime_type: str) -> None:
    """Let a keyframe's first packet drop the older packets still waiting for missing ones.

    A browser (libwebrtc's packet buffer) decodes a complete keyframe whatever came before it;
    aiortc's jitter buffer hands out frames strictly in sequence, so one packet that will never
    come (sent before a simulcast layer switch, on a link that lost it, and never resent: the new
    layer's keyframe made it moot) holds the picture until 512 packets later: 25 s on a 160 kbps
    layer.
    """
    # aiortc 1.16 internals: the video receiver's JitterBuffer (``_origin``, ``remove(count)``,
    # ``capacity``) and NackGenerator (``missing``).
    generator = receiver._RTCRtpReceiver__nack_generator  # type: ignore[attr-defined]
    if generator is None:
        return  # audio
    buffer = receiver._RTCRtpReceiver__jitter_buffer  # type: ignore[attr-defined]
    add = buffer.add

    def adding(packet: RtpPacket) -> Any:
        origin = buffer._origin
        if origin is not None and starts_keyframe(mime_type, packet.payload):
            behind = (packet.sequence_number - origin) % SEQ_MOD
            if 0 < behind < buffer.capacity:
                buffer.remove(behind)
                generator.missing = {
                    seq for seq in generator.missing if seq_newer_or_equal(seq, packet.sequence_number)
                }
        return add(packet)

    buffer.add = adding


async def serve(gather: str) -> None:
    participant = Participant("remote", gather_addresses=(gather,), decode_frames=DECODE_ALL)
    receiver = participant.receiver
    loop = asyncio.get_running_loop()
    lines = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(lines), sys.stdin)
    lag = LoopLag()
    announced: set[str] = set()
    repeating: set[str] = set()  # mids whose NACKs are repeated
    tasks: set[asyncio.Task[None]] = set()

    def start(work: Coroutine[Any, Any, None]) -> None:
        task = loop.create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    try:
        while line := await lines.readline():
            request = json.loads(line)
            if "offer" in request:
                sources: dict[str, str] = request["sources"]
                answer = await participant.subscribe_offer(request["offer"], sources)
                _say({"answer": answer})
                for source in set(sources.values()) - announced:
                    announced.add(source)
                    start(_announce_decoding(receiver, source))
                for transceiver in participant.subscribe_pc.getTransceivers():
                    if transceiver.mid is not None and transceiver.mid not in repeating:
                        repeating.add(transceiver.mid)
                        start(_repeat_nacks(transceiver.receiver))
                        source = sources.get(transceiver.mid)
                        if source is not None:
                            _keyframes_skip_holes(transceiver.receiver, receiver.stats[source].mime_type)
            elif request.get("report"):
                _say(report(receiver, lag))
                if request.get("restart_gaps"):
                    for stats in receiver.stats.values():
                        stats.longest_gap_s = 0.0
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await lag.close()
        await participant.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gather", required=True, help="the only address to gather ICE candidates on")
    asyncio.run(serve(parser.parse_args().gather))


if __name__ == "__main__":
    main()
