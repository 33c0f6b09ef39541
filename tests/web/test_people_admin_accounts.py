"""The people page's account care: locked accounts and their unlock, password resets, the record.

Everything through the real server: the forms with their CSRF token, the person signing in again.
"""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db.models import AccountAudit, AuthSession, LoginLock
from server.settings import Settings
from tests.api.meetings_support import sign_in
from tests.world import PASSWORD, World, build_world

NEW_PASSWORD = "Neu-Kennwort-2026"


@pytest.fixture
async def world(db_sessions) -> World:
    return await build_world(db_sessions)


async def lock_out(client: TestClient, username: str, settings: Settings) -> None:
    """Type wrong passwords until the account is locked."""
    client.session.cookie_jar.clear()
    for _ in range(settings.auth.login_max_failures):
        await client.post("/api/v1/auth/login", json={"username": username, "password": "wrong-password"})
    refused = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert refused.status == 429


async def audit_rows(db_sessions) -> list[AccountAudit]:
    async with db_sessions() as db:
        return list(await db.scalars(select(AccountAudit).order_by(AccountAudit.id)))


def section(html: str, heading_id: str) -> str:
    return re.search(rf'<section[^>]*aria-labelledby="{heading_id}">(.*?)</section>', html, re.S).group(1)


async def test_admin_sees_locked_accounts_and_unlocks_one(client: TestClient, world: World, db_sessions,
                                                          settings: Settings) -> None:
    await lock_out(client, "rep_b", settings)
    headers = await sign_in(client, "admin")
    locked = section(await (await client.get("/people")).text(), "locked-title")
    assert "赵发改" in locked and "rep_b" in locked and f"/people/{world.user_ids['rep_b']}/unlock" in locked
    assert "王发改" not in locked
    api = await (await client.get("/api/v1/login-locks")).json()
    assert [(row["username"], row["failures"]) for row in api] == [("rep_b", settings.auth.login_max_failures)]

    url = f"/people/{world.user_ids['rep_b']}/unlock"
    assert (await client.post(url, data={}, allow_redirects=False)).status == 403  # no CSRF token
    assert await audit_rows(db_sessions) == []
    done = await client.post(url, data={"csrf_token": headers["X-CSRF-Token"]})
    assert done.status == 200 and str(done.url).endswith(f"/people?unlocked={world.user_ids['rep_b']}")
    page = await done.text()
    assert "已解锁 赵发改 的账号" in page and "当前没有被锁定的账号" in page
    again = await client.post(url, data={"csrf_token": headers["X-CSRF-Token"]})
    assert again.status == 409  # nothing left to forgive

    [row] = await audit_rows(db_sessions)
    assert (row.actor, row.action, row.subject, row.remote) == ("admin", "unlock", "rep_b", "127.0.0.1")
    allowed = settings.auth.login_max_failures
    assert f'"failures": {allowed}' in row.detail and '"was_locked": true' in row.detail
    record = section(page, "audit-title")
    assert "解锁" in record and "rep_b" in record and "admin" in record
    api_record = await (await client.get(f"/api/v1/account-audit?subject_id={world.user_ids['rep_b']}")).json()
    assert [(r["action"], r["actor"], r["detail"]["failures"]) for r in api_record] == [("unlock", "admin", allowed)]

    await sign_in(client, "rep_b")  # the owner signs in again
    await lock_out(client, "rep_a", settings)
    chair = await sign_in(client, "chair")
    refused = await client.post(f"/people/{world.user_ids['rep_a']}/unlock",
                                data={"csrf_token": chair["X-CSRF-Token"]})
    assert refused.status == 403 and "只有系统管理员" in await refused.text()


async def test_admin_resets_a_password_from_the_page(client: TestClient, world: World, db_sessions,
                                                     settings: Settings) -> None:
    person = world.user_ids["rep_a"]
    await sign_in(client, "rep_a")  # a session that the reset must end
    await lock_out(client, "rep_a", settings)  # and a lock it must lift
    headers = await sign_in(client, "admin")
    page = await (await client.get("/people")).text()
    form = re.search(rf'<form method="post" action="/people/{person}/password">(.*?)</form>', page, re.S).group(1)
    assert 'name="csrf_token"' in form and 'type="password"' in form and "王发改 的新密码" in form

    url = f"/people/{person}/password"
    assert (await client.post(url, data={"password": NEW_PASSWORD})).status == 403  # no CSRF token
    short = await client.post(url, data={"csrf_token": headers["X-CSRF-Token"], "password": "short"})
    assert short.status == 422 and "密码至少 8 位" in await short.text()
    long = await client.post(url, data={"csrf_token": headers["X-CSRF-Token"], "password": "x" * 257})
    assert long.status == 422 and "密码最多 256 位" in await long.text()
    assert await audit_rows(db_sessions) == []

    done = await client.post(url, data={"csrf_token": headers["X-CSRF-Token"], "password": NEW_PASSWORD})
    assert done.status == 200 and "已为 王发改 设置新密码" in await done.text()
    async with db_sessions() as db:
        assert await db.scalar(select(func.count()).select_from(AuthSession)
                               .where(AuthSession.user_id == person)) == 0
        assert await db.get(LoginLock, "rep_a") is None
    [row] = await audit_rows(db_sessions)
    assert (row.actor, row.action, row.subject) == ("admin", "password_reset", "rep_a")
    assert '"was_locked": true' in row.detail

    client.session.cookie_jar.clear()
    old = await client.post("/api/v1/auth/login", json={"username": "rep_a", "password": PASSWORD})
    assert old.status == 401
    await sign_in(client, "rep_a", NEW_PASSWORD)


async def test_login_page_names_the_minutes_left(client: TestClient, world: World, settings: Settings) -> None:
    for _ in range(settings.auth.login_max_failures):
        assert (await client.post("/login", data={"username": "chair", "password": "nope-nope"})).status == 401
    locked = await client.post("/login", data={"username": "chair", "password": PASSWORD})
    assert locked.status == 429
    assert f"请 {settings.auth.login_window_minutes} 分钟后再试" in await locked.text()
