"""The one computation of the clocks shown for approval items and whole cases.

The case list, the case page, the API, the minutes and the archive all take their figures from
`case_clocks`, so they cannot disagree about the same case on the same day. Clocks are computed on
every read rather than stored: a deadline depends on the holiday table, on suspensions and on the
day asked about, and any of these may change (an administrator confirms next year's 调休 schedule,
a department suspends an item), so a stored figure would silently go stale.

The rules (brief §3, counting in server.domain.workcalendar):
- an item's statutory and promised clocks count the working days after its acceptance up to its
  decision, outside its suspended (中止, 补正) and excluded (§45) periods;
- the case's clock is the centre's promise for its management category (`centre.promised_limits`,
  e.g. 37/36/34 working days): it counts a day when any item's clock counts it, from the case's
  first acceptance, and stops when every item is decided. Days on which no item is with the
  administration (every open item suspended, or the applicant has not filed the next item) are
  the applicant's, not the centre's.
Every clock is read "as of" a day, and only what had happened by then counts: the minutes show
the clocks on the meeting's date, the screens on the centre's today.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from server.db.models import ApprovalItem
from server.domain.cases import FINAL_STATUSES, ClockState, ItemStatus, ManagementCategory, PeriodKind
from server.domain.workcalendar import Span, Suspension, WorkCalendar, run_clock
from server.settings import PromisedLimits

# Every county of the centre's kind is in China Standard Time; "today" decides overdue and
# suspension dates, so it must be the centre's date, not the server's (which may run on UTC).
CENTRE_TZ = ZoneInfo("Asia/Shanghai")


def centre_today() -> date:
    return datetime.now(CENTRE_TZ).date()


@dataclass(frozen=True)
class ItemClock:
    """One item's clocks. used counts toward both limits (they skip the same days); left is
    against the promised limit (the centre's commitment), negative once over. For a decided item
    the figures are frozen at the decision (overdue: decided late). An item decided before
    decision dates were stored (migration 0009) has state decided and no figures."""

    state: ClockState
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
    """The case's clock against the centre's promise (limit_wd, by category), with a summary of
    its items for a list: how many are in hand, how many are past their own promised limit and
    the nearest of their promised deadlines."""

    state: ClockState
    limit_wd: int
    start: date | None
    decided_on: date | None
    used: int | None
    left: int | None
    deadline: date | None
    overdue: bool
    suspended: bool
    provisional: bool
    items_total: int
    items_running: int
    items_overdue: int
    next_deadline: date | None


_NO_ITEM_CLOCK = ItemClock(ClockState.NOT_STARTED, None, None, None, None, False, False, False, False)
_IN_HAND = frozenset({ClockState.RUNNING, ClockState.SUSPENDED, ClockState.EXCLUDED})


def promised_limit(limits: PromisedLimits, category: ManagementCategory) -> int:
    return int(getattr(limits, category.value))


def suspensions_of(item: ApprovalItem) -> list[Suspension]:
    return [Suspension(row.start, row.end) for row in item.suspensions]


def case_clocks(cal: WorkCalendar, limit_wd: int, items: Sequence[ApprovalItem],
                as_of: date) -> tuple[CaseClock, list[ItemClock]]:
    """The case's clock and each item's (in the order given) on `as_of`."""
    clocks = [item_clock(cal, item, as_of) for item in items]
    spans = [span for item in items if (span := _span(item, as_of)) is not None]
    decided = bool(items) and all(_decided_by(item, as_of) for item in items)
    in_hand = [c for c in clocks if c.state in _IN_HAND]
    summary = CaseClock(
        state=ClockState.DECIDED if decided else ClockState.NOT_STARTED, limit_wd=limit_wd, start=None,
        decided_on=None, used=None, left=None, deadline=None, overdue=False, suspended=False,
        provisional=False, items_total=len(clocks), items_running=len(in_hand),
        items_overdue=sum(1 for c in in_hand if c.overdue),
        next_deadline=min((day for c in in_hand if (day := c.promised_deadline) is not None), default=None))
    if not spans:
        return summary, clocks
    status = run_clock(cal, spans, limit_wd, as_of, decided=decided)
    if decided:
        state = ClockState.DECIDED
    elif status.running:
        state = ClockState.RUNNING
    elif status.suspended:
        state = _stopped_state(items, as_of)
    else:
        state = ClockState.WAITING
    return replace(
        summary, state=state, start=min(span.accepted for span in spans),
        decided_on=max(day for span in spans if (day := span.decided) is not None) if decided else None,
        used=status.used, left=status.left, deadline=status.deadline.date, overdue=status.overdue,
        suspended=status.suspended, provisional=status.provisional), clocks


def item_clock(cal: WorkCalendar, item: ApprovalItem, as_of: date) -> ItemClock:
    """One item's clocks on `as_of` (see ItemClock)."""
    span = _span(item, as_of)
    if span is None:  # not accepted yet, or decided without a stored date
        return replace(_NO_ITEM_CLOCK, state=ClockState.DECIDED) if _decided_by(item, as_of) else _NO_ITEM_CLOCK
    decided = span.decided is not None
    promised = run_clock(cal, [span], item.promised_limit_wd, as_of, decided=decided)
    statutory = run_clock(cal, [span], item.statutory_limit_wd, as_of, decided=decided)
    if decided:
        state = ClockState.DECIDED
    elif promised.suspended:
        state = _stopped_state([item], as_of)
    else:
        state = ClockState.RUNNING
    return ItemClock(
        state=state, used=promised.used, left=promised.left,
        promised_deadline=promised.deadline.date, statutory_deadline=statutory.deadline.date,
        overdue=promised.overdue, statutory_overdue=statutory.overdue, suspended=promised.suspended,
        provisional=promised.provisional or statutory.provisional)


def _span(item: ApprovalItem, as_of: date) -> Span | None:
    """The item's time with the administration as known on `as_of`: later periods and a later
    decision had not happened yet. None before its acceptance, and for a decision without a
    stored date (its end is unknown, so it cannot be counted either way)."""
    if item.accepted_on is None or item.accepted_on > as_of:
        return None
    decided = item.decided_on if _decided_by(item, as_of) else None
    if decided is None and ItemStatus(item.status) in FINAL_STATUSES and item.decided_on is None:
        return None
    periods = tuple(Suspension(row.start, row.end if row.end is not None and row.end <= as_of else None)
                    for row in item.suspensions if row.start <= as_of)
    return Span(item.accepted_on, periods, decided)


def _decided_by(item: ApprovalItem, as_of: date) -> bool:
    if ItemStatus(item.status) not in FINAL_STATUSES:
        return False
    return item.decided_on is None or item.decided_on <= as_of


def _stopped_state(items: Sequence[ApprovalItem], as_of: date) -> ClockState:
    """Suspended if any open period on `as_of` is a suspension (the applicant must act), else
    excluded (a §45 procedure is under way)."""
    kinds = {row.kind for item in items for row in item.suspensions
             if row.start <= as_of and (row.end is None or row.end > as_of)}
    return ClockState.SUSPENDED if PeriodKind.SUSPENSION.value in kinds or not kinds else ClockState.EXCLUDED
