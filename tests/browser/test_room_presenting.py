"""Presenting a case PDF in the room: the applicant (the default presenter) opens the material it
uploaded, turns the page, and every other browser shows the same page; a guest who joined by token
fetches the presented file; nobody outside the meeting can. Real server, real Chromium, pdf.js."""

from __future__ import annotations

from typing import Any

import aiohttp
from playwright.async_api import Browser

from server.auth.sessions import COOKIE_NAME
from server.bot.signaling import sign_in
from server.web.api.materials import RESUME_HEADER
from tests.api.materials_support import pdf
from tests.browser.room_driver import WAIT_MS, RoomPage, enter_room, open_context, upload_pdf
from tests.media.signaling_harness import LiveServer, issue_join_token
from tests.world import PASSWORD

SHOWN = """([page, material]) => {
  const viewer = document.getElementById('document-viewer');
  return !viewer.hidden && viewer.dataset.page === String(page) && viewer.dataset.material === String(material);
}"""


async def shows_page(room: RoomPage, page: int, material_id: int) -> None:
    """Until ``room``'s viewer has drawn ``page`` of the material (pdf.js rendered it to the canvas)."""
    await room.page.wait_for_function(SHOWN, arg=[page, material_id], polling=50, timeout=WAIT_MS)


async def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers or {}) as response:
        return response.status, await response.read()


async def test_presenter_turns_the_page_for_everyone_and_a_guest_gets_the_file(
        live: LiveServer, browser: Browser) -> None:
    content = pdf(3)
    applicant_context = await open_context(browser, live.url, "applicant")
    material: dict[str, Any] = await upload_pdf(applicant_context, live.url, live.world.case_x, content,
                                                "项目选址与平面布置图.pdf")
    # the chair's browser lacks the newest JavaScript pdf.js's modern build needs: it gets the legacy build
    chair_context = await open_context(browser, live.url, "chair")
    await chair_context.add_init_script("delete Map.prototype.getOrInsertComputed;")
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair", context=chair_context)
    applicant = await enter_room(browser, live.url, live.world.meeting_x, "applicant",
                                 context=applicant_context)
    token = await issue_join_token(live, {"guest_name": "市发改委视频点", "guest_unit": "临沧市发展和改革委员会",
                                          "capacity": "observer"})
    guest = await live.client(token=token)
    await guest.join()

    # the applicant presents: its panel opens by itself listing its upload; one click opens it for everyone
    await applicant.page.wait_for_function("document.body.dataset.reviewReady === 'true'", timeout=WAIT_MS)
    await applicant.page.wait_for_function("document.getElementById('presenter-panel').open", timeout=WAIT_MS)
    open_button = applicant.page.locator("#material-list button", has_text="项目选址与平面布置图")
    await open_button.click()
    await shows_page(chair, 1, material["id"])
    await shows_page(applicant, 1, material["id"])
    assert await applicant.page.is_visible("#presentation-next")
    assert not await chair.page.is_visible("#presentation-controls")  # only the presenter turns pages

    await applicant.page.click("#presentation-next")
    await shows_page(chair, 2, material["id"])
    assert "2/3" in (await chair.page.text_content("#presentation-title") or "")
    assert "第 2 页" in (await chair.page.get_attribute("#document-canvas", "aria-label") or "")
    loaded = """prefix => performance.getEntriesByType('resource').some(e => e.name.includes(prefix))"""
    assert await chair.page.evaluate(loaded, "/vendor/pdfjs-legacy/pdf.min.mjs")
    assert await applicant.page.evaluate(loaded, "/vendor/pdfjs/pdf.min.mjs")
    await chair.shot("presentation-page-2-seen-by-chair")

    # the guest (no account, cannot see the case) is told the URL and may fetch exactly that file
    _, state = await guest.wait_event(
        lambda name, data: name == "review_state" and (data.get("presentation") or {}).get("page") == 2, 10)
    url = live.url + state["presentation"]["url"]
    assert await fetch(url, {RESUME_HEADER: guest.resume_secret or ""}) == (200, content)
    # ... but not the case's own material address, which is scoped like the case
    status, _ = await fetch(f"{live.url}/api/v1/materials/{material['id']}/file",
                            {RESUME_HEADER: guest.resume_secret or ""})
    assert status == 401
    # a signed-in participant needs no header; people outside the meeting get nothing
    assert (await chair.context.request.get(url)).status == 200
    assert (await fetch(url))[0] == 404
    assert (await fetch(url, {RESUME_HEADER: "0" * 32}))[0] == 404
    outsider = await sign_in(live.url, "rep_other", PASSWORD)
    assert (await fetch(url, {"Cookie": f"{COOKIE_NAME}={outsider}"}))[0] == 404
    rep_b = await sign_in(live.url, "rep_b", PASSWORD)  # may see the case, is not in the meeting
    assert (await fetch(url, {"Cookie": f"{COOKIE_NAME}={rep_b}"}))[0] == 404
    other_material = url.rsplit("/", 1)[0] + "/999999"
    assert (await fetch(other_material, {RESUME_HEADER: guest.resume_secret or ""}))[0] == 404

    # once the guest has left, its secret opens nothing; once closed, nobody gets it that way
    secret = guest.resume_secret or ""
    await guest.leave()
    await live.settle()
    assert (await fetch(url, {RESUME_HEADER: secret}))[0] == 404
    await applicant.page.click("#presentation-close")
    await chair.page.wait_for_selector("#document-viewer", state="hidden", timeout=WAIT_MS)
    assert (await chair.context.request.get(url)).status == 404
    await live.settle()
    types = await live.event_types()
    assert types.count("presentation_started") == 1 and types.count("presentation_stopped") == 1
