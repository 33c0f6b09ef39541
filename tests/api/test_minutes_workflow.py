"""The minutes workflow end to end over the API: draft on end, edits, confirmation, final, new version,
the case clock, the applicant's view, and refusals that change nothing."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from server.db.models import ApprovalItem, Invitation, Meeting, MeetingEvent, MinutesCaseLink, MinutesVersion
from server.services.clock import CENTRE_TZ
from tests.api.meetings_support import count_rows, error_of, sign_in
from tests.api.minutes_support import MINUTES_TABLES, OPINION_ID, end_through_api, hold_meeting
from tests.world import World, build_world


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)


def url(world: World, rest: str = "") -> str:
    return f"/api/v1/meetings/{world.meeting_x}/minutes{rest}"


async def minutes(client: TestClient, world: World) -> dict:
    response = await client.get(url(world))
    assert response.status == 200, await response.text()
    return await response.json()


async def post(client: TestClient, world: World, rest: str, headers: dict, body: dict | None = None,
               status: int = 200) -> dict:
    response = await client.post(url(world, rest), json=body, headers=headers)
    assert response.status == status, await response.text()
    return await response.json()


async def snapshot(db_sessions, world: World) -> tuple:
    """Row counts of every table the workflow writes, and the current version's content."""
    counts = await count_rows(db_sessions, *MINUTES_TABLES)
    async with db_sessions() as db:
        contents = list(await db.scalars(select(MinutesVersion.content).order_by(MinutesVersion.id)))
        statuses = list(await db.scalars(select(MinutesVersion.status).order_by(MinutesVersion.id)))
    return counts, contents, statuses


async def test_draft_edit_confirm_final_and_new_version(client: TestClient, world: World, db_sessions) -> None:
    await hold_meeting(db_sessions, world, world.meeting_x)
    await end_through_api(client, world.meeting_x)
    chair = await sign_in(client, "chair")
    draft = await minutes(client, world)
    year = date.today().year  # the meeting was held now (its log starts now)
    assert draft["number"] == f"凤联审纪〔{year}〕1号" and draft["current"]["version"] == 1
    assert draft["current"]["status"] == "draft"
    assert [a["department"]["code"] for a in draft["answers"]] == ["FQ-FGJ"]
    assert "summary" in draft["editable_paths"]
    async with db_sessions() as db:
        assert (await db.get(Meeting, world.meeting_x)).status == "minutes_draft"

    edited = await post(client, world, "/edits", chair, {
        "edits": [{"path": "summary", "text": "会议审查了鱼制品加工厂备案事项。"},
                  {"path": "items/1/outcome", "text": "原则同意，补正节能报告后办理"}],
        "reason": "措辞规范"})
    assert edited["current"]["content"]["summary"] == "会议审查了鱼制品加工厂备案事项。"
    assert [(e["path"], e["editor"], e["reason"]) for e in edited["edits"]] == [
        ("summary", "李主任", "措辞规范"), ("items/1/outcome", "李主任", "措辞规范")]
    assert edited["edits"][1]["old_text"] == "原则同意，待补正材料"

    await post(client, world, "/send", chair)
    awaiting = await client.get(url(world, "/versions/1/document?format=json"))
    assert (await awaiting.json())["status"] == "awaiting_confirmation"  # the JSON says where it stands
    rep = await sign_in(client, "rep_a")
    answered = await post(client, world, "/answers", rep, {"verdict": "confirm", "version": 1, "comment": "无意见"})
    assert [(a["verdict"], a["person"], a["post"]) for a in answered["answers"]] == [("confirm", "王发改", "A")]

    chair = await sign_in(client, "chair")
    final = await post(client, world, "/finalise", chair, {})
    current = final["current"]
    assert current["status"] == "final" and current["finalise_note"] == ""
    assert current["content"]["confirmations"][0]["person"] == "王发改（A岗）"
    download = await client.get(url(world, "/versions/1/document?format=json"))
    assert hashlib.sha256(await download.read()).hexdigest() == current["sha256"]
    assert download.headers["X-Minutes-SHA256"] == current["sha256"]
    for fmt, magic in (("pdf", b"%PDF"), ("docx", b"PK"), ("html", b"<!")):
        rendered = await client.get(url(world, f"/versions/1/document?format={fmt}"))
        assert rendered.status == 200 and (await rendered.read()).lstrip()[:4].startswith(magic), fmt
    async with db_sessions() as db:
        assert (await db.get(Meeting, world.meeting_x)).status == "minutes_final"
        links = list(await db.scalars(select(MinutesCaseLink.case_id)))
        item = await db.get(ApprovalItem, world.item_x)
        assert links == [world.case_x]
        assert item.status == "suspended"
        [suspension] = item.suspensions
        assert suspension.suspend_notice_no == draft["number"] and suspension.end is None
        assert suspension.start == date.fromisoformat(current["content"]["date"])
        assert "项目节能报告" in suspension.reason

    # a final version cannot be edited; nothing changes
    before = await snapshot(db_sessions, world)
    refused = await client.post(url(world, "/edits"), json={"edits": [{"path": "summary", "text": "改"}],
                                                            "reason": "再改"}, headers=chair)
    assert refused.status == 409 and (await error_of(refused))["code"] == "final"
    assert "new version" in (await error_of(refused))["message"]
    assert await snapshot(db_sessions, world) == before

    # the applicant sees the final minutes and gets the notice; the other applicant sees nothing
    applicant = await sign_in(client, "applicant")
    theirs = await minutes(client, world)
    assert theirs["current"]["status"] == "final" and theirs["edits"] == [] and theirs["answers"] == []
    for fmt, magic in (("pdf", b"%PDF"), ("html", b"<!")):
        notice = await client.get(url(world, f"/notice?format={fmt}"))
        assert notice.status == 200 and (await notice.read()).lstrip()[:4].startswith(magic)
    notice_html = (await (await client.get(url(world, "/notice?format=html"))).read()).decode()
    assert "项目节能报告" in notice_html
    assert applicant  # signed in above
    await sign_in(client, "applicant_other")
    assert (await client.get(url(world))).status == 404

    # a correction: version 2 with a reason, final again; version 1 stays, superseded
    chair = await sign_in(client, "chair")
    assert (await client.post(url(world, "/versions"), json={"reason": ""}, headers=chair)).status == 422
    second = await post(client, world, "/versions", chair, {"reason": "更正决定事项表述"}, status=201)
    assert second["current"]["version"] == 2 and second["current"]["reason"] == "更正决定事项表述"
    assert second["current"]["content"]["summary"] == "会议审查了鱼制品加工厂备案事项。"  # edits replayed
    assert second["current"]["content"]["confirmations"] == []
    await post(client, world, "/edits", chair, {"edits": [{"path": "decisions/d1/text", "text": "补正后办理备案。"}],
                                                 "reason": "更正"})
    await post(client, world, "/send", chair)
    await post(client, world, "/answers", await sign_in(client, "rep_b"), {"verdict": "confirm", "version": 2})
    done = await post(client, world, "/finalise", await sign_in(client, "chair"), {})
    assert [(v["version"], v["status"]) for v in done["versions"]] == [(1, "superseded"), (2, "final")]
    first = await (await client.get(url(world, "/versions/1"))).json()
    assert first["sha256"] == current["sha256"] and first["content"] == current["content"]
    async with db_sessions() as db:
        item = await db.get(ApprovalItem, world.item_x)
        assert len(item.suspensions) == 1  # the same notice is not applied twice
        assert len(list(await db.scalars(select(MinutesCaseLink)))) == 2


async def test_opinions_change_only_by_their_department_as_amendments(client: TestClient, world: World,
                                                                      db_sessions) -> None:
    async with db_sessions() as db:  # 自然资源局 is invited too, but does not attend
        db.add(Invitation(meeting_id=world.meeting_x, capacity="member", department_id=world.dept_zrj))
        await db.commit()
    await hold_meeting(db_sessions, world, world.meeting_x)
    await end_through_api(client, world.meeting_x)
    chair = await sign_in(client, "chair")
    await post(client, world, "/edits", chair, {"edits": [{"path": "summary", "text": "主持人总结。"}],
                                                 "reason": "补充总结"})
    await post(client, world, "/send", chair)
    rep_a = await sign_in(client, "rep_a")
    await post(client, world, "/answers", rep_a, {"verdict": "confirm", "version": 1})

    before = await snapshot(db_sessions, world)
    other = await sign_in(client, "rep_other")  # A post, but of 自然资源局
    refused = await client.post(url(world, f"/opinions/{OPINION_ID}/amendments"), headers=other,
                                json={"kind": "agree", "reason": "代改"})
    assert refused.status == 403 and (await error_of(refused))["code"] == "not_your_opinion"
    not_attending = await client.post(url(world, "/answers"), json={"verdict": "confirm", "version": 1},
                                      headers=other)
    assert not_attending.status == 403 and (await error_of(not_attending))["code"] == "not_attending"
    for username in ("chair", "applicant", "admin"):
        headers = await sign_in(client, username)
        response = await client.post(url(world, f"/opinions/{OPINION_ID}/amendments"), headers=headers,
                                     json={"kind": "agree", "reason": "代改"})
        assert response.status == 403, username
    rep_b = await sign_in(client, "rep_b")
    for body, field in (({"kind": "disagree", "reason": "改"}, "reasons"),
                        ({"kind": "conditional", "reason": "改"}, "conditions"),
                        ({"kind": "agree", "reason": ""}, "reason"),
                        ({"kind": "agree", "refer_to": "LC-FGW", "reason": "改"}, "refer_to")):
        response = await client.post(url(world, f"/opinions/{OPINION_ID}/amendments"), json=body, headers=rep_b)
        assert response.status == 422, body
        assert field in await response.text()
    assert (await client.post(url(world, "/opinions/op999/amendments"), headers=rep_b,
                              json={"kind": "agree", "reason": "改"})).status == 404
    assert await snapshot(db_sessions, world) == before

    amended = await post(client, world, f"/opinions/{OPINION_ID}/amendments", rep_b, {
        "kind": "conditional", "text": "同意备案", "conditions": ["开工前取得节能审查意见"], "reason": "会后核实"})
    [opinion] = amended["current"]["content"]["items"][0]["opinions"]
    assert (opinion["kind"], opinion["revision"], opinion["conditions"]) == ("conditional", 2, ["开工前取得节能审查意见"])
    assert amended["current"]["content"]["summary"] == "主持人总结。"  # the chair's edit survives the rebuild
    assert amended["edits"][-1]["kind"] == "amendment" and amended["edits"][-1]["editor"] == "赵发改"
    assert amended["answers"][0]["verdict"] is None  # rep_a confirmed other content: asked again
    async with db_sessions() as db:
        last = await db.scalar(select(MeetingEvent).where(MeetingEvent.meeting_id == world.meeting_x)
                               .order_by(MeetingEvent.seq.desc()).limit(1))
        assert (last.type, last.payload["revision"], last.payload["post"]) == ("opinion_amended", 2, "B")
        assert last.actor_id == world.user_ids["rep_b"]


async def test_confirmation_refusals_change_nothing(client: TestClient, world: World, db_sessions) -> None:
    await hold_meeting(db_sessions, world, world.meeting_x)
    await end_through_api(client, world.meeting_x)
    rep_b = await sign_in(client, "rep_b")
    before = await snapshot(db_sessions, world)
    not_sent = await client.post(url(world, "/answers"), json={"verdict": "confirm", "version": 1}, headers=rep_b)
    assert not_sent.status == 409 and (await error_of(not_sent))["code"] == "not_sent"
    chair = await sign_in(client, "chair")
    not_sent = await client.post(url(world, "/finalise"), json={"note": "x"}, headers=chair)
    assert not_sent.status == 409
    await post(client, world, "/send", chair)
    before = await snapshot(db_sessions, world)
    rep_b = await sign_in(client, "rep_b")
    refusals = [
        ({"verdict": "confirm", "version": 1, "person_id": world.user_ids["rep_a"]}, 403, "not_yourself"),
        ({"verdict": "confirm", "version": 1, "department_id": world.dept_zrj}, 403, "not_your_department"),
        ({"verdict": "object", "version": 1, "comment": "  "}, 422, None),
        ({"verdict": "confirm", "version": 2}, 409, None),
        ({"verdict": "maybe", "version": 1}, 422, None),
        ({"verdict": "confirm", "version": "1"}, 422, None),
    ]
    for body, status, code in refusals:
        response = await client.post(url(world, "/answers"), json=body, headers=rep_b)
        assert response.status == status, (body, await response.text())
        if code:
            assert (await error_of(response))["code"] == code
    for username in ("chair", "applicant", "archivist"):
        headers = await sign_in(client, username)
        assert (await client.post(url(world, "/answers"), json={"verdict": "confirm", "version": 1},
                                  headers=headers)).status == 403
    assert await snapshot(db_sessions, world) == before

    rep_b = await sign_in(client, "rep_b")
    await post(client, world, "/answers", rep_b, {"verdict": "object", "version": 1, "comment": "意见表述不全"})
    chair = await sign_in(client, "chair")
    before = await snapshot(db_sessions, world)
    unconfirmed = await client.post(url(world, "/finalise"), json={}, headers=chair)
    assert unconfirmed.status == 409 and "凤庆县发展和改革局（有异议）" in (await error_of(unconfirmed))["message"]
    bad_edit = await client.post(url(world, "/edits"), json={"edits": [{"path": "items/1/opinions", "text": "x"}],
                                                             "reason": "r"}, headers=chair)
    assert bad_edit.status == 422
    assert await snapshot(db_sessions, world) == before

    final = await post(client, world, "/finalise", chair, {"note": "发改局异议已在会后电话沟通，按会议记录定稿"})
    assert final["current"]["finalise_note"].startswith("发改局异议")
    [confirmation] = final["current"]["content"]["confirmations"]
    assert confirmation["note"].startswith("有异议：意见表述不全；主持人定稿说明：")


async def test_numbers_are_sequential_per_year(client: TestClient, world: World, db_sessions) -> None:
    for meeting_id in (world.meeting_x, world.meeting_y):
        await hold_meeting(db_sessions, world, meeting_id)
        await end_through_api(client, meeting_id)
    await sign_in(client, "chair")
    numbers = [(await (await client.get(f"/api/v1/meetings/{m}/minutes")).json())["number"]
               for m in (world.meeting_x, world.meeting_y)]
    async with db_sessions() as db:
        year = (await db.get(Meeting, world.meeting_x)).scheduled_start.astimezone(CENTRE_TZ).year
    assert numbers == [f"凤联审纪〔{year}〕1号", f"凤联审纪〔{year}〕2号"]
    again = await client.post(url(world), headers=await sign_in(client, "chair"))
    assert again.status == 409


async def test_the_database_refuses_to_change_a_final_version(client: TestClient, world: World,
                                                              db_sessions) -> None:
    await hold_meeting(db_sessions, world, world.meeting_x)
    await end_through_api(client, world.meeting_x)
    chair = await sign_in(client, "chair")
    await post(client, world, "/edits", chair, {"edits": [{"path": "summary", "text": "总结。"}], "reason": "补充"})
    await post(client, world, "/send", chair)
    await post(client, world, "/answers", await sign_in(client, "rep_a"), {"verdict": "confirm", "version": 1})
    await post(client, world, "/finalise", await sign_in(client, "chair"), {})
    statements = [
        "UPDATE minutes_versions SET content = '{}'",
        "UPDATE minutes_versions SET sha256 = 'x', status = 'superseded'",
        "UPDATE minutes_versions SET status = 'draft'",
        "UPDATE minutes_versions SET status = status",
        "DELETE FROM minutes_versions",
        "UPDATE minutes_edits SET reason = 'x'",
        "DELETE FROM minutes_edits",
        "UPDATE minutes_confirmations SET verdict = 'object'",
        "DELETE FROM minutes_confirmations",
    ]
    for statement in statements:
        async with db_sessions() as db:
            with pytest.raises((DBAPIError, IntegrityError)):
                await db.execute(text(statement))
            await db.rollback()
    async with db_sessions() as db:  # the one change allowed: final -> superseded, nothing else
        await db.execute(text("UPDATE minutes_versions SET status = 'superseded'"))
        await db.rollback()
