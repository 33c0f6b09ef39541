"""Long text in the browser: every limited field counts as the person writes ("123 / 2000"), text
past the limit is kept whole (a paste is not cut) and cannot be sent, and the server's refusal is
shown next to the field it names, with the text still in it."""

from __future__ import annotations

from playwright.async_api import Browser, Page

from tests.browser.room_driver import WAIT_MS, enter_room, open_context
from tests.media.signaling_harness import LiveServer
from tests.media.test_review_text_limits import writing


async def count(page: Page, field: str) -> str:
    return (await page.text_content(f"#{field}-limit .text-limit-count") or "").strip()


async def problem(page: Page, field: str) -> str:
    return (await page.text_content(f"#{field}-limit .text-limit-problem") or "").strip()


async def paste(page: Page, field: str, text: str) -> None:
    """Put ``text`` into the field as a paste or an input method does (maxlength would cut it)."""
    await page.focus(f"#{field}")
    await page.keyboard.insert_text(text)


async def test_chat_counts_keeps_a_long_paste_whole_and_sends_it_only_within_the_limit(
        live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    page = rep.page
    assert await count(page, "chat-input") == "0 / 2000"

    long = writing(2001)
    await paste(page, "chat-input", long)
    assert await page.input_value("#chat-input") == long  # nothing cut
    assert await count(page, "chat-input") == "2001 / 2000"
    assert "2000" in await problem(page, "chat-input")
    assert await page.get_attribute("#chat-input", "aria-invalid") == "true"
    await page.press("#chat-input", "Enter")  # refused by the form itself
    assert await page.input_value("#chat-input") == long
    await rep.shot("chat-over-the-limit")

    await page.press("#chat-input", "Backspace")
    assert await count(page, "chat-input") == "2000 / 2000" and await problem(page, "chat-input") == ""
    await page.press("#chat-input", "Enter")
    await chair.page.wait_for_function(
        "t => [...document.querySelectorAll('#chat-log .text')].some(n => n.textContent === t)",
        arg=long[:-1], timeout=WAIT_MS)
    await page.wait_for_function("document.getElementById('chat-input').value === ''", timeout=WAIT_MS)
    assert await count(page, "chat-input") == "0 / 2000"
    await live.settle()
    assert [e.payload["text"] for e in await live.events() if e.type == "chat_message"] == [long[:-1]]


async def test_opinion_refused_by_the_server_says_so_next_to_the_field_and_keeps_the_text(
        live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    await chair.page.locator("#agenda-list li").first.get_by_role("button", name="开始审议").click()
    page = rep.page
    await page.wait_for_function("!document.querySelector('#opinion-form fieldset').disabled", timeout=WAIT_MS)
    await page.select_option("#opinion-kind", "disagree")
    await page.fill("#legal-basis", "《中华人民共和国行政许可法》第三十八条")
    assert await count(page, "reasons") == "0 / 4000"
    assert await count(page, "conditions") == "每条 0 / 1000"

    reasons = writing(4001)
    await paste(page, "reasons", reasons)
    assert await count(page, "reasons") == "4001 / 4000"
    await page.click("#opinion-submit")  # the form refuses it and says where
    assert "字数上限" in (await page.text_content("#opinion-message") or "")
    assert await page.evaluate("document.activeElement.id") == "reasons"

    # a page older than the server's rule (here: one that allows 5000) sends it; the server refuses
    await page.evaluate("""() => { const f = document.getElementById('reasons');
                                   f.dataset.limit = '5000'; f.dispatchEvent(new Event('input')); }""")
    await page.click("#opinion-submit")
    await page.wait_for_function(
        "document.querySelector('#reasons-limit .text-limit-problem').textContent.includes('4000')",
        timeout=WAIT_MS)
    assert "reasons" in await problem(page, "reasons")
    assert await page.get_attribute("#reasons", "aria-invalid") == "true"
    assert await page.input_value("#reasons") == reasons  # nothing lost
    await rep.shot("opinion-refused-by-the-server")

    await page.press("#reasons", "Backspace")  # typing clears the refusal
    assert await problem(page, "reasons") == ""
    await page.click("#opinion-submit")
    await chair.page.wait_for_selector('#opinion-list li[data-kind="disagree"]', timeout=WAIT_MS)
    await live.settle()
    logged = [e.payload for e in await live.events() if e.type.startswith("opinion_")]
    assert [p["reasons"] for p in logged] == [reasons[:-1]]


async def test_a_page_textarea_counts_and_does_not_submit_past_its_limit(live: LiveServer, browser: Browser) -> None:
    context = await open_context(browser, live.url, "rep_a")
    page = await context.new_page()
    await page.goto(f"{live.url}/meetings/{live.world.meeting_x}")
    form = page.locator("form[action$='/excuse']")
    await page.locator("details", has=form).locator("summary").click()
    field = await form.locator("textarea").get_attribute("id") or ""
    assert await count(page, field) == "0 / 500"

    reason = writing(501)
    await paste(page, field, reason)
    assert await count(page, field) == "501 / 500"
    await form.get_by_role("button").click()  # the browser's validation keeps the form here
    assert not await page.evaluate("f => document.getElementById(f).form.checkValidity()", field)
    assert await page.input_value(f"#{field}") == reason

    await page.press(f"#{field}", "Backspace")
    async with page.expect_navigation():
        await form.get_by_role("button").click()
    assert reason[:-1] in (await page.text_content("main") or "")
    await live.settle()
    excused = [e.payload["reason"] for e in await live.events() if e.type == "invitation_excused"]
    assert excused == [reason[:-1]]
    await context.close()
