"""Meeting pages: the schedule, one meeting, the chair's scheduling form, status and 请假 forms."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db.models import Meeting, MeetingEvent
from server.services.eventlog import append_event
from tests.api.meetings_support import count_rows, sign_in
from tests.world import World, build_world


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)


async def _page(client: TestClient, path: str, status: int = 200) -> str:
    response = await client.get(path, allow_redirects=False)
    text = await response.text()
    assert response.status == status, text[:500]
    return text


def _form(headers: dict[str, str], **fields: object) -> dict[str, object]:
    return {"csrf_token": headers["X-CSRF-Token"], **fields}


async def test_schedule_lists_visible_meetings_with_badges(client: TestClient, world: World) -> None:
    assert (await client.get("/meetings", allow_redirects=False)).status == 302
    await sign_in(client, "rep_a")
    html = await _page(client, "/meetings")
    assert "小湾生态渔业鱼制品加工厂建设项目并联审批会议" in html
    assert "滇红茶加工厂扩建项目并联审批会议" not in html
    assert "2026-12-08 09:30–11:30" in html and "已安排" in html
    assert "/meetings/new" not in html  # only chairs schedule
    english = await _page(client, "/meetings?lang=en")
    assert "Meeting schedule" in english and "scheduled" in english
    await _page(client, "/meetings?status=bogus", 422)


async def test_meeting_detail_shows_everything(client: TestClient, world: World) -> None:
    await sign_in(client, "agent")
    html = await _page(client, f"/meetings/{world.meeting_x}")
    for fragment in ("小湾生态渔业鱼制品加工厂建设项目并联审批会议", "2026-12-08 09:30–11:30", "北京时间",
                     "凤庆县政务服务中心三楼会商室", "李主任", "凤庆县发展和改革局", "2603-530921-04-01-512345",
                     "企业投资项目备案", "王发改", "赵发改", "凤庆县小湾生态渔业有限公司", "周代办",
                     "临沧市发改委视频会商点", "出席", "列席", "请假"):
        assert fragment in html, fragment
    sites = html[html.index('id="sites-title"'):]
    assert re.search(r"<dt>市</dt>\s*<dd>临沧市发改委视频会商点", sites)
    assert "设为" not in html  # no status buttons for an agent
    await sign_in(client, "applicant_other")
    assert "不存在或无权查看" in await _page(client, f"/meetings/{world.meeting_x}", 404)


async def test_chair_schedules_through_the_form(client: TestClient, world: World, db_sessions) -> None:
    await sign_in(client, "rep_a")
    await _page(client, "/meetings/new", 403)
    headers = await sign_in(client, "chair")
    form_html = await _page(client, "/meetings/new")
    assert 'name="agenda_item_ids"' in form_html and "2604-530921-04-01-623456" in form_html
    fields = {"title": "核桃深加工项目并联审批会", "date": "2026-12-15", "start_time": "14:30", "end_time": "16:00",
              "place": "二楼会商室", "lead_department_id": str(world.dept_fgj),
              "chair_id": str(world.user_ids["chair"]), "agenda_item_ids": str(world.item_y),
              f"invite_{world.dept_city}": "observer",
              "site_name_1": "临沧市自然资源局会商点", "site_division_1": "530900", "site_name_2": "",
              "site_division_2": "530000"}
    before = await count_rows(db_sessions, Meeting, MeetingEvent)
    bad = await client.post("/meetings/new", data=_form(headers, **{**fields, "end_time": "14:00"}))
    assert bad.status == 422
    bad_html = await bad.text()
    assert "结束时间须晚于开始时间" in bad_html and 'value="核桃深加工项目并联审批会"' in bad_html
    assert await count_rows(db_sessions, Meeting, MeetingEvent) == before
    created = await client.post("/meetings/new", data=_form(headers, **fields), allow_redirects=False)
    assert created.status == 302, await created.text()
    html = await _page(client, created.headers["Location"])
    assert "核桃深加工项目并联审批会" in html and "2026-12-15 14:30–16:00" in html
    assert "凤庆县自然资源局" in html and "临沧市发展和改革委员会" in html and "临沧市自然资源局会商点" in html
    async with db_sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Meeting)) == before["meetings"] + 1


async def test_status_and_excuse_forms(client: TestClient, world: World) -> None:
    rep = await sign_in(client, "rep_b")
    html = await _page(client, f"/meetings/{world.meeting_x}")
    action = re.search(r'action="(/meetings/\d+/invitations/\d+/excuse)"', html).group(1)
    refused = await client.post(f"/meetings/{world.meeting_x}/status", data=_form(rep, status="live"))
    assert refused.status == 403
    excused = await client.post(action, data=_form(rep, reason="参加市级培训"), allow_redirects=False)
    assert excused.status == 302
    html = await _page(client, f"/meetings/{world.meeting_x}")
    assert "参加市级培训" in html
    chair = await sign_in(client, "chair")
    html = await _page(client, f"/meetings/{world.meeting_x}")
    assert "设为「进行中」" in html and "设为「已取消」" in html
    moved = await client.post(f"/meetings/{world.meeting_x}/status", data=_form(chair, status="live"),
                              allow_redirects=False)
    assert moved.status == 302
    html = await _page(client, f"/meetings/{world.meeting_x}")
    assert "已安排 → 进行中" in html and "设为「已结束」" in html
    invalid = await client.post(f"/meetings/{world.meeting_x}/status", data=_form(chair, status="minutes_final"))
    assert invalid.status == 409 and "不能从「进行中」变为「纪要已定稿」" in await invalid.text()
    no_token = await client.post(f"/meetings/{world.meeting_x}/status", data={"status": "ended"})
    assert no_token.status == 403


async def test_recent_events_use_labels(client: TestClient, world: World, db_sessions) -> None:
    async with db_sessions() as db:
        await append_event(db, world.meeting_x, world.user_ids["rep_a"], "participant_joined", {
            "participant_id": "p1", "user_id": world.user_ids["rep_a"], "display_name": "王发改", "unit": "",
            "capacity": "member", "department_id": world.dept_fgj, "post": "A", "token_id": None,
            "via": "session"})
        await append_event(db, world.meeting_x, None, "producer_published", {
            "participant_id": "p1", "producer_id": "pr1", "kind": "audio", "mime_type": "audio/opus"})
        await db.commit()
    await sign_in(client, "rep_a")
    html = await _page(client, f"/meetings/{world.meeting_x}")
    events = html[html.index('id="events-title"'):]
    assert re.search(r"<td>1</td><td>[0-9-]+ [0-9:]+</td><td>王发改</td><td>加入会议</td>", events)
    assert re.search(r"<td>2</td><td>[0-9-]+ [0-9:]+</td><td>—</td><td>开启音视频</td>", events)


def _beijing(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


async def test_the_header_tells_when_the_meeting_was_held(client: TestClient, world: World, db_sessions) -> None:
    """Once the meeting ran, its header shows the start and end its record holds (Beijing time), the
    scheduled time beneath; and its room, no longer open, says so instead of offering to join."""
    chair = await sign_in(client, "chair")
    scheduled = "2026-12-08 09:30–11:30"
    before = await _page(client, f"/meetings/{world.meeting_x}")
    assert f'<span id="meeting-scheduled">{scheduled}</span>' in before and "召开时间" not in before

    for status in ("live", "ended"):
        moved = await client.post(f"/meetings/{world.meeting_x}/status", data=_form(chair, status=status),
                                  allow_redirects=False)
        assert moved.status == 302
        async with db_sessions() as db:
            changes = list(await db.scalars(select(MeetingEvent.ts).where(
                MeetingEvent.meeting_id == world.meeting_x, MeetingEvent.type == "meeting_status_changed")
                .order_by(MeetingEvent.seq)))
        html = await _page(client, f"/meetings/{world.meeting_x}")
        held = re.search(r'<span id="meeting-held">([^<]*)</span>', html)
        assert held is not None and "<dt>召开时间</dt>" in html, html[:2000]
        if status == "live":
            assert held.group(1) == f"{_beijing(changes[0])} 开始，正在进行"
        else:
            start, end = _beijing(changes[0]), _beijing(changes[-1])
            assert held.group(1) == f"{start}–{end[11:] if start[:10] == end[:10] else end}"
        assert f'<div class="muted" id="meeting-scheduled">计划时间：{scheduled}</div>' in html

    english = await _page(client, f"/meetings/{world.meeting_x}?lang=en")
    assert "<dt>Held</dt>" in english and f"Scheduled: {scheduled}" in english

    room = await client.get(f"/meetings/{world.meeting_x}/room?lang=zh")
    page = await room.text()
    assert room.status == 410 and "会议已结束" in page
    assert f"本次会议已于 {_beijing(changes[-1])}（北京时间）结束" in page
    assert 'href="/meetings"' in page and f'href="/meetings/{world.meeting_x}/minutes"' in page
    assert 'id="room-config"' not in page and 'id="prejoin"' not in page  # no device check, no room

    cancelled = await client.post(f"/meetings/{world.meeting_y}/status", data=_form(chair, status="cancelled"),
                                  allow_redirects=False)
    assert cancelled.status == 302
    room = await client.get(f"/meetings/{world.meeting_y}/room")
    page = await room.text()
    assert room.status == 410 and "本次会议已取消" in page and "/minutes" not in page
