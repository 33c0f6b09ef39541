"""What the whole-review walk (test_review_walk.py) needs beyond the shared world: a city
department with its own item on case X and its A-post chief representative (the remote city
site), the walk's numbered screenshots with the language check of every page shot, and a room
entry that times join → first remote frame.

The world is arranged directly (it is the arrangement, not the thing under test); every step of
the walk itself is done by a person's clicks in Chromium.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from playwright.async_api import Browser, BrowserContext, Page, Request, Response, TimeoutError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from minutes.notice import notice_number
from server.db.models import (
    AgentCommission,
    ApprovalItem,
    CaseMaterial,
    ClockSuspension,
    Department,
    Division,
    InvestmentCase,
    Invitation,
    Meeting,
    MeetingSite,
    MinutesDocument,
    Organisation,
    User,
)
from server.domain.roles import Post, Role
from server.services.people import NewPerson, create_person
from server.web.i18n import translate
from tests.browser.language_check import page_findings
from tests.browser.room_driver import WAIT_MS, RoomPage, screenshot_path, sign_in
from tests.world import PASSWORD, World

CITY_REP = "rep_city"
CITY_ITEM = "固定资产投资项目节能审查"
# The columns that hold proper data (names, titles, numbers people gave): a page shows them as they
# are in either language, so the language check takes them out first. Codes and statuses are not here.
DATA_COLUMNS = (Division.name, Department.name, Department.short_name, Organisation.name, Organisation.credit_code,
                User.display_name, InvestmentCase.name, InvestmentCase.project_code, InvestmentCase.town,
                InvestmentCase.address, InvestmentCase.industry, InvestmentCase.funding_source, ApprovalItem.name,
                ApprovalItem.document_no, Meeting.title, Meeting.place, MeetingSite.name, CaseMaterial.title,
                CaseMaterial.file_name, MinutesDocument.number, ClockSuspension.reason,
                ClockSuspension.suspend_notice_no, ClockSuspension.resume_notice_no, Invitation.excused_reason,
                AgentCommission.document_no)


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
    """The walk in one language: its screenshots numbered in order, its texts from the catalog,
    what its people typed (data, shown as typed in either language) and what the language check
    found on the pages it shot (asserted empty at the end, so one run reports every page)."""

    lang: str
    sessions: async_sessionmaker[AsyncSession]
    step: int = 0
    join_ms: dict[str, float] = field(default_factory=dict)
    typed: set[str] = field(default_factory=set)
    language_findings: list[str] = field(default_factory=list)

    def t(self, key: str, **values: object) -> str:
        return translate(self.lang, key, **values)

    async def fill(self, page: Page, selector: str, text: str) -> None:
        """Type ``text`` into a field, as a person does; it is data from then on."""
        self.typed.add(text)
        await page.fill(selector, text)

    async def shot(self, page: Page, name: str) -> None:
        """Screenshot the page as step N and check that it speaks the walk's language."""
        self.step += 1
        await page.screenshot(path=screenshot_path(f"walk-{self.lang}-{self.step:02d}-{name}"), full_page=True)
        await self.check_language(page, f"{self.step:02d}-{name}")

    async def post(self, page: Page, button: str, name: str) -> None:
        """Click the form button named ``button`` and wait for the page the post leads to.

        A plain form post: wait_for_load_state alone would return at once, the old page being
        loaded, and the next step could overtake the post. If no page comes, the failure says
        what the browser sent and heard meanwhile, and the page is kept as ``name``-stuck.
        """
        heard: list[str] = []

        def sent(request: Request) -> None:
            heard.append(f"{time.perf_counter() - clicked:.2f}s → {request.method} {request.url}")

        def answered(response: Response) -> None:
            heard.append(f"{time.perf_counter() - clicked:.2f}s ← {response.status} {response.url}")

        def failed(request: Request) -> None:
            heard.append(f"{time.perf_counter() - clicked:.2f}s ✗ {request.url}: {request.failure}")

        page.on("request", sent)
        page.on("response", answered)
        page.on("requestfailed", failed)
        clicked = time.perf_counter()
        try:
            async with page.expect_navigation(timeout=WAIT_MS):
                await page.get_by_role("button", name=button).click()
        except TimeoutError as exc:
            await page.screenshot(path=screenshot_path(f"walk-{self.lang}-{name}-stuck"), full_page=True)
            raise AssertionError(f"{name}: no page after the post within {WAIT_MS} ms; at {page.url}; "
                                 f"the browser meanwhile: {heard or 'nothing'}") from exc
        finally:
            page.remove_listener("request", sent)
            page.remove_listener("response", answered)
            page.remove_listener("requestfailed", failed)

    async def check_language(self, page: Page, name: str) -> None:
        """Record what on ``page`` is not in the walk's language (data taken out first)."""
        async with self.sessions() as db:
            data = {value for column in DATA_COLUMNS for value in await db.scalars(select(column)) if value}
            data |= {notice_number(number) for number in await db.scalars(select(MinutesDocument.number))}
            data |= {name[0] for name in await db.scalars(select(User.display_name)) if name}  # a tile's initial
        for finding in await page_findings(page, self.lang, data | self.typed):
            self.language_findings.append(f"{name} {page.url}: {finding}")

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
                await page.screenshot(path=screenshot_path(f"walk-{self.lang}-no-remote-frame"), full_page=True)
                raise
            self.join_ms[username] = (time.perf_counter() - started) * 1000
        return room
