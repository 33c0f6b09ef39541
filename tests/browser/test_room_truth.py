"""The room tells the truth and drives the meeting (issue 14): waiting before 开始会议, the end for
everyone (the chair on to the draft minutes), muted-by-the-chair on one's own button with a hand
that asks to speak, the room view closing when removed (and on coming back, a page saying so before
any device check, as for a meeting that has ended), a reload that resumes the same participant, and
a new presenter told, with the page fitting beside the videos at 1280×860. Real server, real SFU,
real Chromium."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Browser, Dialog, Locator

from tests.api.materials_support import pdf
from tests.browser.room_driver import WAIT_MS, RoomPage, enter_room, open_context, screenshot_path, upload_pdf
from tests.media.signaling_harness import LiveServer

TEXT_HAS = "([selector, text]) => (document.querySelector(selector)?.textContent || '').includes(text)"


@pytest.fixture(autouse=True)
def _room_protocol(live: LiveServer) -> None:
    if "meeting_start" not in live.signaling._handlers:
        pytest.skip("the server does not let the chair start the meeting from the room yet")


async def shows(room: RoomPage, selector: str, text: str) -> None:
    """Until the element's text contains ``text``."""
    await room.page.wait_for_function(TEXT_HAS, arg=[selector, text], timeout=WAIT_MS)


def row_button(room: RoomPage, within: str, participant_id: str, label: str) -> Locator:
    """The button ``label`` in ``participant_id``'s row of the list ``within``."""
    return room.page.locator(f'{within} li[data-participant="{participant_id}"]').get_by_role("button", name=label)


async def closed_view(room: RoomPage) -> dict[str, Any]:
    """What is left of a closed room view."""
    return await room.page.evaluate("""() => ({
        tiles: document.querySelectorAll('.tile').length,
        controlsVisible: [...document.querySelectorAll('.controls button')].some(b => b.offsetParent !== null),
        controlsEnabled: [...document.querySelectorAll('.controls button')].some(b => !b.disabled),
        quality: document.getElementById('quality').offsetParent !== null,
        back: document.getElementById('ended-back').offsetParent !== null,
        status: document.getElementById('connection-status').textContent,
        liveTracks: (window.__lianshen.local.stream?.getTracks() || []).filter(t => t.readyState === 'live').length,
    })""")


async def test_everyone_waits_for_the_start_and_the_end_closes_the_room_for_all(
        live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")

    # before 开始会议: the representative waits, told so; the chair sees who is waiting
    await shows(rep, "#pre-meeting", "会议尚未开始")
    await shows(chair, "#pre-meeting", "王发改")
    assert "会议尚未开始" in (await rep.page.text_content("#meeting-status") or "")
    await chair.shot("pre-meeting-chair")

    await chair.page.click("#meeting-start")
    await shows(rep, "#meeting-status", "进行中")
    await shows(chair, "#meeting-status", "进行中")
    assert await rep.page.is_hidden("#pre-meeting") and await chair.page.is_hidden("#pre-meeting")

    async def confirm(dialog: Dialog) -> None:
        await dialog.accept("")

    chair.page.once("dialog", confirm)
    await chair.page.click("#meeting-end")
    # the representative's room closes with the reason and the ways back; its devices are released
    await rep.wait_connection("ended")
    await shows(rep, "#ended-message", "主持人已结束本次会议")
    view = await closed_view(rep)
    assert view["tiles"] == 0 and not view["controlsVisible"] and not view["controlsEnabled"]
    assert not view["quality"] and view["back"] and view["liveTracks"] == 0
    assert await rep.page.is_visible("#ended-minutes")
    await rep.shot("meeting-ended-participant")
    # the chair is taken to the draft minutes, which exist by then
    await chair.page.wait_for_url(f"**/meetings/{live.world.meeting_x}/minutes", timeout=WAIT_MS)
    minutes = await chair.page.text_content("main") or ""
    assert "会议纪要" in minutes and "草稿" in minutes, minutes[:300]
    await chair.shot("meeting-ended-chair-minutes")

    # the room of an ended meeting says so before anything else: its own page, no device check
    late = await rep.context.new_page()
    answer = await late.goto(f"{live.url}/meetings/{live.world.meeting_x}/room")
    assert answer is not None and answer.status == 410
    assert await late.locator("#prejoin").count() == 0
    assert "会议已结束" in (await late.text_content("#room-closed") or "")
    assert await late.is_visible("#closed-to-list") and await late.is_visible("#closed-to-minutes")
    await late.screenshot(path=screenshot_path("ended-room-reopened"), full_page=True)


async def test_muted_by_the_chair_shows_on_ones_own_button_and_a_hand_asks_to_speak(
        live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    rep_id = await rep.participant_id()
    meeting = live.signaling.meetings[live.world.meeting_x]
    await shows(rep, "#mic-toggle", "麦克风：开")  # once the microphone's track is up

    await row_button(chair, "#participant-list", rep_id, "静音 王发改").click()
    await shows(rep, "#mic-toggle", "麦克风：已被主持人静音")
    assert await rep.page.is_disabled("#mic-toggle")
    await shows(rep, "#hand-toggle", "举手申请发言")
    await rep.page.click("#hand-toggle")
    entry = chair.page.locator(f'#hand-queue li[data-participant="{rep_id}"]')
    await entry.wait_for(timeout=WAIT_MS)
    # the <ol> numbers the queue: the text is the name, not "1. 王发改" on top of the list's "1."
    text = await entry.text_content() or ""
    assert text.startswith("王发改") and "申请发言" in text, text
    await chair.shot("muted-hand-seen-by-chair")
    await rep.shot("muted-by-chair-own-button")

    # the chair's unmute answers the hand: it comes down, the button is the microphone's again
    await row_button(chair, "#hand-queue", rep_id, "取消静音 王发改").click()
    await shows(rep, "#mic-toggle", "麦克风：开")
    assert await rep.page.is_enabled("#mic-toggle")
    await chair.page.wait_for_selector(f'#hand-queue li[data-participant="{rep_id}"]', state="detached",
                                       timeout=WAIT_MS)
    await rep.page.wait_for_selector('#hand-toggle[aria-pressed="false"]', timeout=WAIT_MS)
    await rep.page.wait_for_function("document.getElementById('hand-toggle').textContent === '举手'",
                                     timeout=WAIT_MS)
    assert meeting.participants[rep_id].muted == set()

    # an ordinary hand still reads as a plain name under the list's own number
    await rep.page.click("#hand-toggle")
    await entry.wait_for(timeout=WAIT_MS)
    assert (await entry.text_content() or "").strip() == "王发改"


async def test_removed_closes_the_room_view_and_coming_back_is_refused_clearly(
        live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    rep_id = await rep.participant_id()
    await rep.page.wait_for_selector(f'.tile[data-participant="{await chair.participant_id()}"]', timeout=WAIT_MS)

    chair.page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await row_button(chair, "#participant-list", rep_id, "移出 王发改").click()
    await rep.wait_connection("ended")
    await shows(rep, "#ended-message", "移出")
    view = await closed_view(rep)
    assert view["tiles"] == 0 and not view["controlsVisible"] and not view["controlsEnabled"]
    assert not view["quality"] and view["back"] and view["liveTracks"] == 0
    assert await rep.page.is_hidden("#ended-minutes")
    await rep.shot("removed-room-closed")

    # reopening the room: the record has the removal, so the page says so before any device
    # check (the removal is stored within moments; the test waits for that instead of a person)
    await live.signaling.meetings[live.world.meeting_x].log.flush()
    again = await rep.context.new_page()
    answer = await again.goto(f"{live.url}/meetings/{live.world.meeting_x}/room")
    assert answer is not None and answer.status == 403
    assert await again.locator("#prejoin").count() == 0
    heading = await again.text_content("#room-closed-title") or ""
    message = await again.text_content("#room-closed [role=alert]") or ""
    assert heading == "您已被移出本次会议" and "不能再次进入" in message and "/" not in message, message
    await again.screenshot(path=screenshot_path("removed-reopen-refused"), full_page=True)
    await again.click("#closed-to-list")
    await again.wait_for_url(f"{live.url}/meetings", timeout=WAIT_MS)


async def test_reloading_resumes_the_same_participant_without_the_device_check(
        live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    rep_id = await rep.participant_id()
    await chair.wait_video(rep_id)

    await rep.page.reload()
    await rep.wait_connection("connected")
    assert await rep.participant_id() == rep_id
    assert await rep.page.is_hidden("#prejoin")
    await chair.page.evaluate("window.__played = {}")
    await chair.wait_video(rep_id)  # media restarted for the same participant
    await rep.wait_video(await chair.participant_id())
    await live.settle()
    types = await live.event_types()
    assert types.count("participant_joined") == 2 and "participant_left" not in types, types
    assert rep_id in live.signaling.meetings[live.world.meeting_x].participants


async def test_a_new_presenter_is_told_and_the_page_fits_beside_the_videos(
        live: LiveServer, browser: Browser) -> None:
    applicant_context = await open_context(browser, live.url, "applicant")
    material = await upload_pdf(applicant_context, live.url, live.world.case_x, pdf(3), "项目总平面图.pdf")
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    rep_id = await rep.participant_id()
    await rep.page.wait_for_function("document.body.dataset.reviewReady === 'true'", timeout=WAIT_MS)
    assert not await rep.page.evaluate("document.getElementById('presenter-panel').open")

    await row_button(chair, "#participant-list", rep_id, "设为主讲 王发改").click()
    await shows(rep, "#toast", "主持人已请您演示材料")
    await rep.page.wait_for_function("document.getElementById('presenter-panel').open", timeout=WAIT_MS)
    await rep.page.locator("#material-list button", has_text="项目总平面图").click()
    shown = """([page, id]) => { const v = document.getElementById('document-viewer');
                 return !v.hidden && v.dataset.page === String(page) && v.dataset.material === String(id); }"""
    await chair.page.wait_for_function(shown, arg=[1, material["id"]], timeout=WAIT_MS)
    await rep.page.wait_for_function(shown, arg=[1, material["id"]], timeout=WAIT_MS)

    # at 1280×860 the whole A4 page, its page controls and the videos are all in view, side by side
    boxes = await rep.page.evaluate("""() => {
        const box = (selector) => {
          const r = document.querySelector(selector).getBoundingClientRect();
          return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
        };
        return {canvas: box('#document-canvas'), next: box('#presentation-next'), tile: box('.tile'),
                leave: box('#leave'), height: window.innerHeight, scrollY: window.scrollY};
    }""")
    await rep.shot("presenter-page-beside-videos")
    assert boxes["scrollY"] == 0
    for name in ("canvas", "next", "tile", "leave"):
        assert 0 <= boxes[name]["top"] and boxes[name]["bottom"] <= boxes["height"], (name, boxes)
    assert boxes["tile"]["left"] >= boxes["canvas"]["right"], boxes  # beside, not below
    assert boxes["canvas"]["bottom"] - boxes["canvas"]["top"] > 400, boxes  # legible, not a thumbnail

    # ← → turn the page for the presenter (not while typing in a field)
    await rep.page.locator("body").press("ArrowRight")
    await chair.page.wait_for_function(shown, arg=[2, material["id"]], timeout=WAIT_MS)
    await rep.page.locator("body").press("ArrowLeft")
    await chair.page.wait_for_function(shown, arg=[1, material["id"]], timeout=WAIT_MS)
    await rep.page.focus("#chat-input")
    await rep.page.keyboard.press("ArrowRight")
    await chair.page.locator("body").press("ArrowRight")  # and not for anyone else
    await rep.page.focus("#presentation-next")
    await rep.page.keyboard.press("ArrowRight")
    await chair.page.wait_for_function(shown, arg=[2, material["id"]], timeout=WAIT_MS)
    state = live.signaling.review.presentation(live.signaling.meetings[live.world.meeting_x])
    assert state is not None and state.page == 2
    await chair.shot("presentation-seen-by-chair")
