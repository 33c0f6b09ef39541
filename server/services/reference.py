"""Reference data every screen offers in its choices: divisions, departments, applicant units."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Department, Division, Organisation
from server.domain.divisions import Level


async def list_divisions(db: AsyncSession) -> list[Division]:
    return list(await db.scalars(select(Division).order_by(Division.code)))


async def known_division_codes(db: AsyncSession) -> set[str]:
    return set(await db.scalars(select(Division.code)))


async def list_departments(db: AsyncSession, level: Level | None = None,
                           division_code: str | None = None) -> list[Department]:
    """Departments ordered by level (province first, as in the minutes), then code."""
    stmt = select(Department).join(Division, Department.division_code == Division.code)
    if level is not None:
        stmt = stmt.where(Division.level == level.value)
    if division_code is not None:
        stmt = stmt.where(Department.division_code == division_code)
    return list(await db.scalars(stmt.order_by(Department.division_code, Department.code)))


async def list_organisations(db: AsyncSession) -> list[Organisation]:
    return list(await db.scalars(select(Organisation).order_by(Organisation.name)))
