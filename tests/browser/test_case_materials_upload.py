"""Uploading a case material from the case page in Chromium: a file that is not a PDF dropped on
the form is refused by the field before anything is sent; a PDF chosen in the file input shows its
progress to the end and appears in the list with its page count, and then in the room's list of
materials the presenter picks from. Real server, real Chromium."""

from __future__ import annotations

import base64

from playwright.async_api import Browser, FilePayload, Page

from tests.api.materials_support import pdf
from tests.browser.room_driver import WAIT_MS, enter_room, open_context, screenshot_path
from tests.media.signaling_harness import LiveServer

DROP_JS = """([base64, name, type]) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const zone = document.getElementById("material-drop");
  zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""


async def drop(page: Page, content: bytes, name: str, kind: str) -> None:
    await page.evaluate(DROP_JS, [base64.b64encode(content).decode(), name, kind])


async def test_applicant_uploads_a_pdf_with_progress_and_sees_it_listed(live: LiveServer, browser: Browser) -> None:
    context = await open_context(browser, live.url, "applicant")
    page = await context.new_page()
    await page.goto(f"{live.url}/cases/{live.world.case_x}")
    assert await page.locator("#materials").inner_text() != ""

    await drop(page, b"GIF89a", "现场照片.gif", "image/gif")
    error = page.locator("#material-file-error")
    await error.wait_for(state="visible", timeout=WAIT_MS)
    assert await error.inner_text() == "只接受 PDF 文件，请选择 .pdf 文件"
    assert await page.get_attribute("#material-file", "aria-invalid") == "true"
    await page.screenshot(path="/tmp/case_materials_refused.png")

    await page.fill("#material-title", "项目选址与平面布置图")
    await page.set_input_files("#material-file", files=FilePayload(
        name="选址图.pdf", mimeType="application/pdf", buffer=pdf(4, padding=400_000)))
    await page.wait_for_function(
        "document.getElementById('material-progress').value === 100"
        " && document.getElementById('material-progress-text').textContent === '上传完成'", timeout=WAIT_MS)
    row = page.locator("#material-list tr", has_text="项目选址与平面布置图")
    await row.wait_for(timeout=WAIT_MS)
    assert "4 页" in await row.inner_text() and "张峰" in await row.inner_text()
    assert await error.is_hidden()
    await page.screenshot(path=screenshot_path("case_materials_upload"), full_page=True)
    await page.screenshot(path="/tmp/case_materials_upload.png", full_page=True)

    # the presenter (the applicant) finds it in the room's materials panel
    room = await enter_room(browser, live.url, live.world.meeting_x, "applicant", context=context)
    await room.page.wait_for_function("document.body.dataset.reviewReady === 'true'", timeout=WAIT_MS)
    await room.page.locator("#material-list button", has_text="项目选址与平面布置图（4 页）").wait_for(
        state="attached", timeout=WAIT_MS)
    await context.close()


async def test_new_case_form_proposes_the_centres_division(live: LiveServer, browser: Browser) -> None:
    context = await open_context(browser, live.url, "chair")
    page = await context.new_page()
    await page.goto(f"{live.url}/cases/new")
    assert await page.input_value("#division_code") == "530921"
    assert (await page.input_value("#category"), await page.input_value("#investor_type")) == ("filing", "enterprise")
    await page.screenshot(path="/tmp/case_new_form.png", full_page=True)
    await context.close()
