"""The review-conduct events: who may do what, what gets logged, and telling everyone.

Each handler checks its actor (the chair, the presenter, a department's representative), checks
the request against the review (an item must be open for opinions, ...), then writes the event to
the meeting's log, which hands the very same event to the live state as it is written
(server.signaling.review takes it through the record's reducer), and broadcasts the new
``review_state``. Database look-ups come first and the check-and-change
after them runs without awaiting, so two people acting at once cannot both pass a check that only
one of them should (two openings of items, an amendment racing the item's close). What is not on
the record (hands, floor, chat switch, presenter, presentation: server.signaling.off_record) is
changed by a function that checks and changes in one step, on the meeting's shared state when it
is live on several nodes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from minutes.source import MinutesSource
from record.events import Logged
from record.vocab import ItemState
from server.db.models import CaseMaterial
from server.domain.meetings import MeetingStatus
from server.domain.opinions import MaterialRequest, Opinion, OpinionError, validate_opinion
from server.domain.roles import Post, Role
from server.services.live_meeting import AgendaItem, InvitedDepartment, LiveFacts
from server.services.meetings import MeetingError, set_status
from server.services.minutes_source import load_minutes_source
from server.services.minutes_workflow import draft_after_meeting
from server.settings import Settings
from server.signaling import review_messages as rm
from server.signaling.errors import SignalingError
from server.signaling.live_minutes import INTERVAL_S, LiveDraft, Preview, is_quiet
from server.signaling.off_record import Change, OffRecord, SharedOffRecord, off_record, put_off_record
from server.signaling.review import Present, Presentation, Review, load_review, next_id
from server.signaling.room_state import LiveMeeting, Participant

if TYPE_CHECKING:
    from server.signaling.connection import Connection

logger = logging.getLogger(__name__)

MESSAGES: dict[str, str] = {
    "forbidden": "您不能以本部门名义提交意见 / you may not give an opinion here",
    "invalid_opinion": "意见不完整 / the opinion is incomplete",
    "chat_disabled": "主持人已关闭文字交流 / the chair has turned chat off",
    "not_presenter": "只有主讲人可以操作演示 / only the presenter may do this",
    "unknown_item": "该事项不在本次会议议程中 / no such item on this meeting's agenda",
    "item_not_open": "该事项未在审议中 / the item is not open for review",
    "item_closed": "该事项已审议结束 / the item's review has closed",
    "another_item_open": "请先结束正在审议的事项 / close the item under review first",
    "no_hands": "没有人举手 / nobody has raised a hand",
    "unknown_department": "没有该部门 / no such department",
    "unknown_material": "该材料不属于本次会议的案件 / no such material for this meeting's cases",
    "no_presentation": "当前没有演示 / nothing is being presented",
    "bad_page": "页码超出范围 / no such page",
    "item_open": "请先结束正在审议的事项，再结束会议 / close the item under review before ending the meeting",
    "meeting_ended": "会议已结束，会后修改意见请在纪要中提出 / the meeting has ended: amend opinions in its "
                     "minutes",
    "unknown_opinion": "本次会议没有该意见 / no such opinion in this meeting",
    "not_your_opinion": "只能确认本部门的意见 / you can only confirm your own department's opinion",
    "stale_revision": "该意见已修改，请阅读修改后的意见再确认 / the opinion has been amended since: read the "
                      "new revision and confirm that",
    "a_post_confirmed": "本部门A岗已确认该意见，B岗不能替换 / post A of your department has confirmed this "
                        "opinion: post B cannot replace that confirmation",
    "minutes_unavailable": "纪要草稿暂时无法生成，请稍后再试 / the draft minutes cannot be made just now: try "
                           "again shortly",
}

POSTS = frozenset(post.value for post in Post)
Joined = Callable[["Connection", int], tuple[LiveMeeting, Participant]]
Handler = Callable[["Connection", Any], Awaitable[dict[str, Any]]]


def refuse(code: str, message: str | None = None, **details: Any) -> SignalingError:
    return SignalingError(code, message or MESSAGES[code], **details)


def _present(meeting: LiveMeeting) -> list[Present]:
    """Everyone in the meeting, those other nodes of a cluster serve included (the default
    presenter, the hands shown), so that every node tells the room the same review."""
    return [Present(p.id, p.capacity) for p in meeting.participants.values()] + [
        Present(r.id, str(r.public_fields.get("capacity", ""))) for r in meeting.remote.values()]


def _present_ids(meeting: LiveMeeting) -> set[str]:
    return set(meeting.participants) | set(meeting.remote)


def _require_chair(participant: Participant) -> None:
    if not participant.is_chair:
        raise SignalingError("not_chair")


def _require_in_session(review: Review) -> None:
    """Refuse acts of the review once the chair has ended the meeting: what is changed after it
    is a post-meeting amendment, made in the minutes with its reason, not in the room."""
    if review.state.ended is not None:
        raise refuse("meeting_ended")


class ReviewDesk:
    """The review events of every live meeting; one per signaling server."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], joined: Joined, settings: Settings) -> None:
        self._sessions = sessions
        self._joined = joined
        self._settings = settings
        self._reviews: weakref.WeakKeyDictionary[LiveMeeting, Review] = weakref.WeakKeyDictionary()
        self._drafts: weakref.WeakKeyDictionary[LiveMeeting, LiveDraft] = weakref.WeakKeyDictionary()
        self._hinted: weakref.WeakKeyDictionary[LiveMeeting, float] = weakref.WeakKeyDictionary()
        """When each meeting's room was last told that its draft minutes changed."""
        self._hint_due: weakref.WeakSet[LiveMeeting] = weakref.WeakSet()
        self.shared: SharedOffRecord | None = None
        """Where the off-record state is kept when the meeting may be live on several nodes
        (server.cluster sets it); None: in each meeting's review."""

    def handlers(self) -> dict[str, tuple[TypeAdapter[Any], Handler]]:
        """Event name -> (payload adapter, handler), for the signaling server's dispatch table."""
        table: dict[str, tuple[type[Any], Handler]] = {
            "agenda_open": (rm.AgendaOpen, self._agenda_open),
            "agenda_close": (rm.AgendaClose, self._agenda_close),
            "hand_raise": (rm.HandRaise, self._hand_raise),
            "hand_lower": (rm.HandLower, self._hand_lower),
            "hand_next": (rm.HandNext, self._hand_next),
            "chat_send": (rm.ChatSend, self._chat_send),
            "chat_enable": (rm.ChatEnable, self._chat_enable),
            "opinion_submit": (rm.OpinionSubmit, self._opinion_submit),
            "decision_record": (rm.DecisionRecord, self._decision_record),
            "task_assign": (rm.TaskAssign, self._task_assign),
            "presenter_set": (rm.PresenterSet, self._presenter_set),
            "presentation_open": (rm.PresentationOpen, self._presentation_open),
            "presentation_page": (rm.PresentationPage, self._presentation_page),
            "presentation_close": (rm.PresentationClose, self._presentation_close),
            "meeting_start": (rm.MeetingStart, self._meeting_start),
            "meeting_end": (rm.MeetingEnd, self._meeting_end),
            "opinion_confirm": (rm.OpinionConfirm, self._opinion_confirm),
            "minutes_preview": (rm.MinutesPreview, self._minutes_preview),
        }
        return {event: (TypeAdapter(model), handler) for event, (model, handler) in table.items()}

    # -- state ----------------------------------------------------------------------

    async def load(self, facts: LiveFacts) -> Review:
        """A meeting's review as its stored log leaves it; load it before the live meeting's log
        exists, then ``attach`` it, so that no event falls between the fold and the listening."""
        async with self._sessions() as db:
            return await load_review(db, facts)

    def attach(self, meeting: LiveMeeting, review: Review) -> None:
        """The live meeting's review, from now on taking every event its log is written, and the
        draft of its minutes, built from the review's log when someone asks."""
        self._reviews[meeting] = review
        meeting.log.listen(review.take)
        meeting.log.listen(lambda logged: self._changed(meeting, logged))
        live = weakref.ref(meeting)  # the draft is kept by the meeting, never keeps it

        async def facts() -> MinutesSource:
            found = live()
            if found is None:
                raise RuntimeError(f"meeting {meeting_id} is no longer live")
            await found.log.flush()  # the facts name everyone the stored log names
            async with self._sessions() as db:
                return await load_minutes_source(db, meeting_id, self._settings)

        def built(preview: Preview) -> None:
            found = live()
            if found is not None:
                self._hint(found)

        meeting_id = meeting.id
        self._drafts[meeting] = LiveDraft(review.log, facts, built)

    def stored_elsewhere(self, meeting: LiveMeeting, logged: Logged) -> None:
        """An event of the meeting committed outside the room (a status change over the API, an
        amendment in the minutes, an excuse): the review takes it through the meeting's log like
        the room's own events (so the draft minutes are told too), the draft reads the meeting's
        facts again, and the room is told if what it shows has changed."""
        meeting.log.stored_elsewhere(logged)
        self._drafts[meeting].stale()
        review = self.review(meeting)
        state = review.public(_present(meeting))
        if state != review.last_broadcast:
            self._tell(meeting, review, state)

    def review(self, meeting: LiveMeeting) -> Review:
        """The live meeting's review (every live meeting is attached when it is created)."""
        return self._reviews[meeting]

    def refresh(self, meeting: LiveMeeting, facts: LiveFacts) -> None:
        """The meeting was changed (its plan, its status): the review goes on with the new facts."""
        self.review(meeting).facts = facts

    def presentation(self, meeting: LiveMeeting) -> Presentation | None:
        """The meeting's open presentation, if it is live (its PDF is served over HTTP to the
        meeting's participants)."""
        review = self._reviews.get(meeting)
        return review.presentation if review is not None else None

    async def snapshot(self, meeting: LiveMeeting) -> dict[str, Any]:
        """The review for a join ack; if the join changed it (the applicant arriving becomes the
        presenter), everyone else is told too."""
        review = self.review(meeting)
        state = review.public(_present(meeting))
        if review.last_broadcast is None:
            review.last_broadcast = state
        elif state != review.last_broadcast:
            self._tell(meeting, review, state)
        return state

    # -- the live draft of the minutes ---------------------------------------------------

    def _changed(self, meeting: LiveMeeting, logged: Logged) -> None:
        """An event the minutes carry was written: the room is told (``minutes_changed``) at most
        once per interval, at once if it was not told within the last, else at its end."""
        if is_quiet(logged) or meeting in self._hint_due:
            return
        self._hint_due.add(meeting)
        wait = self._hinted.get(meeting, -INTERVAL_S) + INTERVAL_S - time.monotonic()
        asyncio.get_running_loop().call_later(max(0.0, wait), self._hint, meeting)

    def _hint(self, meeting: LiveMeeting) -> None:
        """``events``: how many the record holds; ``draft``: how many the newest draft holds (a
        room whose draft is older asks again, and gets the newest without waiting)."""
        self._hint_due.discard(meeting)
        self._hinted[meeting] = time.monotonic()
        meeting.broadcast("minutes_changed", {"events": len(self.review(meeting).log),
                                              "draft": self._drafts[meeting].drafted})

    async def _minutes_preview(self, connection: Connection, message: rm.MinutesPreview) -> dict[str, Any]:
        """Anyone in the meeting reads the draft minutes as they stand."""
        meeting, _participant, review = await self._enter(connection, message.meeting_id)
        try:
            preview = await self._drafts[meeting].preview()
        except Exception:  # a bug in building, or the database away: say so, the room goes on
            logger.exception("meeting %s: the live draft of the minutes could not be built", meeting.id)
            raise refuse("minutes_unavailable") from None
        return preview.public(message.format, len(review.log))

    async def _opinion_confirm(self, connection: Connection, message: rm.OpinionConfirm) -> dict[str, Any]:
        """The department's representative confirms its opinion as it will print (the same rule as
        giving it: A, or B while A is away), for the revision they read; the A post's confirmation
        is not replaced by B's."""
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        department = self._department_of(meeting, review, participant)
        _require_in_session(review)
        opinion = review.state.opinions.get(message.opinion_id)
        if opinion is None:
            raise refuse("unknown_opinion", opinion_id=message.opinion_id)
        if opinion.department_code != department.code:
            raise refuse("not_your_opinion", opinion_id=message.opinion_id)
        revision = opinion.current.content.revision
        if message.revision != revision:
            raise refuse("stale_revision", revision=revision)
        principal = participant.identity.principal
        assert principal is not None
        standing = opinion.confirmation
        if standing is not None and standing.event.post.value == Post.A.value and principal.post != Post.A.value:
            raise refuse("a_post_confirmed")
        if standing is not None and standing.event.post.value == principal.post \
                and standing.act.actor_id == participant.user_id:
            return {"opinion_id": opinion.opinion_id, "revision": revision}  # confirmed already
        self._record(meeting, participant, "opinion_confirmed", opinion_id=opinion.opinion_id, revision=revision,
                     department_code=department.code, post=principal.post)
        await self._settled(meeting, review)
        return {"opinion_id": opinion.opinion_id, "revision": revision}

    async def _settled(self, meeting: LiveMeeting, review: Review) -> None:
        """Broadcast a change once the events that made it are in the log: whoever sees an opinion,
        a decision or a task on screen can rely on it being on record."""
        await meeting.log.flush()
        self._tell(meeting, review)

    def _tell(self, meeting: LiveMeeting, review: Review, state: dict[str, Any] | None = None) -> None:
        state = state if state is not None else review.public(_present(meeting))
        review.last_broadcast = state
        meeting.broadcast("review_state", {key: value for key, value in state.items() if key != "meeting_id"})

    async def _change(self, meeting: LiveMeeting, review: Review, change: Change,
                      logged: Callable[[OffRecord], None] | None = None) -> None:
        """Change the off-record state (hands, floor, chat switch, presenter, presentation) here,
        or for the whole room when it is shared across nodes (then atomically there: two hands
        raised at once on two nodes are both queued); ``logged`` writes the events the change
        makes (given the state as the change found it), then everyone is told if it changed."""
        found: list[OffRecord] = []

        def noting(state: OffRecord) -> None:
            found[:] = [state.copy()]
            change(state)

        here = off_record(review)
        if self.shared is None:
            state = off_record(review)
            noting(state)
        else:
            state = await self.shared.change(meeting.id, noting, here)
        put_off_record(review, state)
        if logged is not None:
            logged(found[0])
        if state != here:
            await self._settled(meeting, review)

    def off_record_elsewhere(self, meeting: LiveMeeting, state: OffRecord) -> None:
        """Another node changed the shared off-record state and told the room already: this
        node's review takes it quietly (what it would tell is what the room was told)."""
        review = self.review(meeting)
        put_off_record(review, state)
        review.last_broadcast = review.public(_present(meeting))

    async def _enter(self, connection: Connection, meeting_id: int) -> tuple[LiveMeeting, Participant, Review]:
        meeting, participant = self._joined(connection, meeting_id)
        return meeting, participant, self.review(meeting)

    async def hand_answered(self, meeting: LiveMeeting, participant_id: str) -> None:
        """The chair unmuted someone: a raised hand (a muted person asking to speak) is answered
        by it, so it comes down; everyone's queue follows."""
        review = self.review(meeting)

        def lower(state: OffRecord) -> None:
            state.hands = [pid for pid in state.hands if pid != participant_id]

        await self._change(meeting, review, lower)

    async def record(self, meeting: LiveMeeting, actor_id: int | None, type: str,
                     **payload: Any) -> None:
        """Log an on-record event decided outside the review (recording; ``actor_id`` None: the
        system) and tell everyone once it is logged."""
        review = self.review(meeting)
        meeting.log.write(type, actor_id, **payload)
        await self._settled(meeting, review)

    @staticmethod
    def _record(meeting: LiveMeeting, participant: Participant, type: str, **payload: Any) -> None:
        """Log an on-record event; the log hands it to the live review as it is written."""
        meeting.log.write(type, participant.user_id, **payload)

    @staticmethod
    def _item(review: Review, item_id: int | None) -> AgendaItem | None:
        if item_id is None:
            return None
        item = review.facts.item(item_id)
        if item is None:
            raise refuse("unknown_item")
        return item

    # -- agenda ---------------------------------------------------------------------

    async def _agenda_open(self, connection: Connection, message: rm.AgendaOpen) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        _require_chair(participant)
        _require_in_session(review)
        item = self._item(review, message.item_id)
        assert item is not None
        if review.status_of(item) == ItemState.CLOSED:
            raise refuse("item_closed")
        if review.open_item_id is not None:
            if review.open_item_id == item.id:
                return {}
            raise refuse("another_item_open", open_item_id=review.open_item_id)
        self._record(meeting, participant, "agenda_item_opened", project_code=item.project_code,
                     item_name=item.item_name, position=item.position)
        await self._settled(meeting, review)
        return {}

    async def _agenda_close(self, connection: Connection, message: rm.AgendaClose) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        _require_chair(participant)
        _require_in_session(review)
        item = self._item(review, message.item_id)
        assert item is not None
        if review.status_of(item) != ItemState.OPEN:
            raise refuse("item_not_open")
        self._record(meeting, participant, "agenda_item_closed", project_code=item.project_code,
                     item_name=item.item_name, position=item.position, outcome=message.outcome.strip())
        await self._settled(meeting, review)
        return {}

    # -- hands ----------------------------------------------------------------------

    async def _hand_raise(self, connection: Connection, message: rm.HandRaise) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        present = _present_ids(meeting)

        def raise_hand(state: OffRecord) -> None:
            state.hands = [pid for pid in state.hands if pid in present]
            if participant.id not in state.hands:
                state.hands.append(participant.id)

        def log(found: OffRecord) -> None:
            if participant.id not in found.hands:
                self._record(meeting, participant, "hand_raised", purpose=message.purpose.strip())

        await self._change(meeting, review, raise_hand, log)
        return {"position": review.hands.index(participant.id) + 1}

    async def _hand_lower(self, connection: Connection, message: rm.HandLower) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)

        def lower(state: OffRecord) -> None:
            state.hands = [pid for pid in state.hands if pid != participant.id]
            if state.floor == participant.id:
                state.floor = None

        await self._change(meeting, review, lower)
        return {}

    async def _hand_next(self, connection: Connection, message: rm.HandNext) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        _require_chair(participant)
        present = _present_ids(meeting)

        def next_hand(state: OffRecord) -> None:
            waiting = [pid for pid in state.hands if pid in present]
            if not waiting:
                raise refuse("no_hands")
            state.floor, state.hands = waiting[0], waiting[1:]

        await self._change(meeting, review, next_hand)
        return {"floor": review.floor}

    # -- chat -----------------------------------------------------------------------

    async def _chat_send(self, connection: Connection, message: rm.ChatSend) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        if not review.chat_enabled and not participant.is_chair:
            raise refuse("chat_disabled")
        text = message.text.strip()
        if not text:
            raise SignalingError("invalid_payload", "消息不能为空 / the message is empty",
                                 fields=[{"field": "text", "message": "empty"}])
        chat_id = secrets.token_hex(8)
        meeting.log.write("chat_message", participant.user_id, text=text, to=None)
        meeting.broadcast("chat_message", {"id": chat_id, "participant_id": participant.id,
                                           "display_name": participant.identity.display_name,
                                           "text": text, "ts": datetime.now(UTC).isoformat()})
        return {"id": chat_id}

    async def _chat_enable(self, connection: Connection, message: rm.ChatEnable) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        _require_chair(participant)

        def switch(state: OffRecord) -> None:
            state.chat_enabled = message.enabled

        await self._change(meeting, review, switch)
        return {}

    # -- opinions -------------------------------------------------------------------

    def _department_of(self, meeting: LiveMeeting, review: Review, participant: Participant) -> InvitedDepartment:
        """The department a participant speaks for: a chief representative (A post, or B standing
        in) of a department invited as a member (出席). Everyone else is refused, and so is a B post
        while the department's A post is in the room: B acts with A's authority only while A is
        away (AB工作制), so an opinion A gave in person cannot be overwritten by B beside them. Who
        is in the room is the live meeting's participants (A within its reconnect grace counts),
        not the record's attendance, which a crash may have left without A's departure."""
        principal = participant.identity.principal
        department = None
        if principal is not None and principal.role == Role.CHIEF_REP and principal.post in POSTS:
            department = review.facts.member(principal.department_id)
        if department is None or principal is None:
            logger.warning("meeting %s: %s (%s) tried to give an opinion", meeting.id, participant.id,
                           participant.identity.display_name)
            raise refuse("forbidden")
        if principal.post != Post.A.value:
            a_post = next((p.identity.display_name for p in meeting.participants.values()
                           if p.identity.principal is not None and p.identity.principal.post == Post.A.value
                           and p.identity.principal.department_id == department.id), None)
            if a_post is not None:
                raise refuse("a_post_present", f"本部门A岗{a_post}在会，B岗只在A岗不在时代行 / post A ({a_post}) of "
                             "your department is in the meeting: post B acts only while A is away", a_post=a_post)
        return department

    async def _opinion_submit(self, connection: Connection, message: rm.OpinionSubmit) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        department = self._department_of(meeting, review, participant)
        _require_in_session(review)
        item = self._item(review, message.item_id)
        assert item is not None
        if review.status_of(item) != ItemState.OPEN:
            raise refuse("item_not_open", item_status=review.status_of(item))
        opinion = _checked_opinion(message)
        earlier = review.opinion_of(item, department.code)
        reason = message.amendment_reason.strip()
        if earlier is not None and not reason:
            raise refuse("invalid_opinion", "修改意见须说明修改理由 / an amendment must give its reason",
                         field="amendment_reason")
        opinion_id = earlier.opinion_id if earlier else next_id("op", review.opinion_ids)
        revision = earlier.current.content.revision + 1 if earlier else 1
        principal = participant.identity.principal
        assert principal is not None
        common = {"project_code": item.project_code, "item_name": item.item_name,
                  "department_code": department.code}
        content = {"opinion_id": opinion_id, "revision": revision, **common, "post": principal.post,
                   "kind": opinion.kind.value, "text": message.text.strip(),
                   "conditions": list(opinion.conditions), "reasons": opinion.reasons,
                   "legal_basis": opinion.legal_basis, "remedy_notice": opinion.remedy_notice,
                   "refer_to": opinion.refer_to}
        if earlier is None:
            self._record(meeting, participant, "opinion_submitted", **content)
        else:
            self._record(meeting, participant, "opinion_amended", **content,
                         amendment_reason=reason)
        for requested, asked in zip(opinion.materials, message.materials, strict=True):
            self._record(meeting, participant, "material_requested",
                         request_id=next_id("mr", review.request_ids), opinion_id=opinion_id, **common,
                         material=requested.name, detail=asked.detail.strip(),
                         due_working_days=requested.due_working_days)
        await self._settled(meeting, review)
        return {"opinion_id": opinion_id, "revision": revision}

    # -- decisions and tasks ----------------------------------------------------------

    def _about(self, review: Review, item: AgendaItem | None) -> dict[str, Any]:
        if item is None:
            return {"project_code": review.facts.sole_project_code, "item_name": None}
        return {"project_code": item.project_code, "item_name": item.item_name}

    async def _decision_record(self, connection: Connection, message: rm.DecisionRecord) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        _require_chair(participant)
        _require_in_session(review)
        item = self._item(review, message.item_id)
        decision_id = next_id("d", review.decision_ids)
        self._record(meeting, participant, "decision_recorded", decision_id=decision_id,
                     **self._about(review, item), text=message.text.strip())
        await self._settled(meeting, review)
        return {"decision_id": decision_id}

    async def _task_assign(self, connection: Connection, message: rm.TaskAssign) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        _require_chair(participant)
        _require_in_session(review)
        item = self._item(review, message.item_id)
        if message.department_code not in review.facts.department_names:
            raise refuse("unknown_department", department_code=message.department_code)
        if message.due_working_days < 1:
            raise SignalingError("invalid_payload", "期限须至少1个工作日 / the due time must be at least "
                                 "1 working day", fields=[{"field": "due_working_days", "message": ">= 1"}])
        task_id = next_id("t", review.task_ids)
        self._record(meeting, participant, "task_assigned", task_id=task_id,
                     department_code=message.department_code, **self._about(review, item),
                     text=message.text.strip(), due_working_days=message.due_working_days)
        await self._settled(meeting, review)
        return {"task_id": task_id}

    # -- the meeting's start and end ----------------------------------------------------

    async def _meeting_start(self, connection: Connection, message: rm.MeetingStart) -> dict[str, Any]:
        return await self._change_status(connection, message.meeting_id, MeetingStatus.LIVE, "")

    async def _meeting_end(self, connection: Connection, message: rm.MeetingEnd) -> dict[str, Any]:
        return await self._change_status(connection, message.meeting_id, MeetingStatus.ENDED, message.note)

    async def _change_status(self, connection: Connection, meeting_id: int, target: MeetingStatus,
                             note: str) -> dict[str, Any]:
        """The chair opens or ends the meeting from the room. The rules of every status change
        (services.meetings.set_status: the meeting's own chair, a legal transition, the note) change
        the row; the change is then written once, through the live meeting's log, so the review
        takes the start or end as it is written and the minutes have them from the record. Ending
        drafts the minutes from the stored log, as ending through the API does."""
        meeting, participant, review = await self._enter(connection, meeting_id)
        _require_chair(participant)
        if target is MeetingStatus.ENDED and review.open_item_id is not None:
            raise refuse("item_open", open_item_id=review.open_item_id)
        principal = participant.identity.principal
        if principal is None:  # the chair's capacity comes from a signed-in person, never a link
            raise SignalingError("not_chair")
        async with self._sessions() as db:
            try:
                _, change = await set_status(db, principal, meeting.id, target, note)
            except MeetingError as error:
                if error.status == 409:
                    raise refuse("bad_transition", error.message, field=error.field) from None
                if error.status == 403:
                    raise SignalingError("not_chair") from None
                raise SignalingError("invalid_payload", error.message,
                                     fields=[{"field": error.field, "message": error.message}]) from None
            await db.commit()
        self._record(meeting, participant, "meeting_status_changed", **change)
        await self._settled(meeting, review)
        if target is MeetingStatus.ENDED:
            async with self._sessions() as db:
                await draft_after_meeting(db, principal, meeting.id, self._settings)
                await db.commit()
        return {"status": target.value}

    # -- presenting -------------------------------------------------------------------

    async def _presenter_set(self, connection: Connection, message: rm.PresenterSet) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        _require_chair(participant)
        if message.participant_id is not None and message.participant_id not in _present_ids(meeting):
            raise SignalingError("unknown_participant")

        def choose(state: OffRecord) -> None:
            state.presenter_choice = message.participant_id

        await self._change(meeting, review, choose)
        return {"presenter": review.presenter(_present(meeting))}

    def _require_presenter(self, meeting: LiveMeeting, review: Review, participant: Participant) -> None:
        if review.presenter(_present(meeting)) != participant.id:
            raise refuse("not_presenter")

    async def _presentation_open(self, connection: Connection,
                                 message: rm.PresentationOpen) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        self._require_presenter(meeting, review, participant)
        async with self._sessions() as db:
            material = await db.scalar(select(CaseMaterial).where(
                CaseMaterial.id == message.material_id, CaseMaterial.case_id.in_(review.facts.case_ids)))
        if material is None:
            raise refuse("unknown_material")
        self._require_presenter(meeting, review, participant)  # may have changed while we read
        shown = Presentation(material.id, material.title, material.file_name, material.page_count)

        def show(state: OffRecord) -> None:
            state.presentation = replace(shown)

        def log(found: OffRecord) -> None:
            if found.presentation is not None:
                self._record(meeting, participant, "presentation_stopped", title=found.presentation.title)
            self._record(meeting, participant, "presentation_started", title=material.title,
                         file_name=material.file_name, page_count=material.page_count)

        await self._change(meeting, review, show, log)
        return {"presentation": shown.public(meeting.id)}

    async def _presentation_page(self, connection: Connection,
                                 message: rm.PresentationPage) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        self._require_presenter(meeting, review, participant)

        def turn(state: OffRecord) -> None:
            if state.presentation is None:
                raise refuse("no_presentation")
            if message.page > state.presentation.page_count:
                raise refuse("bad_page", page_count=state.presentation.page_count)
            state.presentation.page = message.page

        await self._change(meeting, review, turn)
        return {}

    async def _presentation_close(self, connection: Connection,
                                  message: rm.PresentationClose) -> dict[str, Any]:
        meeting, participant, review = await self._enter(connection, message.meeting_id)
        self._require_presenter(meeting, review, participant)

        def close(state: OffRecord) -> None:
            if state.presentation is None:
                raise refuse("no_presentation")
            state.presentation = None

        def log(found: OffRecord) -> None:
            if found.presentation is not None:  # always: ``close`` refuses otherwise
                self._record(meeting, participant, "presentation_stopped", title=found.presentation.title)

        await self._change(meeting, review, close, log)
        return {}


def _checked_opinion(message: rm.OpinionSubmit) -> Opinion:
    """The opinion as the domain rules accept it, or ``invalid_opinion`` naming the field."""
    try:
        return validate_opinion(Opinion(
            kind=message.kind, conditions=tuple(message.conditions), reasons=message.reasons,
            legal_basis=message.legal_basis,
            materials=tuple(MaterialRequest(m.material, m.due_working_days) for m in message.materials),
            refer_to=message.refer_to))
    except OpinionError as exc:
        raise refuse("invalid_opinion", str(exc), field=exc.field) from None
