"""The chair's minutes editor on the page: the texts named as the document names them (never by
their raw path), one form saving a batch of changes under one reason (unchanged texts are not
recorded), the history grouped by save, and no editor for anyone but the meeting's chair."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db.models import MinutesEdit
from tests.api.meetings_support import count_rows, sign_in
from tests.api.minutes_support import MINUTES_TABLES, end_through_api, hold_meeting
from tests.world import World, build_world

PATHS = ("summary", "items/1/outcome", "decisions/d1/text")


class _Reader(HTMLParser):
    """The page as a reader sees it: its visible text, and the text of each <label for=...>."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.labels: dict[str, str] = {}
        self.headings: list[str] = []
        self._label: str | None = None
        self._heading = False
        self._hidden = 0
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._skip += 1
        if tag == "label":
            self._label = dict(attrs).get("for") or ""
            self.labels[self._label] = ""
        if tag == "span" and "hidden" in dict(attrs):
            self._hidden += 1
        if tag in ("h3", "h4"):
            self._heading = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title"):
            self._skip -= 1
        if tag == "label":
            self._label = None
        if tag == "span" and self._hidden:
            self._hidden -= 1
        if tag in ("h3", "h4"):
            self._heading = False

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._label is not None and not self._hidden:
            self.labels[self._label] += data.strip()
        if self._heading:
            self.headings[-1] += data.strip()


def _read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


@pytest.fixture
async def world(db_sessions) -> World:
    world = await build_world(db_sessions)
    await hold_meeting(db_sessions, world, world.meeting_x)
    return world


async def _page(client: TestClient, path: str) -> str:
    response = await client.get(path, allow_redirects=False)
    text = await response.text()
    assert response.status == 200, text[:800]
    return text


async def _save(client: TestClient, csrf: dict[str, str], base: str, texts: dict[str, str], reason: str,
                status: int = 302) -> str:
    data = {"csrf_token": csrf["X-CSRF-Token"], "reason": reason, **{f"edit:{p}": t for p, t in texts.items()}}
    response = await client.post(f"{base}/edits", data=data, allow_redirects=False)
    body = await response.text()
    assert response.status == status, body[:800]
    return response.headers.get("Location", "") if status == 302 else body


async def test_the_editor_names_each_text_as_the_document_does(client: TestClient, world: World) -> None:
    await end_through_api(client, world.meeting_x)
    await sign_in(client, "chair")
    page = _read(await _page(client, f"/meetings/{world.meeting_x}/minutes"))
    fields = {key: text for key, text in page.labels.items() if key.startswith("edit-") and key != "edit-reason"}
    assert list(fields.values()) == ["会议小结", "第1项 企业投资项目备案 · 审查结果",
                                     "议定事项（一） · 企业投资项目备案"]
    assert page.headings[:4] == ["一、会议概况", "二、审查事项及部门意见", "第1项 企业投资项目备案", "三、议定事项"]
    visible = "".join(page.text)
    for path in PATHS:
        assert path not in visible, path
    assert "项目符合产业政策，原则同意。" in visible  # the department's opinion stands beside, read-only
    assert page.labels["edit-reason"].startswith("修改理由")

    english = _read(await _page(client, f"/meetings/{world.meeting_x}/minutes?lang=en"))
    assert "Item 1 企业投资项目备案 · result of the review" in english.labels.values()
    assert "items/1/outcome" not in "".join(english.text)


async def test_one_save_records_the_changed_texts_under_one_reason(client: TestClient, world: World,
                                                                   db_sessions) -> None:
    base = f"/meetings/{world.meeting_x}/minutes"
    await end_through_api(client, world.meeting_x)
    chair = await sign_in(client, "chair")
    # the whole form comes back: the decision unchanged, the outcome with a browser's line breaks
    location = await _save(client, chair, base, {"summary": "会议认为项目可行。",
                                                 "items/1/outcome": "原则同意。\r\n待补正节能报告。",
                                                 "decisions/d1/text": "补正节能报告后办理。"}, "统一文字表述")
    assert location.endswith("#minutes-history")
    async with db_sessions() as db:
        rows = list(await db.scalars(select(MinutesEdit).order_by(MinutesEdit.id)))
    assert [(r.path, r.new_text, r.reason) for r in rows] == [
        ("summary", "会议认为项目可行。", "统一文字表述"),
        ("items/1/outcome", "原则同意。\n待补正节能报告。", "统一文字表述")]
    assert rows[0].at == rows[1].at

    before = await count_rows(db_sessions, *MINUTES_TABLES)
    refused = await _save(client, chair, base, {"summary": "会议认为项目可行。",
                                                "items/1/outcome": "原则同意。\r\n待补正节能报告。"}, "无改动", 422)
    assert "没有修改任何内容" in refused
    refused = await _save(client, chair, base, {"summary": "改了"}, "", 422)  # a reason is required
    assert await count_rows(db_sessions, *MINUTES_TABLES) == before

    page = await _page(client, base + "?saved=1")
    history = _read(page[page.index('id="minutes-history"'):])
    visible = "".join(history.text)
    assert "修改已保存" in visible and "统一文字表述" in visible and "共2处" in visible
    assert history.headings[:3] == ["主持人文字修改（按每次保存分组）", "理由：统一文字表述", "会后部门意见修改"]
    assert "会议小结" in visible and "第1项 企业投资项目备案 · 审查结果" in visible
    assert "items/1/outcome" not in visible


@pytest.mark.parametrize("username", ["rep_a", "chair_other", "archivist"])
async def test_only_the_meetings_chair_has_the_editor(client: TestClient, world: World, db_sessions,
                                                      username: str) -> None:
    base = f"/meetings/{world.meeting_x}/minutes"
    await end_through_api(client, world.meeting_x)
    other = await sign_in(client, username)
    html = await _page(client, base)
    assert 'id="minutes-editor"' not in html and 'name="edit:' not in html
    assert "/static/js/minutes_editor.js" not in html
    before = await count_rows(db_sessions, *MINUTES_TABLES)
    await _save(client, other, base, {"summary": "不是主持人写的"}, "试图修改", 403)
    assert await count_rows(db_sessions, *MINUTES_TABLES) == before
