"""What goes in and out of the case service: request bodies, list filters and the views returned.

Declared once and shared by the JSON API and the HTML pages, so a form and an API client meet the
same limits (lengths match the database columns: PostgreSQL refuses an over-long string where
SQLite would silently keep it) and see the same figures.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from server.domain.cases import (
    CaseFieldError,
    InvestorType,
    ItemStatus,
    ManagementCategory,
    PeriodKind,
    validate_total_investment,
)
from server.domain.divisions import Level
from server.schemas.base import Body, Out
from server.schemas.fields import PG_INT_MAX, DbId, one_line, paragraphs
from server.schemas.refs import DepartmentRef, OrganisationRef
from server.services.clock import CaseClock, ItemClock

# Deadlines are counted over these dates only: a date far outside them is a typo, and one near
# date.max would overflow the day arithmetic.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
CentreDate = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]

# Numeric(14, 2): twelve digits before the point.
MAX_INVESTMENT = Decimal("1e12")


def _money(value: Any) -> Decimal:
    """万元 as a JSON string ("3200.50") or integer. A JSON number with a fraction is refused: it
    arrives as a binary float, and the amount is printed in official documents."""
    if isinstance(value, float):
        raise ValueError("总投资请以字符串给出，如 \"3200.50\"（浮点数可能失真）/ send total investment as a "
                         "string such as \"3200.50\": JSON numbers with a fraction are binary floats")
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError("总投资须为数字字符串或整数 / total investment must be a string such as \"3200.50\" "
                         "or an integer")
    try:
        amount = validate_total_investment(value)
    except CaseFieldError as exc:
        raise ValueError(str(exc)) from None
    except ArithmeticError:
        raise ValueError(f"总投资不是有效金额: {value!r} / total investment is not a valid amount") from None
    if amount >= MAX_INVESTMENT:
        raise ValueError("总投资超出上限（万元，整数部分最多12位）/ total investment too large "
                         "(at most 12 digits before the point)")
    return amount


Money = Annotated[Decimal, BeforeValidator(_money)]
ProjectCodeText = Annotated[str, one_line(64, 1)]
CaseName = Annotated[str, one_line(256, 1)]
DivisionCode = Annotated[str, one_line(6, 1)]
Town = Annotated[str, one_line(64)]
Address = Annotated[str, one_line(256)]
LongText = Annotated[str, paragraphs(10_000)]
Industry = Annotated[str, one_line(64)]
Funding = Annotated[str, one_line(128)]
RowId = Annotated[int, Field(ge=1, le=PG_INT_MAX)]  # lax: query strings carry ids as text
ItemName = Annotated[str, one_line(128, 1)]
Limit = Annotated[int, Field(strict=True, ge=1, le=365)]
Result = Annotated[str, paragraphs(4000)]
DocumentNo = Annotated[str, one_line(64)]
NoticeNo = Annotated[str, one_line(64, 1)]
Reason = Annotated[str, paragraphs(4000, 1)]


# --- inputs ------------------------------------------------------------------------------------


class NewCase(Body):
    """A case as registered at the window (brief §2). total_investment in 万元, as a string or an
    integer; approving_department_id, the department that files, ratifies or approves it (审批部门)."""

    project_code: ProjectCodeText
    name: CaseName
    organisation_id: DbId
    division_code: DivisionCode
    town: Town = ""
    address: Address = ""
    total_investment: Money
    scale_content: LongText = ""
    category: ManagementCategory
    industry: Industry = ""
    investor_type: InvestorType
    funding_source: Funding = ""
    planned_start: CentreDate | None = None
    planned_finish: CentreDate | None = None
    approving_department_id: DbId | None = None


class CaseChanges(Body):
    """Fields to change; absent fields stay. Only the planned dates and the approving department
    may be set to null."""

    project_code: ProjectCodeText | None = None
    name: CaseName | None = None
    organisation_id: DbId | None = None
    division_code: DivisionCode | None = None
    town: Town | None = None
    address: Address | None = None
    total_investment: Money | None = None
    scale_content: LongText | None = None
    category: ManagementCategory | None = None
    industry: Industry | None = None
    investor_type: InvestorType | None = None
    funding_source: Funding | None = None
    planned_start: CentreDate | None = None
    planned_finish: CentreDate | None = None
    approving_department_id: DbId | None = None


class NewItem(Body):
    """An approval item. level defaults to the department's level; status defaults to accepted
    when accepted_on is given, else pending. decided_on (for an item registered as decided)
    defaults to today."""

    name: ItemName
    department_id: DbId
    level: Level | None = None
    accepted_on: CentreDate | None = None
    statutory_limit_wd: Limit
    promised_limit_wd: Limit
    status: ItemStatus | None = None
    result: Result = ""
    document_no: DocumentNo = ""
    decided_on: CentreDate | None = None


class ItemChanges(Body):
    """Fields to change. A chief representative of the item's department may send only status,
    result, document_no and decided_on; only accepted_on may be set to null. decided_on is the
    decision's date, for a decided status only; it defaults to today when the status becomes
    decided, and a status that is not decided clears it."""

    name: ItemName | None = None
    department_id: DbId | None = None
    level: Level | None = None
    accepted_on: CentreDate | None = None
    statutory_limit_wd: Limit | None = None
    promised_limit_wd: Limit | None = None
    status: ItemStatus | None = None
    result: Result | None = None
    document_no: DocumentNo | None = None
    decided_on: CentreDate | None = None


class NewSuspension(Body):
    """A period the clock stands still from `start` (not counted): 中止办理 for supplementation
    (kind suspension, the item's status becomes suspended) or a procedure §45 does not count
    (kind excluded: hearing, test, expert review, evaluation; the status stays). The notice and
    why."""

    start: CentreDate
    notice_no: NoticeNo
    reason: Reason
    kind: PeriodKind = PeriodKind.SUSPENSION


class Resumption(Body):
    """恢复办理: the resumption day (still not counted; counting resumes the next working day)."""

    end: CentreDate
    notice_no: NoticeNo


class CaseQuery(Body):
    """List filters. status / department_id match cases having such an item; overdue matches
    cases past the centre's promise or with an undecided item past its own promised limit;
    suspended, cases with an item whose clock stands still (an open period of either kind)."""

    q: Annotated[str, one_line(100)] | None = None
    category: ManagementCategory | None = None
    status: ItemStatus | None = None
    department_id: RowId | None = None
    organisation_id: RowId | None = None
    overdue: bool | None = None
    suspended: bool | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


# --- outputs -----------------------------------------------------------------------------------


class SuspensionOut(Out):
    id: int
    kind: str
    start: date
    end: date | None
    reason: str
    suspend_notice_no: str
    resume_notice_no: str


class ItemOut(Out):
    id: int
    case_id: int
    name: str
    department: DepartmentRef
    level: str
    accepted_on: date | None
    statutory_limit_wd: int
    promised_limit_wd: int
    status: str
    result: str
    document_no: str
    decided_on: date | None
    suspensions: list[SuspensionOut]
    clock: ItemClock


class MeetingRef(Out):
    id: int
    title: str
    status: str
    scheduled_start: datetime


class CaseSummary(Out):
    """A row of the case list. total_investment is a decimal string in 万元; clock is the case's
    clock, the same figures as on its page (services.clock.case_clocks)."""

    id: int
    project_code: str
    name: str
    organisation: OrganisationRef
    division_code: str
    category: str
    investor_type: str
    total_investment: Decimal
    created_at: datetime
    clock: CaseClock


class CaseDetail(CaseSummary):
    """One case. approving_department (审批部门) leads its meetings by default; null for a case
    registered without one."""

    approving_department: DepartmentRef | None
    town: str
    address: str
    scale_content: str
    industry: str
    funding_source: str
    planned_start: date | None
    planned_finish: date | None
    items: list[ItemOut]
    meetings: list[MeetingRef]


class CasePage(Out):
    total: int
    limit: int
    offset: int
    items: list[CaseSummary]
