"""Meetings through the API: scheduling with derived invitations, detail, lists and filters,
changes, the life cycle, 请假, the event log, and refusals of bad input that write nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from record.events import payload_keys
from server.db.models import AgendaEntry, ApprovalItem, Invitation, Meeting, MeetingEvent, MeetingSite
from server.services.meetings import CENTRE_TZ
from tests.api.meetings_support import count_rows, drop_append_only_triggers, error_of, sign_in
from tests.world import World, build_world

MEETING_TABLES = (Meeting, AgendaEntry, Invitation, MeetingSite, MeetingEvent)


def plan(world: World, **overrides: Any) -> dict[str, Any]:
    body = {"title": "滇红茶与渔业项目联合审查会", "scheduled_start": "2026-12-10T09:30:00+08:00",
            "scheduled_end": "2026-12-10T11:30:00+08:00", "place": "政务服务中心三楼会商室",
            "lead_department_id": world.dept_fgj, "agenda_item_ids": [world.item_x, world.item_y],
            "observer_department_ids": [world.dept_city],
            "sites": [{"name": "云南省发改委视频会商点", "division_code": "530000"},
                      {"name": "临沧市发改委视频会商点", "division_code": "530900"},
                      {"name": "凤庆县小湾镇便民服务中心", "division_code": "530921"}]}
    body.update(overrides)
    return body


async def _schedule(client: TestClient, world: World, **overrides: Any) -> dict[str, Any]:
    headers = await sign_in(client, "chair")
    response = await client.post("/api/v1/meetings", json=plan(world, **overrides), headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def _events(client: TestClient, meeting_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/meetings/{meeting_id}/events")
    assert response.status == 200
    return (await response.json())["events"]


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)


async def test_schedule_derives_invitations_and_logs_the_plan(client: TestClient, world: World) -> None:
    meeting = await _schedule(client, world)
    assert meeting["status"] == "scheduled"
    assert meeting["scheduled_start"] == "2026-12-10T09:30:00+08:00"
    assert meeting["chair"]["display_name"] == "李主任"
    assert [(a["position"], a["item_id"]) for a in meeting["agenda"]] == [(1, world.item_x), (2, world.item_y)]
    assert meeting["agenda"][0]["case"]["project_code"] == "2603-530921-04-01-512345"
    by_unit = {i["department"]["id"] if i["department"] else ("org", i["organisation"]["id"]): i
               for i in meeting["invitations"]}
    assert by_unit[world.dept_fgj]["capacity"] == "member"
    assert by_unit[world.dept_zrj]["capacity"] == "member"
    assert by_unit[world.dept_city]["capacity"] == "observer"
    assert by_unit[world.dept_city]["department"]["level"] == "city"
    assert by_unit[("org", world.org_x)]["capacity"] == "applicant"
    assert by_unit[("org", world.org_y)]["capacity"] == "applicant"
    assert [(p["display_name"], p["post"]) for p in by_unit[world.dept_fgj]["representatives"]] == [
        ("王发改", "A"), ("赵发改", "B")]
    assert [a["display_name"] for a in by_unit[("org", world.org_x)]["agents"]] == ["周代办"]
    assert [(s["division_code"], s["level"]) for s in meeting["sites"]] == [
        ("530000", "province"), ("530900", "city"), ("530921", "county")]
    assert {c["id"] for c in meeting["cases"]} == {world.case_x, world.case_y}
    [event] = await _events(client, meeting["id"])
    assert event["type"] == "meeting_scheduled" and event["seq"] == 1
    assert set(event["payload"]) == payload_keys("meeting_scheduled")
    assert event["payload"]["start"] == "2026-12-10T01:30:00+00:00"
    assert event["payload"]["member_department_ids"] == sorted([world.dept_fgj, world.dept_zrj])


async def test_chair_can_name_another_chair_but_not_a_representative(client: TestClient, world: World) -> None:
    headers = await sign_in(client, "chair")
    response = await client.post("/api/v1/meetings", json=plan(world, chair_id=world.user_ids["rep_a"]),
                                 headers=headers)
    assert response.status == 422
    assert "chair" in (await error_of(response))["message"]


async def test_detail_is_scoped_like_the_list(client: TestClient, world: World) -> None:
    await sign_in(client, "rep_other")
    listed = await (await client.get("/api/v1/meetings")).json()
    assert [m["id"] for m in listed] == [world.meeting_y]
    assert (await client.get(f"/api/v1/meetings/{world.meeting_x}")).status == 404
    await sign_in(client, "agent")
    detail = await (await client.get(f"/api/v1/meetings/{world.meeting_x}")).json()
    assert detail["cases"][0]["organisation"]["id"] == world.org_x


async def test_list_filters_and_upcoming_first(client: TestClient, world: World, db_sessions) -> None:
    """meeting_x is next week, meeting_y was last month, a third meeting is next year."""
    now = datetime.now(UTC).replace(microsecond=0)
    soon, past = now + timedelta(days=7), now - timedelta(days=30)
    async with db_sessions() as db:
        for meeting_id, start in ((world.meeting_x, soon), (world.meeting_y, past)):
            await db.execute(update(Meeting).where(Meeting.id == meeting_id).values(
                scheduled_start=start, scheduled_end=start + timedelta(hours=1)))
        await db.commit()
    later = (now + timedelta(days=400)).astimezone(CENTRE_TZ)
    created = await _schedule(client, world, scheduled_start=later.isoformat(),
                              scheduled_end=(later + timedelta(hours=2)).isoformat())
    ids = [m["id"] for m in await (await client.get("/api/v1/meetings")).json()]
    assert ids == [world.meeting_x, created["id"], world.meeting_y]

    async def ids_for(query: str) -> list[int]:
        response = await client.get(f"/api/v1/meetings?{query}")
        assert response.status == 200, await response.text()
        return [m["id"] for m in await response.json()]

    def day(moment: datetime) -> str:  # the local (Beijing) date the filters compare
        return moment.astimezone(CENTRE_TZ).date().isoformat()

    assert await ids_for(f"case_id={world.case_y}") == [created["id"], world.meeting_y]
    assert await ids_for(f"date_from={day(soon)}&date_to={day(soon)}") == [world.meeting_x]
    assert await ids_for(f"date_from={day(later)}") == [created["id"]]
    assert await ids_for(f"date_to={day(past)}") == [world.meeting_y]
    assert await ids_for("status=cancelled") == []
    for bad in ("status=open", "date_from=2026-13-01", "date_from=2026-02-02&date_to=2026-02-01",
                "case_id=abc", "colour=red"):
        response = await client.get(f"/api/v1/meetings?{bad}")
        assert response.status == 422, bad


async def test_dates_filter_by_beijing_day(client: TestClient, world: World) -> None:
    """00:30 on 9 December in Beijing is still 8 December in UTC: it belongs to the 9th."""
    created = await _schedule(client, world, scheduled_start="2026-12-09T00:30:00+08:00",
                              scheduled_end="2026-12-09T01:00:00+08:00")
    response = await client.get("/api/v1/meetings?date_from=2026-12-09&date_to=2026-12-09")
    assert [m["id"] for m in await response.json()] == [created["id"]]


async def test_update_changes_plan_keeps_excuses_and_logs(client: TestClient, world: World) -> None:
    meeting = await _schedule(client, world, agenda_item_ids=[world.item_x], observer_department_ids=[])
    fgj = next(i for i in meeting["invitations"] if i["department"] and i["department"]["id"] == world.dept_fgj)
    rep = await sign_in(client, "rep_b")
    excused = await client.post(f"/api/v1/meetings/{meeting['id']}/invitations/{fgj['id']}/excuse",
                                json={"reason": "赴省厅汇报"}, headers=rep)
    assert excused.status == 200
    chair = await sign_in(client, "chair")
    response = await client.patch(f"/api/v1/meetings/{meeting['id']}", headers=chair, json={
        "place": "视频会议室", "agenda_item_ids": [world.item_y, world.item_x],
        "scheduled_end": "2026-12-10T12:00:00+08:00"})
    assert response.status == 200, await response.text()
    changed = await response.json()
    assert changed["place"] == "视频会议室" and changed["scheduled_end"] == "2026-12-10T12:00:00+08:00"
    assert [a["item_id"] for a in changed["agenda"]] == [world.item_y, world.item_x]
    units = {(i["capacity"], (i["department"] or i["organisation"])["id"]) for i in changed["invitations"]}
    assert units == {("member", world.dept_fgj), ("member", world.dept_zrj),
                     ("applicant", world.org_x), ("applicant", world.org_y)}
    kept = next(i for i in changed["invitations"] if i["id"] == fgj["id"])
    assert kept["excused_reason"] == "赴省厅汇报"
    event = (await _events(client, meeting["id"]))[-1]
    assert event["type"] == "meeting_updated"
    assert event["payload"]["changed"] == ["agenda_item_ids", "place", "scheduled_end"]
    assert set(event["payload"]) == payload_keys("meeting_updated")


async def test_update_refusals(client: TestClient, world: World, db_sessions) -> None:
    chair = await sign_in(client, "chair")
    url = f"/api/v1/meetings/{world.meeting_x}"
    before = await count_rows(db_sessions, *MEETING_TABLES)
    for body, status, fragment in (
        ({}, 422, "nothing to change"),
        ({"title": None}, 422, "cannot be null"),
        ({"scheduled_end": "2026-12-08T08:00:00+08:00"}, 422, "end must be after"),
        ({"observer_department_ids": [world.dept_fgj]}, 422, "both members and observers"),
        ({"status": "live"}, 422, "status"),
    ):
        response = await client.patch(url, json=body, headers=chair)
        assert response.status == status, (body, await response.text())
        assert fragment in (await error_of(response))["message"], body
    assert await count_rows(db_sessions, *MEETING_TABLES) == before
    assert (await client.patch("/api/v1/meetings/999999", json={"place": "x"}, headers=chair)).status == 404
    live = await client.post(f"{url}/status", json={"status": "live"}, headers=chair)
    assert live.status == 200
    refused = await client.patch(url, json={"place": "改地点"}, headers=chair)
    assert refused.status == 409
    assert "no longer be changed" in (await error_of(refused))["message"]


async def test_life_cycle_and_invalid_transition(client: TestClient, world: World) -> None:
    chair = await sign_in(client, "chair")
    url = f"/api/v1/meetings/{world.meeting_x}/status"
    # ending the meeting makes its minutes draft; the minutes statuses follow the minutes workflow
    for target, reached in (("live", "live"), ("ended", "minutes_draft")):
        response = await client.post(url, json={"status": target}, headers=chair)
        assert response.status == 200, await response.text()
        assert (await response.json())["status"] == reached
    for target, message in (("minutes_final", "纪要流程"), ("live", "不能从")):
        refused = await client.post(url, json={"status": target}, headers=chair)
        assert refused.status == 409 and message in (await error_of(refused))["message"]
    events = await _events(client, world.meeting_x)
    assert [(e["payload"]["from"], e["payload"]["to"]) for e in events] == [
        ("scheduled", "live"), ("live", "ended"), ("ended", "minutes_draft")]
    assert all(set(e["payload"]) == payload_keys("meeting_status_changed") for e in events)
    cancel = await client.post(f"/api/v1/meetings/{world.meeting_y}/status",
                               json={"status": "cancelled", "note": "申请单位撤回申请"}, headers=chair)
    assert cancel.status == 200
    assert (await _events(client, world.meeting_y))[0]["payload"]["note"] == "申请单位撤回申请"
    bad = await client.post(url, json={"status": "reopened"}, headers=chair)
    assert bad.status == 422


async def test_excuse_rules(client: TestClient, world: World, db_sessions) -> None:
    meeting = await _schedule(client, world)
    invitations = {(i["department"] or {}).get("id"): i["id"] for i in meeting["invitations"] if i["department"]}
    base = f"/api/v1/meetings/{meeting['id']}/invitations"
    other = await sign_in(client, "rep_other")  # 自然资源局, also invited to this meeting
    assert (await client.post(f"{base}/{invitations[world.dept_fgj]}/excuse", json={"reason": "代请"},
                              headers=other)).status == 403
    own = await client.post(f"{base}/{invitations[world.dept_zrj]}/excuse", json={"reason": "  参加防汛会议 "},
                            headers=other)
    assert own.status == 200
    zrj = next(i for i in (await own.json())["invitations"] if i["id"] == invitations[world.dept_zrj])
    assert (zrj["excused"], zrj["excused_reason"]) == (True, "参加防汛会议")
    event = (await _events(client, meeting["id"]))[-1]
    assert event["type"] == "invitation_excused"
    assert event["payload"] == {"schema_version": 1, "invitation_id": zrj["id"], "department_id": world.dept_zrj,
                                "reason": "参加防汛会议"}
    assert (await client.post(f"{base}/999999/excuse", json={"reason": "x"}, headers=other)).status == 404
    assert (await client.post(f"{base}/{zrj['id']}/excuse", json={"reason": ""}, headers=other)).status == 422
    chair = await sign_in(client, "chair")
    for target in ("live", "ended"):
        assert (await client.post(f"/api/v1/meetings/{meeting['id']}/status", json={"status": target},
                                  headers=chair)).status == 200
    late = await client.post(f"{base}/{invitations[world.dept_city]}/excuse", json={"reason": "迟到"}, headers=chair)
    assert late.status == 409


async def test_event_pages(client: TestClient, world: World) -> None:
    chair = await sign_in(client, "chair")
    for target in ("live", "ended", "minutes_draft"):
        await client.post(f"/api/v1/meetings/{world.meeting_x}/status", json={"status": target}, headers=chair)
    url = f"/api/v1/meetings/{world.meeting_x}/events"
    first = await (await client.get(f"{url}?limit=2")).json()
    assert [e["seq"] for e in first["events"]] == [1, 2] and first["next_after_seq"] == 2
    rest = await (await client.get(f"{url}?after_seq=2&limit=2")).json()
    assert [e["seq"] for e in rest["events"]] == [3] and rest["next_after_seq"] is None
    assert rest["events"][0]["prev_hash"] == first["events"][1]["hash"]
    assert rest["events"][0]["ts"].endswith("+08:00")
    for bad in ("limit=0", "limit=501", "after_seq=-1", "after_seq=x"):
        assert (await client.get(f"{url}?{bad}")).status == 422, bad


async def test_verify_reports_intact_then_tampering(client: TestClient, world: World, db_sessions) -> None:
    chair = await sign_in(client, "chair")
    for target in ("live", "ended"):
        await client.post(f"/api/v1/meetings/{world.meeting_x}/status", json={"status": target}, headers=chair)
    url = f"/api/v1/meetings/{world.meeting_x}/events/verify"
    await sign_in(client, "archivist")
    intact = await (await client.get(url)).json()
    # live, ended, and minutes_draft (the draft made when the meeting ended)
    assert intact["intact"] is True and intact["count"] == 3 and intact["problems"] == []
    events = await _events(client, world.meeting_x)
    assert intact["head_hash"] == events[-1]["hash"]
    await drop_append_only_triggers(db_sessions)  # simulates someone with direct database access
    async with db_sessions() as db:
        await db.execute(update(MeetingEvent).where(MeetingEvent.meeting_id == world.meeting_x,
                                                    MeetingEvent.seq == 1)
                         .values(payload={"from": "scheduled", "to": "cancelled", "note": ""}))
        await db.commit()
    report = await (await client.get(url)).json()
    assert report["intact"] is False
    assert [(p["seq"], p["kind"]) for p in report["problems"]] == [(1, "changed")]
    assert "event seq 1 was changed" in report["problems"][0]["message"]


BAD_BODIES = [
    ("malformed JSON", b'{"title": "x",', 400, "malformed JSON"),
    ("not an object", b"[1, 2]", 422, "validation failed"),
    ("unknown field", {"colour": "red"}, 422, "colour"),
    ("naive datetime", {"scheduled_start": "2026-12-10T09:30:00"}, 422, "scheduled_start"),
    ("invalid datetime", {"scheduled_start": "2026-02-30T09:30:00+08:00"}, 422, "scheduled_start"),
    ("absurd year", {"scheduled_start": "0001-01-01T00:00:00+08:00"}, 422, "year"),
    ("end before start", {"scheduled_end": "2026-12-10T08:00:00+08:00"}, 422, "end must be after"),
    ("end equals start", {"scheduled_end": "2026-12-10T09:30:00+08:00"}, 422, "end must be after"),
    ("id as string", {"lead_department_id": str(1)}, 422, "lead_department_id"),
    ("id too large", {"agenda_item_ids": [2**40]}, 422, "agenda_item_ids"),
    ("empty agenda", {"agenda_item_ids": []}, 422, "agenda_item_ids"),
    ("duplicate agenda item", "dup", 422, "appears twice"),
    ("unknown agenda item", {"agenda_item_ids": [999999]}, 422, "unknown approval items"),
    ("unknown department", {"observer_department_ids": [999999]}, 422, "unknown departments"),
    ("unknown lead department", {"lead_department_id": 999999}, 422, "unknown departments"),
    ("item department as observer", "observer", 422, "both members and observers"),
    ("unknown division", {"sites": [{"name": "外省", "division_code": "110000"}]}, 422, "unknown divisions"),
    ("malformed division", {"sites": [{"name": "x", "division_code": "53092"}]}, 422, "division_code"),
    ("NUL in title", {"title": "会议\x00"}, 422, "control characters"),
    ("title too long", {"title": "长" * 257}, 422, "title"),
    ("empty title", {"title": "   "}, 422, "title"),
    ("null chair", {"chair_id": None, "lead_department_id": None}, 422, "lead_department_id"),
]


@pytest.mark.parametrize(("name", "body", "status", "fragment"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
async def test_bad_input_is_refused_and_writes_nothing(client: TestClient, world: World, db_sessions,
                                                       name: str, body: Any, status: int, fragment: str) -> None:
    headers = await sign_in(client, "chair")
    before = await count_rows(db_sessions, *MEETING_TABLES)
    if body == "dup":
        body = plan(world, agenda_item_ids=[world.item_x, world.item_x])
    elif body == "observer":
        body = plan(world, observer_department_ids=[world.dept_zrj])
    elif isinstance(body, dict):
        body = plan(world, **body)
    if isinstance(body, bytes):
        response = await client.post("/api/v1/meetings", data=body,
                                     headers={**headers, "Content-Type": "application/json"})
    else:
        response = await client.post("/api/v1/meetings", json=body, headers=headers)
    assert response.status == status, await response.text()
    assert fragment in (await error_of(response))["message"]
    assert await count_rows(db_sessions, *MEETING_TABLES) == before


async def test_decided_items_and_oversize_bodies_are_refused(client: TestClient, world: World, db_sessions) -> None:
    async with db_sessions() as db:
        await db.execute(update(ApprovalItem).where(ApprovalItem.id == world.item_y).values(status="approved"))
        await db.commit()
    headers = await sign_in(client, "chair")
    before = await count_rows(db_sessions, *MEETING_TABLES)
    decided = await client.post("/api/v1/meetings", json=plan(world), headers=headers)
    assert decided.status == 422
    assert "already decided" in (await error_of(decided))["message"]
    huge = await client.post("/api/v1/meetings", json=plan(world, place="x" * 2_000_000), headers=headers)
    assert huge.status == 413
    wrong_type = await client.post("/api/v1/meetings", data="title=x", headers={
        **headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert wrong_type.status == 415
    assert await count_rows(db_sessions, *MEETING_TABLES) == before
    async with db_sessions() as db:
        assert await db.scalar(select(Meeting.place).where(Meeting.id == world.meeting_x)) == "凤庆县政务服务中心三楼会商室"
    # An item decided after it was put on the agenda does not block changing the meeting.
    moved = await client.patch(f"/api/v1/meetings/{world.meeting_y}", json={"place": "一楼大厅"}, headers=headers)
    assert moved.status == 200, await moved.text()
