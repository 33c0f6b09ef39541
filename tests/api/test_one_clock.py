"""One clock (issue 12): the case list, the case page, the API and the archive show the same
figures for a case, counted from its acceptance in working days without suspended (中止) and
excluded (§45) periods nor days no item is in hand, and stopped by the decisions; decisions carry
their dates; excluded periods stop the clocks without suspending the item."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from aiohttp.test_utils import TestClient

from server.services.clock import centre_today
from tests.api.case_world import error_of, new_case, new_item, sign_in, world_with_calendar
from tests.world import World

CODE = "2611-530921-04-01-712345"


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


async def _case_with_history(client: TestClient, world: World) -> tuple[int, int, int]:
    """A 备案制 case (34 working days) with three items:
    A (发改局) accepted Mon 2 March 2026, suspended 4-6 March for supplementation, approved Fri 13th;
    B (自然资源局) accepted Mon 9 March, in a §45 expert review since Wed 11th (still open);
    C not yet filed. The centre's days: 3 March (A), 9-13 March (A, B) = 6; since then A is
    decided and B stopped, so the case's clock stands still."""
    headers = await sign_in(client, "chair")
    case = await _ok(await client.post("/api/v1/cases", json=new_case(world, code=CODE), headers=headers), 201)
    url = f"/api/v1/cases/{case['id']}/items"
    a = await _ok(await client.post(url, json=new_item(world.dept_fgj, accepted_on="2026-03-02"), headers=headers), 201)
    b = await _ok(await client.post(url, json=new_item(world.dept_zrj, name="建设用地规划许可", accepted_on="2026-03-09"),
                                    headers=headers), 201)
    await _ok(await client.post(url, json=new_item(world.dept_fgj, name="施工许可", accepted_on=None),
                                headers=headers), 201)
    suspended = await _ok(await client.post(f"/api/v1/items/{a['id']}/suspensions", headers=headers, json={
        "start": "2026-03-04", "notice_no": "凤发改补正〔2026〕3号", "reason": "补正节能报告"}), 201)
    sid = suspended["suspensions"][0]["id"]
    await _ok(await client.post(f"/api/v1/items/{a['id']}/suspensions/{sid}/resume", headers=headers,
                                json={"end": "2026-03-06", "notice_no": "凤发改恢复〔2026〕3号"}))
    await _ok(await client.patch(f"/api/v1/items/{a['id']}", headers=headers, json={
        "status": "approved", "document_no": "凤发改备〔2026〕21号", "decided_on": "2026-03-13"}))
    excluded = await _ok(await client.post(f"/api/v1/items/{b['id']}/suspensions", headers=headers, json={
        "start": "2026-03-11", "notice_no": "凤自然资专审〔2026〕1号", "reason": "组织专家评审",
        "kind": "excluded"}), 201)
    assert (excluded["status"], excluded["suspensions"][0]["kind"]) == ("accepted", "excluded")
    return case["id"], a["id"], b["id"]


async def test_list_page_api_and_archive_show_the_same_case_clock(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    case_id, _, _ = await _case_with_history(client, world)
    await sign_in(client, "admin")
    detail = await _ok(await client.get(f"/api/v1/cases/{case_id}"))
    (row,) = [c for c in (await _ok(await client.get("/api/v1/cases")))["items"] if c["id"] == case_id]
    dossier = await _ok(await client.get(f"/api/v1/archive/cases/{case_id}/dossier"))
    clock_file = json.loads(await (await client.get(f"/api/v1/archive/cases/{case_id}/file",
                                                    params={"name": "case/clock.json"})).text())
    clock = detail["clock"]
    assert row["clock"] == clock == dossier["case"]["clock"] == clock_file["clock"]
    assert clock_file["clock_as_of"] == centre_today().isoformat()
    assert (clock["state"], clock["limit_wd"], clock["start"], clock["used"], clock["left"], clock["overdue"],
            clock["suspended"]) == ("excluded", 34, "2026-03-02", 6, 28, False, True)
    assert (clock["items_total"], clock["items_running"], clock["items_overdue"]) == (3, 1, 0)
    item_a, item_b, item_c = detail["items"]
    assert [i["clock"] for i in detail["items"]] == [i["clock"] for i in dossier["case"]["items"]]
    assert (item_a["decided_on"], item_a["clock"]["state"], item_a["clock"]["used"], item_a["clock"]["left"],
            item_a["clock"]["overdue"]) == ("2026-03-13", "decided", 6, 4, False)
    assert (item_b["clock"]["state"], item_b["clock"]["used"], item_b["clock"]["left"]) == ("excluded", 1, 9)
    assert item_c["clock"]["state"] == "not_started"

    listed = await (await client.get("/cases")).text()
    page = await (await client.get(f"/cases/{case_id}")).text()
    same = f"已用 {clock['used']} 个工作日，剩余 {clock['left']} 个"
    waiting = "暂停计时（不计入期限的程序）"
    assert same in listed and waiting in listed and f"期限 {clock['deadline']}" in listed
    assert same in page and waiting in page and f"<dd>{clock['deadline']}</dd>" in page
    assert "已办结，用时 6 个工作日" in page and "已用 1 个工作日，剩余 9 个" in page
    assert "不计入期限（听证、检验、检测、检疫、鉴定、专家评审、中介评估" in page  # the period's kind


async def test_the_case_clock_stops_when_every_item_is_decided(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    case_id, _, b_id = await _case_with_history(client, world)
    headers = await sign_in(client, "chair")
    detail = await _ok(await client.get(f"/api/v1/cases/{case_id}"))
    item_b = detail["items"][1]
    sid = item_b["suspensions"][0]["id"]
    # B may not be decided while its expert review is open.
    early = await client.patch(f"/api/v1/items/{b_id}", headers=headers, json={
        "status": "approved", "document_no": "地字第530921202600099号", "decided_on": "2026-03-20"})
    assert early.status == 409 and error_of(await early.json())["details"][0]["field"] == "status"
    await _ok(await client.post(f"/api/v1/items/{b_id}/suspensions/{sid}/resume", headers=headers,
                                json={"end": "2026-03-18", "notice_no": "凤自然资专审〔2026〕1号-结"}))
    await _ok(await client.patch(f"/api/v1/items/{b_id}", headers=headers, json={
        "status": "approved", "document_no": "地字第530921202600099号", "decided_on": "2026-03-20"}))
    pending = detail["items"][2]["id"]
    await _ok(await client.patch(f"/api/v1/items/{pending}", headers=headers, json={
        "status": "withdrawn", "decided_on": "2026-03-20"}))
    clock = (await _ok(await client.get(f"/api/v1/cases/{case_id}")))["clock"]
    # 3 March, 9-13 March, then B alone on 19-20 March (11-18 excluded): 8, frozen at the 20th.
    assert (clock["state"], clock["decided_on"], clock["used"], clock["left"], clock["overdue"],
            clock["suspended"]) == ("decided", "2026-03-20", 8, 26, False, False)
    assert clock == (await _ok(await client.get("/api/v1/cases?q=" + CODE)))["items"][0]["clock"]


async def test_decision_dates_are_stamped_checked_and_cleared(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "rep_a")  # the item's own department decides
    url = f"/api/v1/items/{world.item_x}"
    for changes, field in [
        ({"status": "approved", "document_no": "d", "decided_on": "2026-03-09"}, "decided_on"),  # before acceptance
        ({"status": "approved", "document_no": "d", "decided_on": date.max.isoformat()}, "decided_on"),
        ({"status": "approved", "document_no": "d", "decided_on": None}, "decided_on"),
        ({"decided_on": "2026-03-20"}, "decided_on"),  # the item is still in review
    ]:
        refused = await client.patch(url, json=changes, headers=headers)
        assert refused.status == 422, (changes, await refused.text())
        assert error_of(await refused.json())["details"][0]["field"] == field, changes
    stamped = await _ok(await client.patch(url, headers=headers, json={"status": "approved", "document_no": "d"}))
    assert stamped["decided_on"] == centre_today().isoformat()
    dated = await _ok(await client.patch(url, headers=headers, json={"decided_on": "2026-03-16"}))
    assert (dated["decided_on"], dated["clock"]["used"], dated["clock"]["overdue"]) == ("2026-03-16", 4, False)
    kept = await _ok(await client.patch(url, headers=headers, json={"result": "准予备案"}))
    assert kept["decided_on"] == "2026-03-16"  # later edits keep the decision's date
    reopened = await _ok(await client.patch(url, headers=headers, json={"status": "in_review"}))
    assert (reopened["decided_on"], reopened["clock"]["state"]) == (None, "running")


async def test_an_excluded_period_stops_both_clocks_without_suspending_the_item(client: TestClient,
                                                                                db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "rep_a")
    url = f"/api/v1/items/{world.item_x}/suspensions"
    bad = await client.post(url, headers=headers, json={"start": "2026-03-12", "notice_no": "n", "reason": "r",
                                                          "kind": "holiday"})
    assert bad.status == 422 and error_of(await bad.json())["details"][0]["field"] == "kind"
    item = await _ok(await client.post(url, headers=headers, json={
        "start": "2026-03-12", "notice_no": "凤发改检测〔2026〕1号", "reason": "委托检测", "kind": "excluded"}), 201)
    assert (item["status"], item["clock"]["state"], item["clock"]["suspended"]) == ("in_review", "excluded", True)
    again = await client.post(url, headers=headers, json={"start": "2026-03-13", "notice_no": "n2", "reason": "r"})
    assert again.status == 409  # one stop at a time
    sid = item["suspensions"][0]["id"]
    resumed = await _ok(await client.post(f"{url}/{sid}/resume", headers=headers,
                                          json={"end": "2026-03-13", "notice_no": "凤发改检测〔2026〕1号-结"}))
    # 12-13 March are not counted by either clock: promised 5 WD end on the 19th, statutory 20 on 8 April + 2.
    assert (resumed["status"], resumed["clock"]["promised_deadline"], resumed["clock"]["statutory_deadline"]) == (
        "in_review", "2026-03-19", "2026-04-10")
