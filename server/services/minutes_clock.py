"""What final minutes change outside themselves: the cases they cover and those cases' clocks.

When a version becomes final it is attached to every case it covers (the case page lists it), and
the item clocks follow what it records, through the case service's own suspend/resume rules:
- materials to supplement (一次性告知书) suspend the item's clock for supplementation (中止办理)
  from the meeting date, the minutes' number being the notice;
- suspensions and resumptions the meeting recorded (clock_suspended / clock_resumed) are applied
  with their own notice numbers and dates.
Each effect is keyed by its notice number, so finalising a corrected version again changes
nothing twice. An effect the item cannot take (not accepted yet, already decided, already
suspended, a date the calendar refuses) is skipped and reported, never forced: the final minutes
must not be held up by a clock that a department will settle on the case page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minutes.model import Minutes
from server.auth.principal import Principal
from server.db.models import AgendaEntry, ApprovalItem, InvestmentCase, MinutesCaseLink, MinutesVersion
from server.services.case_schemas import NewSuspension, Resumption
from server.services.cases import CaseDesk, CaseError
from server.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClockEffect:
    """One change the minutes asked of an item's clock, and whether it was made."""

    item_id: int
    kind: str  # "suspended" | "resumed"
    notice_no: str
    applied: bool
    note: str = ""


async def apply_final_minutes(db: AsyncSession, actor: Principal, version: MinutesVersion, minutes: Minutes,
                              settings: Settings) -> list[ClockEffect]:
    """Attach the final version to its cases and apply its clock effects (see the module doc)."""
    codes = [case.project_code for case in minutes.cases]
    cases = list(await db.scalars(select(InvestmentCase.id).where(InvestmentCase.project_code.in_(codes))))
    now = datetime.now(UTC)
    db.add_all([MinutesCaseLink(version_id=version.id, case_id=case_id, attached_at=now) for case_id in cases])
    await db.flush()
    items = await _agenda_items(db, minutes.meeting_id)
    desk = CaseDesk(db, actor, settings.centre.promised_limits)
    effects: list[ClockEffect] = []
    material_items: dict[int, list[str]] = {}
    for material in minutes.materials:
        item = items.get((material.project_code, material.item_name))
        if item is not None:
            material_items.setdefault(item.id, []).append(material.material)
    for item_id, names in material_items.items():
        reason = f"补正材料（一次性告知书，{minutes.number}）：{'、'.join(names)}"
        effects.append(await _suspend(desk, item_id, date.fromisoformat(minutes.date), minutes.number, reason))
    for entry in minutes.clock:
        item = items.get((entry.project_code, entry.item_name))
        if item is None:
            continue
        day = date.fromisoformat(entry.effective_date)
        if entry.kind == "suspended":
            effects.append(await _suspend(desk, item.id, day, entry.notice_no, entry.reason))
        else:
            effects.append(await _resume(desk, item.id, day, entry.notice_no))
    for effect in effects:
        if not effect.applied:
            log.info("minutes %s: item %s not %s (%s)", minutes.number, effect.item_id, effect.kind, effect.note)
    return effects


async def _agenda_items(db: AsyncSession, meeting_id: int) -> dict[tuple[str, str], ApprovalItem]:
    rows = await db.execute(select(InvestmentCase.project_code, ApprovalItem)
                            .join(ApprovalItem, ApprovalItem.case_id == InvestmentCase.id)
                            .join(AgendaEntry, AgendaEntry.item_id == ApprovalItem.id)
                            .where(AgendaEntry.meeting_id == meeting_id))
    return {(code, item.name): item for code, item in rows}


async def _suspend(desk: CaseDesk, item_id: int, start: date, notice_no: str, reason: str) -> ClockEffect:
    item = await desk.db.get(ApprovalItem, item_id)
    assert item is not None
    if any(s.suspend_notice_no == notice_no for s in item.suspensions):
        return ClockEffect(item_id, "suspended", notice_no, False, "already applied")
    try:
        async with desk.db.begin_nested():
            await desk.suspend(item_id, NewSuspension(start=start, notice_no=notice_no, reason=reason[:4000]))
    except CaseError as exc:
        return ClockEffect(item_id, "suspended", notice_no, False, exc.message or str(exc.status))
    except ValidationError as exc:  # a notice number or reason from the log the case rules refuse
        return ClockEffect(item_id, "suspended", notice_no, False, str(exc))
    return ClockEffect(item_id, "suspended", notice_no, True)


async def _resume(desk: CaseDesk, item_id: int, end: date, notice_no: str) -> ClockEffect:
    item = await desk.db.get(ApprovalItem, item_id)
    assert item is not None
    if any(s.resume_notice_no == notice_no for s in item.suspensions):
        return ClockEffect(item_id, "resumed", notice_no, False, "already applied")
    open_row = next((s for s in item.suspensions if s.end is None), None)
    if open_row is None:
        return ClockEffect(item_id, "resumed", notice_no, False, "not suspended")
    try:
        async with desk.db.begin_nested():
            await desk.resume(item_id, open_row.id, Resumption(end=end, notice_no=notice_no))
    except CaseError as exc:
        return ClockEffect(item_id, "resumed", notice_no, False, exc.message or str(exc.status))
    except ValidationError as exc:
        return ClockEffect(item_id, "resumed", notice_no, False, str(exc))
    return ClockEffect(item_id, "resumed", notice_no, True)
