"""People administration through the API: the AB post rules, applicants' organisations, changes
that sign people out, agent commissions, applicant organisations, and refusals that write nothing."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.db.models import AgentCommission, AuthSession, Organisation, User
from tests.api.meetings_support import count_rows, error_of, sign_in
from tests.api.test_people_matrix import fresh_credit_code
from tests.world import PASSWORD, World, build_world

PEOPLE_TABLES = (User, Organisation, AgentCommission)


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)


def person(**fields: Any) -> dict[str, Any]:
    return {"username": "new_person", "display_name": "新人", "password": PASSWORD, **fields}


async def test_create_chief_rep_and_counterparts(client: TestClient, world: World) -> None:
    admin = await sign_in(client, "admin")
    created = await client.post("/api/v1/people", headers=admin, json=person(
        role="chief_rep", department_code="LC-FGW", post="B", title="副主任", phone="0883-2123456"))
    assert created.status == 201, await created.text()
    body = await created.json()
    assert (body["department"]["code"], body["department"]["level"], body["post"]) == ("LC-FGW", "city", "B")
    assert body["counterpart"] is None  # the city department has no A post yet
    people = await (await client.get(f"/api/v1/people?role=chief_rep&department_id={world.dept_fgj}")).json()
    assert [(p["username"], p["post"], p["counterpart"]["display_name"]) for p in people] == [
        ("rep_a", "A", "赵发改"), ("rep_b", "B", "王发改")]
    lone = await (await client.get(f"/api/v1/people/{world.user_ids['rep_other']}")).json()
    assert lone["counterpart"] is None
    agent = await (await client.get(f"/api/v1/people/{world.user_ids['agent']}")).json()
    assert [c["organisation"]["id"] for c in agent["commissions"]] == [world.org_x]
    assert "password_hash" not in agent


async def test_chairs_read_the_directory(client: TestClient, world: World) -> None:
    await sign_in(client, "chair")
    applicants = await (await client.get("/api/v1/people?role=applicant")).json()
    assert {p["organisation"]["id"] for p in applicants} == {world.org_x, world.org_y}
    assert (await client.get("/api/v1/people?role=boss")).status == 422


CREATE_REFUSALS = [
    ("second A post", person(role="chief_rep", department_code="FQ-FGJ", post="A"), 409, "held by rep_a"),
    ("rep without post", person(role="chief_rep", department_code="FQ-ZRJ"), 422, "post A or B"),
    ("rep without department", person(role="chief_rep", post="B"), 422, "needs a department"),
    ("unknown department", person(role="chief_rep", department_code="NOPE", post="B"), 422, "unknown department"),
    ("applicant without organisation", person(role="applicant"), 422, "needs an organisation"),
    ("invalid credit code", person(role="applicant", credit_code="91530921MA6K3A6X00"), 422, "check character"),
    ("unregistered organisation", "unregistered", 422, "unknown organisation"),
    ("agent with organisation", "agent_org", 422, "act by commission"),
    ("username taken", person(role="archivist", username="rep_a"), 409, "username taken"),
    ("bad username", person(role="archivist", username="a b"), 422, "username"),
    ("short password", person(role="archivist", password="short"), 422, "at least 8"),
    ("unknown role", person(role="boss"), 422, "role"),
    ("unknown field", person(role="archivist", is_admin=True), 422, "is_admin"),
    ("NUL in name", person(role="archivist", display_name="新\x00人"), 422, "control characters"),
    ("long phone", person(role="archivist", phone="1" * 33), 422, "phone"),
]


@pytest.mark.parametrize(("name", "body", "status", "fragment"), CREATE_REFUSALS, ids=[c[0] for c in CREATE_REFUSALS])
async def test_create_refusals_write_nothing(client: TestClient, world: World, db_sessions,
                                             name: str, body: Any, status: int, fragment: str) -> None:
    if body == "unregistered":
        body = person(role="applicant", credit_code=fresh_credit_code())
    elif body == "agent_org":
        body = person(role="agent", credit_code=world.org_x_code)
    admin = await sign_in(client, "admin")
    before = await count_rows(db_sessions, *PEOPLE_TABLES)
    response = await client.post("/api/v1/people", json=body, headers=admin)
    assert response.status == status, await response.text()
    assert fragment in (await error_of(response))["message"]
    assert await count_rows(db_sessions, *PEOPLE_TABLES) == before


async def test_deactivation_ends_sessions_but_not_ones_own(client: TestClient, world: World, db_sessions) -> None:
    await sign_in(client, "rep_b")
    assert (await client.get("/api/v1/me")).status == 200
    rep_b_cookies = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    admin = await sign_in(client, "admin")
    refused = await client.patch(f"/api/v1/people/{world.user_ids['admin']}", json={"is_active": False},
                                 headers=admin)
    assert refused.status == 409
    changed = await client.patch(f"/api/v1/people/{world.user_ids['rep_b']}", headers=admin,
                                 json={"is_active": False, "title": "四级主任科员"})
    assert changed.status == 200
    assert ((await changed.json())["is_active"], (await changed.json())["title"]) == (False, "四级主任科员")
    assert (await count_rows(db_sessions, AuthSession))["auth_sessions"] == 1  # only the admin's
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies(rep_b_cookies)
    assert (await client.get("/api/v1/me")).status == 401
    refused_login = await client.post("/api/v1/auth/login", json={"username": "rep_b", "password": PASSWORD})
    assert refused_login.status == 401
    admin = await sign_in(client, "admin")
    for body in ({}, {"is_active": "no"}, {"display_name": ""}, {"display_name": None}, {"username": "x"}):
        response = await client.patch(f"/api/v1/people/{world.user_ids['rep_b']}", json=body, headers=admin)
        assert response.status == 422, body
    assert (await client.patch("/api/v1/people/999999", json={"title": "x"}, headers=admin)).status == 404
    back = await client.patch(f"/api/v1/people/{world.user_ids['rep_b']}", json={"is_active": True}, headers=admin)
    assert back.status == 200
    await sign_in(client, "rep_b")


async def test_admin_sets_password(client: TestClient, world: World) -> None:
    await sign_in(client, "applicant")
    applicant_cookies = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    admin = await sign_in(client, "admin")
    url = f"/api/v1/people/{world.user_ids['applicant']}/password"
    short = await client.post(url, json={"password": "1234567"}, headers=admin)
    assert short.status == 422 and "at least 8" in (await error_of(short))["message"]
    assert (await client.post(url, json={"password": "Neue-Passwort-7"}, headers=admin)).status == 204
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies(applicant_cookies)
    assert (await client.get("/api/v1/me")).status == 401
    assert (await client.post("/api/v1/auth/login", json={"username": "applicant", "password": PASSWORD})).status == 401
    await sign_in(client, "applicant", "Neue-Passwort-7")


async def test_commissions_give_and_take_access(client: TestClient, world: World, db_sessions) -> None:
    admin = await sign_in(client, "admin")
    url = f"/api/v1/people/{world.user_ids['agent']}/commissions"
    body = {"organisation_id": world.org_y, "document_no": "凤代办委〔2026〕12号", "granted_on": "2026-06-01"}
    created = await client.post(url, json=body, headers=admin)
    assert created.status == 201, await created.text()
    commission = await created.json()
    assert commission["organisation"]["name"] == "凤庆县滇红茶业有限责任公司"
    assert (await client.post(url, json=body, headers=admin)).status == 409
    before = await count_rows(db_sessions, AgentCommission)
    for bad, status in (
        ({**body, "organisation_id": 999999}, 422),
        ({**body, "granted_on": "2026-02-30"}, 422),
        ({**body, "document_no": ""}, 422),
        ({**body, "organisation_id": "2"}, 422),
    ):
        assert (await client.post(url, json=bad, headers=admin)).status == status, bad
    not_agent = await client.post(f"/api/v1/people/{world.user_ids['applicant']}/commissions", json=body,
                                  headers=admin)
    assert not_agent.status == 409
    assert await count_rows(db_sessions, AgentCommission) == before

    await sign_in(client, "agent")
    assert (await client.get(f"/api/v1/meetings/{world.meeting_y}")).status == 200
    admin = await sign_in(client, "admin")
    revoked = await client.post(f"/api/v1/commissions/{commission['id']}/revoke", headers=admin)
    assert revoked.status == 200 and (await revoked.json())["revoked_on"] is not None
    again = await client.post(f"/api/v1/commissions/{commission['id']}/revoke", headers=admin)
    assert again.status == 409
    assert (await client.post("/api/v1/commissions/999999/revoke", headers=admin)).status == 404
    await sign_in(client, "agent")
    assert (await client.get(f"/api/v1/meetings/{world.meeting_y}")).status == 404


async def test_organisations(client: TestClient, world: World, db_sessions) -> None:
    chair = await sign_in(client, "chair")
    code = fresh_credit_code()
    full_width = code.translate(str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                              "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"))
    created = await client.post("/api/v1/organisations", headers=chair, json={
        "credit_code": full_width, "name": "凤庆县核桃深加工有限公司", "legal_representative": "杨核桃"})
    assert created.status == 201, await created.text()
    assert (await created.json())["credit_code"] == code
    before = await count_rows(db_sessions, Organisation)
    duplicate = await client.post("/api/v1/organisations", headers=chair, json={"credit_code": code, "name": "另一家"})
    assert duplicate.status == 409 and "already registered" in (await error_of(duplicate))["message"]
    for bad in ({"credit_code": code[:-1] + ("0" if code[-1] != "0" else "1"), "name": "校验错"},
                {"credit_code": "123", "name": "太短"},
                {"credit_code": fresh_credit_code(), "name": ""},
                {"credit_code": fresh_credit_code()}):
        response = await client.post("/api/v1/organisations", headers=chair, json=bad)
        assert response.status == 422, bad
    assert await count_rows(db_sessions, Organisation) == before
    names = [o["name"] for o in await (await client.get("/api/v1/organisations")).json()]
    assert "凤庆县核桃深加工有限公司" in names and len(names) == 3
