"""Driving the meeting room in real headless Chromium (Debian's package, never a downloaded browser).

Fake camera, microphone and screen capture come from Chromium's own flags; media stays on
127.0.0.1 (`--allow-loopback-in-peer-connection`, and the tests run in a namespace with only
loopback). Waits are `wait_for_function` conditions on the page, never sleeps.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Playwright

from tests.world import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT_MS = 20_000

# A remote tile's <video> is playing: it has a size and its time moves between two polls.
VIDEO_PLAYING = """([selector, key]) => {
  const video = document.querySelector(selector);
  if (!video || video.videoWidth === 0) return false;
  window.__played = window.__played || {};
  const before = window.__played[key];
  window.__played[key] = video.currentTime;
  return before !== undefined && video.currentTime > before;
}"""


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def screenshot_path(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")


@dataclass
class RoomPage:
    """One person's browser tab in the meeting room."""

    username: str
    context: BrowserContext
    page: Page
    meeting_id: int

    async def participant_id(self) -> str:
        return await self.page.evaluate("window.__lianshen.participantId")

    async def wait_video(self, participant_id: str, kind: str = "camera") -> None:
        """Until ``participant_id``'s camera (or shared screen) plays in this page."""
        selector = (f'.tile[data-participant="{participant_id}"] video' if kind == "camera"
                    else f'.tile.screen[data-screen="{participant_id}"] video')
        await self.page.wait_for_function(VIDEO_PLAYING, arg=[selector, f"{kind}:{participant_id}"],
                                          polling=100, timeout=WAIT_MS)

    async def wait_connection(self, state: str) -> None:
        await self.page.wait_for_function("s => document.body.dataset.connection === s", arg=state,
                                          polling=50, timeout=WAIT_MS)

    async def request(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a protocol request from the page as its script would; the ack (or the refusal)."""
        return await self.page.evaluate(
            """async ([event, payload]) => {
                 try { return await window.__lianshen.signaling.request(event, payload); }
                 catch (error) { return {ok: false, error: {code: error.code, message: error.message}}; }
               }""", [event, payload])

    async def shot(self, name: str) -> None:
        await self.page.screenshot(path=screenshot_path(name), full_page=True)


async def sign_in(context: BrowserContext, base_url: str, username: str) -> None:
    response = await context.request.post(f"{base_url}/api/v1/auth/login",
                                          data={"username": username, "password": PASSWORD})
    assert response.ok, await response.text()


async def open_context(browser: Browser, base_url: str, username: str) -> BrowserContext:
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    await sign_in(context, base_url, username)
    return context


async def enter_room(browser: Browser, base_url: str, meeting_id: int, username: str,
                     mode: str = "full", context: BrowserContext | None = None) -> RoomPage:
    """Sign in (unless ``context`` is), open the room, pass its device check, click join and wait
    until it says "connected"."""
    context = context or await open_context(browser, base_url, username)
    page = await context.new_page()
    await page.goto(f"{base_url}/meetings/{meeting_id}/room")
    await page.wait_for_function("document.body.dataset.deviceMode !== undefined", timeout=WAIT_MS)
    await page.click(f"#join-{mode}")
    room = RoomPage(username, context, page, meeting_id)
    await room.wait_connection("connected")
    return room


UPLOAD_JS = """async ([caseId, base64, fileName]) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const form = new FormData();
  form.append("file", new Blob([bytes], {type: "application/pdf"}), fileName);
  const csrf = document.querySelector('input[name="csrf_token"]').value;
  const response = await fetch(`/api/v1/cases/${caseId}/materials`,
                               {method: "POST", body: form, headers: {"X-CSRF-Token": csrf}});
  return {status: response.status, body: await response.json()};
}"""


async def upload_pdf(context: BrowserContext, base_url: str, case_id: int, content: bytes,
                     file_name: str) -> dict[str, Any]:
    """Upload a case material as the signed-in person would from a page of the app; the answer."""
    page = await context.new_page()
    await page.goto(f"{base_url}/cases/{case_id}")
    result = await page.evaluate(UPLOAD_JS, [case_id, base64.b64encode(content).decode(), file_name])
    await page.close()
    assert result["status"] == 201, result
    return result["body"]
