"""Encoded media reaches every other participant, decodable, and follows moderation."""

import asyncio

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender
from aiortc import sdp as aiortc_sdp

from server.bot.media import video_clip
from server.sfu import ProducerInfo, SubscribeOffer
from server.sfu.ice import gathering_on
from server.sfu.passthrough import is_keyframe

from .meeting import LOOPBACK, Meeting, source_name

FRAMES = 45  # 1.5 s of video: enough to cross many delta frames


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_three_peers_see_and_hear_each_other(meeting: Meeting) -> None:
    names = ("alice", "bob", "carol")
    for name in names:
        await meeting.join(name)

    for name in names:
        receiver = meeting.participants[name].receiver
        wanted = [source_name(o, k) for o in names if o != name for k in ("video", "audio")]
        await receiver.wait_for_frames(wanted, FRAMES, timeout=15)
        for source in wanted:
            stats = receiver.stats[source]
            assert stats.decoded > 0, source
            assert stats.decode_errors == 0, source
    # pass-through forwarding: what arrives is what the publisher encoded
    bob_video = meeting.participants["bob"].receiver.stats["alice:video"]
    assert bob_video.mime_type == "video/VP8"


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_late_joiner_decodes_within_a_second(meeting: Meeting) -> None:
    alice = await meeting.join("alice")
    bob = await meeting.join("bob")
    await bob.receiver.wait_for(lambda: bob.receiver.frames("alice:video") >= FRAMES, 15)
    forced_before = alice.video.forced_keyframes

    carol = await meeting.join("carol", publish=False)
    await carol.receiver.wait_for(
        lambda: carol.receiver.stats.get("alice:video") is not None
        and carol.receiver.stats["alice:video"].first_decoded_at is not None,
        timeout=5,
    )
    stats = carol.receiver.stats["alice:video"]
    assert stats.first_decoded_after_s is not None and stats.first_decoded_after_s < 1.0
    # the clip has one natural keyframe per 4 s loop: this one was asked for
    assert alice.video.forced_keyframes > forced_before
    print(f"late joiner: first decoded frame {stats.first_decoded_after_s * 1000:.0f} ms")


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_server_side_mute_stops_and_resumes_audio(meeting: Meeting) -> None:
    await meeting.join("alice")
    bob = await meeting.join("bob")
    received = bob.receiver
    await received.wait_for(lambda: received.frames("alice:audio") >= 25, 15)
    muted_events: list[ProducerInfo] = []
    meeting.room.on("producer_muted", muted_events.append)

    meeting.peers["alice"].set_muted("audio", True)
    in_flight = received.frames("alice:audio") + 5
    video = received.frames("alice:video")
    await received.wait_for(lambda: received.frames("alice:video") >= video + 30, 10)
    assert received.frames("alice:audio") <= in_flight  # one second without audio

    count = received.frames("alice:audio")
    meeting.peers["alice"].set_muted("audio", False)
    await received.wait_for(lambda: received.frames("alice:audio") >= count + 25, 10)
    assert received.stats["alice:audio"].decode_errors == 0
    assert [(e.kind, e.muted) for e in muted_events] == [("audio", True), ("audio", False)]


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_departed_producers_m_lines_are_reused(meeting: Meeting) -> None:
    alice = await meeting.join("alice", publish=False)
    await meeting.join("bob")
    await alice.receiver.wait_for(lambda: alice.receiver.frames("bob:video") >= 10, 15)
    removed = asyncio.Event()
    meeting.room.on("producer_removed", lambda info: removed.set())

    await meeting.leave("bob")
    await asyncio.wait_for(removed.wait(), 5)
    await meeting.join("dave")
    await alice.receiver.wait_for(
        lambda: alice.receiver.frames("dave:video") >= FRAMES
        and alice.receiver.frames("dave:audio") >= FRAMES,
        timeout=15,
    )
    subscribe = meeting.peers["alice"].subscribe_connection
    assert subscribe is not None
    assert len(subscribe.getTransceivers()) == 2  # bob's m-lines now carry dave
    assert alice.receiver.stats["dave:video"].decode_errors == 0
    assert alice.receiver.stats["dave:video"].first_decoded_after_s is not None


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_screen_share_added_and_removed_by_republishing(meeting: Meeting) -> None:
    alice = await meeting.join("alice")
    bob = await meeting.join("bob", publish=False)
    events: asyncio.Queue[tuple[str, ProducerInfo]] = asyncio.Queue()
    meeting.room.on("producer_added", lambda info: events.put_nowait(("added", info)))
    meeting.room.on("producer_removed", lambda info: events.put_nowait(("removed", info)))

    alice.share_screen()
    await meeting.publish("alice")
    event, info = await asyncio.wait_for(events.get(), 5)
    assert (event, info.kind) == ("added", "screen")
    await bob.receiver.wait_for_frames(
        [source_name("alice", "screen"), source_name("alice", "video")], FRAMES, timeout=15
    )
    assert bob.receiver.stats["alice:screen"].decode_errors == 0

    alice.stop_sharing()
    await meeting.publish("alice")
    event, info = await asyncio.wait_for(events.get(), 5)
    assert (event, info.kind) == ("removed", "screen")
    assert set(meeting.peers["alice"].producers) == {"audio", "video"}
    await meeting.peers["bob"].negotiated()
    assert [s.producer_id is None for s in meeting.peers["bob"].slots].count(True) == 1


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_video_resumes_on_a_keyframe_after_mute_and_stops_for_good(meeting: Meeting) -> None:
    alice = await meeting.join("alice")
    bob = await meeting.join("bob", publish=False)
    video = source_name("alice", "video")
    await bob.receiver.wait_for_frames([video], FRAMES, timeout=15)
    peer = meeting.peers["alice"]

    peer.set_muted("video", True)
    keyframes = bob.receiver.stats[video].keyframes
    forced = alice.video.forced_keyframes
    peer.set_muted("video", False)
    count = bob.receiver.frames(video)
    await bob.receiver.wait_for_frames([video], count + FRAMES, timeout=15)
    assert bob.receiver.stats[video].keyframes > keyframes  # resumed at a keyframe
    assert alice.video.forced_keyframes > forced
    assert bob.receiver.stats[video].decode_errors == 0

    removed = asyncio.Event()
    meeting.room.on("producer_removed", lambda info: removed.set())
    await peer.stop_producer("video")
    await asyncio.wait_for(removed.wait(), 5)
    assert "video" not in peer.producers
    await meeting.peers["bob"].negotiated()
    count = bob.receiver.frames(video)
    audio = bob.receiver.frames(source_name("alice", "audio"))
    await bob.receiver.wait_for_frames([source_name("alice", "audio")], audio + 25, timeout=10)
    assert bob.receiver.frames(video) == count


@pytest.mark.parametrize("mime_type", ["video/VP8", "video/H264"])
def test_keyframes_are_recognised_in_the_payload(mime_type: str) -> None:
    clip = video_clip(mime_type)
    assert [is_keyframe(mime_type, frame) for frame in clip.frames] == list(clip.keyframes)
    assert clip.keyframes[0] and not any(clip.keyframes[1:])


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_h264_is_forwarded_without_transcoding(meeting: Meeting) -> None:
    await meeting.join("alice", video=video_clip("video/H264"))
    bob = await meeting.join("bob", publish=False)
    carol = await meeting.join("carol", publish=False)  # a late joiner needs an IDR
    for participant in (bob, carol):
        await participant.receiver.wait_for_frames([source_name("alice", "video")], FRAMES, 15)
        stats = participant.receiver.stats["alice:video"]
        assert stats.mime_type == "video/H264"
        assert stats.decoded > 0 and stats.decode_errors == 0


@pytest.mark.asyncio
@pytest.mark.timeout(30)
async def test_publishers_are_asked_for_the_preferred_codec(meeting: Meeting) -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    transceiver = pc.addTransceiver("video", direction="sendonly")
    codecs = RTCRtpSender.getCapabilities("video").codecs
    transceiver.setCodecPreferences(  # the client prefers H.264
        sorted(codecs, key=lambda c: c.mimeType != "video/H264")
    )
    with gathering_on(LOOPBACK):
        await pc.setLocalDescription(await pc.createOffer())

    async def ignore_offer(offer: SubscribeOffer) -> None:
        pass

    peer = await meeting.room.join("alice", {}, ignore_offer)
    try:
        answer = aiortc_sdp.SessionDescription.parse(await peer.publish(pc.localDescription.sdp))
        assert answer.media[0].rtp.codecs[0].mimeType == "video/VP8"  # SfuSettings.video_codecs
        assert {c.mimeType for c in answer.media[0].rtp.codecs} >= {"video/H264", "video/rtx"}
    finally:
        await meeting.room.leave("alice")
        await pc.close()
