"""Every operation of the OpenAPI document under hostile path parameters, queries and bodies:
a 4xx with our error shape, or a success, and never a 500 or a hang.

Each operation gets its own hypothesis run (``EXAMPLES`` examples, derandomized: see
tests/hostile.py) as an account its roles admit (chair first, else admin, ...; public operations
anonymously), against one real server and database per backend. Hypothesis is synchronous, so each
run goes in a worker thread and hands its requests to the test's event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from server.settings import Settings
from tests.api.materials_support import seed_material
from tests.api.minutes_support import ended_with_draft
from tests.hostile import (
    Hints,
    budget,
    from_schema,
    hostile_raw,
    hostile_variants,
    json_bytes,
    path_segments,
    short_hostile_strings,
    url_quote,
)
from tests.world import PASSWORD, USERNAMES, World, build_world

pytestmark = [pytest.mark.timeout(600),  # huge generated strings are fine to send, not to print
              pytest.mark.filterwarnings("ignore:Generating overly large repr")]

EXAMPLES = 50  # per operation and database: ~65 operations x 2 backends in under a minute
ACCOUNTS = ("chair", "admin", "rep_a", "applicant", "archivist", "agent")
REQUEST_TIMEOUT_S = 30
CONTENT_TYPES = ["application/json"] * 16 + ["text/plain", "application/x-www-form-urlencoded",
                                             "multipart/form-data; boundary=x", "application/json; charset=latin-1"]


@dataclass(frozen=True)
class Operation:
    """One operation of the document and the account that calls it (None: anonymously)."""

    method: str
    path: str
    spec: dict[str, Any]
    account: str | None

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.account or 'anonymous'}"


@dataclass(frozen=True)
class Attempt:
    """One request, ready to send."""

    method: str
    url: str  # path and query, already percent-encoded
    body: bytes | None
    content_type: str
    with_csrf: bool


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation, those under /auth/ last (signing in and out disturbs the others' sessions)."""
    found = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            roles = spec["x-roles"]
            account = None if "public" in roles else next(a for a in ACCOUNTS if USERNAMES[a].value in roles)
            found.append(Operation(method.upper(), path, spec, account))
    return sorted(found, key=lambda o: "/auth/" in o.path)


def known_ids(world: World) -> list[str]:
    """Path values that name real rows, so requests also reach the handlers' own checks."""
    ids = {v for v in vars(world).values() if isinstance(v, int)} | set(world.user_ids.values())
    # and plausible values of the text parameters: recording keys, track ids, a calendar year
    return [str(i) for i in sorted(ids)] + ["R1", "M1-20260310-R1", "video", "2026"]


def body_hints(world: World) -> Hints:
    """Real ids and codes for body fields of these names."""
    departments = st.sampled_from([world.dept_fgj, world.dept_zrj, world.dept_city])
    items = st.sampled_from([world.item_x, world.item_y])
    return {
        "organisation_id": st.sampled_from([world.org_x, world.org_y]),
        "department_id": departments, "lead_department_id": departments,
        "member_department_ids": st.lists(departments, max_size=3),
        "observer_department_ids": st.lists(departments, max_size=2),
        "item_id": items, "agenda_item_ids": st.lists(items, max_size=2),
        "case_id": st.sampled_from([world.case_x, world.case_y]),
        "meeting_id": st.sampled_from([world.meeting_x, world.meeting_y]),
        "chair_id": st.just(world.user_ids["chair"]),
        "user_id": st.sampled_from(sorted(world.user_ids.values())),
        "division_code": st.sampled_from(["530921", "530900", "530000"]),
        "department_code": st.sampled_from(["FQ-FGJ", "FQ-ZRJ", "LC-FGW"]),
        "credit_code": st.sampled_from([world.org_x_code, world.org_y_code]),
    }


def attempts(document: dict[str, Any], operation: Operation, ids: list[str], hints: Hints,
             protected: set[int]) -> st.SearchStrategy[Attempt]:
    """Requests for one operation; path ids in ``protected`` are never generated."""
    definitions = document["components"]["schemas"]
    parameters = operation.spec.get("parameters", [])
    segments = st.one_of(st.sampled_from(ids), path_segments).filter(
        lambda s: not (s.isascii() and s.isdigit() and int(s) in protected))
    path_values = st.fixed_dictionaries({p["name"]: segments for p in parameters if p["in"] == "path"})
    query_fields = {p["name"]: st.one_of(from_schema(p["schema"], definitions, hints).map(_query_text),
                                         short_hostile_strings)
                    for p in parameters if p["in"] == "query"}
    query = st.fixed_dictionaries({}, optional={**query_fields, "unexpected": short_hostile_strings})
    body_schema = operation.spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body_schema is not None:
        encoded = st.tuples(hostile_variants(body_schema, definitions, hints), st.booleans()).map(
            lambda pair: json_bytes(*pair))
        body = st.one_of(encoded, encoded, encoded, hostile_raw)
    else:
        body = st.one_of(st.none(), hostile_raw)

    def build(values: dict[str, str], params: dict[str, str], payload: bytes | None, content_type: str,
              with_csrf: bool) -> Attempt:
        path = operation.path
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        query_string = "&".join(f"{url_quote(k)}={url_quote(v)}" for k, v in params.items())
        return Attempt(operation.method, path + ("?" + query_string if query_string else ""), payload,
                       content_type, with_csrf)

    return st.builds(build, path_values, query, body, st.sampled_from(CONTENT_TYPES),
                     st.sampled_from([True] * 9 + [False]))


def _query_text(value: Any) -> str:
    """A JSON value as a browser would put it in a query string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else json.dumps(value, ensure_ascii=False)


class Caller:
    """Sends attempts as one of the world's accounts, signing in again when a session ended."""

    def __init__(self, base: URL, http: aiohttp.ClientSession) -> None:
        self.base = base
        self.http = http
        self.sessions: dict[str, tuple[str, str]] = {}  # account -> (cookie, csrf)

    async def sign_in(self, account: str) -> None:
        async with self.http.post(self.base / "api/v1/auth/login",
                                  json={"username": account, "password": PASSWORD}) as response:
            assert response.status == 200, await response.text()
            self.sessions[account] = (response.cookies["lianshen_session"].value,
                                      (await response.json())["csrf_token"])

    async def send(self, attempt: Attempt, account: str | None) -> tuple[int, bytes]:
        headers = {"Content-Type": attempt.content_type}
        if account is not None:
            if account not in self.sessions:
                await self.sign_in(account)
            cookie, csrf = self.sessions[account]
            headers["Cookie"] = f"lianshen_session={cookie}"
            if attempt.with_csrf:
                headers["X-CSRF-Token"] = csrf
        url = URL(str(self.base).rstrip("/") + attempt.url, encoded=True)
        async with self.http.request(attempt.method, url, data=attempt.body, headers=headers,
                                     allow_redirects=False) as response:
            status, body = response.status, await response.read()
        if status == 401 and account is not None:
            self.sessions.pop(account, None)  # signed out (the logout operation): sign in next time
        return status, body


def refusal_problem(status: int, body: bytes) -> str | None:
    """What is wrong with a response to hostile input, or None."""
    if status >= 500:
        return f"status {status}: {body[:300]!r}"
    if status < 400:
        return None
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return f"{status} without the JSON error shape: {body[:300]!r}"
    if error.get("status") != status or not error.get("code") or "/ " not in error.get("message", ""):
        # "中文 / English", or "中文（…）/ English" after a full-width parenthesis
        return f"{status} with an incomplete error: {error}"
    return None


def run_operation(strategy: st.SearchStrategy[Attempt], send: Callable[[Attempt], tuple[int, bytes]]) -> None:
    """One hypothesis run (in a worker thread) over one operation."""

    @budget(EXAMPLES)
    @given(strategy)
    def check(attempt: Attempt) -> None:
        status, body = send(attempt)
        problem = refusal_problem(status, body)
        assert problem is None, f"{attempt.method} {attempt.url[:200]}: {problem}"

    check()


async def test_no_operation_answers_hostile_input_with_a_500(client: TestClient, db_sessions,
                                                             settings: Settings) -> None:
    world = await build_world(db_sessions)
    await ended_with_draft(db_sessions, world, world.meeting_x, settings)  # minutes to act on
    await seed_material(db_sessions, settings, world)
    document = await (await client.get("/api/v1/openapi.json")).json()
    hints = body_hints(world)
    loop = asyncio.get_running_loop()
    failures: list[str] = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        caller = Caller(client.make_url("/"), http)
        for operation in operations(document):
            people = operation.path.startswith("/api/v1/people/")
            protected = {world.user_ids[a] for a in ACCOUNTS} if people else set()
            # people routes never get the signed-in accounts' ids: a password reset would lock us out
            strategy = attempts(document, operation, known_ids(world), hints, protected)

            def send(attempt: Attempt, account: str | None = operation.account) -> tuple[int, bytes]:
                future = asyncio.run_coroutine_threadsafe(caller.send(attempt, account), loop)
                return future.result(REQUEST_TIMEOUT_S)

            try:
                await asyncio.to_thread(run_operation, strategy, send)
            except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
                notes = "\n".join(getattr(exc, "__notes__", []))
                failures.append(f"{operation}: {exc}\n{notes}")
    assert not failures, "\n\n".join(failures)
