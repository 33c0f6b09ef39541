"""What the whole-review walk (test_review_walk.py) needs beyond the shared world: a city
department with its own item on case X and its A-post chief representative (the remote city
site), the walk's numbered screenshots, and a room entry that times join → first remote frame.

The world is arranged directly (it is the arrangement, not the thing under test); every step of
the walk itself is done by a person's clicks in Chromium.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from playwright.async_api import Browser, BrowserContext, Page, TimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import ApprovalItem
from server.domain.roles import Post, Role
from server.services.people import NewPerson, create_person
from server.web.i18n import translate
from tests.browser.room_driver import WAIT_MS, RoomPage, screenshot_path, sign_in
from tests.world import PASSWORD, World

CITY_REP = "rep_city"
CITY_ITEM = "固定资产投资项目节能审查"


async def add_city_department_item(sessions: async_sessionmaker[AsyncSession], world: World) -> None:
    """Case X gets a second item, handled by the city 发改委, whose A post (孙市发改) attends from
    the city's video site: the new-meeting form then proposes two departments."""
    async with sessions() as db:
        await create_person(db, NewPerson(CITY_REP, "孙市发改", Role.CHIEF_REP, PASSWORD, "LC-FGW", Post.A))
        db.add(ApprovalItem(case_id=world.case_x, name=CITY_ITEM, department_id=world.dept_city, level="city",
                            accepted_on=date(2026, 3, 12), statutory_limit_wd=20, promised_limit_wd=10,
                            status="in_review"))
        await db.commit()


@dataclass
class Walk:
    """The walk in one language: its screenshots numbered in order, its texts from the catalog."""

    lang: str
    step: int = 0
    join_ms: dict[str, float] = field(default_factory=dict)

    def t(self, key: str, **values: object) -> str:
        return translate(self.lang, key, **values)

    async def shot(self, page: Page, name: str) -> None:
        self.step += 1
        await page.screenshot(path=screenshot_path(f"walk-{self.lang}-{self.step:02d}-{name}"), full_page=True)

    async def person(self, browser: Browser, base_url: str, username: str) -> BrowserContext:
        """A signed-in browser for ``username`` in the walk's language (the ``lang`` cookie, as
        the language switch leaves it)."""
        context = await browser.new_context(viewport={"width": 1280, "height": 860},
                                            locale="zh-CN" if self.lang == "zh" else "en-US")
        await context.add_cookies([{"name": "lang", "value": self.lang, "url": base_url}])
        await sign_in(context, base_url, username)
        return context

    async def enter_room(self, context: BrowserContext, base_url: str, meeting_id: int, username: str,
                         first: RoomPage | None = None) -> RoomPage:
        """Open the room, pass the device check, join; when someone (``first``) is already in,
        time the click on 加入 to the first frame of their camera playing here."""
        page = await context.new_page()
        await page.goto(f"{base_url}/meetings/{meeting_id}/room")
        await page.wait_for_function("document.body.dataset.deviceMode !== undefined", timeout=WAIT_MS)
        room = RoomPage(username, context, page, meeting_id)
        started = time.perf_counter()
        await page.click("#join-full")
        await room.wait_connection("connected")
        if first is not None:
            try:
                await room.wait_video(await first.participant_id())
            except TimeoutError:  # what the joiner saw instead, for the report
                await self.shot(page, "no-remote-frame")
                raise
            self.join_ms[username] = (time.perf_counter() - started) * 1000
        return room
