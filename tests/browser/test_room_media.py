"""The meeting room end to end: device check, two browsers and a bot seeing each other, a shared
screen shown large, and a forced reconnect. Real server, real SFU, real Chromium, loopback only."""

from __future__ import annotations

from playwright.async_api import Browser

from server.web.pages.room import VENDOR
from tests.browser.room_driver import (
    WAIT_MS,
    enter_room,
    open_context,
    screenshot_path,
)
from tests.media.signaling_harness import LiveServer

assert all(folder.is_dir() for folder in VENDOR.values()), "run `npm install` (scripts/setup.sh) first"

DENY_MEDIA = """navigator.mediaDevices.getUserMedia = async () => {
  throw new DOMException("denied by the test", "NotAllowedError");
};"""


async def test_device_check_previews_and_lists_devices(live: LiveServer, browser: Browser) -> None:
    context = await open_context(browser, live.url, "rep_a")
    page = await context.new_page()
    await page.goto(f"{live.url}/meetings/{live.world.meeting_x}/room")
    await page.wait_for_function("document.getElementById('preview').videoWidth > 0", timeout=WAIT_MS)
    assert not await page.is_visible(".room")  # nothing of the room before joining
    # the socket connects during the check, so joining sends only `join` (and nothing is joined yet)
    await page.wait_for_function("window.__lianshen.signaling.connected", timeout=WAIT_MS)
    assert await page.evaluate("window.__lianshen.participantId") is None
    assert await page.locator("#camera option").count() >= 1
    assert await page.locator("#microphone option").count() >= 1
    assert await page.text_content("#device-mode") == "音视频"
    assert await page.is_enabled("#join-full")
    await page.click("#speaker-test")
    await page.wait_for_function("!document.getElementById('device-message').hidden", timeout=WAIT_MS)
    await page.screenshot(path=screenshot_path("device-check"), full_page=True)
    # joining publishes the very stream the preview showed: no second getUserMedia
    preview_track = await page.evaluate("document.getElementById('preview').srcObject.getVideoTracks()[0].id")
    await page.click("#join-full")
    await page.wait_for_function("document.body.dataset.connection === 'connected'", timeout=WAIT_MS)
    assert not await page.is_visible("#prejoin")
    assert await page.evaluate("window.__lianshen.local.stream.getVideoTracks()[0].id") == preview_track
    assert await page.evaluate("document.activeElement.id") == "room-title"  # keyboard users land in the room


async def test_device_check_explains_a_denied_permission(live: LiveServer, browser: Browser) -> None:
    context = await open_context(browser, live.url, "rep_a")
    await context.add_init_script(DENY_MEDIA)
    page = await context.new_page()
    # the old device check address still works: it leads to the room page, language kept
    await page.goto(f"{live.url}/meetings/{live.world.meeting_x}/check?lang=en")
    assert page.url.endswith(f"/meetings/{live.world.meeting_x}/room?lang=en")
    await page.wait_for_function("document.body.dataset.deviceMode === 'listen'", timeout=WAIT_MS)
    message = await page.text_content("#device-message") or ""
    assert "not allowed to use the camera or microphone" in message
    assert await page.is_disabled("#join-full")
    assert await page.is_disabled("#join-audio")
    assert await page.is_enabled("#join-listen")
    await page.screenshot(path=screenshot_path("device-check-denied"), full_page=True)
    # joining as a listener still works: the room connects and sends nothing
    await page.click("#join-listen")
    await page.wait_for_function("document.body.dataset.connection === 'connected'", timeout=WAIT_MS)
    assert await page.evaluate("window.__lianshen.local.mode") == "listen"


async def test_chair_and_representative_see_each_other_and_the_bot(live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    bot = await live.bot("agent", publish=("video", "audio"))
    chair_id, rep_id = await chair.participant_id(), await rep.participant_id()

    await chair.wait_video(rep_id)
    await rep.wait_video(chair_id)
    assert bot.participant_id is not None
    await chair.wait_video(bot.participant_id)
    await rep.wait_video(bot.participant_id)
    # and the bot (a protocol client, not a browser) decodes both browsers' cameras
    await bot.wait_frames(lambda b: b.frames(chair_id, "video") > 10 and b.frames(rep_id, "video") > 10, 20)

    rep_tile = chair.page.locator(f'.tile[data-participant="{rep_id}"]')
    label = await rep_tile.locator(".meta").text_content() or ""
    assert "县发改局" in label and "县" in label and "成员单位" in label and "A岗" in label
    assert "王发改" in (await rep_tile.get_attribute("aria-label") or "")
    bot_tile = chair.page.locator(f'.tile[data-participant="{bot.participant_id}"]')
    assert "申请人" in (await bot_tile.locator(".meta").text_content() or "")
    assert await chair.page.locator(".tile").count() == 3
    await chair.page.wait_for_function(
        "document.getElementById('quality').dataset.level !== 'unknown'", timeout=WAIT_MS)
    await chair.shot("room-chair")
    await rep.shot("room-representative")


async def test_applicant_shares_screen_and_everyone_sees_it_large(live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    applicant = await enter_room(browser, live.url, live.world.meeting_x, "applicant")
    applicant_id = await applicant.participant_id()
    await chair.wait_video(applicant_id)

    await applicant.page.click("#screen-toggle")
    await applicant.page.wait_for_selector('#screen-toggle[aria-pressed="true"]', timeout=WAIT_MS)
    await chair.wait_video(applicant_id, kind="screen")
    screen = await chair.page.locator(f'.tile.screen[data-screen="{applicant_id}"]').bounding_box()
    camera = await chair.page.locator(f'.tile[data-participant="{applicant_id}"]').bounding_box()
    assert screen is not None and camera is not None
    assert screen["width"] > 2 * camera["width"], (screen, camera)
    assert await chair.page.evaluate("document.getElementById('grid').classList.contains('presenting')")
    await chair.shot("screen-share-seen-by-chair")

    # the applicant stops: the large tile goes away for the chair
    await applicant.page.click("#screen-toggle")
    await chair.page.wait_for_selector(f'.tile.screen[data-screen="{applicant_id}"]', state="detached",
                                       timeout=WAIT_MS)


async def test_the_room_survives_a_dropped_connection(live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    chair_id, rep_id = await chair.participant_id(), await rep.participant_id()
    await rep.wait_video(chair_id)

    # the transport drops as on a network failure; reconnect attempts wait 1.5 s so the state shows
    await rep.page.evaluate("""() => {
      const manager = window.__lianshen.signaling.socket.io;
      manager.reconnectionDelay(1500); manager.reconnectionDelayMax(1500); manager.randomizationFactor(0);
      window.__lianshen.signaling.dropTransport();
    }""")
    await rep.wait_connection("reconnecting")
    assert await rep.page.is_visible("#reconnecting")
    assert "正在重新连接" in (await rep.page.text_content("#connection-status") or "")
    await rep.shot("reconnecting")
    await chair.page.wait_for_function(
        "id => document.querySelector(`.tile[data-participant='${id}']`)?.classList.contains('reconnecting')",
        arg=rep_id, timeout=WAIT_MS)

    await rep.wait_connection("connected")
    assert not await rep.page.is_visible("#reconnecting")
    assert await rep.participant_id() == rep_id  # the same participant came back
    await chair.page.wait_for_function(
        "id => !document.querySelector(`.tile[data-participant='${id}']`).classList.contains('reconnecting')",
        arg=rep_id, timeout=WAIT_MS)
    await rep.page.evaluate("window.__played = {}")
    await rep.wait_video(chair_id)
    await chair.page.evaluate("window.__played = {}")
    await chair.wait_video(rep_id)
    await rep.shot("reconnected")
    await live.settle()
    types = await live.event_types()
    assert types.count("participant_joined") == 2 and "participant_left" not in types
