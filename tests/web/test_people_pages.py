"""The people administration page: administrators only, A/B pairs, create and (de)activate."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db.models import User
from tests.api.meetings_support import count_rows, sign_in
from tests.world import PASSWORD, World, build_world


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)


async def test_only_admins_see_the_page(client: TestClient, world: World) -> None:
    anonymous = await client.get("/people", allow_redirects=False)
    assert anonymous.status == 302 and anonymous.headers["Location"].startswith("/login")
    for username in ("chair", "rep_a", "archivist"):
        await sign_in(client, username)
        response = await client.get("/people")
        assert response.status == 403, username
        assert "只有系统管理员" in await response.text()


async def test_pairs_and_accounts_are_listed(client: TestClient, world: World) -> None:
    await sign_in(client, "admin")
    html = await (await client.get("/people")).text()
    row = re.search(r'<th scope="row">凤庆县发展和改革局</th>(.*?)</tr>', html, re.S).group(1)
    assert row.index("王发改") < row.index("赵发改")  # A column, then B column
    city = re.search(r'<th scope="row">临沧市发展和改革委员会</th>(.*?)</tr>', html, re.S).group(1)
    assert city.count("空缺") == 2
    assert "受凤庆县小湾生态渔业有限公司委托（凤代办委〔2026〕7号）" in html
    english = await (await client.get("/people?lang=en")).text()
    assert "Chief representatives" in english and "Post B" in english


async def test_create_person_form(client: TestClient, world: World, db_sessions) -> None:
    headers = await sign_in(client, "admin")
    token = headers["X-CSRF-Token"]
    before = await count_rows(db_sessions, User)
    taken = await client.post("/people", data={"csrf_token": token, "username": "b_post", "display_name": "孙发改",
                                               "password": PASSWORD, "role": "chief_rep",
                                               "department_code": "FQ-FGJ", "post": "B"})
    assert taken.status == 409
    taken_html = await taken.text()
    assert "已由 rep_b 担任" in taken_html and 'value="孙发改"' in taken_html
    assert await count_rows(db_sessions, User) == before
    created = await client.post("/people", allow_redirects=False, data={
        "csrf_token": token, "username": "zrj_b", "display_name": "孙自然", "password": PASSWORD,
        "role": "chief_rep", "department_code": "FQ-ZRJ", "post": "B"})
    assert created.status == 302
    html = await (await client.get("/people")).text()
    row = re.search(r'<th scope="row">凤庆县自然资源局</th>(.*?)</tr>', html, re.S).group(1)
    assert "钱自然" in row and "孙自然" in row


async def test_deactivate_and_reactivate(client: TestClient, world: World, db_sessions) -> None:
    headers = await sign_in(client, "admin")
    url = f"/people/{world.user_ids['applicant_other']}/active"
    response = await client.post(url, data={"csrf_token": headers["X-CSRF-Token"], "active": "0"},
                                 allow_redirects=False)
    assert response.status == 302
    async with db_sessions() as db:
        assert await db.scalar(select(User.is_active).where(User.id == world.user_ids["applicant_other"])) is False
    refused = await client.post(f"/people/{world.user_ids['admin']}/active",
                                data={"csrf_token": headers["X-CSRF-Token"], "active": "0"})
    assert refused.status == 409
    await client.post(url, data={"csrf_token": headers["X-CSRF-Token"], "active": "1"})
    await sign_in(client, "applicant_other")
