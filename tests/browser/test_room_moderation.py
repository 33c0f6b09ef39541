"""The chair's moderation from the participant list, and a camera switched off, end to end: what the
chair clicks, what the other person's page shows, and what the server holds. Real server, real SFU,
real Chromium (and protocol bots for the lobby and the locked door)."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, Locator

from server.bot.signaling import BotError
from tests.browser.room_driver import WAIT_MS, RoomPage, enter_room
from tests.media.signaling_harness import LiveServer


def moderation_button(chair: RoomPage, participant_id: str, label: str) -> Locator:
    """The chair's button ``label`` in the participant list's row of ``participant_id``."""
    row = chair.page.locator(f'#participant-list li[data-participant="{participant_id}"]')
    return row.get_by_role("button", name=label)


async def test_chair_mutes_stops_a_share_and_removes_from_the_participant_list(
        live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    rep_id = await rep.participant_id()
    meeting = live.signaling.meetings[live.world.meeting_x]

    # mute: the server stops forwarding; the representative's page says so next to its controls
    await moderation_button(chair, rep_id, "静音 王发改").click()
    await rep.page.wait_for_selector("#chair-muted", state="visible", timeout=WAIT_MS)
    assert "主持人已将您的麦克风静音" in (await rep.page.text_content("#chair-muted") or "")
    assert meeting.participants[rep_id].muted == {"audio"}
    await chair.page.wait_for_function(
        "id => document.querySelector(`.tile[data-participant='${id}'] .flags`).textContent.includes('已静音')",
        arg=rep_id, timeout=WAIT_MS)
    await rep.shot("muted-by-chair")
    await moderation_button(chair, rep_id, "取消静音 王发改").click()
    await rep.page.wait_for_selector("#chair-muted", state="hidden", timeout=WAIT_MS)
    assert meeting.participants[rep_id].muted == set()

    # stop share: the button appears while the representative shares, and ends the share for them
    await rep.page.click("#screen-toggle")
    await rep.page.wait_for_selector('#screen-toggle[aria-pressed="true"]', timeout=WAIT_MS)
    await chair.wait_video(rep_id, kind="screen")
    await moderation_button(chair, rep_id, "停止共享 王发改").click()
    await rep.page.wait_for_selector('#screen-toggle[aria-pressed="false"]', timeout=WAIT_MS)
    await chair.page.wait_for_selector(f'.tile.screen[data-screen="{rep_id}"]', state="detached",
                                       timeout=WAIT_MS)
    assert "screen" not in meeting.participants[rep_id].peer.producers

    # remove (after a confirmation): the representative's page ends, the server lets nobody back
    chair.page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await moderation_button(chair, rep_id, "移出 王发改").click()
    await rep.wait_connection("ended")
    assert "您已被主持人移出会议" in (await rep.page.text_content("#ended-message") or "")
    await chair.page.wait_for_selector(f'.tile[data-participant="{rep_id}"]', state="detached",
                                       timeout=WAIT_MS)
    assert rep_id not in meeting.participants
    await rep.shot("removed-by-chair")
    with pytest.raises(BotError) as refused:
        await (await live.client("rep_a")).join()
    assert refused.value.code == "removed"
    await live.settle()
    types = await live.event_types()
    assert {"participant_muted", "participant_unmuted", "screen_share_stopped", "participant_removed"} <= set(types)


async def test_chair_locks_the_meeting_and_admits_from_the_lobby(live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    meeting = live.signaling.meetings[live.world.meeting_x]

    await chair.page.click("#lock-toggle")
    await rep.page.wait_for_selector("#locked", state="visible", timeout=WAIT_MS)
    assert meeting.locked
    assert await chair.page.get_attribute("#lock-toggle", "aria-pressed") == "true"
    with pytest.raises(BotError) as refused:  # an invited representative cannot come in now
        await (await live.client("rep_b")).join()
    assert refused.value.code == "meeting_locked"
    await chair.page.click("#lock-toggle")
    await rep.page.wait_for_selector("#locked", state="hidden", timeout=WAIT_MS)
    assert not meeting.locked

    # someone not invited knocks: the chair sees them in the lobby and lets them in
    visitor = await live.client("rep_other")
    admitted = asyncio.ensure_future(visitor.join(lobby_timeout=WAIT_MS / 1000))
    entry = chair.page.locator("#lobby-list li", has_text="钱自然")
    await entry.wait_for(timeout=WAIT_MS)
    await chair.shot("lobby-seen-by-chair")
    await entry.get_by_role("button", name="准入").click()
    ack = await admitted
    assert ack["status"] == "joined" and ack["capacity"] == "observer"
    await chair.page.wait_for_selector(f'.tile[data-participant="{ack["participant_id"]}"]', timeout=WAIT_MS)
    assert await chair.page.is_hidden("#lobby")
    await live.settle()
    types = await live.event_types()
    assert {"meeting_locked", "meeting_unlocked", "lobby_admitted"} <= set(types)


async def test_camera_off_shows_a_name_card_to_everyone(live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    rep_id = await rep.participant_id()
    await chair.wait_video(rep_id)
    tile = f'.tile[data-participant="{rep_id}"]'

    await rep.page.click("#camera-toggle")
    assert await rep.page.get_attribute("#camera-toggle", "aria-pressed") == "true"
    assert await rep.page.evaluate("window.__lianshen.local.stream.getVideoTracks()[0].enabled") is False
    await chair.page.wait_for_selector(f"{tile}.camera-off", timeout=WAIT_MS)
    assert await chair.page.is_visible(f"{tile} .avatar")  # the name card, not a black picture
    assert await chair.page.is_hidden(f"{tile} video")
    assert "摄像头已关" in (await chair.page.get_attribute(tile, "aria-label") or "")
    assert await rep.page.is_visible(f"{tile} .avatar")  # and the same on one's own tile
    assert live.signaling.meetings[live.world.meeting_x].participants[rep_id].paused == {"video"}
    await chair.shot("camera-off-seen-by-chair")

    await rep.page.click("#mic-toggle")  # microphone off: a flag on the tile
    await chair.page.wait_for_function(
        "id => document.querySelector(`.tile[data-participant='${id}'] .flags`).textContent.includes('麦克风已关')",
        arg=rep_id, timeout=WAIT_MS)

    await rep.page.click("#camera-toggle")
    await chair.page.wait_for_selector(f"{tile}:not(.camera-off)", timeout=WAIT_MS)
    await chair.page.evaluate("window.__played = {}")
    await chair.wait_video(rep_id)
    assert live.signaling.meetings[live.world.meeting_x].participants[rep_id].paused == {"audio"}
    # a screen is stopped, not paused; the payload is checked like every other
    refused = await rep.request("pause", {"kind": "screen", "paused": True})
    assert refused["ok"] is False and refused["error"]["code"] == "invalid_payload"
