"""The minutes (会议纪要) of a meeting from draft to final: who may change, confirm and seal them.

The content of a version is always what minutes.build makes from the meeting's record (its event
log and the rows around it) with the chair's recorded wording edits replayed on top, so the record
and the document cannot drift apart:
- the chair of the meeting edits free text only (minutes.edit paths); each edit is a MinutesEdit
  row with who and why;
- a department's opinion changes only through its own representative (A post, or B standing in),
  as an ``opinion_amended`` event in the hash-chained log plus a MinutesEdit row of kind
  "amendment"; the draft is then rebuilt from the log;
- the chair sends the draft for confirmation; each attending member department confirms or objects
  (a comment is required). An answer counts only for the content it answered (its SHA-256): an
  edit after it asks the department again. The B post answers with A's authority only while A has
  not answered: A's answer replaces a B answer, a B answer never replaces A's (AB工作制). A
  department that confirmed every opinion it gave in the room, as the minutes print it, has
  answered already when the draft is sent ("会中已确认"), so the round after the meeting is short;
- the chair finalises when all have confirmed, or records why not; the final content carries the
  confirmations and is sealed with the SHA-256 of its canonical JSON (the database refuses any
  later change, migration 0005). A correction is a new version with a reason, going through the
  same steps; the old final stays and becomes "superseded" when the new one is final.
Every refusal raises MinutesError before anything is written, except that of someone who is not
the meeting's chair: that is the one check of every meeting service,
services.meetings.require_meeting_chair (MeetingError 403 "not_the_chair").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from minutes.build import build_minutes
from minutes.edit import EditError, TextEdit, apply_edits, text_changes
from minutes.model import Confirmation, Minutes, Opinion
from minutes.numbering import format_number
from record.events import OpinionConfirmed
from record.reducer import fold
from record.state import Entry, ReviewState
from server.auth.principal import Principal
from server.db.models import (
    Department,
    Meeting,
    MinutesConfirmation,
    MinutesDocument,
    MinutesEdit,
    MinutesVersion,
    User,
)
from server.domain.meetings import ALLOWED_TRANSITIONS, MeetingStatus
from server.domain.opinions import Opinion as DomainOpinion, OpinionError, OpinionKind, validate_opinion
from server.domain.roles import Post, Role
from server.schemas.fields import paragraphs
from server.services.eventlog import append_event, lock_meeting, read_record
from server.services.meetings import MeetingError, change_status, local, require_meeting_chair
from server.services.minutes_clock import apply_final_minutes
from server.services.minutes_source import load_minutes_source
from server.services.minutes_state import (
    AWAITING,
    CONFIRM,
    DRAFT,
    FINAL,
    OBJECT,
    OPEN_STATUSES,
    SEALED_STATUSES,
    SUPERSEDED,
    DepartmentAnswer,
    MinutesError,
    MinutesState,
    content_sha256,
    find_document,
    load_state,
    minutes_of,
    replaces,
)
from server.settings import Settings

log = logging.getLogger(__name__)

WORKFLOW_STATUSES = frozenset({MeetingStatus.MINUTES_DRAFT, MeetingStatus.MINUTES_FINAL})
EDIT, AMENDMENT = "edit", "amendment"
IN_MEETING = "会中已确认"
"""The comment of an answer given by confirming the department's opinions in the room."""
Verdict = Literal["confirm", "object"]
REASON_CHARS, NOTE_CHARS, TEXT_CHARS = 1000, 2000, 4000


# ---------------------------------------------------------------- the draft


async def change_status_with_minutes(db: AsyncSession, actor: Principal, meeting_id: int,
                                     target: MeetingStatus, note: str, settings: Settings) -> Meeting:
    """meetings.change_status, and when the meeting has just ended, its minutes draft. The two
    minutes statuses follow the minutes themselves (a draft exists, a version is final), so they
    cannot be set by hand."""
    current = await db.scalar(select(Meeting.status).where(Meeting.id == meeting_id))
    if target in WORKFLOW_STATUSES and current is not None and target in ALLOWED_TRANSITIONS[MeetingStatus(current)]:
        raise MeetingError(f"「{target.label_zh}」由纪要流程设置：生成纪要草稿或定稿纪要 / "
                           f"'{target.label_en}' follows the minutes: generate or finalise them",
                           status=409, field="status")
    meeting = await change_status(db, actor, meeting_id, target, note)
    if target is MeetingStatus.ENDED:
        await draft_after_meeting(db, actor, meeting_id, settings)
        await db.refresh(meeting)
    return meeting


async def draft_after_meeting(db: AsyncSession, actor: Principal, meeting_id: int,
                              settings: Settings) -> MinutesVersion | None:
    """Called when a meeting has just ended: make its draft. A failure to build the document must
    not undo the end of the meeting, so it is logged and the meeting stays "ended"; the chair can
    then generate the draft again (POST .../minutes), which reports the error."""
    try:
        async with db.begin_nested():
            return await generate_draft(db, actor, meeting_id, settings)
    except Exception:  # see the docstring: the meeting's end is kept regardless
        log.exception("meeting %s ended but its minutes draft could not be made", meeting_id)
        return None


async def generate_draft(db: AsyncSession, actor: Principal, meeting_id: int,
                         settings: Settings) -> MinutesVersion:
    """Number the minutes (next serial of the meeting's year) and store version 1 as a draft; the
    meeting moves to "minutes_draft"."""
    meeting = await lock_meeting(db, meeting_id)
    require_meeting_chair(actor, meeting)
    if await find_document(db, meeting_id) is not None:
        raise MinutesError(409, "本次会议的纪要已生成 / the minutes of this meeting already exist",
                           code="minutes_exist")
    if meeting.status not in (MeetingStatus.ENDED.value, MeetingStatus.MINUTES_DRAFT.value):
        status = MeetingStatus(meeting.status)
        raise MinutesError(409, f"会议{status.label_zh}，会议结束后才能生成纪要 / a meeting that is "
                                f"{status.label_en} has no minutes yet: end it first", field="status")
    year = local(meeting.scheduled_start).year
    seq = (await db.scalar(select(func.max(MinutesDocument.seq)).where(MinutesDocument.year == year)) or 0) + 1
    number = format_number(settings.centre.minutes_prefix, year, seq)
    now = datetime.now(UTC)
    document = MinutesDocument(meeting_id=meeting.id, year=year, seq=seq, number=number, created_at=now)
    try:
        async with db.begin_nested():
            db.add(document)
            await db.flush()
    except IntegrityError:
        raise MinutesError(409, f"纪要编号 {number} 刚被占用，请重试 / the number {number} was just taken, "
                                "try again", code="number_taken") from None
    minutes = build_minutes(await load_minutes_source(db, meeting.id, settings), number=number, version=1)
    version = MinutesVersion(document_id=document.id, version=1, status=DRAFT,
                             content=minutes.model_dump(mode="json"), reason="", created_by_id=actor.user_id,
                             created_at=now, finalise_note="")
    db.add(version)
    await db.flush()
    if meeting.status == MeetingStatus.ENDED.value:
        await change_status(db, actor, meeting.id, MeetingStatus.MINUTES_DRAFT, f"纪要 {number} 草稿已生成")
    return version


async def _open_version(db: AsyncSession, meeting_id: int,
                        chair: Principal | None = None) -> tuple[Meeting, MinutesState]:
    """The meeting (locked: one change at a time) and its minutes, whose current version is open.
    With `chair`, only the meeting's own chair gets that far: another chair is refused whatever
    state the minutes are in."""
    meeting = await lock_meeting(db, meeting_id)
    if chair is not None:
        require_meeting_chair(chair, meeting)
    state = await load_state(db, meeting_id)
    if state is None:
        raise MinutesError(404, "本次会议还没有纪要 / this meeting has no minutes yet", code="no_minutes")
    if state.current.status in SEALED_STATUSES:
        raise MinutesError(409, f"纪要第{state.current.version}版已定稿，不能修改；如需更正请生成新版本并说明理由 / "
                                f"version {state.current.version} is final and cannot be changed: make a new "
                                "version with a reason", field="version", code="final")
    return meeting, state


async def edit_draft(db: AsyncSession, actor: Principal, meeting_id: int, edits: list[TextEdit],
                     reason: str) -> MinutesVersion:
    """The chair rewords free text of the open version; each changed text is recorded, all with the
    one reason and moment (a batch). An edit that leaves its text as it was is no change and is not
    recorded (the editor page posts every field)."""
    _, state = await _open_version(db, meeting_id, chair=actor)
    reason = _checked(reason, REASON_CHARS, "reason", required=True)
    version = state.current
    before = minutes_of(version)
    try:
        changes = text_changes(before, edits)
    except EditError as exc:
        raise MinutesError(422, str(exc), field="edits") from None
    if not changes:
        raise MinutesError(422, "没有修改任何内容 / nothing was changed", field="edits")
    now = datetime.now(UTC)
    for change in changes:
        db.add(MinutesEdit(version_id=version.id, kind=EDIT, path=change.path, old_text=change.old,
                           new_text=change.new, editor_id=actor.user_id, reason=reason, at=now))
    version.content = apply_edits(before, [TextEdit(c.path, c.new) for c in changes]).model_dump(mode="json")
    await db.flush()
    return version


@dataclass(frozen=True)
class OpinionAmendment:
    """A department's changed opinion, complete (it replaces the earlier revision)."""

    kind: OpinionKind
    text: str
    conditions: tuple[str, ...]
    reasons: str
    legal_basis: str
    refer_to: str | None
    reason: str


async def amend_opinion(db: AsyncSession, actor: Principal, meeting_id: int, opinion_id: str,
                        amendment: OpinionAmendment, settings: Settings) -> MinutesVersion:
    """Only the opinion's own department (A or B post) changes it: the amendment goes into the
    meeting's log and the open draft is rebuilt from the log with the chair's edits replayed."""
    meeting, state = await _open_version(db, meeting_id)
    version = state.current
    found = _find_opinion(minutes_of(version), opinion_id)
    if found is None:
        raise MinutesError(404, f"纪要中没有意见 {opinion_id} / no opinion {opinion_id} in these minutes",
                           field="opinion_id")
    item, opinion = found
    department = await db.scalar(select(Department).where(Department.code == opinion.department_code))
    if (actor.role != Role.CHIEF_REP or actor.post not in (Post.A.value, Post.B.value)
            or department is None or actor.department_id != department.id):
        raise MinutesError(403, f"只有{opinion.department}的A岗或B岗首席代表可以修改本部门意见 / only "
                                f"the A or B post of {opinion.department_code} may change its opinion",
                           field="opinion_id", code="not_your_opinion")
    reason = _checked(amendment.reason, REASON_CHARS, "reason", required=True)
    checked = _checked_opinion(amendment)
    payload = {"opinion_id": opinion.opinion_id, "revision": opinion.revision + 1,
               "project_code": item.project_code, "item_name": item.name,
               "department_code": opinion.department_code, "post": actor.post, "kind": checked.kind.value,
               "text": _checked(amendment.text, TEXT_CHARS, "text"),
               "conditions": list(checked.conditions), "reasons": checked.reasons,
               "legal_basis": checked.legal_basis, "remedy_notice": checked.remedy_notice,
               "refer_to": checked.refer_to, "amendment_reason": reason}
    await append_event(db, meeting.id, actor.user_id, "opinion_amended", payload)
    path = f"opinions/{opinion.opinion_id}"
    db.add(MinutesEdit(version_id=version.id, kind=AMENDMENT, path=path, old_text=_opinion_text(opinion),
                       new_text=_opinion_text(payload), editor_id=actor.user_id, reason=reason,
                       at=datetime.now(UTC)))
    await db.flush()
    version.content = (await _rebuild(db, state.document, version.version, settings)).model_dump(mode="json")
    await db.flush()
    return version


def _find_opinion(minutes: Minutes, opinion_id: str) -> tuple[Any, Opinion] | None:
    return next(((item, o) for item in minutes.items for o in item.opinions if o.opinion_id == opinion_id), None)


def _checked_opinion(amendment: OpinionAmendment) -> DomainOpinion:
    try:
        return validate_opinion(DomainOpinion(kind=amendment.kind, conditions=amendment.conditions,
                                              reasons=amendment.reasons, legal_basis=amendment.legal_basis,
                                              refer_to=amendment.refer_to))
    except OpinionError as exc:
        raise MinutesError(422, str(exc), field=exc.field) from None


def _opinion_text(opinion: Opinion | dict[str, Any]) -> str:
    """An opinion as one line of the edit record: kind, text, conditions, reasons, basis."""
    values = opinion.model_dump() if isinstance(opinion, Opinion) else opinion
    parts = [OpinionKind(values["kind"]).label_zh, values["text"], *values["conditions"],
             values["reasons"], values["legal_basis"]]
    return "；".join(part for part in parts if part)


async def _rebuild(db: AsyncSession, document: MinutesDocument, version: int, settings: Settings) -> Minutes:
    """The minutes from the log as it stands, with every wording edit of the document replayed."""
    built = build_minutes(await load_minutes_source(db, document.meeting_id, settings),
                          number=document.number, version=version)
    edits = await db.scalars(select(MinutesEdit).join(MinutesVersion, MinutesVersion.id == MinutesEdit.version_id)
                             .where(MinutesVersion.document_id == document.id, MinutesEdit.kind == EDIT)
                             .order_by(MinutesEdit.id))
    try:
        return apply_edits(built, [TextEdit(e.path, e.new_text) for e in edits])
    except EditError as exc:  # an edited text vanished from the record: say so rather than drop the edit
        raise MinutesError(409, f"重新生成纪要时无法套用已记录的修改 / a recorded edit no longer applies: {exc}",
                           code="edit_lost") from None


# ---------------------------------------------------------------- confirmation


async def send_for_confirmation(db: AsyncSession, actor: Principal, meeting_id: int) -> MinutesVersion:
    """The chair puts the draft before the attending departments (draft -> awaiting_confirmation)."""
    _, state = await _open_version(db, meeting_id, chair=actor)
    if state.current.status != DRAFT:
        raise MinutesError(409, "纪要已在征求确认 / the minutes already await confirmation", field="status")
    state.current.status = AWAITING
    await db.flush()
    if state.current.version == 1:
        await _confirm_what_was_confirmed_in_the_meeting(db, meeting_id, state)
    return state.current


async def _confirm_what_was_confirmed_in_the_meeting(db: AsyncSession, meeting_id: int,
                                                     state: MinutesState) -> None:
    """A department whose representative confirmed, in the room, every opinion it gave as it now
    prints (the revision the minutes print, not amended since: record.state.Opinion.confirmation)
    has confirmed the minutes already: its answer is recorded in the name of whoever confirmed (the
    A post's confirmation if there is one, AB工作制), with IN_MEETING as comment, so the round after
    the meeting asks only the others. A department that gave no opinion, or whose opinion changed
    after it confirmed, answers as usual. Only for version 1: a correction is confirmed anew."""
    record = fold(await read_record(db, meeting_id))
    minutes = minutes_of(state.current)
    digest = content_sha256(state.current.content)
    for standing in state.answers:
        printed = [o for item in minutes.items for o in item.opinions
                   if o.department_code == standing.department.code]
        confirmed = [_confirmed_as_printed(record, o) for o in printed]
        if standing.answer is not None or not confirmed or None in confirmed:
            continue
        entries = sorted((c for c in confirmed if c is not None), key=lambda c: c.act.at)
        chosen = next((c for c in reversed(entries) if c.event.post.value == Post.A.value), entries[-1])
        if chosen.act.actor_id is None:
            continue
        db.add(MinutesConfirmation(version_id=state.current.id, department_id=standing.department.id,
                                   person_id=chosen.act.actor_id, post=chosen.event.post.value, verdict=CONFIRM,
                                   comment=IN_MEETING, content_sha256=digest, at=entries[-1].act.at))
    await db.flush()


def _confirmed_as_printed(record: ReviewState, printed: Opinion) -> Entry[OpinionConfirmed] | None:
    """The room's confirmation of an opinion, if it is of the revision the minutes print."""
    opinion = record.opinions.get(printed.opinion_id)
    if opinion is None or opinion.current.content.revision != printed.revision:
        return None
    confirmation = opinion.confirmation
    return confirmation if confirmation is not None and confirmation.event.revision == printed.revision else None


async def answer(db: AsyncSession, actor: Principal, meeting_id: int, *, verdict: Verdict, comment: str,
                 version: int, department_id: int | None = None,
                 person_id: int | None = None) -> MinutesConfirmation:
    """A department's representative confirms or objects, for their own department and in their
    own name only; an objection says why. The B post cannot replace an answer the A post gave to
    this content (409 "a_post_answered")."""
    if person_id is not None and person_id != actor.user_id:
        raise MinutesError(403, "只能以本人名义确认，不能代他人确认 / you can only answer in your own name, "
                                "not for another person", field="person_id", code="not_yourself")
    if department_id is not None and department_id != actor.department_id:
        raise MinutesError(403, "只能代表本部门确认 / you can only answer for your own department",
                           field="department_id", code="not_your_department")
    if actor.role != Role.CHIEF_REP or actor.post not in (Post.A.value, Post.B.value) or actor.department_id is None:
        raise MinutesError(403, "只有出席部门的A岗或B岗首席代表可以确认纪要 / only the A or B post of an "
                                "attending department confirms the minutes", code="not_a_representative")
    _, state = await _open_version(db, meeting_id)
    current = state.current
    if version != current.version:
        raise MinutesError(409, f"当前待确认的是第{current.version}版，不是第{version}版 / version "
                                f"{current.version} is the one to answer, not {version}", field="version")
    if current.status != AWAITING:
        raise MinutesError(409, "纪要尚未送交确认 / the chair has not sent the minutes for confirmation yet",
                           field="status", code="not_sent")
    standing = next((a for a in state.answers if a.department.id == actor.department_id), None)
    if standing is None:
        raise MinutesError(403, "本部门未出席本次会议，无需确认纪要 / your department did not attend this "
                                "meeting and does not confirm its minutes", code="not_attending")
    given = standing.answer
    if given is not None and not replaces(given, actor.post):
        raise MinutesError(409, f"本部门A岗{given.person.display_name}已对本版纪要作出答复，B岗不能替换 / "
                                f"post A ({given.person.display_name}) of your department has already answered "
                                "this version: post B cannot replace that answer", code="a_post_answered")
    comment = _checked(comment, NOTE_CHARS, "comment")
    if verdict == OBJECT and not comment:
        raise MinutesError(422, "提出异议须说明理由 / an objection must say why", field="comment")
    row = MinutesConfirmation(version_id=current.id, department_id=actor.department_id, person_id=actor.user_id,
                              post=actor.post, verdict=verdict, comment=comment,
                              content_sha256=content_sha256(current.content), at=datetime.now(UTC))
    db.add(row)
    await db.flush()
    return row


# ---------------------------------------------------------------- final


async def finalise(db: AsyncSession, actor: Principal, meeting_id: int, note: str,
                   settings: Settings) -> MinutesVersion:
    """Seal the open version. Without every attending department's confirmation the chair must say
    why (`note`); the confirmations (and that note) go into the sealed content. A note given when
    all have confirmed is kept too (the minutes page and the dossier show it), not in the content."""
    meeting, state = await _open_version(db, meeting_id, chair=actor)
    version = state.current
    if version.status != AWAITING:
        raise MinutesError(409, "请先将纪要送交各部门确认 / send the minutes for confirmation first",
                           field="status", code="not_sent")
    note = _checked(note, NOTE_CHARS, "note")
    missing = [a for a in state.answers if not a.confirmed]
    if missing and not note:
        names = "、".join(a.department.name + ("（有异议）" if a.answer else "") for a in missing)
        raise MinutesError(409, f"以下部门尚未确认：{names}。全部确认后才能定稿，或说明定稿理由 / not every "
                                "attending department has confirmed: finalise once they have, or record why",
                           field="note", code="unconfirmed")
    now = datetime.now(UTC)
    sealed = minutes_of(version).model_copy(update={
        "confirmations": [_confirmation(a, note, now) for a in state.answers],
        "status": FINAL, "correction": version.reason, "issued_on": local(now).date().isoformat()})
    content = sealed.model_dump(mode="json")
    previous = state.latest_final
    version.content = content
    version.sha256 = content_sha256(content)
    version.status = FINAL
    version.finalised_by_id = actor.user_id
    version.finalised_at = now
    version.finalise_note = note
    await db.flush()
    if previous is not None:
        previous.status = SUPERSEDED
        await db.flush()
    if meeting.status == MeetingStatus.MINUTES_DRAFT.value:
        await change_status(db, actor, meeting.id, MeetingStatus.MINUTES_FINAL,
                            f"纪要 {state.document.number} 第{version.version}版定稿")
    await apply_final_minutes(db, actor, version, sealed, settings)
    return version


def _confirmation(answer: DepartmentAnswer, note: str, now: datetime) -> Confirmation:
    row = answer.answer
    if row is not None and row.verdict == CONFIRM:
        return Confirmation(department=answer.department.name, person=_signed(row.person),
                            at=_local_iso(row.at), note=row.comment)
    objection = f"有异议：{row.comment}；" if row is not None else "未确认；"
    return Confirmation(department=answer.department.name, person=_signed(row.person) if row else "",
                        at=_local_iso(row.at if row else now), note=f"{objection}主持人定稿说明：{note}")


def _signed(person: User) -> str:
    return f"{person.display_name}（{Post(person.post).label_zh}）" if person.post else person.display_name


def _local_iso(moment: datetime) -> str:
    return local(moment).isoformat(timespec="seconds")


async def new_version(db: AsyncSession, actor: Principal, meeting_id: int, reason: str,
                      settings: Settings) -> MinutesVersion:
    """Start a correction of final minutes: version n+1 as a draft, rebuilt from the record with
    every recorded edit; the final version stays in force (and unchanged) until this one is final."""
    meeting = await lock_meeting(db, meeting_id)
    require_meeting_chair(actor, meeting)
    state = await load_state(db, meeting_id)
    if state is None:
        raise MinutesError(404, "本次会议还没有纪要 / this meeting has no minutes yet", code="no_minutes")
    if state.current.status in OPEN_STATUSES:
        raise MinutesError(409, f"第{state.current.version}版尚未定稿，请直接修改 / version "
                                f"{state.current.version} is not final yet: edit it instead", field="version")
    reason = _checked(reason, REASON_CHARS, "reason", required=True)
    number = state.current.version + 1
    minutes = await _rebuild(db, state.document, number, settings)
    version = MinutesVersion(document_id=state.document.id, version=number, status=DRAFT,
                             content=minutes.model_dump(mode="json"), reason=reason,
                             created_by_id=actor.user_id, created_at=datetime.now(UTC), finalise_note="")
    db.add(version)
    await db.flush()
    return version


# ---------------------------------------------------------------- helpers


def _checked(value: str, limit: int, field_name: str, *, required: bool = False) -> str:
    """A text as it may be stored: trimmed, bounded, without control characters (forms reach the
    service without the API's schema)."""
    value = value.strip()
    if required and not value:
        raise MinutesError(422, f"{field_name}: 须填写 / {field_name} is required", field=field_name)
    try:
        return TypeAdapter(Annotated[str, paragraphs(limit)]).validate_python(value)
    except ValidationError as exc:
        message = "; ".join(error["msg"] for error in exc.errors(include_url=False))
        raise MinutesError(422, f"{field_name}: {message}", field=field_name) from None

