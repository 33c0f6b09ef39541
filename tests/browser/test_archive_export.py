"""The archivist exports a case's archive package in real Chromium: picks the case, watches the
job's progress bar reach the end, sees 校验通过 with the bag's file count and Payload-Oxum, and
downloads a zip whose bag validates offline. Without scripts the job page refreshes itself to
the same result."""

from __future__ import annotations

import zipfile
from pathlib import Path

from playwright.async_api import Browser

from server.archive.bag import verify_bag
from tests.api.archive_support import PROJECT_X, archived_case
from tests.browser.room_driver import WAIT_MS, open_context, screenshot_path, sign_in
from tests.media.signaling_harness import LiveServer


async def test_export_a_case_from_the_archive(live: LiveServer, browser: Browser, tmp_path: Path) -> None:
    archived = await archived_case(live.sessions, live.settings, live.world)
    context = await open_context(browser, live.url, "archivist")
    page = await context.new_page()
    await page.goto(f"{live.url}/archive/cases/{archived.world.case_x}")
    await page.screenshot(path="/tmp/archive_dossier.png", full_page=True)
    who = page.locator("table.dossier-events th.col-who").first
    assert (await who.bounding_box() or {"width": 0})["width"] >= 90  # names do not print vertically

    await page.goto(f"{live.url}/archive")
    await page.get_by_role("link", name="导出档案包").click()
    await page.get_by_label("项目代码").select_option(PROJECT_X)
    await page.locator("form:has(#export-case) button[type=submit]").click()
    await page.wait_for_url("**/archive/export/*")
    await page.wait_for_selector("#export-result:not([hidden])", timeout=WAIT_MS * 4)
    assert await page.get_attribute("#export-progress", "value") == "100"
    assert await page.text_content("#export-verified") == "校验通过"
    cells = [await c.text_content() for c in await page.locator("#export-bags tr td").all()]
    assert cells[0] == PROJECT_X and int(cells[1] or 0) > 8 and (cells[2] or "").endswith(f".{cells[1]}")
    assert "保留至" in (await page.text_content("#export-kept") or "")  # the poll says when it is removed
    await page.screenshot(path="/tmp/archive_export.png", full_page=True)
    await page.screenshot(path=screenshot_path("archive-export"), full_page=True)

    async with page.expect_download() as waiting:
        await page.click("#export-download")
    download = await waiting.value
    zipped = tmp_path / "export.zip"
    await download.save_as(zipped)
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(tmp_path / "out")
    check = verify_bag(tmp_path / "out" / PROJECT_X)
    assert check.valid, check.problems
    await context.close()


async def test_export_without_scripts(live: LiveServer, browser: Browser) -> None:
    await archived_case(live.sessions, live.settings, live.world)
    context = await browser.new_context(java_script_enabled=False, locale="zh-CN")
    await sign_in(context, live.url, "archivist")
    page = await context.new_page()
    await page.goto(f"{live.url}/archive/export")
    await page.locator("form:has(#export-year) button[type=submit]").click()
    await page.wait_for_url("**/archive/export/*")
    # the page reloads itself (<noscript> meta refresh) until the job is done
    await page.wait_for_selector("#export-verified:has-text('校验通过')", state="attached", timeout=WAIT_MS * 6)
    assert await page.locator("#export-download").get_attribute("href") != "#"
    await context.close()
