"""The demo keeps the record's rules (issue 12), on the day it describes and when loaded weeks later.

The demo is what a county office sees first, so its held meeting must be a record the rules would
have accepted. Each held meeting's stored log is folded with the one reducer (record.reducer.fold)
and checked against what the meeting's plan says (agenda, invitations, chair, the minutes' drafts):
- the meeting's start and end are in the log (status live / ended) on a working day, in Beijing
  office hours;
- A/B posts: a B post sits in only while the department's A post is not in the room, every
  opinion revision is made in the room by someone of that department under the post it names,
  and every invited department that is not excused is in the room (A and B are never both away);
- each opened item's approving department gives its own opinion in the meeting;
- an excused department (视为同意 under the centre's policy) gives no opinion and gets no task on
  what it is deemed to have agreed to (an opened item, or the case as a whole);
- 需转报上级 names a higher-level department (refer_to);
- the minutes are drafted by the issuing office (the chair's unit), and so is the task to draft them.
The second test breaks the demo's log in one way per rule and shows each break is found, so the
checks can fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from record.events import (
    Logged,
    MeetingStatusChanged,
    OpinionAmended,
    OpinionSubmitted,
    ParticipantJoined,
    TaskAssigned,
)
from record.reducer import fold
from record.state import AgendaRef, ItemKey, Presence, ReviewState
from record.vocab import Capacity, MeetingStatus, OpinionKind, Post
from server.db.models import (
    AgendaEntry,
    ApprovalItem,
    Department,
    InvestmentCase,
    Invitation,
    Meeting,
    MinutesDocument,
    MinutesVersion,
    User,
)
from server.demo import data
from server.demo.as_of import demo_world, shift_for
from server.demo.seed import seed_demo
from server.services.calendar import load_calendar, seed_calendar
from server.services.eventlog import read_record, verify_meeting_log
from server.services.meeting_proposal import propose
from server.services.meetings import scheduling_choices

BEIJING = ZoneInfo("Asia/Shanghai")
OFFICE_HOURS = (time(8, 30), time(18, 0))
LEVELS = {"county": 0, "city": 1, "province": 2}


@dataclass(frozen=True)
class Facts:
    """What the rules need beside the log: the meeting's plan and the people and departments."""

    agenda: tuple[AgendaRef, ...]
    approver: dict[ItemKey, str]
    """Item -> the department code that decides it (its lead department)."""
    departments: dict[int, tuple[str, str]]
    """Department id -> (code, level)."""
    users: dict[int, tuple[str | None, str | None]]
    """User id -> (department code, post)."""
    members: dict[str, str]
    """Invited member department code -> the reason it was excused ('' if not excused)."""
    office: str
    """The chair's unit: the office that issues the minutes."""
    drafters: frozenset[str | None]
    """The departments of whoever drafted a version of the minutes."""
    working_day: Callable[[date], bool]

    def code(self, department_id: int | None) -> str | None:
        return self.departments[department_id][0] if department_id is not None else None

    def level(self, code: str) -> int | None:
        return next((LEVELS[level] for c, level in self.departments.values() if c == code), None)


async def _facts(db: AsyncSession, meeting: Meeting) -> Facts:
    rows = (await db.execute(
        select(AgendaEntry.position, InvestmentCase.project_code, ApprovalItem.name, Department.code)
        .join(ApprovalItem, ApprovalItem.id == AgendaEntry.item_id)
        .join(InvestmentCase, InvestmentCase.id == ApprovalItem.case_id)
        .join(Department, Department.id == ApprovalItem.department_id)
        .where(AgendaEntry.meeting_id == meeting.id).order_by(AgendaEntry.position))).all()
    departments = {d.id: (d.code, d.division.level) for d in await db.scalars(select(Department))}
    codes = {d_id: code for d_id, (code, _) in departments.items()}
    users = {u.id: (codes.get(u.department_id or 0), u.post) for u in await db.scalars(select(User))}
    drafters = await db.scalars(
        select(MinutesVersion.created_by_id).join(MinutesDocument, MinutesDocument.id == MinutesVersion.document_id)
        .where(MinutesDocument.meeting_id == meeting.id))
    invitations = await db.scalars(select(Invitation).where(Invitation.meeting_id == meeting.id,
                                                            Invitation.capacity == Capacity.MEMBER.value))
    calendar = await load_calendar(db)
    return Facts(
        agenda=tuple(AgendaRef(position, code, name) for position, code, name, _ in rows),
        approver={(code, name): department for _, code, name, department in rows},
        departments=departments, users=users,
        members={codes[i.department_id]: i.excused_reason for i in invitations if i.department_id},
        office=users[meeting.chair_id][0] or "",
        drafters=frozenset(users[d][0] for d in drafters if d is not None),
        working_day=calendar.is_working_day)


def rule_breaks(facts: Facts, state: ReviewState) -> list[str]:
    """Every way the folded log breaks the record's rules, as sentences (empty: none)."""
    return [*_life(facts, state), *_posts(facts, state), *_opinions(facts, state), *_absent(facts, state),
            *_minutes(facts, state)]


def _life(facts: Facts, state: ReviewState) -> list[str]:
    if state.started is None or state.ended is None:
        return ["the log has no start (live) or no end (ended)"]
    breaks = []
    for name, moment in (("start", state.started), ("end", state.ended)):
        local = moment.astimezone(BEIJING)
        if not facts.working_day(local.date()) or not OFFICE_HOURS[0] <= local.time() <= OFFICE_HOURS[1]:
            breaks.append(f"the {name} {local:%Y-%m-%d %H:%M} is outside Beijing office hours")
    return breaks


def _until(presence: Presence, state: ReviewState) -> datetime:
    return presence.left or state.ended or datetime.max.replace(tzinfo=BEIJING)


def _in_room(state: ReviewState, user_id: int | None, at: datetime) -> Presence | None:
    return next((p for p in state.presences.values()
                 if p.user_id == user_id and p.joined <= at <= _until(p, state)), None)


def _posts(facts: Facts, state: ReviewState) -> list[str]:
    breaks = []
    by_post = [(facts.code(p.department_id), p) for p in state.presences.values() if p.post is not None]
    for code, b in by_post:
        for same, a in by_post:
            if (same == code and b.post is Post.B and a.post is Post.A
                    and a.joined < _until(b, state) and b.joined < _until(a, state)):
                breaks.append(f"{code}: B post {b.display_name} sits in while A post {a.display_name} is here")
    present = {facts.code(p.department_id) for p in state.presences.values()}
    breaks += [f"{code}: invited, not excused and not in the room (A and B both away)"
               for code, excused in facts.members.items() if not excused and code not in present]
    for opinion in state.opinions.values():
        for revision in opinion.revisions:
            here = _in_room(state, revision.act.actor_id, revision.act.at)
            if here is None:
                breaks.append(f"{opinion.opinion_id}: given by someone not in the room")
            elif (facts.code(here.department_id), here.post) != (opinion.department_code, revision.post):
                breaks.append(f"{opinion.opinion_id}: recorded as {opinion.department_code} post "
                              f"{revision.post.value}, given by {here.display_name} of "
                              f"{facts.code(here.department_id)} post {here.post}")
    return breaks


def _opinions(facts: Facts, state: ReviewState) -> list[str]:
    breaks = []
    for key, item in state.agenda.items():
        if item.opened is not None and state.opinion_for(key, facts.approver[key]) is None:
            breaks.append(f"{key[1]}: opened without its approving department {facts.approver[key]}'s opinion")
    for opinion in state.opinions.values():
        for revision in opinion.revisions:
            content: OpinionSubmitted | OpinionAmended = revision.content
            if content.kind is not OpinionKind.REFER_UPWARD:
                continue
            own, upper = facts.level(opinion.department_code), facts.level(content.refer_to or "")
            if own is None or upper is None or upper <= own:
                breaks.append(f"{opinion.opinion_id}: 需转报上级 without a higher authority ({content.refer_to})")
    return breaks


def _absent(facts: Facts, state: ReviewState) -> list[str]:
    excused = {code for code, reason in facts.members.items() if reason}
    reviewed = {key for key, item in state.agenda.items() if item.opened is not None}
    cases = {code for code, _ in reviewed}
    breaks = [f"{o.department_code}: excused (视为同意) yet gave opinion {o.opinion_id}"
              for o in state.opinions.values() if o.department_code in excused]
    for entry in state.tasks:
        task = entry.event
        on_reviewed = ((task.project_code, task.item_name) in reviewed
                       or (task.item_name is None and task.project_code in cases))
        if task.department_code in excused and on_reviewed:
            breaks.append(f"{task.department_code}: excused (视为同意) yet tasked with {task.task_id}: {task.text}")
    return breaks


def _minutes(facts: Facts, state: ReviewState) -> list[str]:
    breaks = [f"minutes drafted by {drafter}, not the issuing office {facts.office}"
              for drafter in facts.drafters if drafter != facts.office]
    if not facts.drafters:
        breaks.append("the held meeting has no minutes draft")
    breaks += [f"{entry.event.task_id}: the minutes are given to {entry.event.department_code} to draft"
               for entry in state.tasks if "纪要" in entry.event.text and entry.event.department_code != facts.office]
    return breaks


async def _held(db_sessions, settings, today: date) -> list[tuple[Facts, list[Logged]]]:
    """Seed the demo as of ``today``; each held meeting's facts and verified log."""
    async with db_sessions() as db:
        await seed_calendar(db)
        await seed_demo(db, settings, today=today)
        await db.commit()
    held = []
    async with db_sessions() as db:
        for meeting in await db.scalars(select(Meeting).order_by(Meeting.id)):
            events = await read_record(db, meeting.id)
            if events:
                assert await verify_meeting_log(db, meeting.id) == [], meeting.title
                held.append((await _facts(db, meeting), events))
    return held


@pytest.mark.parametrize("today", [data.DATA_AS_OF, data.DATA_AS_OF + timedelta(weeks=3, days=2)],
                         ids=["as-of", "three-weeks-later"])
async def test_the_demo_keeps_the_records_rules(db_sessions, settings, today: date) -> None:
    held = await _held(db_sessions, settings, today)
    async with db_sessions() as db:
        world = demo_world(shift_for(today, await load_calendar(db)))
    assert len(held) == sum(1 for m in world.meetings if m.events) >= 1
    for (facts, events), meeting in zip(held, [m for m in world.meetings if m.events], strict=True):
        state = fold(events, facts.agenda)
        assert rule_breaks(facts, state) == [], meeting.title
        assert state.started == meeting.actual_start and state.ended == meeting.actual_end
        assert any(item.opened for item in state.agenda.values())
        assert any(facts.members.values()), "the demo shows the absent-department policy"
        assert any(r.post is Post.B for o in state.opinions.values() for r in o.revisions), \
            "the demo shows a B post standing in"


def _user(facts: Facts, code: str, post: Post) -> int:
    return next(u for u, (c, p) in facts.users.items() if (c, p) == (code, post.value))


def _with(events: list[Logged], logged: Logged) -> list[Logged]:
    """The log with one more event, placed by time (it has no place in the stored chain)."""
    return sorted([*events, logged], key=lambda e: e.ts)


def _break_a_present(facts: Facts, events: list[Logged]) -> list[Logged]:
    b = next(e for e in events if isinstance(e.event, ParticipantJoined) and e.event.post is Post.B)
    assert isinstance(b.event, ParticipantJoined)
    code = facts.code(b.event.department_id) or ""
    a_id = _user(facts, code, Post.A)
    joined = b.event.model_copy(update={"participant_id": "p-a", "user_id": a_id, "display_name": "A岗",
                                        "post": Post.A})
    return _with(events, replace(b, actor_id=a_id, event=joined, seq=None))


def _break_lead_opinion(facts: Facts, events: list[Logged]) -> list[Logged]:
    key, lead = next(iter(facts.approver.items()))
    return [e for e in events if not (isinstance(e.event, OpinionSubmitted | OpinionAmended)
                                      and (e.event.project_code, e.event.item_name) == key
                                      and e.event.department_code == lead)]


def _break_absent_task(facts: Facts, events: list[Logged]) -> list[Logged]:
    task = next(e for e in events if isinstance(e.event, TaskAssigned))
    excused = next(code for code, reason in facts.members.items() if reason)
    assert isinstance(task.event, TaskAssigned)
    asked = task.event.model_copy(update={"task_id": "t-absent", "department_code": excused, "item_name": None,
                                          "text": "会后书面反馈意见。"})
    return _with(events, replace(task, event=asked, seq=None))


def _break_refer_to(facts: Facts, events: list[Logged]) -> list[Logged]:
    first = next(e for e in events if isinstance(e.event, OpinionSubmitted))
    assert isinstance(first.event, OpinionSubmitted)
    upward = first.event.model_copy(update={"kind": OpinionKind.REFER_UPWARD, "refer_to": None})
    return [replace(e, event=upward) if e is first else e for e in events]


def _break_drafter(facts: Facts, events: list[Logged]) -> list[Logged]:
    task = next(e for e in events if isinstance(e.event, TaskAssigned) and "纪要" in e.event.text)
    assert isinstance(task.event, TaskAssigned)
    lead = next(iter(facts.approver.values()))
    return [replace(e, event=task.event.model_copy(update={"department_code": lead})) if e is task else e
            for e in events]


def _break_end(facts: Facts, events: list[Logged]) -> list[Logged]:
    return [e for e in events
            if not (isinstance(e.event, MeetingStatusChanged) and e.event.to is MeetingStatus.ENDED)]


BREAKS = {
    "sits in while A post": _break_a_present,
    "opened without its approving department": _break_lead_opinion,
    "excused (视为同意) yet tasked": _break_absent_task,
    "需转报上级 without a higher authority": _break_refer_to,
    "the minutes are given to": _break_drafter,
    "no end": _break_end,
}


async def test_each_rule_finds_its_break(db_sessions, settings) -> None:
    (facts, events), *_ = await _held(db_sessions, settings, data.DATA_AS_OF)
    for expected, make in BREAKS.items():
        breaks = rule_breaks(facts, fold(make(facts, events), facts.agenda))
        assert any(expected in line for line in breaks), (expected, breaks)
    office_hours = replace(facts, working_day=lambda day: day.weekday() == 6)
    assert any("outside Beijing office hours" in line for line in rule_breaks(office_hours, fold(events, facts.agenda)))
    stranger = replace(facts, drafters=frozenset({"FQ-FGJ"}))
    assert any("not the issuing office" in line for line in rule_breaks(stranger, fold(events, facts.agenda)))


async def test_each_demo_case_names_its_approving_department_and_meetings_are_led_by_it(db_sessions,
                                                                                        settings) -> None:
    """Every demo case stores the approving department its data names (审批部门); the meetings that
    reviewed it were led by that department; and the scheduling form proposes it as the lead, for
    the wind farm too, whose open items are all other departments' (核准 at province level)."""
    await _held(db_sessions, settings, data.DATA_AS_OF)
    async with db_sessions() as db:
        cases = {c.project_code: c for c in await db.scalars(select(InvestmentCase))}
        choices = await scheduling_choices(db)
        open_items: dict[int, list[ApprovalItem]] = {}
        for item, case in choices.items:
            open_items.setdefault(case.id, []).append(item)
        leads = dict((await db.execute(
            select(ApprovalItem.case_id, Department.code).join(AgendaEntry, AgendaEntry.item_id == ApprovalItem.id)
            .join(Meeting, Meeting.id == AgendaEntry.meeting_id)
            .join(Department, Department.id == Meeting.lead_department_id))).all())
    for demo_case in data.CASES:
        row, code = cases[demo_case.project_code], demo_case.lead_department_code
        assert row.approving_department is not None and row.approving_department.code == code
        assert leads.get(row.id, code) == code, row.name
        if row.id in open_items:
            assert propose(row, open_items[row.id]).lead_department_id == row.approving_department_id, row.name
    wind = cases[data.WIND]
    assert wind.approving_department is not None and wind.approving_department.code == "FQ-FGJ"
    assert "FQ-FGJ" not in {item.department.code for item in open_items[wind.id]}
