"""Reference data for every signed-in role: administrative divisions and departments."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from server.domain.divisions import Level
from server.schemas.base import Body, Out
from server.services.reference import list_departments, list_divisions
from server.web.api import API
from server.web.api.registry import Call

TAG = "reference"


class DivisionOut(Out):
    code: str
    name: str
    level: str
    parent_code: str | None


class DepartmentOut(Out):
    id: int
    code: str
    name: str
    short_name: str
    division_code: str
    division: DivisionOut


class DepartmentQuery(Body):
    """level: 省/市/县 of the department's division; division_code: exactly that division."""

    level: Level | None = None
    division_code: Annotated[str, Field(pattern=r"^\d{6}$")] | None = None


@API.route("GET", "/divisions", summary="Administrative divisions (省/市/县)", response=list[DivisionOut],
           tag=TAG)
async def divisions(call: Call) -> list[DivisionOut]:
    return [DivisionOut.model_validate(row) for row in await list_divisions(call.db)]


@API.route("GET", "/departments", summary="Departments, optionally by level or division",
           query=DepartmentQuery, response=list[DepartmentOut], tag=TAG)
async def departments(call: Call) -> list[DepartmentOut]:
    rows = await list_departments(call.db, call.query.level, call.query.division_code)
    return [DepartmentOut.model_validate(row) for row in rows]
