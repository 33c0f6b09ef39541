"""Migration 0010 gives every case its approving department from what is known: the lead
department of the latest meeting (not cancelled) that reviewed one of its items; a case never put
before a meeting stays null (the scheduling form then guesses from its items, as before). A
downgrade drops the column and a second upgrade fills it the same way. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from server.db.engine import create_engine
from server.db.migrate import alembic_config, upgrade_async
from server.db.types import UtcDateTime

pytestmark = pytest.mark.timeout(240)

T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
S, INT, TS, D = sa.String, sa.Integer, UtcDateTime, sa.Date
TABLES: dict[str, dict[str, Any]] = {  # the columns of revision 0009 that take no default
    "divisions": {"code": S, "name": S, "level": S, "parent_code": S},
    "departments": {"id": INT, "code": S, "name": S, "short_name": S, "division_code": S},
    "organisations": {"id": INT, "credit_code": S, "name": S, "address": S, "legal_representative": S, "contact": S,
                      "phone": S},
    "users": {"id": INT, "username": S, "display_name": S, "password_hash": S, "role": S, "title": S, "phone": S,
              "is_active": sa.Boolean, "created_at": TS},
    "cases": {"id": INT, "project_code": S, "name": S, "organisation_id": INT, "division_code": S, "town": S,
              "address": S, "total_investment": sa.Numeric, "scale_content": S, "category": S, "industry": S,
              "investor_type": S, "funding_source": S, "created_at": TS},
    "approval_items": {"id": INT, "case_id": INT, "name": S, "department_id": INT, "level": S, "accepted_on": D,
                       "statutory_limit_wd": INT, "promised_limit_wd": INT, "status": S, "result": S,
                       "document_no": S},
    "meetings": {"id": INT, "title": S, "status": S, "scheduled_start": TS, "scheduled_end": TS, "place": S,
                 "chair_id": INT, "lead_department_id": INT, "created_by_id": INT, "created_at": TS},
    "meeting_agenda": {"meeting_id": INT, "item_id": INT, "position": INT},
}
FGJ, ZJJ, BLB = 1, 2, 3


def _case(case_id: int, code: str) -> tuple[Any, ...]:
    return (case_id, code, f"项目{case_id}", 1, "530921", "", "", Decimal("100.00"), "", "filing", "", "enterprise", "",
            T0)


def _item(item_id: int, case_id: int, department_id: int) -> tuple[Any, ...]:
    return (item_id, case_id, f"事项{item_id}", department_id, "county", date(2026, 11, 2), 20, 10, "in_review", "", "")


def _meeting(meeting_id: int, status: str, days: int, lead: int) -> tuple[Any, ...]:
    start = T0 + timedelta(days=days)
    return (meeting_id, f"会议{meeting_id}", status, start, start + timedelta(hours=2), "", 1, lead, 1, T0)


ROWS: dict[str, list[tuple[Any, ...]]] = {
    "divisions": [("530921", "凤庆县", "county", None)],
    "departments": [(FGJ, "FQ-FGJ", "凤庆县发展和改革局", "县发改局", "530921"),
                    (ZJJ, "FQ-ZJJ", "凤庆县住房和城乡建设局", "县住建局", "530921"),
                    (BLB, "FQ-BLB", "凤庆县投资项目并联审批办公室", "县并联办", "530921")],
    "organisations": [(1, "91530921MA6K000001", "某公司", "", "", "", "")],
    "users": [(1, "chair", "杨国强", "x", "chair", "", "", True, T0)],
    # case 1 was reviewed twice (led by 发改局, then by the 并联办) and has a later cancelled meeting;
    # case 2 was never put before a meeting.
    "cases": [_case(1, "2611-530921-04-01-000001"), _case(2, "2611-530921-04-01-000002")],
    "approval_items": [_item(1, 1, ZJJ), _item(2, 1, FGJ), _item(3, 2, ZJJ)],
    "meetings": [_meeting(1, "minutes_final", 0, FGJ), _meeting(2, "scheduled", 7, BLB),
                 _meeting(3, "cancelled", 9, ZJJ)],
    "meeting_agenda": [(1, 1, 1), (2, 2, 1), (3, 1, 1)],
}


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table, values in ROWS.items():
                columns = TABLES[table]
                await connection.execute(sa.table(table, *(sa.column(c, t) for c, t in columns.items())).insert(),
                                         [dict(zip(columns, row, strict=True)) for row in values])
    finally:
        await engine.dispose()


async def _approving(url: str) -> dict[int, int | None]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(sa.text("SELECT id, approving_department_id FROM cases ORDER BY id"))
            return {case_id: department_id for case_id, department_id in rows}
    finally:
        await engine.dispose()


def _downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def test_cases_take_the_lead_of_their_latest_meeting(database_url: str) -> None:
    await asyncio.to_thread(_downgrade, database_url, "0009")  # the test database is at head, and empty
    await _seed(database_url)
    await upgrade_async(database_url, "0010")
    assert await _approving(database_url) == {1: BLB, 2: None}

    await upgrade_async(database_url, "head")
    await asyncio.to_thread(_downgrade, database_url, "0009")
    await upgrade_async(database_url)
    assert await _approving(database_url) == {1: BLB, 2: None}
