"""Reference data over the API: divisions and departments, with their filters."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.api.case_world import error_of, sign_in
from tests.world import build_world


async def test_divisions_and_departments(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    await sign_in(client, "agent")
    divisions = await (await client.get("/api/v1/divisions")).json()
    assert divisions == [
        {"code": "530000", "name": "云南省", "level": "province", "parent_code": None},
        {"code": "530900", "name": "临沧市", "level": "city", "parent_code": "530000"},
        {"code": "530921", "name": "凤庆县", "level": "county", "parent_code": "530900"},
    ]
    departments = await (await client.get("/api/v1/departments")).json()
    assert [d["code"] for d in departments] == ["LC-FGW", "FQ-FGJ", "FQ-ZRJ"]  # city before county
    city = departments[0]
    assert city == {"id": world.dept_city, "code": "LC-FGW", "name": "临沧市发展和改革委员会",
                    "short_name": "市发改委", "division_code": "530900",
                    "division": {"code": "530900", "name": "临沧市", "level": "city", "parent_code": "530000"}}


async def test_department_filters(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    await sign_in(client, "rep_other")

    async def codes(query: str) -> list[str]:
        response = await client.get(f"/api/v1/departments?{query}")
        assert response.status == 200, query
        return [d["code"] for d in await response.json()]

    assert await codes("level=county") == ["FQ-FGJ", "FQ-ZRJ"]
    assert await codes("level=city") == ["LC-FGW"]
    assert await codes("level=province") == []
    assert await codes("division_code=530900") == ["LC-FGW"]
    assert await codes("division_code=530921&level=city") == []
    for bad in ("level=township", "division_code=5309", "division_code=abcdef", "dept=1"):
        response = await client.get(f"/api/v1/departments?{bad}")
        assert response.status == 422, bad
        assert error_of(await response.json())["message"], bad
