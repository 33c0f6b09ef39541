"""The clocks shown for approval items and whole cases, computed from the stored calendar.

Clocks are computed on every read rather than stored: a deadline depends on the holiday table, on
suspensions and on today's date, and any of these may change (an administrator confirms next year's
调休 schedule, a department suspends an item), so a stored figure would silently go stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from server.db.models import ApprovalItem
from server.domain.cases import ItemStatus, ManagementCategory
from server.domain.workcalendar import Suspension, WorkCalendar, clock_status, deadline
from server.settings import PromisedLimits

# Every county of the centre's kind is in China Standard Time; "today" decides overdue and
# suspension dates, so it must be the centre's date, not the server's (which may run on UTC).
CENTRE_TZ = ZoneInfo("Asia/Shanghai")

FINAL_STATUSES = frozenset({ItemStatus.APPROVED, ItemStatus.REJECTED, ItemStatus.WITHDRAWN})


def centre_today() -> date:
    return datetime.now(CENTRE_TZ).date()


@dataclass(frozen=True)
class ItemClock:
    """One item's clock. `running`: accepted and not yet decided, so used/left/overdue mean
    something; for a decided item only the deadlines are kept (its decision date is not stored).
    `left` is against the promised limit (the centre's commitment); statutory_overdue says the
    legal limit is passed too."""

    running: bool
    used: int | None
    left: int | None
    promised_deadline: date | None
    statutory_deadline: date | None
    overdue: bool
    statutory_overdue: bool
    suspended: bool
    provisional: bool


@dataclass(frozen=True)
class CaseClock:
    """A case's items summed up for a list: the most used, the least left, any flag raised."""

    items_total: int
    items_running: int
    used: int | None
    left: int | None
    next_deadline: date | None
    overdue: bool
    suspended: bool
    provisional: bool


@dataclass(frozen=True)
class PromisedTotal:
    """The centre's promised total for the case's category (e.g. 37/36/34 working days), counted
    from the earliest item acceptance. Suspensions of single items do not stop it: the promise is
    made for the whole case, and one department's supplementation does not stop the others."""

    limit_wd: int
    start: date | None
    deadline: date | None
    used: int | None
    left: int | None
    overdue: bool
    provisional: bool


def suspensions_of(item: ApprovalItem) -> list[Suspension]:
    return [Suspension(row.start, row.end) for row in item.suspensions]


def item_clock(cal: WorkCalendar, item: ApprovalItem, today: date) -> ItemClock:
    accepted = item.accepted_on
    if accepted is None:
        return ItemClock(False, None, None, None, None, False, False, False, False)
    periods = suspensions_of(item)
    # Writes through the case service never date anything after today; rows written otherwise
    # (a seed, a clock set back) are read as of their latest date rather than failing the page.
    as_of = max([today, accepted, *(period.end or period.start for period in periods)])
    statutory = deadline(cal, accepted, item.statutory_limit_wd, periods, as_of)
    if ItemStatus(item.status) in FINAL_STATUSES:
        promised = deadline(cal, accepted, item.promised_limit_wd, periods, as_of)
        return ItemClock(False, None, None, promised.date, statutory.date, False, False, False,
                         promised.provisional or statutory.provisional)
    status = clock_status(cal, accepted, item.promised_limit_wd, periods, as_of)
    return ItemClock(
        running=True,
        used=status.used,
        left=status.left,
        promised_deadline=status.deadline.date,
        statutory_deadline=statutory.date,
        overdue=status.overdue,
        statutory_overdue=as_of > statutory.date,
        suspended=status.suspended,
        provisional=status.provisional or statutory.provisional,
    )


def case_clock(clocks: Sequence[ItemClock]) -> CaseClock:
    running = [clock for clock in clocks if clock.running]
    return CaseClock(
        items_total=len(clocks),
        items_running=len(running),
        used=max((c.used for c in running if c.used is not None), default=None),
        left=min((c.left for c in running if c.left is not None), default=None),
        next_deadline=min((c.promised_deadline for c in running if c.promised_deadline), default=None),
        overdue=any(c.overdue for c in running),
        suspended=any(c.suspended for c in running),
        provisional=any(c.provisional for c in running),
    )


def promised_limit(limits: PromisedLimits, category: ManagementCategory) -> int:
    return int(getattr(limits, category.value))


def promised_total(cal: WorkCalendar, limit_wd: int, items: Sequence[ApprovalItem],
                   today: date) -> PromisedTotal:
    accepted = [item.accepted_on for item in items if item.accepted_on is not None]
    if not accepted:
        return PromisedTotal(limit_wd, None, None, None, None, False, False)
    start = min(accepted)
    due = deadline(cal, start, limit_wd)
    open_items = any(ItemStatus(item.status) not in FINAL_STATUSES for item in items)
    if not open_items or today < start:
        return PromisedTotal(limit_wd, start, due.date, None, None, False, due.provisional)
    used = cal.working_days_between(start, today)
    return PromisedTotal(limit_wd, start, due.date, used, limit_wd - used, today > due.date,
                         due.provisional or not cal.all_confirmed(start, today))
