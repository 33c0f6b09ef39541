"""The truthful rules in the room (issue 12): the chair opens and ends the meeting with its buttons,
the B post's form says it waits while the A post is present, and 需转报上级 asks for the higher
authority before anything is sent."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Dialog

from tests.browser.room_driver import WAIT_MS, enter_room
from tests.media.signaling_harness import LiveServer


@pytest.fixture(autouse=True)
def _rules_protocol(live: LiveServer) -> None:
    if "meeting_start" not in live.signaling._handlers:
        pytest.skip("the server does not let the chair start the meeting from the room yet")


async def test_chair_starts_and_ends_the_meeting_and_the_b_post_waits_while_a_is_here(
        live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep_a = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    rep_b = await enter_room(browser, live.url, live.world.meeting_x, "rep_b")
    assert not await rep_a.page.is_visible("#meeting-start")  # the chair's buttons only

    await chair.page.click("#meeting-start")
    await rep_a.page.wait_for_function(
        "document.getElementById('meeting-status').dataset.status === 'live'", timeout=WAIT_MS)
    assert "会议进行中" in (await rep_a.page.text_content("#meeting-status") or "")
    await chair.page.wait_for_selector("#meeting-end", state="visible", timeout=WAIT_MS)
    assert not await chair.page.is_visible("#meeting-start")

    item = chair.page.locator("#agenda-list li").first
    await item.get_by_role("button", name="开始审议").click()
    await rep_a.page.wait_for_function("!document.querySelector('#opinion-form fieldset').disabled",
                                       timeout=WAIT_MS)
    # B sees why it cannot give the opinion now: A is in the room
    assert await rep_b.page.is_disabled("#opinion-submit")
    assert "王发改" in (await rep_b.page.text_content("#opinion-a-post") or "")

    await rep_a.page.select_option("#opinion-kind", "refer_upward")
    assert await rep_a.page.is_visible("#refer-to")
    await rep_a.page.click("#opinion-submit")  # no authority named: the form says so, nothing is sent
    assert "上级机关" in (await rep_a.page.text_content("#opinion-message") or "")
    options = await rep_a.page.eval_on_selector_all("#higher-authorities option", "os => os.map(o => o.value)")
    assert options == ["LC-FGW"]  # the city department, not the county's own
    await rep_a.page.fill("#refer-to", "LC-FGW")
    await rep_a.page.click("#opinion-submit")
    await chair.page.wait_for_selector('#opinion-list li[data-kind="refer_upward"] .refer-to', timeout=WAIT_MS)
    shown = await chair.page.text_content('#opinion-list li[data-kind="refer_upward"]')
    assert "临沧市发展和改革委员会" in (shown or "")

    # A leaves: B's form opens (the item is still under review)
    await rep_a.page.click("#leave")
    await rep_b.page.wait_for_function("!document.querySelector('#opinion-form fieldset').disabled",
                                       timeout=WAIT_MS)
    assert await rep_b.page.is_hidden("#opinion-a-post")

    await item.get_by_role("button", name="结束审议").click()
    prompts: list[str] = []

    async def answer(dialog: Dialog) -> None:
        prompts.append(dialog.message)
        await dialog.accept("会议审议1个事项，需转报市发改委。")

    chair.page.once("dialog", answer)
    await chair.page.click("#meeting-end")
    await rep_b.page.wait_for_function(  # ended, and a moment later minutes_draft (the draft is made)
        "['ended', 'minutes_draft'].includes(document.getElementById('meeting-status').dataset.status)",
        timeout=WAIT_MS)
    assert "结束会议" in prompts[0]
    await live.settle()
    [ended] = [e for e in await live.events() if e.type == "meeting_status_changed" and e.payload["to"] == "ended"]
    assert ended.payload["note"] == "会议审议1个事项，需转报市发改委。"
