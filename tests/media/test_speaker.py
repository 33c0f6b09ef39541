"""Active speaker detection follows the participant who is sending sound."""

import asyncio
import math
from array import array

import pytest
from aiortc import (
    AudioStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from av import AudioFrame

from server.bot.media import audio_clip
from server.sfu import SubscribeOffer
from server.sfu.ice import gathering_on
from server.sfu.speaker import ActiveSpeakerDetector

from .meeting import LOOPBACK, Meeting


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_speaker_switches_to_the_louder_peer(meeting: Meeting) -> None:
    changes: asyncio.Queue[str | None] = asyncio.Queue()
    meeting.room.on("speaker_changed", changes.put_nowait)
    alice = await meeting.join("alice", audio=audio_clip(loud=True))
    bob = await meeting.join("bob", audio=audio_clip(loud=False))

    assert await asyncio.wait_for(changes.get(), 10) == "alice"

    alice.audio.play(audio_clip(loud=False))
    bob.audio.play(audio_clip(loud=True))
    assert await asyncio.wait_for(changes.get(), 10) == "bob"
    assert meeting.room.speaker == "bob"


def test_a_short_burst_does_not_steal_the_floor() -> None:
    now = [0.0]
    changes: list[str | None] = []
    detector = ActiveSpeakerDetector(0.3, 0.9, changes.append, clock=lambda: now[0])

    def speak(seconds: float, loud: str, quiet: str) -> None:
        for _ in range(int(seconds / 0.02)):
            now[0] += 0.02
            detector.observe(loud, 1.0)
            detector.observe(quiet, 0.0)

    speak(2.0, "alice", "bob")
    speak(0.5, "bob", "alice")  # a cough
    speak(1.0, "alice", "bob")
    assert changes == ["alice"]
    speak(2.0, "bob", "alice")
    assert changes == ["alice", "bob"]
    detector.forget("bob")
    assert changes == ["alice", "bob", None]


class ToneTrack(AudioStreamTrack):
    """A microphone aiortc encodes itself, so each packet carries its audio level."""

    async def recv(self) -> AudioFrame:
        silence = await super().recv()  # paced 20 ms frames at 8 kHz
        assert isinstance(silence, AudioFrame)
        frame = AudioFrame(format="s16", layout="mono", samples=silence.samples)
        frame.planes[0].update(TONE_8KHZ_20MS)
        frame.pts, frame.sample_rate, frame.time_base = silence.pts, 8000, silence.time_base
        return frame


TONE_8KHZ_20MS = array(
    "h", (int(16000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(160))
).tobytes()


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_audio_level_header_extension_is_used_when_sent(meeting: Meeting) -> None:
    changes: asyncio.Queue[str | None] = asyncio.Queue()
    meeting.room.on("speaker_changed", changes.put_nowait)
    await meeting.join("bob", audio=audio_clip(loud=False))

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    pc.addTransceiver(ToneTrack(), direction="sendonly")
    with gathering_on(LOOPBACK):
        await pc.setLocalDescription(await pc.createOffer())

    async def ignore_offer(offer: SubscribeOffer) -> None:
        pass

    carol = await meeting.room.join("carol", {}, ignore_offer)
    try:
        answer = await carol.publish(pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        assert await asyncio.wait_for(changes.get(), 10) == "carol"
        assert carol.producers["audio"].audio_level_seen
        assert not meeting.peers["bob"].producers["audio"].audio_level_seen
    finally:
        await meeting.room.leave("carol")
        await pc.close()
