"""Approval items and clock suspensions over the API: who may change what, and the clock after."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient

from server.db.models import ApprovalItem, ClockSuspension
from server.services.clock import centre_today
from tests.api.case_world import error_of, new_case, new_item, row_counts, sign_in, world_with_calendar


async def test_add_item_defaults_and_refusals(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    url = f"/api/v1/cases/{world.case_x}/items"
    added = await client.post(url, json=new_item(world.dept_city, accepted_on="2026-11-02"), headers=headers)
    assert added.status == 201, await added.text()
    item = await added.json()
    assert (item["case_id"], item["level"], item["status"], item["department"]["code"]) == (
        world.case_x, "city", "accepted", "LC-FGW")  # level follows the department
    assert item["clock"]["promised_deadline"] == "2026-11-16" and item["clock"]["state"] == "running"
    pending = await client.post(url, json=new_item(world.dept_fgj, accepted_on=None), headers=headers)
    assert pending.status == 201
    assert (await pending.json())["status"] == "pending"
    assert (await pending.json())["clock"] == {
        "state": "not_started", "used": None, "left": None, "promised_deadline": None, "statutory_deadline": None,
        "overdue": False, "statutory_overdue": False, "suspended": False, "provisional": False}
    approved = await client.post(url, headers=headers, json=new_item(
        world.dept_fgj, status="approved", document_no="凤发改备〔2026〕12号", result="准予备案"))
    assert approved.status == 201 and (await approved.json())["clock"]["state"] == "decided"

    before = await row_counts(db_sessions)
    for changes, field in [
        ({"promised_limit_wd": 21}, "promised_limit_wd"),  # a promise slower than the law
        ({"promised_limit_wd": 0}, "promised_limit_wd"),
        ({"department_id": 999999}, "department_id"),
        ({"level": "province"}, "level"),
        ({"status": "suspended"}, "status"),
        ({"status": "approved"}, "document_no"),
        ({"status": "in_review", "accepted_on": None}, "status"),
        ({"status": "pending"}, "status"),
        ({"accepted_on": "1999-12-31"}, "accepted_on"),
        ({"statutory_limit_wd": "20"}, "statutory_limit_wd"),
        ({"name": ""}, "name"),
        ({"deadline": "2026-12-01"}, "deadline"),
    ]:
        response = await client.post(url, json={**new_item(world.dept_fgj), **changes}, headers=headers)
        error = error_of(await response.json())
        assert response.status == 422, (changes, error)
        assert field in {d["field"] for d in error["details"]}, (changes, error)
    assert (await client.post("/api/v1/cases/999999/items", json=new_item(world.dept_fgj),
                              headers=headers)).status == 404
    assert await row_counts(db_sessions) == before


async def test_chief_rep_decides_only_own_items_and_only_the_outcome(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    url = f"/api/v1/items/{world.item_x}"
    headers = await sign_in(client, "rep_b")  # the B post acts with A's authority
    result = await client.patch(url, json={"result": "材料齐全"}, headers=headers)
    assert result.status == 200 and (await result.json())["result"] == "材料齐全"
    headers = await sign_in(client, "rep_a")
    for beyond in ({"name": "改名"}, {"promised_limit_wd": 20}, {"accepted_on": "2026-03-11"},
                   {"department_id": world.dept_zrj}):
        refused = await client.patch(url, json={"result": "x", **beyond}, headers=headers)
        assert refused.status == 403, beyond
        assert error_of(await refused.json())["details"][0]["field"] == next(iter(beyond))
    no_document = await client.patch(url, json={"status": "approved"}, headers=headers)
    assert no_document.status == 422
    decided = await client.patch(url, headers=headers,
                                 json={"status": "approved", "document_no": "凤发改备〔2026〕3号", "result": "准予备案"})
    assert decided.status == 200, await decided.text()
    body = await decided.json()
    # Decided today, long after its promised 5 working days: the clock stops late, and says so.
    assert (body["status"], body["document_no"], body["decided_on"], body["clock"]["state"],
            body["clock"]["overdue"]) == ("approved", "凤发改备〔2026〕3号", centre_today().isoformat(), "decided", True)

    headers = await sign_in(client, "rep_other")  # cannot even see case X
    assert (await client.patch(url, json={"result": "x"}, headers=headers)).status == 404
    for account in ("applicant", "agent", "archivist"):
        headers = await sign_in(client, account)
        assert (await client.patch(url, json={"result": "x"}, headers=headers)).status == 403, account


async def test_rep_who_sees_the_case_but_not_the_item_gets_403(client: TestClient, db_sessions) -> None:
    """A case with items of two departments: each department sees the case, decides only its own."""
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    case = await (await client.post("/api/v1/cases", json=new_case(world), headers=headers)).json()
    items = []
    for department in (world.dept_fgj, world.dept_zrj):
        response = await client.post(f"/api/v1/cases/{case['id']}/items", json=new_item(department),
                                     headers=headers)
        items.append((await response.json())["id"])
    fgj_item, zrj_item = items
    headers = await sign_in(client, "rep_other")
    assert (await client.get(f"/api/v1/cases/{case['id']}")).status == 200
    assert (await client.patch(f"/api/v1/items/{fgj_item}", json={"result": "x"}, headers=headers)).status == 403
    suspend = {"start": "2026-11-03", "notice_no": "n1", "reason": "补正材料"}
    assert (await client.post(f"/api/v1/items/{fgj_item}/suspensions", json=suspend,
                              headers=headers)).status == 403
    assert (await client.patch(f"/api/v1/items/{zrj_item}", json={"status": "in_review"},
                               headers=headers)).status == 200


async def test_chair_edits_any_item_field(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    url = f"/api/v1/items/{world.item_x}"
    changed = await client.patch(url, headers=headers, json={
        "name": "企业投资项目备案（变更）", "accepted_on": "2026-03-11", "promised_limit_wd": 6})
    assert changed.status == 200, await changed.text()
    body = await changed.json()
    assert (body["name"], body["accepted_on"], body["clock"]["promised_deadline"]) == (
        "企业投资项目备案（变更）", "2026-03-11", "2026-03-19")
    moved = await client.patch(url, json={"department_id": world.dept_city}, headers=headers)
    assert moved.status == 200 and (await moved.json())["level"] == "city"
    for changes, status, field in [
        ({"accepted_on": None}, 422, "status"),  # in review needs an acceptance date
        ({"statutory_limit_wd": 5}, 422, "promised_limit_wd"),
        ({"status": None}, 422, "status"),
        ({"status": "suspended"}, 422, "status"),
        ({"level": "county"}, 422, "level"),
    ]:
        response = await client.patch(url, json=changes, headers=headers)
        error = error_of(await response.json())
        assert response.status == status, (changes, error)
        assert error["details"][0]["field"] == field, (changes, error)
    pending = await client.post(f"/api/v1/cases/{world.case_x}/items", headers=headers,
                                json=new_item(world.dept_fgj, accepted_on=None))
    accepted = await client.patch(f"/api/v1/items/{(await pending.json())['id']}", headers=headers,
                                  json={"accepted_on": "2026-11-02"})
    assert (await accepted.json())["status"] == "accepted"  # giving the date accepts the item
    assert (await client.patch("/api/v1/items/999999", json={"result": "x"}, headers=headers)).status == 404


async def test_suspend_and_resume_move_the_deadline(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "rep_a")
    url = f"/api/v1/items/{world.item_x}/suspensions"
    suspended = await client.post(url, headers=headers, json={
        "start": "2026-03-12", "notice_no": "凤发改中止〔2026〕1号", "reason": "需补正环评批复"})
    assert suspended.status == 201, await suspended.text()
    item = await suspended.json()
    (period,) = item["suspensions"]
    assert item["status"] == "suspended" and item["clock"]["suspended"] is True
    assert (period["start"], period["end"], period["suspend_notice_no"], period["reason"]) == (
        "2026-03-12", None, "凤发改中止〔2026〕1号", "需补正环评批复")
    listed = await (await client.get("/api/v1/cases?suspended=true")).json()
    assert [case["id"] for case in listed["items"]] == [world.case_x]
    assert listed["items"][0]["clock"]["suspended"] is True

    again = await client.post(url, headers=headers, json={"start": "2026-03-13", "notice_no": "n2", "reason": "r"})
    assert again.status == 409
    patched = await client.patch(f"/api/v1/items/{world.item_x}", json={"status": "in_review"}, headers=headers)
    assert patched.status == 409  # resume first

    headers = await sign_in(client, "rep_b")  # the B post resumes what the A post suspended
    resume = f"{url}/{period['id']}/resume"
    early = await client.post(resume, json={"end": "2026-03-11", "notice_no": "r1"}, headers=headers)
    assert early.status == 422 and error_of(await early.json())["details"][0]["field"] == "end"
    future = (centre_today() + timedelta(days=1)).isoformat()
    assert (await client.post(resume, json={"end": future, "notice_no": "r1"}, headers=headers)).status == 422
    resumed = await client.post(resume, json={"end": "2026-03-13", "notice_no": "凤发改恢复〔2026〕1号"},
                                headers=headers)
    assert resumed.status == 200, await resumed.text()
    item = await resumed.json()
    assert item["status"] == "in_review" and item["clock"]["suspended"] is False
    assert item["suspensions"][0]["end"] == "2026-03-13"
    assert item["suspensions"][0]["resume_notice_no"] == "凤发改恢复〔2026〕1号"
    # The suspended 12th and 13th do not count: 5 working days now end on the 19th, not the 17th.
    assert item["clock"]["promised_deadline"] == "2026-03-19"
    twice = await client.post(resume, json={"end": "2026-03-14", "notice_no": "r2"}, headers=headers)
    assert twice.status == 409

    before = await row_counts(db_sessions)
    for start, reason in [("2026-03-13", "overlaps the closed period"), ("2026-03-09", "before acceptance"),
                          (future, "in the future")]:
        refused = await client.post(url, json={"start": start, "notice_no": "n3", "reason": "r"}, headers=headers)
        assert refused.status == 422, reason
        assert error_of(await refused.json())["details"][0]["field"] == "start", reason
    for body in ({"start": "2026-03-20", "notice_no": "", "reason": "r"},
                 {"start": "2026-03-20", "notice_no": "n", "reason": ""},
                 {"start": "2026-03-20", "notice_no": "n"}):
        assert (await client.post(url, json=body, headers=headers)).status == 422, body
    assert await row_counts(db_sessions) == before


async def test_suspension_scope_and_state(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    body = {"start": "2026-04-03", "notice_no": "凤自然资中止〔2026〕2号", "reason": "补正材料"}
    headers = await sign_in(client, "chair")
    suspended = await client.post(f"/api/v1/items/{world.item_y}/suspensions", json=body, headers=headers)
    assert suspended.status == 201
    sid = (await suspended.json())["suspensions"][0]["id"]
    # The suspension belongs to item Y: reached through item X it does not exist.
    wrong_item = await client.post(f"/api/v1/items/{world.item_x}/suspensions/{sid}/resume",
                                   json={"end": "2026-04-07", "notice_no": "r"}, headers=headers)
    assert wrong_item.status == 404
    pending = await client.post(f"/api/v1/cases/{world.case_x}/items", headers=headers,
                                json=new_item(world.dept_fgj, accepted_on=None))
    pending_id = (await pending.json())["id"]
    not_started = await client.post(f"/api/v1/items/{pending_id}/suspensions", json=body, headers=headers)
    assert not_started.status == 409
    await client.patch(f"/api/v1/items/{world.item_x}", headers=headers,
                       json={"status": "rejected", "document_no": "凤发改不予〔2026〕1号"})
    decided = await client.post(f"/api/v1/items/{world.item_x}/suspensions", json=body, headers=headers)
    assert decided.status == 409

    headers = await sign_in(client, "rep_a")  # item Y belongs to 自然资源局, case Y is not visible
    resume = f"/api/v1/items/{world.item_y}/suspensions/{sid}/resume"
    assert (await client.post(resume, json={"end": "2026-04-07", "notice_no": "r"}, headers=headers)).status == 404
    headers = await sign_in(client, "applicant_other")  # sees case Y, may not act on it
    assert (await client.post(resume, json={"end": "2026-04-07", "notice_no": "r"}, headers=headers)).status == 403
    headers = await sign_in(client, "rep_other")
    resumed = await client.post(resume, json={"end": "2026-04-07", "notice_no": "r"}, headers=headers)
    assert resumed.status == 200, await resumed.text()


async def test_rows_dated_after_today_do_not_break_reads(client: TestClient, db_sessions) -> None:
    """Rows written around the service (a seed, a clock set back) may carry dates after today;
    a clock is read as of today, when they have not happened yet, instead of failing the list and
    the detail."""
    world = await world_with_calendar(db_sessions)
    tomorrow = centre_today() + timedelta(days=1)
    async with db_sessions() as db:
        item = await db.get(ApprovalItem, world.item_y)
        item.accepted_on, item.status = tomorrow, "suspended"
        db.add(ClockSuspension(item_id=world.item_y, start=tomorrow + timedelta(days=1), reason="r",
                               suspend_notice_no="n"))
        await db.commit()
    await sign_in(client, "chair")
    assert (await client.get("/api/v1/cases")).status == 200
    detail = await client.get(f"/api/v1/cases/{world.case_y}")
    assert detail.status == 200
    clock = (await detail.json())["items"][0]["clock"]
    assert (clock["state"], clock["used"], clock["suspended"], clock["overdue"]) == ("not_started", None, False, False)
