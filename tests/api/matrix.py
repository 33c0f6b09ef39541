"""The authorisation matrix: every endpoint x every role (plus another organisation's applicant).

Each test module declares `Probe`s with the exact status expected for each account of
tests/world.py; `run_probes` signs in as each account and checks them all. A completeness test
(tests/api/test_matrix_complete.py) fails if any declared endpoint has no probe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from tests.world import PASSWORD, USERNAMES, World

ACCOUNTS = tuple(USERNAMES)  # admin, chair, chair_other, rep_a, rep_b, rep_other, applicant, applicant_other,
# agent, archivist
ALL_PROBES: list["Probe"] = []


@dataclass
class Probe:
    """One request and the status each account must get. `path` may use World fields:
    "/api/v1/cases/{case_x}". `body` may be a callable (World -> dict) for ids. `anonymous` is the
    status without signing in (401 for every non-public endpoint)."""

    method: str
    path: str
    expect: dict[str, int]
    body: dict[str, Any] | Callable[[World], dict[str, Any]] | None = None
    anonymous: int = 401
    template: str = field(init=False)

    def __post_init__(self) -> None:
        missing = set(ACCOUNTS) - set(self.expect)
        if missing:
            raise ValueError(f"probe {self.method} {self.path} lacks expectations for {sorted(missing)}")
        self.template = self.path
        ALL_PROBES.append(self)

    def url(self, world: World) -> str:
        return self.path.format(**vars(world))

    def payload(self, world: World) -> dict[str, Any] | None:
        return self.body(world) if callable(self.body) else self.body


def expect(default: int, **overrides: int) -> dict[str, int]:
    """Expectations for every account: `default`, with per-account exceptions."""
    return {account: overrides.get(account, default) for account in ACCOUNTS}


async def run_probes(client: TestClient, world: World, probes: list[Probe]) -> None:
    """Check every probe for every account; collects all mismatches before failing."""
    failures: list[str] = []
    for probe in probes:
        client.session.cookie_jar.clear()
        response = await client.request(probe.method, probe.url(world), json=probe.payload(world))
        if response.status != probe.anonymous:
            failures.append(f"anonymous {probe.method} {probe.url(world)}: {response.status} != {probe.anonymous}")
    for account in ACCOUNTS:
        client.session.cookie_jar.clear()
        login = await client.post("/api/v1/auth/login", json={"username": account, "password": PASSWORD})
        assert login.status == 200, await login.text()
        csrf = (await login.json())["csrf_token"]
        for probe in probes:
            response = await client.request(probe.method, probe.url(world), json=probe.payload(world),
                                            headers={"X-CSRF-Token": csrf})
            wanted = probe.expect[account]
            if response.status != wanted:
                failures.append(f"{account} {probe.method} {probe.url(world)}: {response.status} != {wanted} "
                                f"({(await response.text())[:160]})")
    assert not failures, "authorisation matrix mismatches:\n" + "\n".join(failures)
