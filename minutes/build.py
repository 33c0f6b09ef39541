"""Building the minutes from a MinutesSource: the record's state, then assembly.

The log is folded by the record's one reducer (record.reducer), the same that keeps the live review,
so the minutes read the state the room had: who attended, which items were opened and closed, each
opinion with its revisions, materials, decisions, tasks and clock notices. Deterministic by
construction: no clock is read (due dates count from the meeting's own date on the source's
calendar), events are taken in seq order, and every list keeps log or agenda order. Minutes record
what was done and decided, not what was said: chat, hands and the departments' speaking are not
carried over. What the applicant's side put before the meeting is: the materials it presented
(presentation_started) and the gist of what it said when given the floor (speaking_started with a
summary), short, never a transcript.

They print only what the record holds: the meeting's start and end are its own status changes (a
start that never happened is the planned time, marked so); an amendment made after the meeting is
a post-meeting amendment; an item never opened was not reviewed, so nobody is deemed to have
agreed to it; an item's lead department is never deemed to agree on its own item, and a
department asked for a written opinion is not deemed to agree either.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

from minutes import model as m
from minutes.notice import notice_number
from minutes.source import Case, Event, Item, MinutesSource, Person
from record.events import (
    ClockResumed,
    ClockSuspended,
    Logged,
    MaterialRequested,
    PresentationStarted,
    SpeakingStarted,
    parse_event,
)
from record.reducer import fold
from record.state import Act, AgendaRef, Opinion, OpinionRevision, Presence, ReviewState
from record.vocab import Capacity, OpinionKind, Post

PLAYBACK_URL = "/meetings/{meeting_id}/recordings/{key}?t={offset}"
OWN_OPINION = "own_opinion_required"
WRITTEN_OPINION = "written_opinion"


class _Context:
    """Look-ups shared by the assembly steps: names, people, local time, the meeting date."""

    def __init__(self, source: MinutesSource, state: ReviewState) -> None:
        self.source = source
        self.state = state
        self.labels = source.labels
        self.tz = timezone(timedelta(minutes=source.centre.utc_offset_minutes))
        self.departments = {d.code: d for d in source.departments}
        self.department_codes = {d.id: d.code for d in source.departments if d.id is not None}
        self.people_by_id = {p.user_id: p for p in source.people if p.user_id is not None}
        self.items = {(i.project_code, i.name): i for i in source.items}
        start = state.started or source.meeting.scheduled_start
        self.meeting_date: date = start.astimezone(self.tz).date()
        self.tasked = {(t.event.department_code, t.event.project_code, t.event.item_name) for t in state.tasks}

    def reviewed(self, item: Item) -> bool:
        """Whether the item was opened in the meeting (only then was it reviewed)."""
        entry = self.state.agenda.get((item.project_code, item.name))
        return entry is not None and entry.opened is not None

    def standing(self, department_code: str, item: Item) -> str:
        """What a department that gave no opinion on a reviewed item stands as: the item's own
        lead department must give its opinion; a department given a task on the item (or on its
        whole case) owes a written opinion; anyone else absent falls under the centre's policy."""
        if department_code == item.department_code:
            return OWN_OPINION
        if {(department_code, item.project_code, item.name), (department_code, item.project_code, None)} & self.tasked:
            return WRITTEN_OPINION
        return self.source.centre.absent_policy

    def local(self, ts: datetime) -> str:
        return ts.astimezone(self.tz).replace(tzinfo=None).isoformat(timespec="minutes")

    def department(self, code: str | None) -> str:
        if code is None:
            return ""
        department = self.departments.get(code)
        return department.name if department else code

    def person(self, user_id: int | None) -> Person | None:
        return self.people_by_id.get(user_id) if user_id is not None else None

    def actor(self, act: Act) -> str:
        """The actor's name: as registered, else the name they were in the room under."""
        person = self.person(act.actor_id)
        return person.display_name if person else act.actor_name or ""

    def due(self, working_days: int) -> tuple[str, bool]:
        day = self.source.calendar.add_working_days(self.meeting_date, working_days)
        return day.isoformat(), self.source.calendar.provisional(self.meeting_date, day)


def record_state(source: MinutesSource) -> ReviewState:
    """The source's log folded by the record's reducer over the meeting's agenda."""
    return fold(_logged(source.events), [AgendaRef(i.position, i.project_code, i.name) for i in source.items])


def meeting_started(events: Iterable[Event]) -> datetime | None:
    """When the meeting went live as the record has it (None: it never did). The server asks
    before it fills the source: the clocks printed in the minutes are those of the meeting's day."""
    return fold(_logged(events)).started


def _logged(events: Iterable[Event]) -> Iterator[Logged]:
    """The stored events as the record's typed events, in log (seq) order."""
    for e in sorted(events, key=lambda e: e.seq):
        yield Logged(e.ts, e.actor_id, parse_event(e.type, e.payload), e.seq)


def build_minutes(source: MinutesSource, *, number: str, version: int = 1) -> m.Minutes:
    """The minutes of the source's meeting under the given number and version."""
    state = record_state(source)
    ctx = _Context(source, state)
    meeting = source.meeting
    chair = meeting.chair
    attendance = _attendance(ctx)
    recordings = _recordings(ctx)
    presentations, statements = _applicant_side(ctx)
    applicants = list(dict.fromkeys(case.applicant_credit_code for case in source.cases))
    office = source.centre.issuer
    return m.Minutes(
        number=number,
        version=version,
        title=meeting.title if meeting.title.endswith("纪要") else f"{meeting.title}纪要",
        issuer=source.centre.issuer,
        meeting_id=meeting.id,
        meeting_title=meeting.title,
        date=ctx.meeting_date.isoformat(),
        start=ctx.local(state.started or meeting.scheduled_start),
        start_planned=state.started is None,
        end=ctx.local(state.ended) if state.ended else None,
        place=meeting.place,
        sites=[m.Site(name=s.name, level=s.level, level_label=ctx.labels.level.get(s.level, s.level),
                      is_host=s.is_host) for s in source.sites],
        chair=m.Attendee(name=chair.display_name, title=chair.title),
        chair_unit=ctx.department(chair.department_code),
        attendance=attendance,
        absent_policy=source.centre.absent_policy,
        absent_policy_statement=_policy_statement(ctx),
        cases=[_case(ctx, case, notice_number(number, applicants.index(case.applicant_credit_code) + 1
                                              if len(applicants) > 1 else None)) for case in source.cases],
        items=[_item(ctx, item, attendance.absent, recordings) for item in source.items],
        materials=[_material(ctx, entry.event) for entry in state.materials],
        tasks=_tasks(ctx),
        referrals=_referrals(ctx),
        decisions=[m.Decision(decision_id=e.decision_id, project_code=e.project_code,
                              item_name=e.item_name, text=e.text)
                   for e in (entry.event for entry in state.decisions)],
        clock=[_clock(ctx, entry.event) for entry in state.clock],
        recordings=[span for span, _start, _stop in recordings],
        summary=state.closing_note,
        presentations=presentations,
        statements=statements,
        recorder=meeting.recorder.display_name if meeting.recorder else office,
        compiler="、".join(dict.fromkeys(p.display_name for p in source.compilers)) or office,
        distribution=_distribution(ctx),
        source_log=(m.SourceLog(events=source.log.count, head_hash=source.log.head_hash)
                    if source.log else None),
        masthead=source.centre.minutes_mark,
        printer=source.centre.printer or source.centre.issuer,
        contact_phone=source.centre.telephone,
    )


def _attendance(ctx: _Context) -> m.Attendance:
    """出席 = invited member departments someone came for; 请假 = those nobody came for;
    列席 = observers, the applicant and guests, grouped by unit in order of arrival."""
    invited = {i.department_code: i for i in ctx.source.invitations if i.department_code}
    organisations = {i.organisation_credit_code: i.organisation_name for i in ctx.source.invitations
                     if i.organisation_credit_code}
    people: dict[str, list[m.Attendee]] = {}
    units: dict[str, str] = {}
    members: set[str] = set()
    degraded_s: dict[tuple[str, str], float] = {}
    for presence in ctx.state.presences.values():
        if presence.capacity is Capacity.CHAIR:
            continue
        code = ctx.department_codes.get(presence.department_id) if presence.department_id is not None else None
        person = ctx.person(presence.user_id)
        credit_code = person.organisation_credit_code if person else None
        key = code or credit_code or presence.unit or ""
        invitation = invited.get(code) if code else None
        if invitation is not None and invitation.capacity == Capacity.MEMBER:
            members.add(key)
        unit = (ctx.department(code) if code else organisations.get(credit_code or "")
                or presence.unit or "")
        units.setdefault(key, unit)
        attendee = _attendee(ctx, presence, code)
        if attendee.name not in {a.name for a in people.setdefault(key, [])}:
            people[key].append(attendee)
        # a rejoin is a new presence of the same person: their episodes add up
        degraded_s[(key, attendee.name)] = (degraded_s.get((key, attendee.name), 0.0)
                                            + presence.degraded_s(ctx.state.ended))
    people = {key: [a.model_copy(update={"poor_link_minutes": math.ceil(degraded_s[(key, a.name)] / 60)})
                    for a in attendees] for key, attendees in people.items()}
    member_order = [i.department_code for i in ctx.source.invitations
                    if i.capacity == Capacity.MEMBER and i.department_code]
    present = [m.AttendingUnit(code=code, name=units[code], people=people[code])
               for code in member_order if code in members]
    absent = [_absent(ctx, invited[code]) for code in member_order if code not in members]
    observers = [m.AttendingUnit(code=key if key in ctx.departments else None, name=units[key],
                                 people=people[key]) for key in people if key not in members]
    return m.Attendance(present=present, absent=absent, observers=observers)


def _attendee(ctx: _Context, presence: Presence, department_code: str | None) -> m.Attendee:
    """A person as the minutes name them; a B post is shown standing in for the A post."""
    person = ctx.person(presence.user_id)
    post = presence.post
    stands_in_name = None
    if post is Post.B:
        a_post = next((p for p in ctx.source.people if p.post == Post.A
                       and p.department_code == department_code), None)
        stands_in_name = a_post.display_name if a_post else None
    return m.Attendee(name=presence.display_name, title=person.title if person else "",
                      post=post.value if post else None, post_label=post.label_zh if post else "",
                      stands_in_for=stands_in_name)


def _policy_statement(ctx: _Context) -> str:
    centre = ctx.source.centre
    exceptions = ("事项主办部门须对本部门主办事项出具意见，会议交办书面意见的部门以其书面意见为准，"
                  "会议未审议的事项不适用本规定。")
    if centre.absent_policy == "deemed_accept":
        return f"受邀部门未出席会议（含请假）的，按本中心规定，对会议已审议的事项视为同意会议议定事项；{exceptions}"
    return (f"受邀部门未出席的，应于会后{centre.absent_opinion_due_working_days}个工作日内对会议已审议的事项"
            f"书面报送意见，逾期未报送的由本中心督办；书面意见到达前，该部门意见待定。{exceptions}")


def _absent(ctx: _Context, invitation: Any) -> m.AbsentUnit:
    """An absent member department and what its absence means, item by reviewed item: the
    statement names the items it is deemed to agree on (or owes an opinion on), never an item the
    meeting did not review."""
    centre = ctx.source.centre
    code = invitation.department_code
    name = ctx.department(code)
    given = {o.key for o in ctx.state.opinions.values() if o.department_code == code}
    by_standing: dict[str, list[str]] = {}
    for item in ctx.source.items:
        if ctx.reviewed(item) and (item.project_code, item.name) not in given:
            by_standing.setdefault(ctx.standing(code, item), []).append(item.name)
    due = ctx.due(centre.absent_opinion_due_working_days)[0] if "pending" in by_standing else None
    wording = {"deemed_accept": "对{items}视为同意会议议定事项",
               "pending": f"对{{items}}的意见待定，须于{_cn_date(due or '')}前书面报送意见",
               WRITTEN_OPINION: "对{items}的意见待定，会后书面报送",
               OWN_OPINION: "{items}由该部门主办，须由本部门出具意见"}
    parts = [wording[standing].format(items="、".join(names)) for standing, names in by_standing.items()]
    statement = f"{name}未出席会议" + (f"，{'；'.join(parts)}" if parts else "") + "。"
    return m.AbsentUnit(code=code, name=name, reason=invitation.excused_reason or "未出席",
                        policy=centre.absent_policy, statement=statement, opinion_due=due)


def _case(ctx: _Context, case: Case, notice_no: str) -> m.Case:
    return m.Case(project_code=case.project_code, name=case.name, applicant=case.applicant_name,
                  applicant_credit_code=case.applicant_credit_code, location=case.location,
                  total_investment=case.total_investment, scale_content=case.scale_content,
                  category=case.category, category_label=ctx.labels.category.get(case.category, case.category),
                  industry=case.industry, clock=case.clock, agency=case.agency, notice_number=notice_no)


def _applicant_side(ctx: _Context) -> tuple[list[m.Presentation], list[m.Statement]]:
    """What the applicant's side presented and said, in log order: presentations started by, and
    floor gists of, someone who is the applicant's (its people, its commissioned agent, or in the
    room as applicant or agent). A department's presentation or words are not the applicant's."""
    presentations: list[m.Presentation] = []
    statements: list[m.Statement] = []
    presences = ctx.state.presences
    for logged in _logged(ctx.source.events):
        event = logged.event
        if isinstance(event, PresentationStarted):
            capacities = {p.capacity for p in presences.values() if p.user_id == logged.actor_id}
            side = _applicant_of(ctx, logged.actor_id, capacities, "")
            person = ctx.person(logged.actor_id)
            name = person.display_name if person else ctx.state.name_of(logged.actor_id)
            shown = any(p.title == event.title and p.presenter == name for p in presentations)
            if side is not None and name and not shown:  # shown again after a stop: once
                presentations.append(m.Presentation(
                    at=ctx.local(logged.ts), title=event.title, file_name=event.file_name,
                    page_count=event.page_count, presenter=name, unit=side[0], project_codes=side[1]))
        elif isinstance(event, SpeakingStarted) and event.summary.strip():
            presence = presences.get(event.participant_id)
            capacities = {presence.capacity} if presence else set()
            side = _applicant_of(ctx, event.user_id, capacities, presence.unit if presence else "")
            if side is not None:
                statements.append(m.Statement(at=ctx.local(logged.ts), speaker=event.display_name,
                                              unit=side[0], summary=event.summary.strip(), project_codes=side[1]))
    return presentations, statements


def _applicant_of(ctx: _Context, user_id: int | None, capacities: set[Capacity],
                  unit: str) -> tuple[str, list[str]] | None:
    """(unit, the cases they speak for) of someone on the applicant's side; None for anyone else.
    A person of an applicant organisation speaks for its cases, an agent for the cases of the
    organisations that commissioned them; someone in the room as applicant or agent without such
    a link speaks for the meeting's only case, or for none that can be named."""
    person = ctx.person(user_id)
    credit_code = person.organisation_credit_code if person else None
    own = [c for c in ctx.source.cases if credit_code and c.applicant_credit_code == credit_code]
    if own:
        return own[0].applicant_name, [c.project_code for c in own]
    agent_of = [c for c in ctx.source.cases if user_id is not None and c.agent_user_id == user_id]
    if agent_of:
        return f"{agent_of[0].applicant_name}委托代办员", [c.project_code for c in agent_of]
    if capacities & {Capacity.APPLICANT, Capacity.AGENT}:
        only = [c.project_code for c in ctx.source.cases] if len(ctx.source.cases) == 1 else []
        return unit, only
    return None


def _recordings(ctx: _Context) -> list[tuple[m.RecordingSpan, datetime, datetime | None]]:
    spans = []
    for recording in ctx.state.recordings.values():
        span = m.RecordingSpan(recording_key=recording.key, started_at=ctx.local(recording.started),
                               stopped_at=ctx.local(recording.stopped) if recording.stopped else None,
                               consent_notice=recording.consent_notice)
        spans.append((span, recording.started, recording.stopped))
    return spans


def _link(ctx: _Context, ts: datetime, recordings: list[Any]) -> m.RecordingLink | None:
    """Where in a recording an event happened: the recording running at its time, if any."""
    for span, start, stop in recordings:
        if start <= ts and (stop is None or ts <= stop):
            offset = int((ts - start).total_seconds())
            url = PLAYBACK_URL.format(meeting_id=ctx.source.meeting.id, key=span.recording_key,
                                      offset=offset)
            return m.RecordingLink(recording_key=span.recording_key, offset_s=offset, url=url)
    return None


def _item(ctx: _Context, item: Item, absent: list[m.AbsentUnit], recordings: list[Any]) -> m.Item:
    key = (item.project_code, item.name)
    opinions = [_opinion(ctx, opinion, recordings) for opinion in ctx.state.opinions_on(key)]
    reviewed = ctx.reviewed(item)
    missing: list[m.AbsentOpinion] = []
    if reviewed:
        given = {o.department_code for o in opinions}
        away = {a.code: a for a in absent}
        missing = [_missing_opinion(ctx, code, item, away.get(code))
                   for code in dict.fromkeys([*away, item.department_code]) if code not in given]
    entry = ctx.state.agenda.get(key)
    return m.Item(position=item.position, project_code=item.project_code, name=item.name,
                  department_code=item.department_code, department=ctx.department(item.department_code),
                  level_label=ctx.labels.level.get(item.level, item.level),
                  accepted_on=item.accepted_on.isoformat() if item.accepted_on else None,
                  promised_limit_wd=item.promised_limit_wd, statutory_limit_wd=item.statutory_limit_wd,
                  reviewed=reviewed, outcome=entry.outcome if entry else "", opinions=opinions, absent=missing,
                  clock=item.clock)


def _missing_opinion(ctx: _Context, code: str, item: Item, absent: m.AbsentUnit | None) -> m.AbsentOpinion:
    """What stands for a department's missing opinion on a reviewed item (absent: it did not
    attend; otherwise it is the item's lead department, present but silent)."""
    standing = ctx.standing(code, item)
    away = "未出席，" if absent else ""
    due = absent.opinion_due if absent else None
    if standing == OWN_OPINION:
        statement = f"{away}未出具意见；本事项由该部门主办，须由本部门出具意见（会后跟进）"
    elif standing == WRITTEN_OPINION:
        statement = f"{away}意见待定（会后书面报送）"
    elif standing == "deemed_accept":
        statement = f"{away}视为同意会议议定事项"
    else:
        statement = f"{away}意见待定（须于{_cn_date(due or '')}前书面报送）"
    return m.AbsentOpinion(department_code=code, department=ctx.department(code), status=standing,
                           statement=statement)


def _opinion(ctx: _Context, opinion: Opinion, recordings: list[Any]) -> m.Opinion:
    current = opinion.current
    content = current.content
    kind: OpinionKind = content.kind
    amendments = [_amendment(ctx, a) for a in opinion.amendments]
    return m.Opinion(
        opinion_id=opinion.opinion_id, department_code=opinion.department_code,
        department=ctx.department(opinion.department_code), kind=kind.value, kind_label=kind.label_zh,
        text=content.text, conditions=list(content.conditions), reasons=content.reasons,
        legal_basis=content.legal_basis, remedy_notice=content.remedy_notice,
        refer_to=content.refer_to, refer_to_name=ctx.department(content.refer_to) or None,
        given_by=ctx.actor(current.act), post=content.post.value,
        post_label=content.post.label_zh, revision=content.revision, amendments=amendments,
        at=ctx.local(current.act.at), recording=_link(ctx, current.act.at, recordings))


def _amendment(ctx: _Context, revision: OpinionRevision) -> m.Amendment:
    """An amendment with its phase: one made after the meeting ended is a post-meeting amendment."""
    act, post = revision.act, revision.post
    return m.Amendment(revision=revision.content.revision, at=ctx.local(act.at), reason=revision.amendment_reason,
                       phase=act.phase.value, phase_label=act.phase.label_zh, by=ctx.actor(act),
                       post=post.value, post_label=post.label_zh)


def _material(ctx: _Context, event: MaterialRequested) -> m.Material:
    """A requested material with its due date and why it is asked for: the legal basis of the
    opinion it came with, else that of its department's opinion on the item."""
    item = ctx.items.get((event.project_code, event.item_name))
    due, provisional = ctx.due(event.due_working_days)
    opinion = ctx.state.opinions.get(event.opinion_id or "") or ctx.state.opinion_for(
        (event.project_code, event.item_name), event.department_code)
    basis = opinion.current.content.legal_basis.strip() if opinion else ""
    return m.Material(request_id=event.request_id, project_code=event.project_code,
                      item_name=event.item_name, item_position=item.position if item else None,
                      department_code=event.department_code, department=ctx.department(event.department_code),
                      material=event.material, detail=event.detail, due_working_days=event.due_working_days,
                      due_date=due, provisional=provisional, legal_basis=basis)


def _tasks(ctx: _Context) -> list[m.DepartmentTasks]:
    """Tasks grouped by department, departments in the order they were first given a task."""
    groups: dict[str, list[m.Task]] = {}
    for task in (entry.event for entry in ctx.state.tasks):
        due, provisional = ctx.due(task.due_working_days)
        groups.setdefault(task.department_code, []).append(m.Task(
            task_id=task.task_id, project_code=task.project_code, item_name=task.item_name, text=task.text,
            due_working_days=task.due_working_days, due_date=due, provisional=provisional))
    return [m.DepartmentTasks(department_code=code, department=ctx.department(code), tasks=tasks)
            for code, tasks in groups.items()]


def _referrals(ctx: _Context) -> list[m.Referral]:
    referrals = []
    for opinion in ctx.state.opinions.values():
        content = opinion.current.content
        if content.kind is OpinionKind.REFER_UPWARD:
            referrals.append(m.Referral(
                opinion_id=opinion.opinion_id, project_code=content.project_code, item_name=content.item_name,
                from_department=ctx.department(content.department_code), to_department_code=content.refer_to,
                to_department=ctx.department(content.refer_to) or None, text=content.text))
    return referrals


def _clock(ctx: _Context, event: ClockSuspended | ClockResumed) -> m.ClockEntry:
    kind, label = ("suspended", "中止审查") if isinstance(event, ClockSuspended) else ("resumed", "恢复审查")
    return m.ClockEntry(kind=kind, label=label, project_code=event.project_code, item_name=event.item_name,
                        department=ctx.department(event.department_code), notice_no=event.notice_no,
                        effective_date=event.effective_date, reason=event.reason)


def _distribution(ctx: _Context) -> list[str]:
    """分送: every invited unit, then departments given a task without being invited (the issuer
    keeps the original and is not listed)."""
    names: list[str] = []
    for invitation in ctx.source.invitations:
        names.append(ctx.department(invitation.department_code) if invitation.department_code
                     else invitation.organisation_name or "")
    names += [ctx.department(entry.event.department_code) for entry in ctx.state.tasks]
    return list(dict.fromkeys(name for name in names if name and name != ctx.source.centre.issuer))


def _cn_date(iso: str) -> str:
    """2026-11-27 -> 2026年11月27日 (no leading zeros, as official documents write dates)."""
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日"
