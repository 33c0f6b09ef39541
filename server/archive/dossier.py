"""One case's complete record (卷宗): its clocks, every meeting, minutes versions, the notice,
recordings and event logs, plus the catalogue of files that can be downloaded or exported.

The catalogue is the single list of what belongs to a case: the download endpoint serves only
names it lists (a client never sends a path), and the BagIt export writes exactly its files, so
what an archivist sees, downloads and packages cannot differ. Files are produced lazily (PDF
rendering is slow) and anything that should be there but is not is listed with the reason, never
silently skipped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minutes.render import MEDIA_TYPES
from record.events import (
    LinkDegraded,
    LinkRecovered,
    MeetingStatusChanged,
    ParticipantJoined,
    ParticipantMuted,
    ParticipantPaused,
    ParticipantResumed,
    ParticipantUnmuted,
    ProducerPublished,
    ProducerUnpublished,
    parse_event,
)
from record.reducer import fold
from server.archive.dossier_out import (
    DossierCase,
    DossierEvent,
    DossierFileOut,
    DossierGap,
    DossierItem,
    DossierJump,
    DossierLog,
    DossierMeeting,
    DossierMinutes,
    DossierMinutesVersion,
    DossierOut,
    DossierRecording,
    DossierSuspension,
    DossierTrack,
    DossierUnit,
    Note,
)
from server.archive.passages import event_passages
from server.archive.recordings import Recording, meeting_recordings, track_path
from server.auth.policy import visible_meetings
from server.auth.principal import Principal
from server.db.models import (
    AgendaEntry,
    ApprovalItem,
    CaseMaterial,
    InvestmentCase,
    Meeting,
    MeetingEvent,
    MinutesVersion,
    User,
)
from server.domain.cases import ManagementCategory
from server.recording.store import logged_recording_keys
from server.services.calendar import load_calendar
from server.services.clock import CENTRE_TZ, case_clocks, centre_today, promised_limit
from server.services.eventlog import check_meeting_log, logged
from server.services.materials import material_path
from server.services.minutes_reading import (
    DocumentFormat,
    Reader,
    notice_document,
    reader_for,
    reader_notice,
    version_document,
)
from server.services.minutes_state import SEALED_STATUSES, MinutesError, canonical_json, load_state
from server.settings import PromisedLimits

JSONL = "application/x-ndjson"
MEDIA_TOGGLES = (ParticipantMuted, ParticipantUnmuted, ParticipantPaused, ParticipantResumed)
MEDIA_EVENTS = (*MEDIA_TOGGLES, ProducerPublished, ProducerUnpublished)
"""Events about one person's camera, microphone or screen; a track closed as its owner leaves has no
actor, so the row must name the owner from the event itself."""
LINK_EVENTS = (LinkDegraded, LinkRecovered)
"""A site's received video poor and back (the system writes them): named like media events, as video."""
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # as server.domain.eventlog hashes it


@dataclass
class DossierFile:
    """One downloadable file: produced in memory (`produce`) or read from disk (`path`)."""

    name: str
    media_type: str
    note: Note
    produce: Callable[[], Awaitable[bytes]] | None = None
    path: Path | None = None
    sha256: str | None = None  # what the record says it must hash to, when it says

    async def read(self) -> bytes:
        if self.produce is not None:
            return await self.produce()
        assert self.path is not None
        return await asyncio.to_thread(self.path.read_bytes)


@dataclass
class Dossier:
    """The record (`out`, what the page and API show) and its files by name."""

    out: DossierOut
    files: dict[str, DossierFile] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """Human-readable facts for a package: case, meetings, people, times, hashes, gaps."""
        return {"case": self.out.case.model_dump(mode="json"),
                "meetings": [_meeting_metadata(m) for m in self.out.meetings],
                "files": [f.model_dump(mode="json") for f in self.out.files],
                "unavailable": [g.model_dump(mode="json") for g in self.out.unavailable]}


def _meeting_metadata(meeting: DossierMeeting) -> dict[str, Any]:
    data = meeting.model_dump(mode="json", exclude={"events"})
    data["people"] = sorted({e.actor for e in meeting.events if e.actor})
    return data


def _local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(CENTRE_TZ) if moment is not None else None


class _Builder:
    def __init__(self, db: AsyncSession, data_dir: Path, principal: Principal | None) -> None:
        self.db = db
        self.data_dir = data_dir
        self.principal = principal
        self.files: dict[str, DossierFile] = {}
        self.gaps: list[DossierGap] = []

    def add(self, file: DossierFile) -> str:
        self.files[file.name] = file
        return file.name

    def gap(self, name: str, zh: str, en: str) -> None:
        self.gaps.append(DossierGap(name=name, note=Note(zh=zh, en=en)))

    async def case_out(self, case: InvestmentCase, limits: PromisedLimits) -> DossierCase:
        """The case and its items with their clocks as the case page shows them today."""
        today = centre_today()
        limit = promised_limit(limits, ManagementCategory(case.category))
        case_clock, item_clocks = case_clocks(await load_calendar(self.db), limit, case.items, today)
        items = [DossierItem(id=i.id, name=i.name, department=i.department.name, level=i.level, status=i.status,
                             result=i.result, document_no=i.document_no, accepted_on=i.accepted_on,
                             decided_on=i.decided_on, statutory_limit_wd=i.statutory_limit_wd,
                             promised_limit_wd=i.promised_limit_wd,
                             suspensions=[DossierSuspension.model_validate(s) for s in i.suspensions], clock=c)
                 for i, c in zip(case.items, item_clocks, strict=True)]
        out = DossierCase(id=case.id, project_code=case.project_code, name=case.name,
                          applicant=case.organisation.name, applicant_credit_code=case.organisation.credit_code,
                          category=case.category, total_investment=str(case.total_investment), items=items,
                          clock=case_clock, clock_as_of=today)
        self.add(DossierFile("case/clock.json", "application/json",
                             Note(zh="项目及审批事项的计时（中止/恢复、不计时期间）",
                                  en="the case's and its items' clocks"),
                             produce=_constant(_json_bytes(out.model_dump(
                                 mode="json", include={"clock", "clock_as_of", "items"})))))
        return out

    async def materials(self, case: InvestmentCase) -> None:
        rows = await self.db.scalars(select(CaseMaterial).where(CaseMaterial.case_id == case.id)
                                     .order_by(CaseMaterial.id))
        for material in rows:
            name = f"case/materials/{material.id}.pdf"
            path = material_path(self.data_dir, material.sha256)
            if path.is_file():
                self.add(DossierFile(name, "application/pdf", Note(zh=f"申请材料：{material.title}",
                                                                         en=f"material: {material.title}"),
                                     path=path, sha256=material.sha256))
            else:
                self.gap(name, f"材料文件不在存储中（{path.name}）",
                         f"the material's file is missing from storage ({path.name})")

    async def reader(self, meeting: Meeting) -> Reader:
        if self.principal is None:  # the operator's export: everything
            return Reader(meeting, await load_state(self.db, meeting.id), None, True)
        return await reader_for(self.db, self.principal, meeting.id)

    async def meeting_out(self, meeting: Meeting) -> DossierMeeting:
        prefix = f"meeting-{meeting.id}"
        reader = await self.reader(meeting)
        whole = reader.whole_minutes
        if not whole:
            self.gap(prefix, "本次会议还审查了其他申请人的项目：纪要、事件日志和录像不向申请人提供，"
                             "一次性告知书仅含本单位项目",
                     "this meeting also reviewed other applicants' cases: its minutes, event log and "
                     "recordings are not given to applicants; the notice covers their own cases only")
        recordings = meeting_recordings(self.data_dir, meeting.id) if whole else []
        recording_outs = [self.recording_out(prefix, r) for r in recordings]
        log = list(await self.db.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting.id)
                                         .order_by(MeetingEvent.seq)))
        # when it was held, read from the record as the meeting page reads it (anyone who may see
        # the meeting sees that); the events themselves only for a reader of the whole minutes
        record = fold(logged(row) for row in log)
        rows = log if whole else []
        people = {r.actor_id for r in rows if r.actor_id is not None} | {
            r.payload["user_id"] for r in rows if isinstance(r.payload.get("user_id"), int)}
        names = {u.id: u.display_name for u in await self.db.scalars(select(User).where(User.id.in_(people)))}
        playback = {r.key: out.playback for r, out in zip(recordings, recording_outs, strict=True)}
        events = _events_out(rows, names, recordings, playback)
        stored = {r.key for r in recordings}
        recorded = await logged_recording_keys(self.db, meeting.id) if whole else []
        missing = [key for key in recorded if key not in stored]
        for key in missing:
            self.gap(f"{prefix}/recordings/{key}", "事件日志记有此录像，但存储中没有其录像文件",
                     "the event log records this recording, but storage holds no files for it")
        check = await check_meeting_log(self.db, meeting.id)
        if whole:
            self.add(DossierFile(f"{prefix}/events.jsonl", JSONL,
                                 Note(zh="事件日志（哈希链，每行一条）",
                                      en="event log, hash-chained, one JSON object a line"),
                                 produce=_constant(_jsonl(rows))))
        return DossierMeeting(
            id=meeting.id, title=meeting.title, status=meeting.status,
            scheduled_start=_local(meeting.scheduled_start), scheduled_end=_local(meeting.scheduled_end),
            started=_local(record.started), ended=_local(record.ended),
            place=meeting.place, chair=meeting.chair.display_name, lead_department=meeting.lead_department.name,
            units=[_unit(inv) for inv in meeting.invitations],
            minutes=await self.minutes_out(prefix, meeting, reader), recordings=recording_outs,
            missing_recordings=missing,
            log=DossierLog(count=check.count, head_hash=check.head_hash, intact=check.intact,
                           problems=[p.message for p in check.problems]),
            events=events)

    async def minutes_out(self, prefix: str, meeting: Meeting, reader: Reader) -> DossierMinutes | None:
        """Sealed versions as minutes_reading lets this reader read them, with its renderings."""
        if reader.state is None:
            if meeting.status in ("ended", "minutes_draft", "minutes_final"):
                self.gap(f"{prefix}/minutes", "尚无会议纪要", "no minutes have been drafted yet")
            return None
        versions = [v for v in reader.versions() if v.status in SEALED_STATUSES]
        if not versions and reader.whole_minutes:
            self.gap(f"{prefix}/minutes", "纪要尚未定稿", "the minutes are not final yet")
        outs = [DossierMinutesVersion(id=v.id, version=v.version, status=v.status, sha256=v.sha256, reason=v.reason,
                                      finalised_at=_local(v.finalised_at), finalise_note=v.finalise_note,
                                      files=self.minutes_files(prefix, v)) for v in versions]
        if reader.state.latest_final is not None:
            self.notice(prefix, reader)
        return DossierMinutes(number=reader.state.document.number, versions=outs)

    def minutes_files(self, prefix: str, version: MinutesVersion) -> list[str]:
        base = f"{prefix}/minutes-v{version.version}"
        zh = f"会议纪要第{version.version}版"
        en = f"minutes version {version.version} ({version.status})"
        names = [self.add(DossierFile(f"{base}.json", "application/json",
                                      Note(zh=f"{zh}，规范化 JSON（SHA-256 即按此计算）",
                                           en=f"{en}, canonical JSON, the bytes its SHA-256 covers"),
                                      produce=_constant(canonical_json(version.content)), sha256=version.sha256))]
        formats: tuple[DocumentFormat, ...] = ("pdf", "docx")
        for fmt in formats:
            names.append(self.add(DossierFile(
                f"{base}.{fmt}", MEDIA_TYPES[fmt], Note(zh=f"{zh}，{fmt.upper()}", en=f"{en}, {fmt.upper()}"),
                produce=partial(version_document, version, fmt, self.data_dir))))
        return names

    def notice(self, prefix: str, reader: Reader) -> None:
        """The 一次性告知书 issued with the final minutes, listed as the minutes page links it: a
        document of its own, named by its number(s) (one letter per applicant), even when it asks
        for no material (it then tells the applicant so)."""
        name = f"{prefix}/notice.pdf"
        try:
            notice = reader_notice(reader)
        except MinutesError as error:  # an applicant with no case in the meeting: none for them
            zh, _, en = error.message.partition(" / ")
            self.gap(name, zh, en or zh)
            return
        numbers = [letter.number for letter in notice.letters]
        self.add(DossierFile(name, "application/pdf",
                             Note(zh=f"补正材料一次性告知书 {'、'.join(numbers)}",
                                  en=f"notice of materials to supplement {', '.join(numbers)}"),
                             produce=lambda: notice_document(reader, "pdf")))

    def recording_out(self, prefix: str, recording: Recording) -> DossierRecording:
        base = f"{prefix}/recordings/{recording.key}"
        manifest = recording.manifest
        if manifest is None:
            self.gap(f"{base}/manifest.json", f"录像清单无法读取：{recording.error}",
                     f"manifest unreadable: {recording.error}")
            return DossierRecording(key=recording.key, started_at=None, stopped_at=None, duration_ms=None,
                                    status="unreadable", tracks=[], playback=None, error=recording.error)
        self.add(DossierFile(f"{base}/manifest.json", "application/json", Note(zh="录像清单", en="recording manifest"),
                             path=recording.directory / "manifest.json"))
        tracks = []
        for track in manifest.tracks:
            path = track_path(recording, track)
            name = f"{base}/tracks/{track.file}"
            if path is None or not path.is_file():
                self.gap(name, f"清单所列轨道文件缺失或名称非法：{track.file!r}",
                         f"track file missing or its name is not a plain file name: {track.file!r}")
            else:
                self.add(DossierFile(name, _media_type(track.file),
                                     Note(zh=f"原始轨道：{track.display_name}",
                                          en=f"original track: {track.display_name} {track.kind}"),
                                     path=path, sha256=track.sha256))
            tracks.append(DossierTrack(display_name=track.display_name, department=track.department,
                                       unit=track.unit, kind=track.kind, file=track.file,
                                       duration_ms=track.duration_ms, sha256=track.sha256, state=track.state))
        playback = None
        for path in recording.composed:
            name = self.add(DossierFile(f"{base}/composed/{path.name}", _media_type(path.name),
                                        Note(zh="合成录像", en="composed recording"), path=path))
            playback = name if path.suffix == ".mp4" else playback
        if playback is None:
            self.gap(f"{base}/composed/meeting.mp4", "合成录像尚未生成", "the composed video has not been made yet")
        return DossierRecording(key=recording.key, started_at=_local(manifest.started_at),
                                stopped_at=_local(manifest.stopped_at), duration_ms=manifest.duration_ms,
                                status=manifest.status, tracks=tracks, playback=playback, error="")


def _unit(invitation: Any) -> DossierUnit:
    unit = invitation.department or invitation.organisation
    return DossierUnit(name=unit.name if unit is not None else "", capacity=invitation.capacity,
                       excused_reason=invitation.excused_reason or "")


def _media_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {".mp4": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska", ".ogg": "audio/ogg",
            ".json": "application/json"}.get(suffix, "application/octet-stream")


def _events_out(rows: list[MeetingEvent], names: dict[int, str], recordings: list[Recording],
                playback: dict[str, str | None]) -> list[DossierEvent]:
    """The log's rows for the dossier. A media event names whose camera or microphone it is (the
    actor of a mute is the chair, not the person muted): by account, or for a guest by the name
    they joined under."""
    joined: dict[str, str] = {}
    out = []
    for row in rows:
        event = parse_event(row.type, row.payload)
        if isinstance(event, ParticipantJoined):
            joined[event.participant_id] = event.display_name
        passages = event_passages(row.type, row.payload)
        jump = None
        for recording in recordings:
            at_ms = recording.at_ms(row.ts)
            if at_ms is not None:
                jump = DossierJump(recording_key=recording.key, at_ms=at_ms, playback=playback[recording.key])
                break
        status = event if isinstance(event, MeetingStatusChanged) else None
        media = event if isinstance(event, MEDIA_EVENTS) else None
        about = event if isinstance(event, (*MEDIA_EVENTS, *LINK_EVENTS)) else None
        subject = None
        if about is not None:
            user_id = getattr(about, "user_id", None)
            subject = names.get(user_id) if user_id is not None else joined.get(about.participant_id)
        out.append(DossierEvent(
            seq=row.seq, at=row.ts.astimezone(CENTRE_TZ), type=row.type,
            actor=names.get(row.actor_id) if row.actor_id is not None else row.payload.get("display_name"),
            item=getattr(event, "item_name", None) or None,
            opinion_kind=passages[0].opinion_type or None if passages else None,
            status_from=status.from_.value if status else None, status_to=status.to.value if status else None,
            subject=subject, media=media.kind if media else "video" if about else None,
            text=status.note if status else passages[0].body if passages else "", jump=jump))
    return out


def _constant(data: bytes) -> Callable[[], Awaitable[bytes]]:
    async def produce() -> bytes:
        return data
    return produce


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def _jsonl(rows: list[MeetingEvent]) -> bytes:
    """The stored rows exactly as the chain hashes them, so anyone can re-verify offline."""
    lines = [json.dumps({"meeting_id": r.meeting_id, "seq": r.seq,
                         "ts": r.ts.astimezone(UTC).strftime(TS_FORMAT),
                         "actor_id": r.actor_id, "type": r.type, "payload": r.payload,
                         "prev_hash": r.prev_hash, "hash": r.hash}, ensure_ascii=False, sort_keys=True)
             for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


async def case_meetings(db: AsyncSession, principal: Principal | None, case_id: int) -> list[Meeting]:
    """The meetings that reviewed any item of the case (those the principal may see), by date."""
    statement = (select(Meeting).join(AgendaEntry, AgendaEntry.meeting_id == Meeting.id)
                 .join(ApprovalItem, ApprovalItem.id == AgendaEntry.item_id)
                 .where(ApprovalItem.case_id == case_id).distinct().order_by(Meeting.scheduled_start, Meeting.id))
    if principal is not None:
        statement = statement.where(visible_meetings(principal))
    return list(await db.scalars(statement))


async def build_dossier(db: AsyncSession, case: InvestmentCase, data_dir: Path,
                        principal: Principal | None, limits: PromisedLimits) -> Dossier:
    """The case's record as `principal` may see it (None: the operator, everything); `limits`
    are the centre's promised totals (settings.centre.promised_limits) for the case's clock."""
    builder = _Builder(db, data_dir, principal)
    case_out = await builder.case_out(case, limits)
    await builder.materials(case)
    meetings = [await builder.meeting_out(m) for m in await case_meetings(db, principal, case.id)]
    files = [DossierFileOut(name=f.name, media_type=f.media_type, note=f.note, sha256=f.sha256)
             for f in builder.files.values()]
    out = DossierOut(case=case_out, meetings=meetings, files=files, unavailable=builder.gaps)
    return Dossier(out=out, files=builder.files)


async def select_cases(db: AsyncSession, *, project_code: str | None = None, meeting_id: int | None = None,
                       year: int | None = None) -> list[InvestmentCase]:
    """The cases an export covers: one case by code, the cases of a meeting, or the cases of
    every meeting scheduled in a year (centre time), in project-code order."""
    statement = select(InvestmentCase).order_by(InvestmentCase.project_code)
    if project_code is not None:
        return list(await db.scalars(statement.where(InvestmentCase.project_code == project_code)))
    reviewed = (select(ApprovalItem.case_id).join(AgendaEntry, AgendaEntry.item_id == ApprovalItem.id)
                .join(Meeting, Meeting.id == AgendaEntry.meeting_id))
    if meeting_id is not None:
        reviewed = reviewed.where(Meeting.id == meeting_id)
    elif year is not None:
        start = datetime(year, 1, 1, tzinfo=CENTRE_TZ)
        reviewed = reviewed.where(Meeting.scheduled_start >= start,
                                  Meeting.scheduled_start < start.replace(year=year + 1))
    return list(await db.scalars(statement.where(InvestmentCase.id.in_(reviewed))))
