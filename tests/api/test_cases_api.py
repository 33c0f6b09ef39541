"""Cases over the API: lists with clocks and filters, detail, registering and changing cases."""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp.test_utils import TestClient

from server.domain.workcalendar import WorkCalendar, clock_status, deadline, library_years, seed_years_from_library
from server.services.clock import centre_today
from tests.api.case_world import error_of, new_case, new_item, row_counts, sign_in, world_with_calendar

CALENDAR = WorkCalendar(seed_years_from_library(library_years()))


async def _codes(client: TestClient, query: str = "") -> list[str]:
    response = await client.get(f"/api/v1/cases{query}")
    assert response.status == 200, await response.text()
    return [case["project_code"] for case in (await response.json())["items"]]


CODE_X, CODE_Y = "2603-530921-04-01-512345", "2604-530921-04-01-623456"


VISIBLE = {"admin": {CODE_X, CODE_Y}, "chair": {CODE_X, CODE_Y}, "archivist": {CODE_X, CODE_Y},
           "rep_a": {CODE_X}, "rep_b": {CODE_X}, "rep_other": {CODE_Y}, "applicant": {CODE_X},
           "applicant_other": {CODE_Y}, "agent": {CODE_X}}


async def test_list_shows_only_visible_cases(client: TestClient, db_sessions) -> None:
    await world_with_calendar(db_sessions)
    for account, visible in VISIBLE.items():
        await sign_in(client, account)
        assert set(await _codes(client)) == visible, account
        assert (await (await client.get("/api/v1/cases")).json())["total"] == len(visible), account


async def test_list_rows_carry_the_clock(client: TestClient, db_sessions) -> None:
    await world_with_calendar(db_sessions)
    await sign_in(client, "chair")
    page = await (await client.get("/api/v1/cases")).json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    row = next(case for case in page["items"] if case["project_code"] == CODE_X)
    # The case's clock: the centre's 34 working days for 备案制, counted like its one item's.
    expected = clock_status(CALENDAR, date(2026, 3, 10), 34, [], centre_today())
    assert row["clock"] == {
        "state": "running", "limit_wd": 34, "start": "2026-03-10", "decided_on": None,
        "used": expected.used, "left": 34 - expected.used, "deadline": "2026-04-28", "overdue": True,
        "suspended": False, "provisional": expected.provisional,
        "items_total": 1, "items_running": 1, "items_overdue": 1, "next_deadline": "2026-03-17",
    }
    assert row["organisation"]["name"] == "凤庆县小湾生态渔业有限公司"
    assert row["total_investment"] == "3200.00"


async def test_list_filters_and_paging(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    fresh = await client.post("/api/v1/cases", json=new_case(world), headers=headers)
    assert fresh.status == 201, await fresh.text()
    fresh_id = (await fresh.json())["id"]
    today = centre_today().isoformat()
    added = await client.post(f"/api/v1/cases/{fresh_id}/items",
                              json=new_item(world.dept_city, accepted_on=today), headers=headers)
    assert added.status == 201, await added.text()
    fresh_code = "2611-530921-04-01-712345"

    assert await _codes(client, "?q=鱼制品") == [CODE_X]
    assert await _codes(client, "?q=623456") == [CODE_Y]
    assert await _codes(client, "?q=%25") == []  # "%" is searched literally, not as a wildcard
    assert await _codes(client, "?category=approval") == []
    assert set(await _codes(client, "?category=filing")) == {CODE_X, CODE_Y, fresh_code}
    assert await _codes(client, "?status=accepted") == [fresh_code, CODE_Y]
    assert await _codes(client, f"?department_id={world.dept_zrj}") == [CODE_Y]
    assert await _codes(client, f"?organisation_id={world.org_y}") == [CODE_Y]
    assert set(await _codes(client, "?overdue=true")) == {CODE_X, CODE_Y}
    assert await _codes(client, "?overdue=false") == [fresh_code]
    assert await _codes(client, "?suspended=true") == []
    assert len(await _codes(client, "?suspended=false")) == 3

    first = await (await client.get("/api/v1/cases?limit=2")).json()
    second = await (await client.get("/api/v1/cases?limit=2&offset=2")).json()
    assert first["total"] == second["total"] == 3
    assert [c["project_code"] for c in first["items"] + second["items"]] == [fresh_code, CODE_Y, CODE_X]
    overdue_page = await (await client.get("/api/v1/cases?overdue=true&limit=1&offset=1")).json()
    assert overdue_page["total"] == 2 and [c["project_code"] for c in overdue_page["items"]] == [CODE_X]

    for bad in ("limit=0", "limit=201", "offset=-1", "department_id=abc", "category=other",
                "overdue=maybe", "colour=red"):
        response = await client.get(f"/api/v1/cases?{bad}")
        assert response.status == 422, bad
        assert error_of(await response.json())["message"], bad


async def test_detail_has_items_clocks_meetings_and_the_case_clock(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    await sign_in(client, "applicant")
    response = await client.get(f"/api/v1/cases/{world.case_x}")
    assert response.status == 200
    case = await response.json()
    assert case["project_code"] == CODE_X and case["town"] == "小湾镇" and case["funding_source"] == "企业自筹"
    assert case["organisation"] == {"id": world.org_x, "name": "凤庆县小湾生态渔业有限公司",
                                    "credit_code": world.org_x_code}
    (item,) = case["items"]
    assert item["department"]["code"] == "FQ-FGJ" and item["department"]["level"] == "county"
    assert (item["level"], item["accepted_on"], item["statutory_limit_wd"], item["promised_limit_wd"],
            item["status"]) == ("county", "2026-03-10", 20, 5, "in_review")
    assert item["suspensions"] == []
    assert item["clock"]["promised_deadline"] == "2026-03-17"
    assert item["clock"]["statutory_deadline"] == "2026-04-08"  # Qingming (2026-04-06) skipped
    assert item["clock"]["overdue"] and item["clock"]["statutory_overdue"]
    assert [m["id"] for m in case["meetings"]] == [world.meeting_x]
    assert case["meetings"][0]["status"] == "scheduled"
    total = case["clock"]
    assert (total["limit_wd"], total["start"]) == (34, "2026-03-10")  # 备案制: 34 working days
    assert total["deadline"] == deadline(CALENDAR, date(2026, 3, 10), 34).date.isoformat() == "2026-04-28"
    assert total["overdue"] is True

    assert (await client.get(f"/api/v1/cases/{world.case_y}")).status == 404
    assert (await client.get("/api/v1/cases/999999")).status == 404
    assert (await client.get("/api/v1/cases/abc")).status == 404


async def test_create_case(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    response = await client.post("/api/v1/cases", headers=headers,
                                 json=new_case(world, code=" 2611-530921-04-01-712345 "))
    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["project_code"] == "2611-530921-04-01-712345"  # surrounding blanks dropped
    assert created["total_investment"] == "3200.50"
    assert created["organisation"]["credit_code"] == world.org_x_code
    assert (created["planned_start"], created["planned_finish"]) == ("2027-01-01", "2027-12-31")
    assert created["items"] == [] and created["meetings"] == []
    assert created["clock"] == {
        "state": "not_started", "limit_wd": 34, "start": None, "decided_on": None, "used": None, "left": None,
        "deadline": None, "overdue": False, "suspended": False, "provisional": False, "items_total": 0,
        "items_running": 0, "items_overdue": 0, "next_deadline": None}
    fetched = await (await client.get(f"/api/v1/cases/{created['id']}")).json()
    assert fetched == created

    integer = await client.post("/api/v1/cases", headers=headers,
                                json=new_case(world, code="2611-530921-04-01-712346", total_investment=3200,
                                              category="approval", investor_type="government",
                                              planned_start=None, planned_finish=None))
    assert integer.status == 201, await integer.text()
    assert (await integer.json())["total_investment"] == "3200.00"
    assert (await integer.json())["clock"]["limit_wd"] == 37  # 审批制


REFUSED_CASES = [
    # (changes to a valid body, status, field, project-code segment)
    ({"project_code": "2611-530921-04-01-71234"}, 422, "project_code", "shape"),
    ({"project_code": "２６１１-530921-04-01-712345"}, 422, "project_code", "shape"),  # full-width
    ({"project_code": "2613-530921-04-01-712345"}, 422, "project_code", "issue_time"),
    ({"project_code": "1905-530921-04-01-712345"}, 422, "project_code", "issue_time"),
    ({"project_code": "3412-530921-04-01-712345"}, 422, "project_code", "issue_time"),  # issued in the future
    ({"project_code": "2611-999999-04-01-712345"}, 422, "project_code", "division"),
    ({"division_code": "530922"}, 422, "division_code", None),
    ({"organisation_id": 999999}, 422, "organisation_id", None),
    ({"total_investment": 3200.5}, 422, "total_investment", None),
    ({"total_investment": "-1"}, 422, "total_investment", None),
    ({"total_investment": "12.345"}, 422, "total_investment", None),
    ({"total_investment": "1e999999999"}, 422, "total_investment", None),
    ({"total_investment": "1000000000000"}, 422, "total_investment", None),
    ({"total_investment": True}, 422, "total_investment", None),
    ({"total_investment": "NaN"}, 422, "total_investment", None),
    ({"planned_start": "2027-06-01", "planned_finish": "2027-05-31"}, 422, "planned_finish", None),
    ({"planned_start": "9999-12-31"}, 422, "planned_start", None),
    ({"category": "approval"}, 422, "category", None),  # 审批制 needs government investment
    ({"category": "other"}, 422, "category", None),
    ({"name": ""}, 422, "name", None),
    ({"name": "x" * 257}, 422, "name", None),
    ({"name": "bad\x00name"}, 422, "name", None),
    ({"organisation_id": "1"}, 422, "organisation_id", None),
    ({"colour": "red"}, 422, "colour", None),
    ({"project_code": CODE_X}, 409, "project_code", None),
]


async def test_create_refusals_name_the_field_and_write_nothing(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    before = await row_counts(db_sessions)
    failures = []
    for changes, status, field, segment in REFUSED_CASES:
        response = await client.post("/api/v1/cases", json=new_case(world, **changes), headers=headers)
        error = error_of(await response.json()) if response.status >= 400 else {}
        fields = [d.get("field") for d in error.get("details", [])]
        segments = [d.get("segment") for d in error.get("details", [])]
        if response.status != status or field not in fields or (segment and segment not in segments) \
                or not error.get("message"):
            failures.append(f"{changes}: {response.status} {error}")
    assert not failures, "\n".join(failures)
    assert await row_counts(db_sessions) == before


async def test_project_code_error_names_the_segment(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    response = await client.post("/api/v1/cases", headers=headers,
                                 json=new_case(world, code="2611-999999-04-01-712345"))
    error = error_of(await response.json())
    assert response.status == 422
    assert error["details"] == [{"field": "project_code", "segment": "division", "message": error["message"]}]
    assert "999999" in error["message"] and "division" in error["message"]


async def test_a_project_code_issued_after_this_month_is_refused_on_create_and_change(
        client: TestClient, db_sessions) -> None:
    """The issue month is compared with the centre's month (Asia/Shanghai): this month passes,
    the next is refused naming the first segment."""
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    today = centre_today()
    this_month = f"{today:%y%m}-530921-04-01-712345"
    following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    next_month = f"{following:%y%m}-530921-04-01-712345"
    created = await client.post("/api/v1/cases", json=new_case(world, code=this_month), headers=headers)
    assert created.status == 201, await created.text()
    for response in (await client.post("/api/v1/cases", json=new_case(world, code=next_month), headers=headers),
                     await client.patch(f"/api/v1/cases/{world.case_x}", json={"project_code": "3412-530921-04-01"
                                        "-512345"}, headers=headers)):
        error = error_of(await response.json())
        assert response.status == 422
        assert error["details"] == [{"field": "project_code", "segment": "issue_time", "message": error["message"]}]
        assert "第1段（赋码时间）晚于本月" in error["message"] and "issue time is after the current month" in \
            error["message"]
    assert (await (await client.get(f"/api/v1/cases/{world.case_x}")).json())["project_code"] == CODE_X


async def test_malformed_requests_are_4xx_and_write_nothing(client: TestClient, db_sessions, settings) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    before = await row_counts(db_sessions)
    json_headers = {**headers, "Content-Type": "application/json"}
    malformed = await client.post("/api/v1/cases", data=b'{"name": ', headers=json_headers)
    assert malformed.status == 400 and "malformed JSON" in error_of(await malformed.json())["message"]
    not_object = await client.post("/api/v1/cases", json=["not", "an", "object"], headers=headers)
    assert not_object.status == 422
    form = await client.post("/api/v1/cases", data={"name": "x"}, headers=headers)
    assert form.status == 415
    oversize = await client.post("/api/v1/cases", headers=json_headers,
                                 data=b'{"name": "' + b"x" * settings.server.max_body_bytes + b'"}')
    assert oversize.status == 413 and error_of(await oversize.json())["message"]
    wrong_types = await client.post("/api/v1/cases", headers=headers,
                                    json=new_case(world, name=5, organisation_id=None, planned_start="soon"))
    assert wrong_types.status == 422
    assert {d["field"] for d in error_of(await wrong_types.json())["details"]} == {
        "name", "organisation_id", "planned_start"}
    missing = await client.post("/api/v1/cases", json={}, headers=headers)
    assert missing.status == 422 and "project_code" in error_of(await missing.json())["message"]
    assert await row_counts(db_sessions) == before


async def test_update_case(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    url = f"/api/v1/cases/{world.case_x}"
    changed = await client.patch(url, json={"name": "小湾鱼制品加工厂（一期）", "total_investment": "3300",
                                            "planned_start": "2027-03-01"}, headers=headers)
    assert changed.status == 200, await changed.text()
    body = await changed.json()
    assert (body["name"], body["total_investment"], body["planned_start"]) == (
        "小湾鱼制品加工厂（一期）", "3300.00", "2027-03-01")
    assert body["project_code"] == CODE_X and len(body["items"]) == 1  # untouched fields stay

    before = await row_counts(db_sessions)
    for changes, status, field in [
        ({"project_code": CODE_Y}, 409, "project_code"),
        ({"name": None}, 422, "name"),
        ({"planned_finish": "2027-02-01"}, 422, "planned_finish"),  # before the stored start
        ({"category": "approval"}, 422, "category"),
        ({"project_code": "2611-530921-4-01-712345"}, 422, "project_code"),
        ({"id": 5}, 422, "id"),
    ]:
        response = await client.patch(url, json=changes, headers=headers)
        error = error_of(await response.json())
        assert response.status == status, (changes, error)
        assert field in {d["field"] for d in error["details"]}, (changes, error)
    assert await row_counts(db_sessions) == before
    again = await (await client.get(url)).json()
    assert again["name"] == "小湾鱼制品加工厂（一期）"  # refused changes left the case as it was

    cleared = await client.patch(url, json={"planned_start": None}, headers=headers)
    assert cleared.status == 200 and (await cleared.json())["planned_start"] is None
    same_code = await client.patch(url, json={"project_code": CODE_X}, headers=headers)
    assert same_code.status == 200  # its own code is no duplicate
    assert (await client.patch("/api/v1/cases/999999", json={"name": "x"}, headers=headers)).status == 404


async def test_future_dates_are_relative_to_today(client: TestClient, db_sessions) -> None:
    """The acceptance date may be today but not tomorrow (the clock cannot start in the future)."""
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    url = f"/api/v1/cases/{world.case_x}/items"
    tomorrow = (centre_today() + timedelta(days=1)).isoformat()
    refused = await client.post(url, json=new_item(world.dept_fgj, accepted_on=tomorrow), headers=headers)
    assert refused.status == 422 and error_of(await refused.json())["details"][0]["field"] == "accepted_on"
    today = await client.post(url, json=new_item(world.dept_fgj, accepted_on=centre_today().isoformat()),
                              headers=headers)
    assert today.status == 201
    assert (await today.json())["clock"] | {"promised_deadline": None, "statutory_deadline": None,
                                            "provisional": None} == {
        "state": "running", "used": 0, "left": 10, "overdue": False, "statutory_overdue": False,
        "suspended": False, "promised_deadline": None, "statutory_deadline": None, "provisional": None}


async def test_the_approving_department_is_set_shown_changed_and_cleared(client: TestClient, db_sessions) -> None:
    """A case names its approving department (审批部门): given on registration, shown with the
    case, changed and cleared by PATCH; an unknown department is refused by the field."""
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    created = await client.post("/api/v1/cases", json=new_case(world, approving_department_id=world.dept_fgj),
                                headers=headers)
    assert created.status == 201, await created.text()
    body = await created.json()
    assert body["approving_department"] == {"id": world.dept_fgj, "code": "FQ-FGJ", "name": "凤庆县发展和改革局",
                                            "short_name": "县发改局", "level": "county"}, body
    url = f"/api/v1/cases/{body['id']}"
    changed = await client.patch(url, json={"approving_department_id": world.dept_city}, headers=headers)
    assert changed.status == 200 and (await changed.json())["approving_department"]["id"] == world.dept_city
    assert (await (await client.get(url)).json())["approving_department"]["id"] == world.dept_city

    before = await row_counts(db_sessions)
    for send in (client.post("/api/v1/cases", json=new_case(world, code="2611-530921-04-01-712346",
                                                             approving_department_id=999999), headers=headers),
                 client.patch(url, json={"approving_department_id": 999999}, headers=headers)):
        refused = await send
        error = error_of(await refused.json())
        assert refused.status == 422 and {d["field"] for d in error["details"]} == {"approving_department_id"}, error
        assert "审批部门不存在" in error["message"]
    assert await row_counts(db_sessions) == before

    cleared = await client.patch(url, json={"approving_department_id": None}, headers=headers)
    assert cleared.status == 200 and (await cleared.json())["approving_department"] is None
    without = await client.post("/api/v1/cases", json=new_case(world, code="2611-530921-04-01-712347"),
                                headers=headers)
    assert without.status == 201 and (await without.json())["approving_department"] is None
