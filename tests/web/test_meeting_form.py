"""The scheduling form for people: it proposes the case's departments and lead, lists each department
once, answers bad input by the field in the page's language, and the meeting pages in English show no
Chinese interface text (only the data: names, titles, places)."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db.models import (
    ApprovalItem,
    Department,
    Division,
    InvestmentCase,
    Invitation,
    Meeting,
    MeetingSite,
    Organisation,
    User,
)
from server.web.pages.meetings import _event_label
from tests.api.meetings_support import sign_in
from tests.world import World, build_world

# Chinese characters and full-width punctuation (，：（）「」、。；).
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
RAW_PYDANTIC = ("Field required", "String should", "Input should", "Value error", "value_error")


@pytest.fixture
async def world(db_sessions) -> World:
    world = await build_world(db_sessions)
    async with db_sessions() as db:  # case X also needs the city's opinion, and a second county item
        db.add_all([
            ApprovalItem(case_id=world.case_x, name="建设项目环境影响报告表审批", department_id=world.dept_city,
                         level="city", accepted_on=date(2026, 3, 12), statutory_limit_wd=30, promised_limit_wd=20,
                         status="in_review"),
            ApprovalItem(case_id=world.case_x, name="固定资产投资项目节能审查", department_id=world.dept_fgj,
                         level="county", accepted_on=date(2026, 3, 12), statutory_limit_wd=20, promised_limit_wd=10,
                         status="accepted"),
        ])
        await db.commit()
    return world


def _error_at(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]*)</p>', html)
    assert found, f"no error at {field}"
    return unescape(found.group(1))


def _good_fields(csrf: str, world: World) -> dict[str, str]:
    return {"csrf_token": csrf, "title": "核桃深加工项目并联审批会", "date": "2026-12-15", "start_time": "14:30",
            "end_time": "16:00", "lead_department_id": str(world.dept_fgj), "agenda_item_ids": str(world.item_y)}


async def test_proposes_the_cases_departments_and_lead(client: TestClient, world: World) -> None:
    await sign_in(client, "chair")
    response = await client.get(f"/meetings/new?case={world.case_x}")
    html = await response.text()
    assert response.status == 200, html[:300]
    lead_select = re.search(r'<select id="lead_department_id".*?</select>', html, re.S)
    assert lead_select is not None
    lead = lead_select.group(0)
    assert re.search(rf'<option value="{world.dept_fgj}" selected>凤庆县发展和改革局</option>', lead)
    proposed = html[html.index("本项目事项的承办部门"):html.index("其他部门</h2>")]
    assert "凤庆县发展和改革局" in proposed and "临沧市发展和改革委员会" in proposed and "王发改" in proposed
    assert "凤庆县自然资源局" not in proposed
    assert re.search(rf'name="invite_{world.dept_city}"[^>]*>\s*<option value="">不邀请</option>\s*'
                     r'<option value="member" selected>', html)
    for department in (world.dept_fgj, world.dept_zrj, world.dept_city):  # each department listed once
        assert html.count(f'name="invite_{department}"') == 1
        assert lead.count(f'<option value="{department}"') == 1
    assert re.search(rf'value="{world.item_x}" checked', html) and not re.search(rf'value="{world.item_y}" checked',
                                                                                   html)
    assert 'data-filter-list="#other-departments"' in html
    site_region = re.search(r'<select id="site_division_1".*?</select>', html, re.S)
    assert site_region is not None and re.search(r'<option value="530921" selected>', site_region.group(0))
    other = await (await client.get(f"/meetings/new?case={world.case_y}")).text()
    assert re.search(rf'<option value="{world.dept_zrj}" selected>', other)
    assert "钱自然" in other  # the A post of the proposed department


async def test_bad_input_is_answered_by_the_field_in_chinese(client: TestClient, world: World, db_sessions) -> None:
    headers = await sign_in(client, "chair")
    fields = {**_good_fields(headers["X-CSRF-Token"], world), "title": "会" * 257, "lead_department_id": "",
              "agenda_item_ids": "", "site_name_2": "x" * 129, "site_division_2": "530000"}
    fields.pop("agenda_item_ids")
    response = await client.post("/meetings/new", data=fields)
    html = await response.text()
    assert response.status == 422
    assert _error_at(html, "title") == "会议名称最多 256 个字符"
    assert _error_at(html, "lead_department_id") == "请选择牵头部门"
    assert _error_at(html, "agenda_item_ids") == "请选择议程（审批事项）"
    assert _error_at(html, "site_name_2") == "会商点2名称最多 128 个字符"
    assert 'aria-invalid="true" aria-describedby="title-error"' in html
    assert "请按提示修改标出的项目" in html
    for raw in (*RAW_PYDANTIC, "title 最多", "lead_department_id"):
        assert raw not in html.replace('name="lead_department_id"', "").replace('id="lead_department_id"', "") \
            .replace('"lead_department_id-error"', "").replace('for="lead_department_id"', ""), raw
    blank = await client.post("/meetings/new", data={**_good_fields(headers["X-CSRF-Token"], world), "date": ""})
    assert _error_at(await blank.text(), "date") == "请填写日期"
    async with db_sessions() as db:
        assert len((await db.scalars(select(Meeting))).all()) == 2  # nothing scheduled


async def test_bad_input_is_answered_by_the_field_in_english(client: TestClient, world: World) -> None:
    headers = await sign_in(client, "chair")
    fields = {**_good_fields(headers["X-CSRF-Token"], world), "title": ""}
    html = await (await client.post("/meetings/new?lang=en", data=fields)).text()
    assert _error_at(html, "title") == "Title is required"
    assert "Please correct the marked fields" in html
    service = await client.post("/meetings/new?lang=en", data={**_good_fields(headers["X-CSRF-Token"], world),
                                                               "end_time": "14:00"})
    html = await service.text()
    assert service.status == 422
    assert _error_at(html, "end_time") == "the end must be after the start"
    assert "结束时间" not in html and not any(raw in html for raw in RAW_PYDANTIC)
    chinese = await client.post("/meetings/new?lang=zh", data={**_good_fields(headers["X-CSRF-Token"], world),
                                                       "end_time": "14:00"})
    assert _error_at(await chinese.text(), "end_time") == "结束时间须晚于开始时间"
    invite = await client.post("/meetings/new?lang=en", data={**_good_fields(headers["X-CSRF-Token"], world),
                                                              f"invite_{world.dept_city}": "boss"})
    assert _error_at(await invite.text(), "departments") == "Choose Departments invited from the list"


async def test_a_bad_filter_on_a_page_is_said_in_the_language(client: TestClient, world: World) -> None:
    await sign_in(client, "chair")
    html = await (await client.get("/cases?category=bogus&lang=en")).text()
    assert "Choose Management category from the list" in html and "Input should" not in html
    html = await (await client.get("/cases?category=bogus&lang=zh")).text()
    assert "请从列表中选择管理类别" in html


async def _data_strings(db_sessions) -> str:
    """Every text the database holds that a page may show: Chinese there is data, not interface."""
    async with db_sessions() as db:
        texts = [*await db.scalars(select(Department.name)), *await db.scalars(select(Department.short_name)),
                 *await db.scalars(select(Division.name)), *await db.scalars(select(User.display_name)),
                 *await db.scalars(select(InvestmentCase.name)), *await db.scalars(select(ApprovalItem.name)),
                 *await db.scalars(select(Organisation.name)), *await db.scalars(select(Meeting.title)),
                 *await db.scalars(select(Meeting.place)), *await db.scalars(select(MeetingSite.name))]
    return "\n".join(texts)


def _interface_chinese(html: str, data: str) -> list[str]:
    """Chinese runs in the page's visible text and attributes that no data value contains."""
    visible = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    visible = re.sub(r'\bvalue="[^"]*"', " ", visible)  # what the person typed is theirs
    visible = re.sub(r'href="[^"]*"', " ", visible)
    # the app's name, and the link that switches to Chinese
    return [run for run in CHINESE.findall(unescape(visible)) if run not in data and run not in ("联审", "中文")]


async def test_meeting_pages_in_english_have_no_chinese_interface(client: TestClient, world: World,
                                                                  db_sessions) -> None:
    async with db_sessions() as db:  # an excused department, so its reason shows with its label
        invitation = await db.scalar(select(Invitation).where(Invitation.meeting_id == world.meeting_x,
                                                              Invitation.department_id.is_not(None)))
        invitation.excused_reason = "参加市级培训"
        await db.commit()
    headers = await sign_in(client, "chair")
    data = await _data_strings(db_sessions) + "\n参加市级培训"
    for path in ("/meetings", f"/meetings/{world.meeting_x}", "/meetings/new", f"/meetings/new?case={world.case_x}"):
        html = await (await client.get(path + ("&" if "?" in path else "?") + "lang=en")).text()
        assert _interface_chinese(html, data) == [], path
    refused = await client.post("/meetings/new?lang=en", data={**_good_fields(headers["X-CSRF-Token"], world),
                                                               "title": "x" * 300})
    assert _interface_chinese(await refused.text(), data) == []


async def test_a_missing_date_is_said_once(client: TestClient, world: World) -> None:
    headers = await sign_in(client, "chair")
    html = await (await client.post("/meetings/new?lang=zh", data={**_good_fields(headers["X-CSRF-Token"], world),
                                                                   "date": ""})).text()
    assert _error_at(html, "date") == "请填写日期"
    assert 'id="start_time-error"' not in html and 'id="end_time-error"' not in html


async def test_a_refusal_page_speaks_the_persons_language(client: TestClient, world: World, db_sessions) -> None:
    await sign_in(client, "rep_a")
    english = await client.get("/meetings/new?lang=en")
    html = await english.text()
    assert english.status == 403 and "only chairs may do this" in html
    assert _interface_chinese(html, await _data_strings(db_sessions)) == []
    chinese = await (await client.get("/meetings/new?lang=zh")).text()
    assert "只有会议主持人可以执行此操作" in chinese and "only chairs" not in chinese


def test_an_event_type_without_a_label_is_not_shown_as_its_code() -> None:
    assert _event_label("zh", "some_future_event") == "其他记录"
    assert _event_label("en", "some_future_event") == "other record"
    assert _event_label("en", "invitation_excused") != "invitation_excused"


async def test_the_lead_defaults_to_the_cases_approving_department(client: TestClient, world: World,
                                                                   db_sessions) -> None:
    """A case that names its approving department gets it as the proposed lead even when none of its
    open items is that department's (the wind farm: 核准 at province level, led by the county 发改局);
    it is then offered among the other departments, once."""
    async with db_sessions() as db:
        case = await db.get(InvestmentCase, world.case_y)
        assert case is not None
        case.approving_department_id = world.dept_fgj
        await db.commit()
    await sign_in(client, "chair")
    html = await (await client.get(f"/meetings/new?case={world.case_y}")).text()
    lead_select = re.search(r'<select id="lead_department_id".*?</select>', html, re.S)
    assert lead_select is not None
    lead = lead_select.group(0)
    assert re.search(rf'<option value="{world.dept_fgj}" selected>凤庆县发展和改革局</option>', lead), lead
    assert lead.count(f'<option value="{world.dept_fgj}"') == 1 and "selected" not in lead.replace(
        f'<option value="{world.dept_fgj}" selected>', "")
