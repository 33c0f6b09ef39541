"""A real Lianshen server on 127.0.0.1 (SQLite, tests/world.py) and headless Chromium driving it."""

from collections.abc import AsyncIterator

import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from tests.browser.room_driver import launch
from tests.media.signaling_harness import live, signaling_overrides  # noqa: F401 - fixtures

NODE_MODULES_HINT = "run `npm install` (scripts/setup.sh) first: the room loads socket.io-client from node_modules"


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        try:
            yield chromium
        finally:
            await chromium.close()
