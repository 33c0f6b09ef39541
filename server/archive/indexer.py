"""Keeps archive_entries in step with the event logs and the final minutes, incrementally.

Each meeting has a cursor (the last event seq indexed): a refresh reads only newer events, so it
is cheap enough to run before every search, and `lianshen archive reindex` rebuilds from scratch.
A minutes version is indexed when it becomes final, and again under its new status when it is
superseded. A passage that names a project code is filed under that case; one about the whole
meeting (chat, the summary, the minutes) under every case on the agenda, so the dossier and the
ownership rules are always per case; such an entry of a meeting that reviewed several
organisations' cases is marked `joint` and hidden from applicants.

Two refreshes may race (two searches at once on PostgreSQL): entries have a unique `source`, and a
refresh that loses the race rolls back its savepoint and leaves the work to the winner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, cast, delete, exists, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.archive.passages import Passage, event_passages, minutes_passages
from server.db.models import (
    AgendaEntry,
    ApprovalItem,
    ArchiveEntry,
    ArchiveIndexCursor,
    ArchiveWatermark,
    Department,
    InvestmentCase,
    MeetingEvent,
    MinutesDocument,
    MinutesVersion,
)

ARCHIVED_STATUSES = ("final", "superseded")
BATCH_EVENTS = 2000
BATCH_MINUTES = 500
MINUTES_WATERMARK = "minutes"
WATERMARK_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class _Dept:
    name: str
    level: str


@dataclass
class IndexReport:
    meetings: int = 0
    events: int = 0
    entries: int = 0
    minutes_versions: int = 0


def _search_text(entry: ArchiveEntry) -> str:
    """What the trigram index covers: the words plus the facts asked by name (case, applicant,
    department), so 自然资源局 finds that department's opinions even if the text never says it."""
    return "\n".join((entry.title, entry.body, entry.case_name, entry.applicant_name,
                      entry.department_name, entry.project_code))


class _MeetingFacts:
    """The cases on a meeting's agenda and the departments, loaded once per meeting."""

    def __init__(self, cases: Sequence[InvestmentCase], departments: dict[str, _Dept]) -> None:
        self.cases = list(cases)
        self.by_code = {case.project_code: case for case in self.cases}
        self.departments = departments
        self.joint = len({case.organisation_id for case in self.cases}) > 1

    def entries(self, source: str, passage: Passage, meeting_id: int, at: datetime, *,
                event_seq: int | None = None, minutes_version_id: int | None = None) -> list[ArchiveEntry]:
        code = passage.project_code
        one_case = self.by_code.get(code) if code is not None else None
        whole_meeting = one_case is None
        targets = self.cases if one_case is None else [one_case]
        dept = self.departments.get(passage.department_code)
        out = []
        for case in targets:
            entry = ArchiveEntry(
                source=f"{source}:{case.id}", kind=passage.kind, meeting_id=meeting_id, case_id=case.id,
                event_seq=event_seq, minutes_version_id=minutes_version_id, at=at,
                project_code=case.project_code, case_name=case.name[:256],
                applicant_name=case.organisation.name[:128], department_code=passage.department_code[:32],
                department_name=dept.name if dept else "", level=dept.level if dept else "",
                opinion_type=passage.opinion_type[:24], joint=whole_meeting and self.joint,
                title=passage.title[:256], body=passage.body,
                search_text="")
            entry.search_text = _search_text(entry)
            out.append(entry)
        return out


async def _departments(db: AsyncSession) -> dict[str, _Dept]:
    return {d.code: _Dept(d.name, d.division.level) for d in await db.scalars(select(Department))}


async def _facts(db: AsyncSession, meeting_ids: Sequence[int],
                 departments: dict[str, _Dept]) -> dict[int, _MeetingFacts]:
    """The agenda's cases of each meeting, in one query for a whole batch of meetings."""
    rows = await db.execute(
        select(AgendaEntry.meeting_id, InvestmentCase)
        .join(ApprovalItem, ApprovalItem.id == AgendaEntry.item_id)
        .join(InvestmentCase, InvestmentCase.id == ApprovalItem.case_id)
        .where(AgendaEntry.meeting_id.in_(meeting_ids)).order_by(AgendaEntry.meeting_id, InvestmentCase.id))
    cases: dict[int, dict[int, InvestmentCase]] = {meeting_id: {} for meeting_id in meeting_ids}
    for meeting_id, case in rows:
        cases[meeting_id][case.id] = case
    return {meeting_id: _MeetingFacts(list(found.values()), departments) for meeting_id, found in cases.items()}


async def _pending_meetings(db: AsyncSession) -> list[tuple[int, int]]:
    """(meeting_id, last indexed seq) for every meeting whose log has grown since."""
    head = (select(MeetingEvent.meeting_id, func.max(MeetingEvent.seq).label("top"))
            .group_by(MeetingEvent.meeting_id).subquery())
    rows = await db.execute(
        select(head.c.meeting_id, func.coalesce(ArchiveIndexCursor.last_seq, 0))
        .outerjoin(ArchiveIndexCursor, ArchiveIndexCursor.meeting_id == head.c.meeting_id)
        .where(head.c.top > func.coalesce(ArchiveIndexCursor.last_seq, 0)))
    return [(meeting_id, last) for meeting_id, last in rows]


def _minutes_source(version_id: int, status: str) -> str:
    return f"m:{version_id}:{status}"


async def _fresh_documents(db: AsyncSession) -> tuple[list[int], datetime | None]:
    """Minutes documents with a version finalised since the watermark (less a margin for
    transactions that committed late), and the newest finalisation seen. Sealing a version is
    also when the one before it is superseded, so this finds status changes too; the index on
    finalised_at keeps the check cheap when nothing is new."""
    mark = await db.get(ArchiveWatermark, MINUTES_WATERMARK)
    statement = select(MinutesVersion.document_id, MinutesVersion.finalised_at).where(
        MinutesVersion.finalised_at.is_not(None))  # no GROUP BY: it would lead SQLite off the index
    if mark is not None:
        statement = statement.where(MinutesVersion.finalised_at > mark.at - WATERMARK_MARGIN)
    rows = list(await db.execute(statement))
    # `at is not None` only narrows the type: the statement selects finalised versions only.
    return (sorted({document_id for document_id, _ in rows}),
            max((at for _, at in rows if at is not None), default=None))


async def _pending_minutes(db: AsyncSession, document_ids: Sequence[int]) -> list[tuple[MinutesVersion, int]]:
    """The sealed versions of these documents not yet indexed under their current status."""
    prefix = literal("m:") + cast(MinutesVersion.id, String) + literal(":") + MinutesVersion.status + literal(":%")
    indexed = exists().where(ArchiveEntry.minutes_version_id == MinutesVersion.id,
                             ArchiveEntry.source.like(prefix))
    rows = await db.execute(
        select(MinutesVersion, MinutesDocument.meeting_id)
        .join(MinutesDocument, MinutesDocument.id == MinutesVersion.document_id)
        .where(MinutesVersion.document_id.in_(document_ids), MinutesVersion.status.in_(ARCHIVED_STATUSES),
               ~indexed).order_by(MinutesVersion.id))
    return [(version, meeting_id) for version, meeting_id in rows]


async def _index_minutes(db: AsyncSession, departments: dict[str, _Dept] | None, report: IndexReport) -> None:
    """Index the sealed versions of freshly finalised documents, a batch of documents at a time."""
    documents, newest = await _fresh_documents(db)
    for start in range(0, len(documents), BATCH_MINUTES):
        pending = await _pending_minutes(db, documents[start:start + BATCH_MINUTES])
        if not pending:
            continue
        departments = departments if departments is not None else await _departments(db)
        await db.execute(delete(ArchiveEntry).where(
            ArchiveEntry.minutes_version_id.in_([version.id for version, _ in pending])))
        facts = await _facts(db, sorted({meeting_id for _, meeting_id in pending}), departments)
        added: list[ArchiveEntry] = []
        for version, meeting_id in pending:
            for passage in minutes_passages(version.content, version.status):
                added += facts[meeting_id].entries(_minutes_source(version.id, version.status), passage,
                                                   meeting_id, version.finalised_at or version.created_at,
                                                   minutes_version_id=version.id)
            report.minutes_versions += 1
        db.add_all(added)
        await db.flush()
        report.entries += len(added)
        for row in (*added, *(version for version, _ in pending)):
            db.expunge(row)  # a large backlog must not pile up in the session
    mark = await db.get(ArchiveWatermark, MINUTES_WATERMARK)
    if newest is not None:
        newest = min(newest, datetime.now(UTC))  # a clock set ahead must not hide later finalisations
    if newest is not None and (mark is None or newest > mark.at):
        if mark is None:
            db.add(ArchiveWatermark(name=MINUTES_WATERMARK, at=newest))
        else:
            mark.at = newest


async def _index_events(db: AsyncSession, meeting_id: int, after: int, facts: _MeetingFacts,
                        report: IndexReport) -> None:
    last = after
    while True:
        events = list(await db.scalars(
            select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id, MeetingEvent.seq > last)
            .order_by(MeetingEvent.seq).limit(BATCH_EVENTS)))
        if not events:
            break
        for event in events:
            for passage in event_passages(event.type, event.payload):
                rows = facts.entries(f"e:{meeting_id}:{event.seq}", passage, meeting_id, event.ts,
                                     event_seq=event.seq)
                db.add_all(rows)
                report.entries += len(rows)
        last = events[-1].seq
        report.events += len(events)
    cursor = await db.get(ArchiveIndexCursor, meeting_id)
    now = datetime.now(UTC)
    if cursor is None:
        db.add(ArchiveIndexCursor(meeting_id=meeting_id, last_seq=last, updated_at=now))
    else:
        cursor.last_seq, cursor.updated_at = last, now


async def refresh_index(db: AsyncSession) -> IndexReport:
    """Index what is new since the last refresh (flushed, committed with the caller's work)."""
    report = IndexReport()
    meetings = await _pending_meetings(db)
    try:
        async with db.begin_nested():
            departments = await _departments(db) if meetings else None
            if meetings and departments is not None:
                facts = await _facts(db, [meeting_id for meeting_id, _ in meetings], departments)
                for meeting_id, after in meetings:
                    await _index_events(db, meeting_id, after, facts[meeting_id], report)
                    report.meetings += 1
            await _index_minutes(db, departments, report)
            await db.flush()
    except IntegrityError:
        return IndexReport()  # a concurrent refresh indexed the same rows first
    return report


async def rebuild_index(db: AsyncSession) -> IndexReport:
    """Drop every entry and cursor, then index everything again (after a vocabulary change)."""
    await db.execute(delete(ArchiveEntry))
    await db.execute(delete(ArchiveIndexCursor))
    await db.execute(delete(ArchiveWatermark))
    return await refresh_index(db)

