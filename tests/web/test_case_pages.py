"""Case pages: the front door, the list with clocks and filters, one case, the registration form."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from server.db.models import InvestmentCase
from server.services.clock import centre_today
from tests.api.case_world import new_case, new_item, row_counts, sign_in, world_with_calendar

CODE_X, CODE_Y = "2603-530921-04-01-512345", "2604-530921-04-01-623456"


async def _page(client: TestClient, path: str, status: int = 200) -> str:
    response = await client.get(path, allow_redirects=False)
    text = await response.text()
    assert response.status == status, text[:500]
    return text


def _form(headers: dict[str, str], **fields: object) -> dict[str, object]:
    return {"csrf_token": headers["X-CSRF-Token"], **{k: str(v) for k, v in fields.items() if v is not None}}


async def test_front_door_redirects(client: TestClient, db_sessions) -> None:
    await world_with_calendar(db_sessions)
    anonymous = await client.get("/", allow_redirects=False)
    assert (anonymous.status, anonymous.headers["Location"]) == (302, "/login")
    await sign_in(client, "applicant")
    signed_in = await client.get("/", allow_redirects=False)
    assert (signed_in.status, signed_in.headers["Location"]) == (302, "/cases")
    client.session.cookie_jar.clear()
    assert (await client.get("/cases", allow_redirects=False)).headers["Location"] == "/login?next=/cases"


async def test_list_shows_visible_cases_with_clock_badges(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    fresh = await (await client.post("/api/v1/cases", json=new_case(world), headers=headers)).json()
    await client.post(f"/api/v1/cases/{fresh['id']}/items", headers=headers,
                      json=new_item(world.dept_fgj, accepted_on=centre_today().isoformat()))
    await client.post(f"/api/v1/items/{world.item_y}/suspensions", headers=headers,
                      json={"start": "2026-04-03", "notice_no": "凤自然资中止〔2026〕2号", "reason": "补正材料"})

    html = await _page(client, "/cases")
    for fragment in ("投资项目", CODE_X, CODE_Y, "凤庆县核桃深加工项目", "凤庆县小湾生态渔业有限公司", "备案制",
                     "已用 0 个工作日，剩余 34 个", "超期", '<span class="badge bad">逾期</span>',
                     '<span class="badge bad">1 项事项逾期</span>', "中止计时（补正）",
                     '<span class="badge warn">中止</span>', 'href="/cases/new"', "共 3 个项目"):
        assert fragment in html, fragment
    # Case X is past the centre's 34 days and its item past its own 5; Y is suspended; the new one runs.
    assert html.count('class="badge bad"') == 2
    assert html.count('class="badge warn">中止') == 1

    suspended = await _page(client, "/cases?suspended=true&q=")
    assert CODE_Y in suspended and CODE_X not in suspended and "共 1 个项目" in suspended
    paged = await _page(client, "/cases?limit=1&category=filing")
    assert 'rel="next"' in paged and "offset=1" in paged and "category=filing" in paged
    assert "Investment cases" in await _page(client, "/cases?lang=en")
    await _page(client, "/cases?limit=500", 422)

    await sign_in(client, "applicant")
    mine = await _page(client, "/cases")
    assert CODE_X in mine and CODE_Y not in mine and 'href="/cases/new"' not in mine


async def test_provisional_badge_for_a_deadline_in_an_unconfirmed_year(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    # Accepted today with the longest limit: the deadline lands a year ahead, past the library's data.
    await client.post(f"/api/v1/cases/{world.case_x}/items", headers=headers,
                      json=new_item(world.dept_fgj, accepted_on=centre_today().isoformat(),
                                    statutory_limit_wd=365, promised_limit_wd=300))
    html = await _page(client, f"/cases/{world.case_x}")
    assert "暂定" in html


async def test_detail_page_shows_fields_items_suspensions_and_meetings(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    suspended = await client.post(f"/api/v1/items/{world.item_x}/suspensions", headers=headers, json={
        "start": "2026-03-12", "notice_no": "凤发改中止〔2026〕1号", "reason": "需补正环评批复"})
    sid = (await suspended.json())["suspensions"][0]["id"]
    await client.post(f"/api/v1/items/{world.item_x}/suspensions/{sid}/resume", headers=headers,
                      json={"end": "2026-03-13", "notice_no": "凤发改恢复〔2026〕1号"})

    await sign_in(client, "agent")
    html = await _page(client, f"/cases/{world.case_x}")
    for fragment in ("小湾生态渔业鱼制品加工厂建设项目", CODE_X, "凤庆县小湾生态渔业有限公司", world.org_x_code,
                     "小湾镇", "<dd>3200.00</dd>", "备案制", "企业", "企业自筹", "企业投资项目备案", "凤庆县发展和改革局",
                     "2026-03-10", "法定 20 / 承诺 5", "2026-03-19", "审查中",
                     "2026-03-12 ～ 2026-03-13", "凤发改中止〔2026〕1号", "凤发改恢复〔2026〕1号", "需补正环评批复",
                     f'href="/meetings/{world.meeting_x}"', "小湾生态渔业鱼制品加工厂建设项目并联审批会议", "已安排",
                     "承诺 34 个工作日内办结", "2026-04-30", "逾期"):
        assert fragment in html, fragment
    english = await _page(client, f"/cases/{world.case_x}?lang=en")
    assert "Approval items" in english and "filing" in english

    assert "不存在或无权查看" in await _page(client, f"/cases/{world.case_y}?lang=zh", 404)
    await _page(client, "/cases/999999", 404)


async def test_new_case_form_registers_a_case(client: TestClient, db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    form = await _page(client, "/cases/new")
    assert 'name="csrf_token"' in form and '<label for="project_code">项目代码</label>' in form
    assert world.org_x_code in form  # the applicant units to choose from, with their credit codes
    response = await client.post("/cases/new", data=_form(headers, **new_case(world)), allow_redirects=False)
    assert response.status == 303, (await response.text())[:500]
    location = response.headers["Location"]
    html = await _page(client, location)
    assert "凤庆县核桃深加工项目" in html and "<dd>3200.50</dd>" in html and "2027-01-01" in html


async def test_new_case_form_shows_errors_beside_fields_and_writes_nothing(client: TestClient,
                                                                            db_sessions) -> None:
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    before = await row_counts(db_sessions)
    for changes, field, fragment in [
        ({"project_code": "2611-999999-04-01-712345"}, "project_code", "第2段"),
        ({"project_code": "2613-530921-04-01-712345"}, "project_code", "第1段"),
        ({"project_code": CODE_X}, "project_code", "项目代码已登记"),
        ({"total_investment": "abc"}, "total_investment", "总投资不是数字"),
        ({"planned_start": "2027-06-01", "planned_finish": "2027-05-01"}, "planned_finish", "早于计划开工"),
        ({"category": "approval"}, "category", "不适用审批制"),
        ({"name": ""}, "name", "name"),
        ({"organisation_id": "x"}, "organisation_id", "organisation_id"),
    ]:
        response = await client.post("/cases/new", data=_form(headers, **new_case(world, **changes)))
        html = await response.text()
        assert response.status == 422, (changes, html[:300])
        error = html[html.index(f'id="{field}-error"'):]
        assert fragment in error[:400] or fragment == field, (changes, error[:400])
        assert f'aria-describedby="{field}-error"' in html
        if changes.get("project_code"):
            assert f'value="{changes["project_code"]}"' in html  # what was typed is kept
    assert await row_counts(db_sessions) == before

    no_csrf = await client.post("/cases/new", data={k: str(v) for k, v in new_case(world).items()})
    assert no_csrf.status == 403
    await sign_in(client, "rep_a")
    assert (await client.get("/cases/new")).status == 403
    headers = await sign_in(client, "archivist")
    refused = await client.post("/cases/new", data=_form(headers, **new_case(world)), allow_redirects=False)
    assert refused.status == 403
    assert await row_counts(db_sessions) == before


def _approving_select(html: str) -> str:
    found = re.search(r'<select id="approving_department_id".*?</select>', html, re.S)
    assert found, "the form has no approving department"
    return found.group(0)


async def test_new_case_form_proposes_the_usual_approving_department(client: TestClient, db_sessions) -> None:
    """The form offers every department (the centre's own first) and preselects none before any
    case names one, then the one most cases name; what is chosen is stored and shown on the case,
    and an unknown one is refused beside the field."""
    world = await world_with_calendar(db_sessions)
    headers = await sign_in(client, "chair")
    first = _approving_select(await _page(client, "/cases/new"))
    assert "selected" not in first and first.index("凤庆县发展和改革局") < first.index("临沧市发展和改革委员会")

    async with db_sessions() as db:
        for case_id, department_id in ((world.case_x, world.dept_zrj), (world.case_y, world.dept_zrj)):
            case = await db.get(InvestmentCase, case_id)
            assert case is not None
            case.approving_department_id = department_id
        await db.commit()
    usual = _approving_select(await _page(client, "/cases/new"))
    assert re.search(rf'<option value="{world.dept_zrj}" selected>凤庆县自然资源局</option>', usual)

    response = await client.post("/cases/new", data=_form(headers, **new_case(
        world, approving_department_id=world.dept_fgj)), allow_redirects=False)
    assert response.status == 303, (await response.text())[:500]
    shown = await _page(client, response.headers["Location"])
    assert '<dd id="approving-department">凤庆县发展和改革局</dd>' in shown

    before = await row_counts(db_sessions)
    refused = await client.post("/cases/new", data=_form(headers, **new_case(
        world, code="2611-530921-04-01-712346", approving_department_id=999999)))
    html = await refused.text()
    assert refused.status == 422 and "审批部门不存在" in html[html.index('id="approving_department_id-error"'):]
    assert await row_counts(db_sessions) == before
    english = await _page(client, "/cases/new?lang=en")
    assert '<label for="approving_department_id">Approving department</label>' in english
