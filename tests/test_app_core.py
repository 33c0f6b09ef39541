"""The application core through HTTP: health, sign-in, sessions, CSRF, throttling, error shapes."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from server.settings import Settings
from tests.world import PASSWORD, build_world


async def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in over the API; returns the CSRF token scripts must echo."""
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status == 200, await response.text()
    return (await response.json())["csrf_token"]


async def test_healthz(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_login_sets_httponly_samesite_cookie(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    response = await client.post("/api/v1/auth/login", json={"username": "chair", "password": PASSWORD})
    assert response.status == 200
    cookie = response.headers["Set-Cookie"]
    assert "lianshen_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    me = await client.get("/api/v1/me")
    assert (await me.json())["role"] == "chair"


async def test_wrong_password_then_throttled(client: TestClient, db_sessions, settings: Settings) -> None:
    await build_world(db_sessions)
    for _ in range(settings.auth.login_max_failures):
        bad = await client.post("/api/v1/auth/login", json={"username": "chair", "password": "wrong-pass"})
        assert bad.status == 401
    blocked = await client.post("/api/v1/auth/login", json={"username": "chair", "password": PASSWORD})
    assert blocked.status == 429
    assert "too many" in (await blocked.json())["error"]["message"]


async def test_logout_ends_session(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    csrf = await login(client, "admin")
    assert (await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})).status == 204
    assert (await client.get("/api/v1/me")).status == 401


async def test_state_change_without_csrf_token_is_refused(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    await login(client, "admin")
    response = await client.post("/api/v1/auth/logout")
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "csrf"
    assert (await client.get("/api/v1/me")).status == 200  # still signed in: nothing changed


async def test_cross_site_post_is_refused(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    response = await client.post("/login", data={"username": "chair", "password": PASSWORD},
                                 headers={"Origin": "http://evil.example"}, allow_redirects=False)
    assert response.status == 403


async def test_login_page_flow(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    page = await client.get("/login")
    assert page.status == 200 and "登录" in await page.text()
    bad = await client.post("/login", data={"username": "chair", "password": "nope-nope"})
    assert bad.status == 401 and "用户名或密码错误" in await bad.text()
    ok = await client.post("/login", data={"username": "chair", "password": PASSWORD, "next": "//evil"},
                           allow_redirects=False)
    assert ok.status == 302 and ok.headers["Location"] == "/"


async def test_login_page_never_redirects_off_site_nor_checks_a_cut_password(client: TestClient,
                                                                             db_sessions) -> None:
    await build_world(db_sessions)
    # Browsers drop tabs and line breaks in URLs and read "\\" as "/": each of these is "//evil".
    for target in ("/\t/evil.example", "/\n/evil.example", "/\\evil.example", "/ /evil.example"):
        page = await client.get("/login", params={"next": target})
        assert f'value="{target}"' not in await page.text()
    # A password longer than any account may have is refused as typed, not checked cut to 256.
    long = await client.post("/login", data={"username": "chair", "password": PASSWORD + "x" * 300})
    assert long.status == 401
    ok = await client.post("/login", data={"username": "chair", "password": PASSWORD, "next": "/\t/evil"},
                           allow_redirects=False)
    assert ok.status == 302 and ok.headers["Location"] == "/"


async def test_api_error_shapes(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    assert (await client.get("/api/v1/me")).status == 401
    malformed = await client.post("/api/v1/auth/login", data=b"{not json",
                                  headers={"Content-Type": "application/json"})
    assert malformed.status == 400 and "malformed JSON" in (await malformed.json())["error"]["message"]
    unknown = await client.post("/api/v1/auth/login", json={"username": "a", "password": "b", "x": 1})
    body = await unknown.json()
    assert unknown.status == 422 and body["error"]["details"][0]["field"] == "x"
    wrong_type = await client.post("/api/v1/auth/login", json={"username": 5, "password": "b"})
    assert wrong_type.status == 422
    not_json = await client.post("/api/v1/auth/login", data="username=a")
    assert not_json.status == 415
    missing = await client.get("/api/v1/no-such-thing")
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "not_found"


async def test_oversize_body_is_413(client: TestClient, settings: Settings) -> None:
    big = b"{" + b" " * (settings.server.max_body_bytes + 10) + b"}"
    response = await client.post("/api/v1/auth/login", data=big, headers={"Content-Type": "application/json"})
    assert response.status == 413


async def test_every_answer_forbids_framing_by_others_and_sniffing(client: TestClient, db_sessions) -> None:
    """Pages, API errors, static files and 404s alike carry the baseline headers."""
    await build_world(db_sessions)
    for path in ("/login", "/api/v1/cases", "/healthz", "/no-such-page", "/static/css/app.css"):
        response = await client.get(path, allow_redirects=False)
        assert response.headers.get("X-Frame-Options") == "SAMEORIGIN", path
        assert "frame-ancestors 'self'" in response.headers.get("Content-Security-Policy", ""), path
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path
        assert response.headers.get("Referrer-Policy") == "same-origin", path
