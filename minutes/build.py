"""Building the minutes from a MinutesSource: one pass over the event log, then assembly.

Deterministic by construction: no clock is read (due dates count from the meeting's own date on the
source's calendar), events are taken in seq order, and every list keeps log or agenda order. The
log vocabulary is that of server.demo.records.EVENT_SCHEMA (the server adapter translates the live
meeting's participant events into it). Minutes record what was done and decided, not what was
said: speaking, chat, hands and presentations are not carried over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from minutes import model as m
from minutes.source import Event, MinutesSource, Person

PLAYBACK_URL = "/meetings/{meeting_id}/recordings/{key}?t={offset}"
CLOCK_LABELS = {"clock_suspended": ("suspended", "中止审查"), "clock_resumed": ("resumed", "恢复审查")}
MEMBER, OBSERVER, APPLICANT, CHAIR = "member", "observer", "applicant", "chair"


@dataclass
class _Revision:
    """The latest revision of one opinion, with the reasons of the revisions it replaced."""

    event: Event
    amendments: list[Event] = field(default_factory=list)


@dataclass
class _Log:
    """What one pass over the events collects, still in log order."""

    started: datetime | None = None
    ended: datetime | None = None
    summary: str = ""
    joined: list[dict[str, Any]] = field(default_factory=list)
    recordings: dict[str, list[Any]] = field(default_factory=dict)
    outcomes: dict[int, str] = field(default_factory=dict)
    opinions: dict[str, _Revision] = field(default_factory=dict)
    materials: list[Event] = field(default_factory=list)
    decisions: list[Event] = field(default_factory=list)
    tasks: list[Event] = field(default_factory=list)
    clock: list[Event] = field(default_factory=list)


class _Context:
    """Look-ups shared by the assembly steps: names, people, local time, the meeting date."""

    def __init__(self, source: MinutesSource, log: _Log) -> None:
        self.source = source
        self.labels = source.labels
        self.tz = timezone(timedelta(minutes=source.centre.utc_offset_minutes))
        self.departments = {d.code: d for d in source.departments}
        self.people_by_id = {p.user_id: p for p in source.people if p.user_id is not None}
        self.people_by_username = {p.username: p for p in source.people if p.username}
        self.items = {(i.project_code, i.name): i for i in source.items}
        start = log.started or source.meeting.scheduled_start
        self.meeting_date: date = start.astimezone(self.tz).date()

    def local(self, ts: datetime) -> str:
        return ts.astimezone(self.tz).replace(tzinfo=None).isoformat(timespec="minutes")

    def department(self, code: str | None) -> str:
        if code is None:
            return ""
        department = self.departments.get(code)
        return department.name if department else code

    def actor(self, event: Event) -> Person | None:
        return self.people_by_id.get(event.actor_id) if event.actor_id is not None else None

    def due(self, working_days: int) -> tuple[str, bool]:
        day = self.source.calendar.add_working_days(self.meeting_date, working_days)
        return day.isoformat(), self.source.calendar.provisional(self.meeting_date, day)


def build_minutes(source: MinutesSource, *, number: str, version: int = 1) -> m.Minutes:
    """The minutes of the source's meeting under the given number and version."""
    log = _read_log(source.events)
    ctx = _Context(source, log)
    meeting = source.meeting
    chair = meeting.chair
    attendance = _attendance(ctx, log)
    recordings = _recordings(ctx, log)
    return m.Minutes(
        number=number,
        version=version,
        title=meeting.title if meeting.title.endswith("纪要") else f"{meeting.title}纪要",
        issuer=source.centre.issuer,
        meeting_id=meeting.id,
        meeting_title=meeting.title,
        date=ctx.meeting_date.isoformat(),
        start=ctx.local(log.started or meeting.scheduled_start),
        end=ctx.local(log.ended) if log.ended else None,
        place=meeting.place,
        sites=[m.Site(name=s.name, level=s.level, level_label=ctx.labels.level.get(s.level, s.level),
                      is_host=s.is_host) for s in source.sites],
        chair=m.Attendee(name=chair.display_name, title=chair.title),
        chair_unit=ctx.department(chair.department_code),
        attendance=attendance,
        absent_policy=source.centre.absent_policy,
        absent_policy_statement=_policy_statement(ctx),
        cases=[_case(ctx, case) for case in source.cases],
        items=[_item(ctx, log, item, attendance.absent, recordings) for item in source.items],
        materials=[_material(ctx, event) for event in log.materials],
        tasks=_tasks(ctx, log),
        referrals=_referrals(ctx, log),
        decisions=[m.Decision(decision_id=e.payload["decision_id"], project_code=e.payload.get("project_code"),
                              item_name=e.payload.get("item_name"), text=e.payload.get("text", ""))
                   for e in log.decisions],
        clock=[_clock(ctx, event) for event in log.clock],
        recordings=[span for span, _start, _stop in recordings],
        summary=log.summary,
        distribution=_distribution(ctx, log),
        source_log=(m.SourceLog(events=source.log.count, head_hash=source.log.head_hash)
                    if source.log else None),
    )


def _read_log(events: tuple[Event, ...]) -> _Log:
    log = _Log()
    for event in sorted(events, key=lambda e: e.seq):
        p, kind = event.payload, event.type
        if kind == "meeting_started" and log.started is None:
            log.started = event.ts
        elif kind == "meeting_ended":
            log.ended, log.summary = event.ts, p.get("summary") or ""
        elif kind == "participant_joined":
            log.joined.append({**p, "_ts": event.ts})
        elif kind == "recording_started":
            log.recordings.setdefault(p["recording_key"], [event, None])
        elif kind == "recording_stopped" and p.get("recording_key") in log.recordings:
            log.recordings[p["recording_key"]][1] = event
        elif kind == "agenda_item_closed":
            log.outcomes[p["position"]] = p.get("outcome") or ""
        elif kind == "opinion_submitted":
            log.opinions[p["opinion_id"]] = _Revision(event)
        elif kind == "opinion_amended":
            earlier = log.opinions.get(p["opinion_id"])
            amendments = [*earlier.amendments, event] if earlier else [event]
            log.opinions[p["opinion_id"]] = _Revision(event, amendments)
        elif kind == "material_requested":
            log.materials.append(event)
        elif kind == "decision_recorded":
            log.decisions.append(event)
        elif kind == "task_assigned":
            log.tasks.append(event)
        elif kind in CLOCK_LABELS:
            log.clock.append(event)
    return log


def _attendance(ctx: _Context, log: _Log) -> m.Attendance:
    """出席 = invited member departments someone came for; 请假 = those nobody came for;
    列席 = observers, the applicant and guests, grouped by unit in order of arrival."""
    invited = {i.department_code: i for i in ctx.source.invitations if i.department_code}
    organisations = {i.organisation_credit_code: i.organisation_name for i in ctx.source.invitations
                     if i.organisation_credit_code}
    people: dict[str, list[m.Attendee]] = {}
    units: dict[str, str] = {}
    members: set[str] = set()
    for joined in log.joined:
        if joined.get("capacity") == CHAIR:
            continue
        code = joined.get("department_code")
        invitation = invited.get(code) if code else None
        credit_code = joined.get("organisation_credit_code")
        key = code or credit_code or joined.get("unit_name") or ""
        if invitation is not None and invitation.capacity == MEMBER:
            members.add(key)
        unit = (ctx.department(code) if code else organisations.get(credit_code or "")
                or joined.get("unit_name") or "")
        units.setdefault(key, unit)
        attendee = _attendee(ctx, joined)
        if attendee.name not in {a.name for a in people.setdefault(key, [])}:
            people[key].append(attendee)
    member_order = [i.department_code for i in ctx.source.invitations
                    if i.capacity == MEMBER and i.department_code]
    present = [m.AttendingUnit(code=code, name=units[code], people=people[code])
               for code in member_order if code in members]
    absent = [_absent(ctx, invited[code]) for code in member_order if code not in members]
    observers = [m.AttendingUnit(code=key if key in ctx.departments else None, name=units[key],
                                 people=people[key]) for key in people if key not in members]
    return m.Attendance(present=present, absent=absent, observers=observers)


def _attendee(ctx: _Context, joined: dict[str, Any]) -> m.Attendee:
    person = ctx.people_by_username.get(joined.get("username") or "")
    post = joined.get("post")
    stands_in = joined.get("stands_in_for")
    stands_in_name = None
    if stands_in:
        a_post = ctx.people_by_username.get(stands_in)
        stands_in_name = a_post.display_name if a_post else stands_in
    elif post == "B":
        a_post = next((p for p in ctx.source.people if p.post == "A"
                       and p.department_code == joined.get("department_code")), None)
        stands_in_name = a_post.display_name if a_post else None
    return m.Attendee(name=joined.get("display_name") or "", title=person.title if person else "",
                      post=post, post_label=ctx.labels.post.get(post, "") if post else "",
                      stands_in_for=stands_in_name)


def _policy_statement(ctx: _Context) -> str:
    centre = ctx.source.centre
    if centre.absent_policy == "deemed_accept":
        return "受邀部门未出席会议（含请假）的，按本中心规定视为同意会议议定事项。"
    return (f"受邀部门未出席的，应于会后{centre.absent_opinion_due_working_days}个工作日内书面报送意见，"
            "逾期未报送的由本中心督办；书面意见到达前，该部门意见待定。")


def _absent(ctx: _Context, invitation: Any) -> m.AbsentUnit:
    centre = ctx.source.centre
    name = ctx.department(invitation.department_code)
    if centre.absent_policy == "deemed_accept":
        statement, due = f"{name}未出席会议，视为同意会议议定事项。", None
    else:
        due, _provisional = ctx.due(centre.absent_opinion_due_working_days)
        statement = f"{name}未出席会议，意见待定，须于{_cn_date(due)}前书面报送意见。"
    return m.AbsentUnit(code=invitation.department_code, name=name,
                        reason=invitation.excused_reason or "未出席", policy=centre.absent_policy,
                        statement=statement, opinion_due=due)


def _case(ctx: _Context, case: Any) -> m.Case:
    return m.Case(project_code=case.project_code, name=case.name, applicant=case.applicant_name,
                  applicant_credit_code=case.applicant_credit_code, location=case.location,
                  total_investment=case.total_investment, scale_content=case.scale_content,
                  category=case.category, category_label=ctx.labels.category.get(case.category, case.category),
                  industry=case.industry)


def _recordings(ctx: _Context, log: _Log) -> list[tuple[m.RecordingSpan, datetime, datetime | None]]:
    spans = []
    for key, (started, stopped) in log.recordings.items():
        span = m.RecordingSpan(recording_key=key, started_at=ctx.local(started.ts),
                               stopped_at=ctx.local(stopped.ts) if stopped else None,
                               consent_notice=started.payload.get("consent_notice") or "")
        spans.append((span, started.ts, stopped.ts if stopped else None))
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


def _item(ctx: _Context, log: _Log, item: Any, absent: list[m.AbsentUnit],
          recordings: list[Any]) -> m.Item:
    opinions = []
    for opinion_id, revision in log.opinions.items():
        p = revision.event.payload
        if (p.get("project_code"), p.get("item_name")) != (item.project_code, item.name):
            continue
        opinions.append(_opinion(ctx, opinion_id, revision, recordings))
    given = {o.department_code for o in opinions}
    absent_opinions = [m.AbsentOpinion(department_code=a.code, department=a.name,
                                       statement=_absent_opinion(ctx, a))
                       for a in absent if a.code not in given]
    return m.Item(position=item.position, project_code=item.project_code, name=item.name,
                  department_code=item.department_code, department=ctx.department(item.department_code),
                  level_label=ctx.labels.level.get(item.level, item.level),
                  accepted_on=item.accepted_on.isoformat() if item.accepted_on else None,
                  promised_limit_wd=item.promised_limit_wd, statutory_limit_wd=item.statutory_limit_wd,
                  outcome=log.outcomes.get(item.position, ""), opinions=opinions, absent=absent_opinions)


def _absent_opinion(ctx: _Context, absent: m.AbsentUnit) -> str:
    if absent.policy == "deemed_accept":
        return "未出席，视为同意会议议定事项"
    return f"未出席，意见待定（须于{_cn_date(absent.opinion_due or '')}前书面报送）"


def _opinion(ctx: _Context, opinion_id: str, revision: _Revision, recordings: list[Any]) -> m.Opinion:
    event, p = revision.event, revision.event.payload
    actor = ctx.actor(event)
    kind = p.get("kind", "")
    post = p.get("post")
    refer_to = p.get("refer_to")
    amendments = [m.Amendment(revision=a.payload.get("revision", 0), at=ctx.local(a.ts),
                              reason=a.payload.get("amendment_reason") or "")
                  for a in revision.amendments]
    return m.Opinion(
        opinion_id=opinion_id, department_code=p.get("department_code", ""),
        department=ctx.department(p.get("department_code")), kind=kind,
        kind_label=ctx.labels.opinion_kind.get(kind, kind), text=p.get("text") or "",
        conditions=list(p.get("conditions") or []), reasons=p.get("reasons") or "",
        legal_basis=p.get("legal_basis") or "", remedy_notice=p.get("remedy_notice") or "",
        refer_to=refer_to, refer_to_name=ctx.department(refer_to) or None,
        given_by=actor.display_name if actor else "", post=post,
        post_label=ctx.labels.post.get(post, "") if post else "",
        revision=p.get("revision", 1), amendments=amendments, at=ctx.local(event.ts),
        recording=_link(ctx, event.ts, recordings))


def _material(ctx: _Context, event: Event) -> m.Material:
    p = event.payload
    item = ctx.items.get((p.get("project_code"), p.get("item_name")))
    due, provisional = ctx.due(int(p["due_working_days"]))
    return m.Material(request_id=p["request_id"], project_code=p.get("project_code") or "",
                      item_name=p.get("item_name") or "", item_position=item.position if item else None,
                      department_code=p.get("department_code") or "",
                      department=ctx.department(p.get("department_code")), material=p.get("material") or "",
                      detail=p.get("detail") or "", due_working_days=int(p["due_working_days"]),
                      due_date=due, provisional=provisional)


def _tasks(ctx: _Context, log: _Log) -> list[m.DepartmentTasks]:
    """Tasks grouped by department, departments in the order they were first given a task."""
    groups: dict[str, list[m.Task]] = {}
    for event in log.tasks:
        p = event.payload
        due, provisional = ctx.due(int(p["due_working_days"]))
        groups.setdefault(p["department_code"], []).append(m.Task(
            task_id=p["task_id"], project_code=p.get("project_code"), item_name=p.get("item_name"),
            text=p.get("text") or "", due_working_days=int(p["due_working_days"]), due_date=due,
            provisional=provisional))
    return [m.DepartmentTasks(department_code=code, department=ctx.department(code), tasks=tasks)
            for code, tasks in groups.items()]


def _referrals(ctx: _Context, log: _Log) -> list[m.Referral]:
    referrals = []
    for opinion_id, revision in log.opinions.items():
        p = revision.event.payload
        if p.get("kind") == "refer_upward":
            referrals.append(m.Referral(
                opinion_id=opinion_id, project_code=p.get("project_code") or "",
                item_name=p.get("item_name") or "", from_department=ctx.department(p.get("department_code")),
                to_department_code=p.get("refer_to"), to_department=ctx.department(p.get("refer_to")) or None,
                text=p.get("text") or ""))
    return referrals


def _clock(ctx: _Context, event: Event) -> m.ClockEntry:
    p = event.payload
    kind, label = CLOCK_LABELS[event.type]
    return m.ClockEntry(kind=kind, label=label, project_code=p.get("project_code") or "",
                        item_name=p.get("item_name") or "", department=ctx.department(p.get("department_code")),
                        notice_no=p.get("notice_no") or "", effective_date=p.get("effective_date") or "",
                        reason=p.get("reason") or "")


def _distribution(ctx: _Context, log: _Log) -> list[str]:
    """分送: every invited unit, then departments given a task without being invited (the issuer
    keeps the original and is not listed)."""
    names: list[str] = []
    for invitation in ctx.source.invitations:
        names.append(ctx.department(invitation.department_code) if invitation.department_code
                     else invitation.organisation_name or "")
    names += [ctx.department(e.payload["department_code"]) for e in log.tasks]
    return list(dict.fromkeys(name for name in names if name and name != ctx.source.centre.issuer))


def _cn_date(iso: str) -> str:
    """2026-11-27 -> 2026年11月27日 (no leading zeros, as official documents write dates)."""
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日"
