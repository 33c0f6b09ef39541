"""What the live recorder writes is what the composer composes: a real meeting is recorded (VP8,
H.264 and Opus from bots through the SFU), then composed through the API as the playback page does
it, and the MP4 checked with PyAV."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import av
import pytest

from recorder.manifest import Manifest
from server.bot.media import ClipTrack, EncodedClip, audio_clip, video_clip
from server.bot.signaling import BotClient

from .recording_support import verified
from .review_support import CONDITIONAL, Seat
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401
from .test_recording_live import media_for, recording_dir, start_recording
from tests.world import PASSWORD

pytestmark = pytest.mark.timeout(240)

COMPOSE_DEADLINE_S = 150
POLL_S = 0.5  # the playback page polls every POLL_MS as well


def h264_clip() -> EncodedClip:
    return video_clip("video/H264", seconds=2.0, width=320, height=180, fps=15)


async def publish_h264(live: LiveServer, username: str) -> BotClient:
    """A participant whose camera is H.264 (the only codec it offers) and whose microphone Opus."""
    clip = h264_clip()
    bot = await live.client(username)
    await bot.join()
    participant = bot.participant
    assert participant is not None
    participant.video = ClipTrack(clip)
    offer = await participant.publish_offer()
    ack = await bot.call("publish", {"meeting_id": bot.meeting_id, "sdp": offer,
                                     "sources": participant.sources})
    await participant.publish_answer(ack["sdp"])
    return bot


async def signed_in(live: LiveServer, http: aiohttp.ClientSession, username: str) -> str:
    login = await http.post(f"{live.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status == 200, await login.text()
    return str((await login.json())["csrf_token"])


async def compose_via_api(live: LiveServer, http: aiohttp.ClientSession, csrf: str, base: str) -> dict[str, Any]:
    """POST compose, then poll its status until done (or fail at the deadline)."""
    started = await http.post(f"{base}/compose", json={}, headers={"X-CSRF-Token": csrf})
    assert started.status == 202, await started.text()
    assert (await started.json())["state"] in ("queued", "running")
    deadline = time.monotonic() + COMPOSE_DEADLINE_S
    seen = []
    while True:
        response = await http.get(f"{base}/compose")
        assert response.status == 200
        status = await response.json()
        seen.append(status["state"])
        if status["state"] not in ("queued", "running"):
            return status
        assert time.monotonic() < deadline, f"composition still {status} after {COMPOSE_DEADLINE_S} s"
        await asyncio.sleep(POLL_S)  # polling a job, as the page does: not synchronisation


async def test_a_live_recording_composes_into_an_mp4_with_chapters(live: LiveServer) -> None:
    # the clips are encoded once per process: not on the loop while the server waits for pings
    await asyncio.to_thread(lambda: (video_clip(), audio_clip(), h264_clip()))
    chair = await live.bot("chair")
    rep = await publish_h264(live, "rep_a")
    await chair.wait_frames(lambda b: b.frames(rep.participant_id, "video") >= 10, 20)
    assert rep.participant is not None

    key, _ = await start_recording(chair)
    await media_for(chair, rep, 2)
    item = live.world.item_x
    await Seat(chair).do("agenda_open", item_id=item)
    await media_for(chair, rep, 1.5)
    await Seat(rep).do("opinion_submit", item_id=item, **CONDITIONAL)
    await media_for(chair, rep, 2.5)
    await chair.call("recording_stop", {"meeting_id": chair.meeting_id})

    directory = recording_dir(live, key)
    manifest: Manifest = verified(directory)
    codecs = {(t.participant_id, t.kind): (t.codec, t.file.rsplit(".", 1)[1]) for t in manifest.tracks}
    assert codecs == {(chair.participant_id, "video"): ("VP8", "webm"),
                      (chair.participant_id, "audio"): ("opus", "webm"),
                      (rep.participant_id, "video"): ("H264", "ts"),
                      (rep.participant_id, "audio"): ("opus", "webm")}
    assert [e.type for e in manifest.events if e.type in ("agenda_item_opened", "opinion_submitted")] == [
        "agenda_item_opened", "opinion_submitted"]

    base = f"{live.url}/api/v1/meetings/{live.world.meeting_x}/recordings/{key}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        csrf = await signed_in(live, http, "chair")
        status = await compose_via_api(live, http, csrf, base)
        assert status["state"] == "done", status
        assert status["message"] == "", status  # no track had damaged data
        detail = await (await http.get(base)).json()
        assert detail["video_url"] == "/api/v1" + base.split("/api/v1", 1)[1] + "/video"

        mp4 = directory / "composed" / "meeting.mp4"
        with av.open(str(mp4)) as container:
            video = container.streams.video[0]
            audio = container.streams.audio[0]
            assert (video.codec_context.name, audio.codec_context.name) == ("h264", "aac")
            assert container.duration is not None
            duration_ms = container.duration / 1000  # AV_TIME_BASE is microseconds
            assert abs(duration_ms - manifest.duration_ms) <= 500, (duration_ms, manifest.duration_ms)
            chapters = [(c["start"] * c["time_base"], c["metadata"]["title"]) for c in container.chapters()]
        titles = [title for _, title in chapters]
        starts = [float(start) for start, _ in chapters]
        assert titles[0] == "会议开始" and titles[1].startswith("议题 ") and "意见：附条件同意" in titles[2], titles
        assert starts == sorted(starts) and starts[0] == 0 and starts[1] < starts[2]
        opened = next(e.at_ms for e in manifest.events if e.type == "agenda_item_opened")
        assert abs(starts[1] * 1000 - opened) <= 50
        chapter_kinds = [c["kind"] for c in detail["chapters"]]
        assert "agenda" in chapter_kinds and "opinion" in chapter_kinds

        size = mp4.stat().st_size
        ranged = await http.get(f"{base}/video", headers={"Range": "bytes=100-1099"})
        assert ranged.status == 206
        assert ranged.headers["Content-Range"] == f"bytes 100-1099/{size}"
        assert ranged.headers["Content-Type"] == "video/mp4"
        assert await ranged.read() == mp4.read_bytes()[100:1100]
