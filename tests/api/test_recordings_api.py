"""The recording API end to end: list, read, compose in a child process (progress polled), play
with range requests, download originals; and every refusal it owes bad or foreign requests."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from recorder.manifest import Manifest
from server.recording.store import recordings_root
from server.settings import Settings
from tests.api.meetings_support import error_of, sign_in
from tests.api.recordings_support import place_recording, recording_key
from tests.world import World, build_world

COMPOSE_TIMEOUT_S = 90


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)


def _url(world: World, key: str, tail: str = "") -> str:
    return f"/api/v1/meetings/{world.meeting_x}/recordings/{key}{tail}"


async def _wait_until_finished(client: TestClient, url: str) -> dict[str, Any]:
    """Poll the job status (what the page does) until it leaves queued/running."""
    deadline = time.monotonic() + COMPOSE_TIMEOUT_S
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        response = await client.get(url)
        assert response.status == 200, await response.text()
        seen.append(await response.json())
        if seen[-1]["state"] not in ("queued", "running"):
            return seen[-1]
        await asyncio.sleep(0.2)
    raise AssertionError(f"composition did not finish in {COMPOSE_TIMEOUT_S} s: {seen[-3:]}")


async def test_compose_play_and_download(client: TestClient, world: World, settings: Settings) -> None:
    directory = place_recording(settings, world.meeting_x)
    key = recording_key(world.meeting_x)
    headers = await sign_in(client, "archivist")
    listed = await (await client.get(f"/api/v1/meetings/{world.meeting_x}/recordings")).json()
    assert [(r["key"], r["usable"], r["track_count"], r["compose"]["state"], r["video_url"]) for r in listed] == \
        [(key, True, 2, "none", None)]
    assert (await client.get(_url(world, key, "/video"))).status == 404  # not composed yet

    started = await client.post(_url(world, key, "/compose"), json={}, headers=headers)
    assert started.status == 202, await started.text()
    assert (await started.json())["state"] in ("queued", "running")
    again = await client.post(_url(world, key, "/compose"), json={"force": True}, headers=headers)
    assert again.status == 409 and (await error_of(again))["code"] == "compose_running"
    final = await _wait_until_finished(client, _url(world, key, "/compose"))
    assert final["state"] == "done" and final["progress"] == 1.0, final

    detail = await (await client.get(_url(world, key))).json()
    assert detail["video_url"] == _url(world, key, "/video")
    assert [c["title"] for c in detail["chapters"]] == ["发言：王发改", "议题 1：企业投资项目备案",
                                                       "FQ-FGJ 意见：同意"]
    assert {t["track_id"] for t in detail["tracks"]} == {"p1-video-0", "p1-audio-0"}
    assert "file" not in detail["tracks"][0]  # the API names tracks, never paths

    whole = await client.get(detail["video_url"])
    body = await whole.read()
    assert whole.status == 200 and whole.headers["Content-Type"] == "video/mp4" and body[4:8] == b"ftyp"
    part = await client.get(detail["video_url"], headers={"Range": "bytes=100-199"})
    assert part.status == 206 and await part.read() == body[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(body)}"

    track = next(t for t in detail["tracks"] if t["kind"] == "audio")
    original = await client.get(track["url"])
    data = await original.read()
    assert original.status == 200 and original.headers["Content-Type"] == "audio/webm"
    assert "attachment" in original.headers["Content-Disposition"]
    assert hashlib.sha256(data).hexdigest() == track["sha256"]
    assert data == (directory / f"{track['track_id']}.webm").read_bytes()

    done = await client.post(_url(world, key, "/compose"), json={"force": False}, headers=headers)
    assert done.status == 409 and (await error_of(done))["code"] == "already_composed"


async def test_bad_requests_are_refused_clearly(client: TestClient, world: World, settings: Settings) -> None:
    place_recording(settings, world.meeting_x, composed=True)
    key = recording_key(world.meeting_x)
    headers = await sign_in(client, "chair")
    for path in (_url(world, "M999-20261129-R1"), _url(world, "..%2F..%2Fetc"), _url(world, "junk"),
                 f"/api/v1/meetings/{world.meeting_y}/recordings/{key}",  # a key of another meeting
                 _url(world, key, "/tracks/nope"), _url(world, key, "/tracks/..%2Fmanifest.json"),
                 _url(world, key, "/tracks/manifest.json")):
        response = await client.get(path)
        assert response.status == 404, (path, await response.text())
        assert (await error_of(response))["message"]
    bad_body = await client.post(_url(world, key, "/compose"), json={"force": "perhaps", "x": 1}, headers=headers)
    assert bad_body.status == 422


async def test_junk_and_interrupted_recordings_are_listed_as_unusable(client: TestClient, world: World,
                                                                      settings: Settings) -> None:
    folder = recordings_root(settings.data_dir) / str(world.meeting_x)
    place_recording(settings, world.meeting_x, number=1)
    (folder / recording_key(world.meeting_x, 2)).mkdir()  # interrupted: a journal, no manifest
    (folder / recording_key(world.meeting_x, 2) / "journal.jsonl").write_text("{}\n")
    (folder / recording_key(world.meeting_x, 3)).mkdir()  # filled by hand with junk
    (folder / recording_key(world.meeting_x, 3) / "manifest.json").write_text("not json")
    (folder / "holiday-photos").mkdir()  # not a recording at all
    headers = await sign_in(client, "chair")
    listed = await (await client.get(f"/api/v1/meetings/{world.meeting_x}/recordings")).json()
    assert [(r["key"][-2:], r["usable"]) for r in listed] == [("R1", True), ("R2", False), ("R3", False)]
    assert "no manifest" in listed[1]["problem"] and "not a valid manifest" in listed[2]["problem"]
    for number in (2, 3):
        key = recording_key(world.meeting_x, number)
        refused = await client.post(_url(world, key, "/compose"), json={}, headers=headers)
        assert refused.status == 409 and (await error_of(refused))["code"] == "recording_unusable"
        assert not (folder / key / "composed" / "meeting.mp4").exists()


async def test_a_corrupt_track_fails_the_job_and_keeps_nothing(client: TestClient, world: World,
                                                               settings: Settings) -> None:
    directory = place_recording(settings, world.meeting_x)
    track = Manifest.load(directory).tracks[0]
    path = directory / track.file
    path.write_bytes(path.read_bytes()[:500])  # truncated after the manifest was written
    key = recording_key(world.meeting_x)
    headers = await sign_in(client, "chair")
    assert (await client.post(_url(world, key, "/compose"), json={}, headers=headers)).status == 202
    final = await _wait_until_finished(client, _url(world, key, "/compose"))
    assert final["state"] == "failed" and track.file in final["message"], final
    assert (await client.get(_url(world, key, "/video"))).status == 404
    assert not list((directory / "composed").glob("*.mp4*"))


async def test_another_organisations_applicant_gets_nothing(client: TestClient, world: World,
                                                            settings: Settings) -> None:
    place_recording(settings, world.meeting_x, composed=True)
    key = recording_key(world.meeting_x)
    await sign_in(client, "applicant_other")
    for tail in ("", "/video", "/compose", "/tracks/p1-video-0"):
        response = await client.get(_url(world, key, tail))
        assert response.status == 404 and response.headers["Content-Type"].startswith("application/json")
    await sign_in(client, "applicant")  # the applicant of the case sees the meeting, and its recording
    assert (await client.get(_url(world, key, "/video"))).status == 200
