"""Replaying a meeting's log through the record's reducer rebuilds exactly the live review's state.

Hypothesis generates random valid meetings (people joining and leaving, the floor moving, items
opened and closed, opinions given, amended and confirmed by A and B posts, materials, decisions, tasks, hands,
chat, presentations, recordings, the meeting going live and ending); each event is written the way
the room writes it (signaling.events.MeetingLog: checked against the record, stored through the
hash-chained service, handed to the live review as it is written). Then the review is loaded from
the stored log as a restarted server does (signaling.review.load_review): its state, and what the
room shows of it, must equal the live one. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from record.reducer import fold
from server.db.models import AgendaEntry, ApprovalItem, Invitation, Meeting
from server.services.eventlog import read_record, verify_meeting_log
from server.services.live_meeting import load_live_facts
from server.signaling.events import MeetingLog
from server.signaling.review import Present, Review, load_review
from server.signaling.spool import EventSpool
from tests.hostile import budget
from tests.world import World, build_world

LAND = "建设项目用地预审与选址意见书核发"
KINDS = ("agree", "agree_in_principle", "conditional", "disagree", "refer_upward")
ACTIONS = ("join", "join", "leave", "speak", "open", "close", "opinion", "opinion", "confirm", "material",
           "decision", "task", "hand", "chat", "present", "unpresent", "record", "unrecord", "status",
           "poor_video", "video_back")
EXAMPLES = 25


@dataclass(frozen=True)
class Person:
    username: str | None
    name: str
    capacity: str
    department: str | None = None
    post: str | None = None


PEOPLE = (Person("chair", "李主任", "chair"), Person("rep_a", "王发改", "member", "FQ-FGJ", "A"),
          Person("rep_b", "赵发改", "member", "FQ-FGJ", "B"), Person("rep_other", "钱自然", "member", "FQ-ZRJ", "A"),
          Person("applicant", "张峰", "applicant"), Person(None, "鲁志明", "observer"))
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
actions = st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 5), st.integers(0, 4), texts),
                   min_size=1, max_size=40)


@dataclass
class Room:
    """Just enough of a meeting to write only what the room could write next."""

    world: World
    items: list[tuple[str, str, int]]
    here: dict[int, str] = field(default_factory=dict)
    """PEOPLE index -> participant id."""
    status: dict[str, str] = field(default_factory=dict)
    opinions: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    presenting: str | None = None
    recording: str | None = None
    phase: str = "scheduled"

    def user(self, person: Person) -> int | None:
        return self.world.user_ids[person.username] if person.username else None

    def department_id(self, person: Person) -> int | None:
        return {"FQ-FGJ": self.world.dept_fgj, "FQ-ZRJ": self.world.dept_zrj}.get(person.department or "")

    def open_item(self) -> tuple[str, str, int] | None:
        return next((i for i in self.items if self.status.get(i[1]) == "open"), None)

    def event(self, action: str, who: int, which: int, text: str) -> tuple[int | None, str, dict[str, Any]] | None:
        """The event the action makes here and now, or None where the room would refuse it."""
        person, n = PEOPLE[who], next(self.ids)
        actor = self.user(person)
        present = who in self.here
        item = self.items[which % len(self.items)]
        open_item = self.open_item()
        chair_here = 0 in self.here
        match action:
            case "join" if not present:
                self.here[who] = f"p{n}"
                return actor, "participant_joined", {
                    "participant_id": f"p{n}", "user_id": actor, "display_name": person.name, "unit": "",
                    "capacity": person.capacity, "department_id": self.department_id(person), "post": person.post,
                    "token_id": None, "via": "session" if actor else "token"}
            case "leave" if present:
                return actor, "participant_left", {"participant_id": self.here.pop(who), "user_id": actor,
                                                   "display_name": person.name, "reason": "left", "duration_ms": n}
            case "speak" if present:
                return None, "speaking_started", {"participant_id": self.here[who], "user_id": actor,
                                                  "display_name": person.name, "summary": text}
            case "poor_video" | "video_back" if present:  # the SFU's episodes: any order, the reducer copes
                return None, "link_degraded" if action == "poor_video" else "link_recovered", {
                    "participant_id": self.here[who], "user_id": actor, "since": "2026-12-01T02:00:00+00:00",
                    "layer": 0, "wanted": which % 3, "layers": 3, "reason": ("bandwidth", "loss", "rtt")[which % 3]}
            case "open" if chair_here and open_item is None and item[1] not in self.status:
                self.status[item[1]] = "open"
                return self.user(PEOPLE[0]), "agenda_item_opened", {"project_code": item[0], "item_name": item[1],
                                                                    "position": item[2]}
            case "close" if chair_here and open_item is not None:
                self.status[open_item[1]] = "closed"
                return self.user(PEOPLE[0]), "agenda_item_closed", {
                    "project_code": open_item[0], "item_name": open_item[1], "position": open_item[2], "outcome": text}
            case "opinion" if present and person.department and (open_item or self.phase == "ended"):
                target = open_item or item
                earlier = self.opinions.get((target[1], person.department))
                if earlier is None and open_item is None:
                    return None  # after the meeting an opinion can only be amended
                opinion_id, revision = (earlier[0], earlier[1] + 1) if earlier else (f"op-{n}", 1)
                self.opinions[(target[1], person.department)] = (opinion_id, revision)
                kind = KINDS[which]
                payload = {"opinion_id": opinion_id, "revision": revision, "project_code": target[0],
                           "item_name": target[1], "department_code": person.department, "post": person.post,
                           "kind": kind, "text": text, "conditions": [text] if kind == "conditional" else [],
                           "reasons": text if kind == "disagree" else "", "legal_basis": "",
                           "remedy_notice": "", "refer_to": "LC-FGW" if kind == "refer_upward" else None}
                if earlier is None:
                    return actor, "opinion_submitted", payload
                return actor, "opinion_amended", {**payload, "amendment_reason": text or "修改"}
            case "confirm" if present and person.department and self.phase != "ended":
                confirmed = self.opinions.get((item[1], person.department))
                if confirmed is None:
                    return None
                return actor, "opinion_confirmed", {"opinion_id": confirmed[0], "revision": confirmed[1],
                                                    "department_code": person.department, "post": person.post}
            case "material" if present and person.department and open_item:
                opinion = self.opinions.get((open_item[1], person.department))
                if opinion is None:
                    return None
                return actor, "material_requested", {
                    "request_id": f"mr-{n}", "opinion_id": opinion[0], "project_code": open_item[0],
                    "item_name": open_item[1], "department_code": person.department, "material": text or "材料",
                    "detail": "", "due_working_days": which + 1}
            case "decision" if chair_here:
                about = open_item or (item[0], None, 0)
                return self.user(PEOPLE[0]), "decision_recorded", {
                    "decision_id": f"d-{n}", "project_code": about[0], "item_name": about[1], "text": text or "议定"}
            case "task" if chair_here:
                return self.user(PEOPLE[0]), "task_assigned", {
                    "task_id": f"t-{n}", "department_code": ("FQ-FGJ", "FQ-ZRJ", "FQ-YJJ")[which % 3],
                    "project_code": item[0], "item_name": None, "text": text or "办理", "due_working_days": which + 1}
            case "hand" if present:
                return actor, "hand_raised", {"purpose": text}
            case "chat" if present and text.strip():
                return actor, "chat_message", {"text": text, "to": None}
            case "present" if present and self.presenting is None:
                self.presenting = text
                return actor, "presentation_started", {"title": text, "file_name": "a.pdf", "page_count": which + 1}
            case "unpresent" if self.presenting is not None:
                title, self.presenting = self.presenting, None
                return actor, "presentation_stopped", {"title": title}
            case "record" if self.recording is None:
                self.recording = f"R{n}"
                return None, "recording_started", {"recording_key": self.recording, "consent_notice": text}
            case "unrecord" if self.recording is not None:
                key, self.recording = self.recording, None
                return None, "recording_stopped", {"recording_key": key}
            case "status" if self.phase in ("scheduled", "live"):
                old, self.phase = self.phase, "live" if self.phase == "scheduled" else "ended"
                return self.user(PEOPLE[0]), "meeting_status_changed", {"from": old, "to": self.phase, "note": text}
        return None


async def _new_meeting(sessions: async_sessionmaker[AsyncSession], world: World, land_item: int) -> int:
    async with sessions() as db:
        meeting = Meeting(
            title="重放会议", status="scheduled", scheduled_start=datetime(2026, 12, 8, 1, 30, tzinfo=UTC),
            scheduled_end=datetime(2026, 12, 8, 3, 30, tzinfo=UTC), place="会商室",
            chair_id=world.user_ids["chair"], lead_department_id=world.dept_fgj,
            created_by_id=world.user_ids["chair"], created_at=datetime.now(UTC),
            agenda=[AgendaEntry(item_id=world.item_x, position=1), AgendaEntry(item_id=land_item, position=2)],
            invitations=[Invitation(capacity="member", department_id=world.dept_fgj),
                         Invitation(capacity="member", department_id=world.dept_zrj),
                         Invitation(capacity="applicant", organisation_id=world.org_x)])
        db.add(meeting)
        await db.commit()
        return meeting.id


async def _hold(sessions: async_sessionmaker[AsyncSession], spool: EventSpool, world: World, land_item: int,
                steps: list[tuple[str, int, int, str]]) -> None:
    meeting_id = await _new_meeting(sessions, world, land_item)
    async with sessions() as db:
        facts = await load_live_facts(db, meeting_id)
    assert facts is not None
    review = Review(facts)
    log = MeetingLog(sessions, meeting_id, spool)
    log.listen(review.take)
    here = Room(world, [(item.project_code, item.item_name, item.position) for item in review.facts.items])
    for step in steps:
        made = here.event(*step)
        if made is not None:
            actor, type, payload = made
            log.write(type, actor, **payload)
    await log.close()
    async with sessions() as db:
        replayed = await load_review(db, facts)
        folded = fold(await read_record(db, meeting_id), review.facts.agenda)
        assert await verify_meeting_log(db, meeting_id) == []
    present = [Present(pid, PEOPLE[who].capacity) for who, pid in here.here.items()]
    assert replayed.state == review.state
    assert folded == review.state
    assert replayed.public(present) == review.public(present)


async def test_replaying_the_log_rebuilds_the_live_review(db_sessions, tmp_path: Path) -> None:
    world = await build_world(db_sessions)
    async with db_sessions() as db:
        land = ApprovalItem(case_id=world.case_x, name=LAND, department_id=world.dept_zrj, level="county",
                            accepted_on=date(2026, 12, 1), statutory_limit_wd=20, promised_limit_wd=12,
                            status="in_review")
        db.add(land)
        await db.commit()
        land_item = land.id
    spool = EventSpool(tmp_path / "spool")
    loop = asyncio.get_running_loop()

    @budget(EXAMPLES)
    @given(actions)
    def check(steps: list[tuple[str, int, int, str]]) -> None:
        asyncio.run_coroutine_threadsafe(_hold(db_sessions, spool, world, land_item, steps), loop).result(120)

    await asyncio.to_thread(check)
