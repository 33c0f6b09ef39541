"""Sign-in throttling through the real server: per account, atomic, growing; never per office address.

The clock is moved by editing the username's `login_locks` row (its lock ends now): the row is the
arrangement, the sign-in requests are the thing under test.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update

from server.app import build_app
from server.db.models import AuthSession, LoginAttempt, LoginLock
from server.settings import Settings, load_settings
from tests.world import PASSWORD, build_world

LOGIN = "/api/v1/auth/login"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[TestClient]:
    """A client of the real app built from `settings` (for settings the shared fixture lacks)."""
    async with TestClient(TestServer(build_app(settings), host="127.0.0.1")) as client:
        yield client


def with_settings(database_url: str, tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    return load_settings(data_dir=tmp_path / "data", database={"url": database_url}, **sections)


async def attempt(client: TestClient, username: str, password: str = "wrong-password",
                  **headers: str) -> int:
    """The status of one sign-in, as a stranger (no earlier session's cookie, so no CSRF check)."""
    client.session.cookie_jar.clear()
    response = await client.post(LOGIN, json={"username": username, "password": password}, headers=headers)
    return response.status


async def lock_row(sessions, username: str) -> LoginLock | None:
    async with sessions() as db:
        return await db.get(LoginLock, username)


async def end_lock_now(sessions, username: str) -> None:
    """The lock has run out (its failures stay on record)."""
    async with sessions() as db:
        await db.execute(update(LoginLock).where(LoginLock.username == username)
                         .values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
        await db.commit()


def minutes_left(row: LoginLock) -> float:
    return (row.locked_until - datetime.now(UTC)).total_seconds() / 60


async def test_concurrent_wrong_passwords_reach_the_check_at_most_max_times(
        client: TestClient, db_sessions, settings: Settings) -> None:
    await build_world(db_sessions)
    allowed = settings.auth.login_max_failures
    statuses = await asyncio.gather(*(attempt(client, "chair", f"wrong-{i}") for i in range(12)))
    # 401 means the password was checked and was wrong; 429 was refused before any check.
    assert Counter(statuses) == {401: allowed, 429: 12 - allowed}
    async with db_sessions() as db:
        checked = await db.scalar(select(func.count()).select_from(LoginAttempt)
                                  .where(LoginAttempt.username == "chair"))
    assert checked == allowed
    assert (await lock_row(db_sessions, "chair")).failures == allowed
    assert await attempt(client, "chair", PASSWORD) == 429  # locked: even the right password waits


async def test_typos_of_one_person_do_not_lock_colleagues_behind_the_same_address(
        client: TestClient, db_sessions, settings: Settings) -> None:
    await build_world(db_sessions)
    for _ in range(settings.auth.login_max_failures):
        assert await attempt(client, "chair") == 401
    assert await attempt(client, "chair", PASSWORD) == 429
    for colleague in ("rep_a", "admin", "archivist"):  # same address (127.0.0.1), other accounts
        assert await attempt(client, colleague, PASSWORD) == 200, colleague
        assert await attempt(client, colleague) == 401, colleague


async def test_the_lock_grows_with_every_failure_after_it(client: TestClient, db_sessions,
                                                          settings: Settings) -> None:
    await build_world(db_sessions)
    auth = settings.auth
    for _ in range(auth.login_max_failures):
        assert await attempt(client, "rep_b") == 401
    row = await lock_row(db_sessions, "rep_b")
    assert auth.login_window_minutes - 1 < minutes_left(row) <= auth.login_window_minutes
    for doubling in (2, 4):
        await end_lock_now(db_sessions, "rep_b")
        assert await attempt(client, "rep_b") == 401  # one more check once the lock is over ...
        client.session.cookie_jar.clear()
        refused = await client.post(LOGIN, json={"username": "rep_b", "password": PASSWORD})
        assert refused.status == 429  # ... and a lock twice as long after it fails
        expected = auth.login_window_minutes * doubling
        assert f"{expected} minutes" in (await refused.json())["error"]["message"]
        row = await lock_row(db_sessions, "rep_b")
        assert expected - 1 < minutes_left(row) <= expected
    await end_lock_now(db_sessions, "rep_b")
    assert await attempt(client, "rep_b", PASSWORD) == 200
    assert await lock_row(db_sessions, "rep_b") is None  # a success forgives the history


async def test_a_success_forgives_and_a_quiet_day_forgets(client: TestClient, db_sessions,
                                                          settings: Settings) -> None:
    await build_world(db_sessions)
    allowed = settings.auth.login_max_failures
    for _ in range(2):  # twice: the success in between starts the count again
        for _ in range(allowed - 1):
            assert await attempt(client, "archivist") == 401
        assert await attempt(client, "archivist", PASSWORD) == 200
    for _ in range(allowed):
        assert await attempt(client, "archivist") == 401
    async with db_sessions() as db:  # the failures happened longer ago than the longest lock
        long_ago = datetime.now(UTC) - timedelta(minutes=settings.auth.login_lock_max_minutes + 1)
        await db.execute(update(LoginLock).where(LoginLock.username == "archivist")
                         .values(locked_until=long_ago, last_failure_at=long_ago))
        await db.commit()
    assert await attempt(client, "archivist") == 401
    assert (await lock_row(db_sessions, "archivist")).failures == 1


async def test_unknown_usernames_lock_exactly_like_accounts(client: TestClient, db_sessions,
                                                            settings: Settings) -> None:
    """A lockout must not tell which usernames exist."""
    await build_world(db_sessions)
    for username in ("chair", "no_such_person"):
        answers = [await attempt(client, username) for _ in range(settings.auth.login_max_failures + 1)]
        assert answers == [401] * settings.auth.login_max_failures + [429], username


async def test_an_address_guessing_usernames_does_not_lock_real_accounts(database_url: str, tmp_path: Path,
                                                                         db_sessions) -> None:
    settings = with_settings(database_url, tmp_path, auth={"login_address_unknown_failures": 3})
    await build_world(db_sessions)
    async with serving(settings) as client:
        for i in range(5):  # past the address's allowance: still the same answer as before
            assert await attempt(client, f"guess{i}") == 401
        assert await attempt(client, "chair") == 401
        assert await attempt(client, "chair", PASSWORD) == 200
        assert await attempt(client, "rep_a", PASSWORD) == 200
    async with db_sessions() as db:
        unknown = await db.scalar(select(func.count()).select_from(LoginAttempt)
                                  .where(LoginAttempt.username.like("guess%")))
    assert unknown == 5  # every failure is kept, checked or not


async def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    assert await attempt(client, "chair", **{"X-Forwarded-For": "203.0.113.7"}) == 401
    async with db_sessions() as db:
        assert set(await db.scalars(select(LoginAttempt.remote))) == {"127.0.0.1"}


async def test_x_forwarded_for_is_honoured_from_a_trusted_proxy(database_url: str, tmp_path: Path,
                                                                db_sessions) -> None:
    settings = with_settings(database_url, tmp_path,
                             server={"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]})
    await build_world(db_sessions)
    # The client wrote 198.51.100.9 itself; our edge proxy saw 203.0.113.7; 10.1.2.3 is our inner proxy.
    chain = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7, 10.1.2.3"}
    async with serving(settings) as client:
        assert await attempt(client, "chair", **chain) == 401
        assert await attempt(client, "chair", PASSWORD, **chain) == 200
    async with db_sessions() as db:
        assert set(await db.scalars(select(LoginAttempt.remote))) == {"203.0.113.7"}
        assert set(await db.scalars(select(AuthSession.remote))) == {"203.0.113.7"}


async def test_a_storm_of_sign_ins_never_runs_the_connection_pool_dry(client: TestClient, db_sessions,
                                                                     settings: Settings) -> None:
    """40 at once, more than the database pool's 15 connections: no request may hold one while it
    waits for another (that deadlocked until the pool's 30 s timeout, then answered 500)."""
    await build_world(db_sessions)
    statuses = Counter(await asyncio.gather(*(attempt(client, f"stranger{i}") for i in range(40))))
    admitted = settings.auth.hash_workers + settings.auth.hash_queue  # the rest may be told "busy"
    assert set(statuses) <= {401, 503} and statuses[401] >= admitted, statuses


async def test_x_forwarded_proto_marks_the_cookie_secure_only_from_a_trusted_proxy(
        database_url: str, tmp_path: Path, db_sessions) -> None:
    await build_world(db_sessions)
    https = {"X-Forwarded-Proto": "https"}
    for trusted, secure in (([], False), (["127.0.0.1"], True)):
        async with serving(with_settings(database_url, tmp_path, server={"trusted_proxies": trusted})) as client:
            response = await client.post(LOGIN, json={"username": "chair", "password": PASSWORD}, headers=https)
            assert response.status == 200
            cookie = response.headers["Set-Cookie"]
            assert ("; Secure" in cookie) is secure, cookie
