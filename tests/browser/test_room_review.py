"""The conduct of the review in the browser (/tmp contract: agenda, hands, chat, opinions), end to end.

These need the server's review-conduct events (server/signaling/review_handlers.py); they are kept
apart from the media tests so those pass on their own, and are skipped, saying why, on a server
without them.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.browser.room_driver import WAIT_MS, RoomPage, enter_room
from tests.media.signaling_harness import LiveServer


@pytest.fixture(autouse=True)
def _review_protocol(live: LiveServer) -> None:
    if "chat_send" not in live.signaling._handlers:
        pytest.skip("the server does not speak the review-conduct protocol yet")


async def _open_first_item(chair: RoomPage) -> int:
    """The chair opens the agenda's first item with its button; its id."""
    item = chair.page.locator("#agenda-list li").first
    await item.get_by_role("button", name="开始审议").click()
    await chair.page.wait_for_function(
        "document.querySelector('#agenda-list li[aria-current=step]') !== null", timeout=WAIT_MS)
    return int(await item.get_attribute("data-item") or 0)


async def test_chat_round_trips_and_a_raised_hand_reaches_the_chair(live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    rep_id = await rep.participant_id()

    await rep.page.fill("#chat-input", "请申请人说明排污方案")
    await rep.page.press("#chat-input", "Enter")  # keyboard only
    await chair.page.wait_for_function(
        "t => [...document.querySelectorAll('#chat-log .text')].some(n => n.textContent === t)",
        arg="请申请人说明排污方案", timeout=WAIT_MS)
    await chair.page.fill("#chat-input", "好的，请张总回答")
    await chair.page.click("#chat-send")
    await rep.page.wait_for_function(
        "t => [...document.querySelectorAll('#chat-log .text')].some(n => n.textContent === t)",
        arg="好的，请张总回答", timeout=WAIT_MS)
    assert await rep.page.input_value("#chat-input") == ""

    await rep.page.click("#hand-toggle")
    await chair.page.wait_for_selector(f'#hand-queue li[data-participant="{rep_id}"]', timeout=WAIT_MS)
    assert "王发改" in (await chair.page.text_content("#hand-queue") or "")
    assert await rep.page.get_attribute("#hand-toggle", "aria-pressed") == "true"
    await chair.shot("hand-raised-chair")
    await chair.page.click("#hand-next")
    await chair.page.wait_for_function("document.getElementById('floor').textContent.includes('王发改')",
                                       timeout=WAIT_MS)

    # the chair turns chat off: the representative's input is disabled and says why
    await chair.page.click("#chat-toggle")
    await rep.page.wait_for_function("document.getElementById('chat-input').disabled", timeout=WAIT_MS)
    assert await rep.page.is_visible("#chat-disabled")


async def test_conditional_opinion_reaches_the_chair_and_the_event_log(live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    item_id = await _open_first_item(chair)
    await rep.page.wait_for_function("!document.querySelector('#opinion-form fieldset').disabled",
                                     timeout=WAIT_MS)

    await rep.page.select_option("#opinion-kind", "conditional")
    await rep.page.click("#opinion-submit")  # no condition yet: the form says so, nothing is sent
    assert "须写明条件" in (await rep.page.text_content("#opinion-message") or "")
    await rep.page.fill("#conditions", "开工前取得排污许可证\n污水处理设施与主体工程同时投入使用")
    await rep.page.fill("#material-1", "排污许可证申请材料")
    await rep.page.fill("#material-due-1", "10")
    await rep.page.click("#opinion-submit")
    await chair.page.wait_for_selector('#opinion-list li[data-kind="conditional"]', timeout=WAIT_MS)
    shown = await chair.page.text_content('#opinion-list li[data-kind="conditional"]') or ""
    assert "开工前取得排污许可证" in shown and "凤庆县发展和改革局" in shown and "附条件同意" in shown
    await chair.shot("opinion-seen-by-chair")

    response = await chair.context.request.get(f"{live.url}/api/v1/meetings/{live.world.meeting_x}/events")
    assert response.ok, await response.text()
    body = await response.json()
    events = body if isinstance(body, list) else body.get("events", body.get("items", []))
    submitted = [e for e in events if e["type"] == "opinion_submitted"]
    assert submitted and submitted[-1]["payload"]["kind"] == "conditional"
    assert "开工前取得排污许可证" in submitted[-1]["payload"]["conditions"]
    assert any(e["type"] == "material_requested" for e in events)
    assert item_id > 0


async def test_applicant_cannot_give_an_opinion_and_a_bare_refusal_is_refused(
        live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    applicant = await enter_room(browser, live.url, live.world.meeting_x, "applicant")
    item_id = await _open_first_item(chair)
    await rep.page.wait_for_function("!document.querySelector('#opinion-form fieldset').disabled",
                                     timeout=WAIT_MS)

    # the applicant has no opinion form, and the server refuses one sent anyway
    await applicant.page.wait_for_function("document.body.dataset.reviewReady === 'true'", timeout=WAIT_MS)
    assert not await applicant.page.is_visible("#opinion-form")
    refused = await applicant.request("opinion_submit", {"item_id": item_id, "kind": "agree"})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"

    # 不同意 without reasons: the form names what is missing and sends nothing ...
    await rep.page.select_option("#opinion-kind", "disagree")
    await rep.page.click("#opinion-submit")
    assert "不同意须写明理由" in (await rep.page.text_content("#opinion-message") or "")
    await rep.shot("disagree-without-reasons")
    # ... and the server, asked directly, refuses it with its bilingual message
    refused = await rep.request("opinion_submit", {"item_id": item_id, "kind": "disagree",
                                                   "reasons": "", "legal_basis": ""})
    assert refused["ok"] is False and refused["error"]["code"] == "invalid_opinion"
    assert refused["error"]["message"]
    await live.settle()
    assert "opinion_submitted" not in await live.event_types()
