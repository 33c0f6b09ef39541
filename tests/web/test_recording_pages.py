"""Recording pages: the meeting's recordings and the playback page (video, chapters that seek,
?t= for links from the minutes, original tracks, the compose control for those who may compose)."""

from __future__ import annotations

import json
import re

import html5lib
from aiohttp.test_utils import TestClient

from server.settings import Settings
from tests.api.meetings_support import sign_in
from tests.api.recordings_support import place_recording, recording_key
from tests.world import build_world


async def _page(client: TestClient, path: str, status: int = 200) -> str:
    response = await client.get(path, allow_redirects=False)
    text = await response.text()
    assert response.status == status, text[:500]
    return text


def _script_data(html: str) -> dict:
    found = re.search(r'<script id="playback-data" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


async def test_playback_page(client: TestClient, db_sessions, settings: Settings) -> None:
    world = await build_world(db_sessions)
    place_recording(settings, world.meeting_x, composed=True)
    key = recording_key(world.meeting_x)
    page = f"/meetings/{world.meeting_x}/recordings/{key}"
    assert (await client.get(page, allow_redirects=False)).status == 302  # sign in first

    await sign_in(client, "rep_a")
    listing = await _page(client, f"/meetings/{world.meeting_x}/recordings")
    assert f'href="{page}"' in listing and "已合成" in listing
    detail = await _page(client, f"/meetings/{world.meeting_x}")
    assert f'href="/meetings/{world.meeting_x}/recordings"' not in detail  # scheduled: nothing recorded yet

    html = await _page(client, page + "?t=2.5")
    html5lib.HTMLParser(strict=True).parse(html)
    assert f'src="/api/v1/meetings/{world.meeting_x}/recordings/{key}/video"' in html
    assert 'data-seek="1.2"' in html and "议题 1：企业投资项目备案" in html and "FQ-FGJ 意见：同意" in html
    assert 'aria-label="跳转到 0:01：议题 1：企业投资项目备案"' in html
    assert f"/recordings/{key}/tracks/p1-video-0" in html and f"/recordings/{key}/tracks/p1-audio-0" in html
    assert "compose-button" not in html  # a representative watches, does not compose
    data = _script_data(html)
    assert data["start"] == 2.5 and data["compose"]["state"] == "done"
    assert data["messages"]["recordings.state.running"] == "合成中"
    assert _script_data(await _page(client, page + "?t=nonsense"))["start"] == 0.0

    await sign_in(client, "archivist")
    english = await _page(client, page + "?lang=en")
    assert "compose-button" in english and "Compose again" in english and "Chapters" in english

    await sign_in(client, "applicant_other")
    await _page(client, page, 404)
    await _page(client, f"/meetings/{world.meeting_x}/recordings", 404)
    await sign_in(client, "chair")
    await _page(client, f"/meetings/{world.meeting_x}/recordings/M1-20260101-R7", 404)
    await _page(client, f"/meetings/{world.meeting_x}/recordings/..%2Fx", 404)


async def test_unusable_recording_page_says_why(client: TestClient, db_sessions, settings: Settings) -> None:
    world = await build_world(db_sessions)
    directory = place_recording(settings, world.meeting_x)
    (directory / "manifest.json").write_text("{}")
    await sign_in(client, "chair")
    html = await _page(client, f"/meetings/{world.meeting_x}/recordings/{recording_key(world.meeting_x)}")
    assert "无法使用" in html and "not a valid manifest" in html and "compose-button" not in html
