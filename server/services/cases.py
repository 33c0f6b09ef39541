"""Investment cases, their approval items and clock suspensions: reads and writes with the rules.

The JSON API and the HTML pages both call this module, so a case listed on a page and one fetched
by a script obey the same visibility rule (server.auth.policy) and show the same clock figures.
Every write validates everything before it changes a row; a refusal raises CaseError, and the
request's unit of work then rolls back, so nothing is ever half-written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.policy import may_decide_item, may_manage_cases, visible_cases, visible_meetings
from server.auth.principal import Principal
from server.db.models import (
    AgendaEntry,
    ApprovalItem,
    ClockSuspension,
    Department,
    InvestmentCase,
    Meeting,
    Organisation,
)
from server.domain.cases import (
    FINAL_STATUSES,
    CaseFieldError,
    InvestorType,
    ItemStatus,
    ManagementCategory,
    PeriodKind,
    validate_category,
    validate_promised_limit,
    validate_schedule,
)
from server.domain.project_code import ProjectCodeError, parse_project_code
from server.domain.workcalendar import Suspension, WorkCalendar, clock_status
from server.schemas.refs import department_ref
from server.services import clock
from server.services.calendar import load_calendar
from server.services.case_schemas import (
    CaseChanges,
    CaseDetail,
    CasePage,
    CaseQuery,
    CaseSummary,
    ItemChanges,
    ItemOut,
    MeetingRef,
    NewCase,
    NewItem,
    NewSuspension,
    Resumption,
)
from server.services.reference import known_division_codes
from server.settings import PromisedLimits


class CaseError(Exception):
    """A refused read or write: HTTP-like status, the field at fault (if any), a bilingual message;
    `segment` names the bad part of a project code."""

    def __init__(self, status: int, message: str | None = None, field: str | None = None,
                 segment: str | None = None) -> None:
        super().__init__(message or "")
        self.status = status
        self.message = message
        self.field = field
        self.segment = segment


# A chief representative records the outcome of their own department's items, nothing else.
DECIDER_FIELDS = frozenset({"status", "result", "document_no", "decided_on"})
NULLABLE_CASE_FIELDS = frozenset({"planned_start", "planned_finish", "approving_department_id"})
NULLABLE_ITEM_FIELDS = frozenset({"accepted_on"})
# Statuses that say the department has accepted the application: they need an acceptance date.
_NEEDS_ACCEPTANCE = frozenset({ItemStatus.ACCEPTED, ItemStatus.IN_REVIEW, ItemStatus.SUSPENDED,
                               ItemStatus.APPROVED, ItemStatus.REJECTED})
_NEEDS_DOCUMENT = frozenset({ItemStatus.APPROVED, ItemStatus.REJECTED})


@dataclass
class CaseDesk:
    """The case service as one caller sees it: their unit of work, who they are, the centre's
    promised totals and today's date (the centre's, see clock.centre_today)."""

    db: AsyncSession
    principal: Principal
    promised_limits: PromisedLimits
    today: date = field(default_factory=clock.centre_today)
    _calendar: WorkCalendar | None = None

    async def calendar(self) -> WorkCalendar:
        if self._calendar is None:
            self._calendar = await load_calendar(self.db)
        return self._calendar

    # --- reads ---------------------------------------------------------------------------------

    async def page(self, query: CaseQuery) -> CasePage:
        """One page of the visible cases matching `query`, newest first.

        The overdue filter needs each case's clock, which needs the calendar, so with it the
        matching cases are all loaded and filtered here; a county centre has at most a few
        thousand cases. Without it, counting and paging happen in SQL.
        """
        conditions = self._filters(query)
        stmt = select(InvestmentCase).where(*conditions).order_by(InvestmentCase.created_at.desc(),
                                                                   InvestmentCase.id.desc())
        if query.overdue is None:
            total = await self.db.scalar(select(func.count(InvestmentCase.id)).where(*conditions)) or 0
            rows = list(await self.db.scalars(stmt.limit(query.limit).offset(query.offset)))
            summaries = [await self._summary(row) for row in rows]
        else:
            every = [await self._summary(row) for row in await self.db.scalars(stmt)]
            matching = [s for s in every if (s.clock.overdue or s.clock.items_overdue > 0) == query.overdue]
            total = len(matching)
            summaries = matching[query.offset:query.offset + query.limit]
        return CasePage(total=total, limit=query.limit, offset=query.offset, items=summaries)

    async def detail(self, case_id: int) -> CaseDetail:
        case = await self._visible_case(case_id)
        case_clock, item_clocks = await self.clocks(case)
        return CaseDetail.model_validate({
            **_columns(case), "organisation": case.organisation,
            "approving_department": department_ref(case.approving_department) if case.approving_department else None,
            "items": [_item_out(item, item_clock) for item, item_clock in zip(case.items, item_clocks, strict=True)],
            "clock": case_clock,
            "meetings": await self._meetings(case.id),
        })

    async def clocks(self, case: InvestmentCase) -> tuple[clock.CaseClock, list[clock.ItemClock]]:
        """The case's clock and its items' on this desk's today (the list, the page and the API
        all read them here)."""
        limit = clock.promised_limit(self.promised_limits, ManagementCategory(case.category))
        return clock.case_clocks(await self.calendar(), limit, case.items, self.today)

    async def item_view(self, item: ApprovalItem) -> ItemOut:
        return _item_out(item, clock.item_clock(await self.calendar(), item, self.today))

    # --- case writes ---------------------------------------------------------------------------

    async def create_case(self, new: NewCase) -> InvestmentCase:
        self._require_manager()
        values = new.model_dump()
        await self._check_case(values, current_id=None)
        case = InvestmentCase(**values, created_at=datetime.now(UTC))
        self.db.add(case)
        await self._flush_unique_code(values["project_code"])
        return case

    async def update_case(self, case_id: int, changes: CaseChanges) -> InvestmentCase:
        self._require_manager()
        case = await self._visible_case(case_id)
        given = _given(changes, NULLABLE_CASE_FIELDS)
        values = {**_columns(case), **given}
        await self._check_case(values, current_id=case.id)
        for name in given:
            setattr(case, name, values[name])
        await self._flush_unique_code(values["project_code"])
        return case

    # --- item writes ---------------------------------------------------------------------------

    async def add_item(self, case_id: int, new: NewItem) -> ApprovalItem:
        self._require_manager()
        case = await self._visible_case(case_id)
        values = new.model_dump()
        if values["status"] is None:
            values["status"] = ItemStatus.ACCEPTED if values["accepted_on"] else ItemStatus.PENDING
        item = ApprovalItem(case_id=case.id, suspensions=[], **{k: v for k, v in values.items()
                                                                 if k not in ("department_id", "level")})
        self._settle_decision(item, was_final=False, given="decided_on" in new.model_fields_set)
        await self._assign_department(item, values["department_id"], values["level"])
        await self._check_item(item)
        self.db.add(item)
        await self.db.flush()
        return await self._visible_item(item.id, fresh=True)

    async def update_item(self, item_id: int, changes: ItemChanges) -> ApprovalItem:
        item = await self._visible_item(item_id)
        if not may_manage_cases(self.principal):
            self._require_decider(item)
            beyond = sorted(changes.model_fields_set - DECIDER_FIELDS)
            if beyond:
                raise CaseError(403, "首席代表只能更新本部门事项的状态、结果和批准文号 / a chief representative may "
                                     f"only set status, result and document_no (not {', '.join(beyond)})",
                                field=beyond[0])
        given = _given(changes, NULLABLE_ITEM_FIELDS)
        if "accepted_on" in given and "status" not in given and item.status == ItemStatus.PENDING \
                and given["accepted_on"] is not None:
            given["status"] = ItemStatus.ACCEPTED
        department_id = given.pop("department_id", None)
        level = given.pop("level", None)
        was_final = ItemStatus(item.status) in FINAL_STATUSES
        for name, value in given.items():
            setattr(item, name, value)
        self._settle_decision(item, was_final, given="decided_on" in given)
        if department_id is not None or level is not None:
            await self._assign_department(item, department_id or item.department_id, level)
        await self._check_item(item)
        await self.db.flush()
        return await self._visible_item(item.id, fresh=True)

    # --- suspensions ---------------------------------------------------------------------------

    async def suspend(self, item_id: int, new: NewSuspension) -> ApprovalItem:
        """Stop the item's clock from `new.start`: a 中止 (the status becomes suspended) or a §45
        exclusion (the status stays: the department is still handling the item)."""
        item = await self._visible_item(item_id)
        self._require_manager_or_decider(item)
        if ItemStatus(item.status) in FINAL_STATUSES:
            raise CaseError(409, f"事项已办结（{ItemStatus(item.status).label_zh}），不能中止 / the item is "
                                 "already decided")
        if item.accepted_on is None:
            raise CaseError(409, "事项尚未受理，计时未开始，不能中止 / the item is not accepted yet: "
                                 "its clock has not started")
        if any(row.end is None for row in item.suspensions):
            raise CaseError(409, "事项计时已暂停（中止或不计时期间），请先恢复 / the item's clock is already "
                                 "stopped: resume it first")
        await self._check_clock(item, [*clock.suspensions_of(item), Suspension(new.start)], "start")
        item.suspensions.append(ClockSuspension(kind=new.kind.value, start=new.start, reason=new.reason,
                                                suspend_notice_no=new.notice_no))
        if new.kind is PeriodKind.SUSPENSION:
            item.status = ItemStatus.SUSPENDED.value
        await self.db.flush()
        return await self._visible_item(item.id, fresh=True)

    async def resume(self, item_id: int, suspension_id: int, resumption: Resumption) -> ApprovalItem:
        item = await self._visible_item(item_id)
        self._require_manager_or_decider(item)
        row = next((s for s in item.suspensions if s.id == suspension_id), None)
        if row is None:
            raise CaseError(404)
        if row.end is not None:
            raise CaseError(409, f"该中止已于 {row.end} 恢复 / this suspension was already resumed on {row.end}")
        if resumption.end < row.start:
            raise CaseError(422, f"恢复日期早于中止日期: {resumption.end} < {row.start} / "
                                 "resumption date before suspension date", field="end")
        periods = [Suspension(s.start, resumption.end if s is row else s.end) for s in item.suspensions]
        await self._check_clock(item, periods, "end")
        row.end, row.resume_notice_no = resumption.end, resumption.notice_no
        if row.kind == PeriodKind.SUSPENSION.value:
            item.status = ItemStatus.IN_REVIEW.value
        await self.db.flush()
        return await self._visible_item(item.id, fresh=True)

    # --- helpers -------------------------------------------------------------------------------

    def _filters(self, query: CaseQuery) -> list[ColumnElement[bool]]:
        conditions = [visible_cases(self.principal)]
        if query.q:
            conditions.append(or_(InvestmentCase.name.icontains(query.q, autoescape=True),
                                  InvestmentCase.project_code.icontains(query.q, autoescape=True)))
        if query.category is not None:
            conditions.append(InvestmentCase.category == query.category.value)
        if query.organisation_id is not None:
            conditions.append(InvestmentCase.organisation_id == query.organisation_id)
        item_of_case = ApprovalItem.case_id == InvestmentCase.id
        if query.status is not None:
            conditions.append(exists().where(item_of_case, ApprovalItem.status == query.status.value))
        if query.department_id is not None:
            conditions.append(exists().where(item_of_case, ApprovalItem.department_id == query.department_id))
        if query.suspended is not None:
            open_suspension = exists().where(item_of_case, ClockSuspension.item_id == ApprovalItem.id,
                                             ClockSuspension.end.is_(None))
            conditions.append(open_suspension if query.suspended else ~open_suspension)
        return conditions

    async def _summary(self, case: InvestmentCase) -> CaseSummary:
        case_clock, _ = await self.clocks(case)
        return CaseSummary.model_validate({**_columns(case), "organisation": case.organisation,
                                           "clock": case_clock})

    async def _meetings(self, case_id: int) -> list[MeetingRef]:
        covers_case = exists().where(AgendaEntry.meeting_id == Meeting.id, AgendaEntry.item_id == ApprovalItem.id,
                                     ApprovalItem.case_id == case_id)
        rows = await self.db.execute(
            select(Meeting.id, Meeting.title, Meeting.status, Meeting.scheduled_start)
            .where(covers_case, visible_meetings(self.principal))
            .order_by(Meeting.scheduled_start, Meeting.id))
        return [MeetingRef.model_validate(row._asdict()) for row in rows]

    async def _visible_case(self, case_id: int) -> InvestmentCase:
        case = await self.db.scalar(
            select(InvestmentCase).where(InvestmentCase.id == case_id, visible_cases(self.principal))
            .execution_options(populate_existing=True))
        if case is None:
            raise CaseError(404)
        return case

    async def _visible_item(self, item_id: int, fresh: bool = False) -> ApprovalItem:
        """The item if its case is visible; `fresh` reloads it (and its suspensions) after a write.

        Two queries on purpose: the visibility rule correlates on approval_items itself, so it
        cannot share a statement whose FROM already holds that table.
        """
        stmt = select(ApprovalItem).where(ApprovalItem.id == item_id)
        if fresh:
            stmt = stmt.execution_options(populate_existing=True)
        item = await self.db.scalar(stmt)
        if item is None or await self.db.scalar(select(InvestmentCase.id).where(
                InvestmentCase.id == item.case_id, visible_cases(self.principal))) is None:
            raise CaseError(404)
        return item

    def _require_manager(self) -> None:
        if not may_manage_cases(self.principal):
            raise CaseError(403)

    def _require_decider(self, item: ApprovalItem) -> None:
        if not may_decide_item(self.principal, item):
            raise CaseError(403, "只有事项所属部门的首席代表可以办理此事项 / only the item's own department may "
                                 "act on it")

    def _require_manager_or_decider(self, item: ApprovalItem) -> None:
        if not may_manage_cases(self.principal):
            self._require_decider(item)

    async def _check_case(self, values: dict[str, Any], current_id: int | None) -> None:
        """Every case rule on the merged field values; normalises project_code in place."""
        divisions = await known_division_codes(self.db)
        try:
            values["project_code"] = parse_project_code(values["project_code"], divisions, self.today).raw
        except ProjectCodeError as exc:
            raise CaseError(422, str(exc), field="project_code", segment=exc.segment) from None
        if values["division_code"] not in divisions:
            raise CaseError(422, f"项目所在地行政区划代码未知: {values['division_code']} / unknown division code",
                            field="division_code")
        if await self.db.get(Organisation, values["organisation_id"]) is None:
            raise CaseError(422, f"申请单位不存在: {values['organisation_id']} / unknown organisation",
                            field="organisation_id")
        approving = values["approving_department_id"]
        if approving is not None and await self.db.get(Department, approving) is None:
            raise CaseError(422, f"审批部门不存在: {approving} / unknown approving department",
                            field="approving_department_id")
        try:
            validate_category(ManagementCategory(values["category"]), InvestorType(values["investor_type"]))
            if values["planned_start"] is not None and values["planned_finish"] is not None:
                validate_schedule(values["planned_start"], values["planned_finish"])
        except CaseFieldError as exc:
            raise CaseError(422, str(exc), field=exc.field) from None
        clash = await self.db.scalar(select(InvestmentCase.id).where(
            InvestmentCase.project_code == values["project_code"], InvestmentCase.id != (current_id or 0)))
        if clash is not None:
            raise _duplicate_code(values["project_code"])

    async def _flush_unique_code(self, code: str) -> None:
        """Flush, turning a concurrent insert of the same code into the same 409 as the check."""
        try:
            await self.db.flush()
        except IntegrityError:
            raise _duplicate_code(code) from None

    async def _assign_department(self, item: ApprovalItem, department_id: int, level: str | None) -> None:
        department = await self.db.get(Department, department_id)
        if department is None:
            raise CaseError(422, f"部门不存在: {department_id} / unknown department", field="department_id")
        own_level = department.division.level
        if level is not None and level != own_level:
            raise CaseError(422, f"事项层级 {level} 与部门层级 {own_level} 不符 / item level {level} does not "
                                 f"match the department's level {own_level}", field="level")
        item.department_id, item.department, item.level = department.id, department, own_level

    async def _check_item(self, item: ApprovalItem) -> None:
        """The item's own rules on its final values (after a create or a change)."""
        try:
            validate_promised_limit(item.promised_limit_wd, item.statutory_limit_wd)
        except CaseFieldError as exc:
            raise CaseError(422, str(exc), field=exc.field) from None
        status = ItemStatus(item.status)
        if item.accepted_on is not None and item.accepted_on > self.today:
            raise CaseError(422, f"受理日期不能晚于今天: {item.accepted_on} / acceptance date is in the future",
                            field="accepted_on")
        if status in _NEEDS_ACCEPTANCE and item.accepted_on is None:
            raise CaseError(422, f"事项尚未受理（无受理日期），状态不能为{status.label_zh} / status {status.value} "
                                 "needs an acceptance date", field="status")
        if status is ItemStatus.PENDING and item.accepted_on is not None:
            raise CaseError(422, "已有受理日期的事项不能为待受理 / an item with an acceptance date is not pending",
                            field="status")
        open_kinds = {s.kind for s in item.suspensions if s.end is None}
        if status is ItemStatus.SUSPENDED and PeriodKind.SUSPENSION.value not in open_kinds:
            raise CaseError(422, "中止办理请使用中止接口（需中止通知书）/ suspend through the suspensions endpoint "
                                 "(it records the notice)", field="status")
        if status is not ItemStatus.SUSPENDED and PeriodKind.SUSPENSION.value in open_kinds:
            raise CaseError(409, "事项处于中止状态，请先恢复办理 / the item is suspended: resume it first",
                            field="status")
        if status in FINAL_STATUSES and open_kinds:
            raise CaseError(409, "事项计时暂停中（不计入期限的程序未结束），请先恢复 / a period not counted is "
                                 "still open: end it before the decision", field="status")
        if status in _NEEDS_DOCUMENT and not item.document_no:
            raise CaseError(422, f"{status.label_zh}须填写决定文号 / status {status.value} needs the decision's "
                                 "document number", field="document_no")
        if item.accepted_on is not None:
            await self._check_clock(item, clock.suspensions_of(item), "accepted_on")
            if item.decided_on is not None:
                await self._check_clock(item, clock.suspensions_of(item), "decided_on", item.decided_on)

    def _settle_decision(self, item: ApprovalItem, was_final: bool, given: bool) -> None:
        """Keep decided_on true to the status: stamped today when the status becomes decided
        (unless the decision's date was sent), refused and cleared for any other status. A
        decided item keeps its date through later edits."""
        if ItemStatus(item.status) in FINAL_STATUSES:
            if not was_final and not given:
                item.decided_on = self.today
        elif given and item.decided_on is not None:
            raise CaseError(422, f"只有已办结的事项才有办结日期（当前状态：{ItemStatus(item.status).label_zh}）/ "
                                 "only a decided item has a decision date", field="decided_on")
        else:
            item.decided_on = None

    async def _check_clock(self, item: ApprovalItem, periods: list[Suspension], culprit: str,
                           decided_on: date | None = None) -> None:
        """Let the domain refuse periods and decisions that cannot have happened (a period
        before acceptance, overlapping or in the future; a decision before the acceptance or a
        period's end, or after today) before anything is stored."""
        assert item.accepted_on is not None
        try:
            clock_status(await self.calendar(), item.accepted_on, item.statutory_limit_wd, periods, self.today,
                         decided_on)
        except ValueError as exc:
            raise CaseError(422, str(exc), field=culprit) from None


def _columns(row: Any) -> dict[str, Any]:
    """A row's column values (no relationships): the base of every view."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def _item_out(item: ApprovalItem, item_clock: clock.ItemClock) -> ItemOut:
    return ItemOut.model_validate({**_columns(item), "department": department_ref(item.department),
                                   "suspensions": item.suspensions, "clock": item_clock})


def _given(changes: CaseChanges | ItemChanges, nullable: frozenset[str]) -> dict[str, Any]:
    """The fields a PATCH body actually sent; null only where the column allows it."""
    given = {name: getattr(changes, name) for name in changes.model_fields_set}
    refused = sorted(name for name, value in given.items() if value is None and name not in nullable)
    if refused:
        raise CaseError(422, f"字段不能为空: {', '.join(refused)} / these fields cannot be null", field=refused[0])
    return given


def _duplicate_code(code: str) -> CaseError:
    return CaseError(409, f"项目代码已登记: {code} / a case with this project code already exists",
                     field="project_code")
