"""The room's recording button and indicator in real Chromium: the chair starts recording, every page
shows it, the chair stops and it goes away; the log has both, by the chair. A camera switched off
meanwhile is a gap in the recording although Chromium keeps sending black frames. The cameras are
sent as simulcast layers (the browser's default), so the recording follows the best layer sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from playwright.async_api import Browser

from recorder.journal import JOURNAL_NAME
from recorder.manifest import MANIFEST_NAME
from server.recording.store import recordings_root
from tests.browser.room_driver import WAIT_MS, RoomPage, enter_room
from tests.media.recording_support import until_exists, verified
from tests.media.signaling_harness import LiveServer

INDICATOR = "#recording"


async def recording_shown(room: RoomPage, shown: bool) -> None:
    """Until the page's body says ``shown`` and the badge is visible (or hidden) to match."""
    await room.page.wait_for_function("s => document.body.dataset.recording === s", arg=str(shown).lower(),
                                      polling=50, timeout=WAIT_MS)
    await room.page.wait_for_selector(INDICATOR, state="visible" if shown else "hidden", timeout=WAIT_MS)


def journal_entries(directory: Path) -> list[dict[str, Any]]:
    """The recording's journal so far (appended and flushed by its writer thread), without a line
    being written."""
    journal = directory / JOURNAL_NAME
    lines = journal.read_text(encoding="utf-8").splitlines() if journal.exists() else []
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            break  # the line being written
    return entries


async def until_journal_has(directory: Path, entry: str, **fields: Any) -> dict[str, Any]:
    """Until the journal holds ``entry`` with ``fields``; like until_exists, it looks every 50 ms and
    the caller bounds the wait."""
    # a file another thread writes has no event to wait on: polling it is the only way
    while True:
        for found in journal_entries(directory):
            if found.get("entry") == entry and fields.items() <= found.items():
                return found
        await asyncio.sleep(0.05)


async def test_the_chair_records_and_every_page_shows_it_until_stopped(live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    await chair.wait_video(await rep.participant_id())
    for room in (chair, rep):
        assert await room.page.is_hidden(INDICATOR)
    assert await rep.page.is_hidden("#recording-toggle")  # only the chair has the button

    toggle = chair.page.locator("#recording-toggle")
    assert await toggle.text_content() == "开始录制"
    await toggle.click()
    for room in (chair, rep):
        await recording_shown(room, True)
        assert "录制" in (await room.page.text_content(INDICATOR) or "")
        assert await room.page.get_attribute(INDICATOR, "role") == "status"  # read out when it appears
    assert await toggle.get_attribute("aria-pressed") == "true" and await toggle.text_content() == "停止录制"
    assert live.world.meeting_x in live.recording.active
    await chair.shot("recording-on-chair")
    await rep.shot("recording-on-representative")

    # camera off while recording: Chromium keeps sending (black) frames, the recording has a gap.
    # A gap is between pictures: the camera goes off once its track is in the recording (it starts
    # at a key frame, asked for as recording starts; switched off before, the track would simply
    # start later, with no gap to see)
    rep_id = await rep.participant_id()
    key = live.recording.active[live.world.meeting_x].key
    directory = recordings_root(live.settings.data_dir) / str(live.world.meeting_x) / key
    track = await asyncio.wait_for(until_journal_has(directory, "track", participant_id=rep_id, kind="video"), 30)
    tile = f'.tile[data-participant="{rep_id}"]'
    await rep.page.click("#camera-toggle")
    await chair.page.wait_for_selector(f"{tile}.camera-off", timeout=WAIT_MS)
    await rep.page.click("#camera-toggle")
    await chair.page.wait_for_selector(f"{tile}:not(.camera-off)", timeout=WAIT_MS)
    await chair.page.evaluate("window.__played = {}")
    await chair.wait_video(rep_id)
    # the recording resumes at the publisher's next key frame (asked for on resume); stopping
    # before it comes would end the track at the pause, with no gap to see
    await asyncio.wait_for(until_journal_has(directory, "gap", track_id=track["track_id"]), 30)

    await toggle.focus()
    await chair.page.keyboard.press("Enter")  # the keyboard stops it as well
    for room in (chair, rep):
        await recording_shown(room, False)
    assert await toggle.get_attribute("aria-pressed") == "false" and await toggle.text_content() == "开始录制"
    await rep.shot("recording-off-representative")

    await asyncio.wait_for(until_exists(directory / MANIFEST_NAME), 30)  # written after the broadcast
    manifest = verified(directory)
    camera = next(t for t in manifest.tracks if t.participant_id == rep_id and t.kind == "video")
    assert len(camera.gaps) == 1, camera.gaps
    assert [e.type for e in manifest.events if e.payload.get("participant_id") == rep_id] == [
        "participant_paused", "participant_resumed"]

    await live.settle()
    chair_user = live.world.user_ids["chair"]
    logged = [(e.type, e.actor_id) for e in await live.events() if e.type.startswith("recording_")]
    assert logged == [("recording_started", chair_user), ("recording_stopped", chair_user)]
