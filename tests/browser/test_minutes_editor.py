"""The chair's minutes editor in real Chromium, by keyboard: three texts changed in place, marked as
changed, saved at once with one reason (Ctrl+S), and the history showing the three under that
reason; leaving with unsaved changes asks first."""

from __future__ import annotations

from playwright.async_api import Browser, Dialog, Page
from sqlalchemy import select

from server.db.models import MinutesEdit
from tests.api.minutes_support import ended_with_draft
from tests.browser.room_driver import WAIT_MS, open_context
from tests.media.signaling_harness import LiveServer

SCREENSHOT = "/tmp/editor.png"
NEW_TEXTS = ("会议认为项目符合产业政策，同意按程序办理。", "原则同意，待补正节能报告后办结。",
             "申请人补正节能报告后办理备案。")
LABELS = ("会议小结", "第1项 企业投资项目备案 · 审查结果", "议定事项（一） · 企业投资项目备案")


async def _replace_by_keyboard(page: Page, text: str) -> None:
    """Select the focused field's text and type over it, as a person does."""
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def _focused(page: Page) -> str:
    return await page.evaluate("document.activeElement.id")


async def test_three_texts_one_save_one_reason_and_the_history(live: LiveServer, browser: Browser) -> None:
    meeting_id = live.world.meeting_x
    await ended_with_draft(live.sessions, live.world, meeting_id, live.settings)
    context = await open_context(browser, live.url, "chair")
    page = await context.new_page()
    await page.goto(f"{live.url}/meetings/{meeting_id}/minutes")
    await page.wait_for_function("document.getElementById('editor-status').textContent !== ''", timeout=WAIT_MS)
    assert await page.text_content("#editor-status") == "尚未修改"

    for n, label in enumerate(LABELS, start=1):  # each field is named by its label
        assert await page.get_by_label(label, exact=True).get_attribute("id") == f"edit-{n}"

    await page.focus("#minutes-preview")  # from the preview link on, Tab walks the fields in order
    await page.keyboard.press("Tab")
    assert await _focused(page) == "edit-1"
    assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    for n, text in enumerate(NEW_TEXTS, start=1):
        if n > 1:
            await page.keyboard.press("Tab")
        assert await _focused(page) == f"edit-{n}"
        await _replace_by_keyboard(page, text)
    assert await page.locator(".edit-field.changed").count() == 3
    assert await page.locator(".changed-mark:visible").count() == 3
    assert await page.text_content("#editor-status") == "已修改3处，尚未保存"

    dialogs: list[str] = []

    async def stay(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        await dialog.dismiss()

    page.on("dialog", stay)
    async with page.expect_event("dialog"):
        await page.close(run_before_unload=True)  # leaving with unsaved changes asks first
    assert dialogs == ["beforeunload"] and not page.is_closed()  # answered "stay"
    page.remove_listener("dialog", stay)

    await page.keyboard.press("Tab")
    assert await _focused(page) == "edit-reason"
    await page.keyboard.insert_text("统一会议纪要文字表述")
    await page.set_viewport_size({"width": 1280, "height": 2000})  # the save bar where it stands
    await page.screenshot(path=SCREENSHOT, full_page=True)
    async with page.expect_navigation():
        await page.keyboard.press("Control+s")
    assert page.url.endswith("/minutes?saved=1#minutes-history")

    async with live.sessions() as db:
        rows = list(await db.scalars(select(MinutesEdit).order_by(MinutesEdit.id)))
    assert [(r.path, r.new_text) for r in rows] == list(zip(("summary", "items/1/outcome", "decisions/d1/text"),
                                                           NEW_TEXTS, strict=True))
    assert {r.reason for r in rows} == {"统一会议纪要文字表述"} and len({r.at for r in rows}) == 1

    batches = page.locator("#minutes-history article.batch")
    assert await batches.count() == 1
    batch = batches.first
    assert await batch.locator(".batch-reason").text_content() == "统一会议纪要文字表述"
    assert await batch.locator(".change-label").all_text_contents() == list(LABELS)
    assert await batch.locator("ins").all_text_contents() == list(NEW_TEXTS)
    assert "共3处" in (await batch.text_content() or "")
    # the fields now hold the saved texts, unmarked
    assert [await page.input_value(f"#edit-{n}") for n in (1, 2, 3)] == list(NEW_TEXTS)
    assert await page.locator(".edit-field.changed").count() == 0
    await page.screenshot(path="/tmp/editor-history.png", full_page=True)
    await context.close()


async def test_nothing_changed_is_not_sent(live: LiveServer, browser: Browser) -> None:
    meeting_id = live.world.meeting_x
    await ended_with_draft(live.sessions, live.world, meeting_id, live.settings)
    context = await open_context(browser, live.url, "chair")
    page = await context.new_page()
    await page.goto(f"{live.url}/meetings/{meeting_id}/minutes")
    await page.fill("#edit-reason", "无改动")
    await page.focus("#edit-2")
    await page.keyboard.press("Control+Enter")
    await page.wait_for_function("t => document.getElementById('editor-status').textContent === t",
                                 arg="没有修改任何内容，无需保存", timeout=WAIT_MS)
    assert page.url.endswith(f"/meetings/{meeting_id}/minutes")
    async with live.sessions() as db:
        assert list(await db.scalars(select(MinutesEdit))) == []
    await context.close()
