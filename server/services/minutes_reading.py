"""Who reads which minutes, and the minutes and 一次性告知书 as files.

Staff (admin, chair, archivist) and the representatives of invited departments read every
version, drafts included: the departments confirm them. Applicants and their agents read only
final minutes, and only of meetings that reviewed nothing but their own organisations' cases
(minutes of a joint meeting would show another applicant's case); the 一次性告知书 is theirs in
any case, cut down to the materials of their own cases.

A sealed version never changes, so its renderings are made once and kept under
data_dir/minutes named by the version's SHA-256 and standing (a superseded version's paper says
so): a downloaded PDF stays byte-identical. The JSON download is the canonical JSON the SHA-256
is computed over, so anyone can check the seal.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minutes.model import Minutes
from minutes.notice import Notice, build_notice
from minutes.render import MEDIA_TYPES, render, render_notice
from server.auth.policy import visible_meetings
from server.auth.principal import Principal
from server.db.models import (
    AgendaEntry,
    ApprovalItem,
    InvestmentCase,
    Meeting,
    MinutesCaseLink,
    MinutesDocument,
    MinutesVersion,
)
from server.domain.roles import Role
from server.services.minutes_state import (
    SEALED_STATUSES,
    MinutesError,
    MinutesState,
    as_issued,
    canonical_json,
    load_state,
    minutes_of,
)

DocumentFormat = Literal["html", "pdf", "docx", "json"]
NoticeFormat = Literal["html", "pdf"]
APPLICANT_ROLES = frozenset({Role.APPLICANT, Role.AGENT})


@dataclass
class Reader:
    """What one principal may read of one meeting's minutes."""

    meeting: Meeting
    state: MinutesState | None
    own_cases: frozenset[str] | None  # project codes an applicant may see; None = every case
    whole_minutes: bool  # False: an applicant of a joint meeting gets the notice only

    @property
    def drafts(self) -> bool:
        return self.own_cases is None

    def readable(self, version: MinutesVersion) -> bool:
        return self.whole_minutes and (self.drafts or version.status in SEALED_STATUSES)

    def versions(self) -> list[MinutesVersion]:
        return [v for v in self.state.versions if self.readable(v)] if self.state else []


async def reader_for(db: AsyncSession, principal: Principal, meeting_id: int) -> Reader:
    """The principal's view of the meeting's minutes; 404 when the meeting is out of their scope."""
    meeting = await db.scalar(select(Meeting).where(Meeting.id == meeting_id, visible_meetings(principal)))
    if meeting is None:
        raise MinutesError(404, "会议不存在或无权查看 / no such meeting visible to you")
    state = await load_state(db, meeting_id)
    if principal.role not in APPLICANT_ROLES:
        return Reader(meeting, state, None, True)
    rows = await db.execute(select(InvestmentCase.project_code, InvestmentCase.organisation_id)
                            .join(ApprovalItem, ApprovalItem.case_id == InvestmentCase.id)
                            .join(AgendaEntry, AgendaEntry.item_id == ApprovalItem.id)
                            .where(AgendaEntry.meeting_id == meeting_id))
    cases = {code: organisation_id for code, organisation_id in rows}
    own = frozenset(code for code, org in cases.items() if org in principal.organisation_ids)
    # minutes are an applicant's only when they are about nothing but its cases: a meeting that
    # reviewed none of them (an invitation alone) is no more theirs than a joint one
    return Reader(meeting, state, own, bool(own) and own == frozenset(cases))


def require_state(reader: Reader) -> MinutesState:
    if reader.state is None:
        raise MinutesError(404, "本次会议还没有纪要 / this meeting has no minutes yet", code="no_minutes")
    return reader.state


def readable_version(reader: Reader, number: int | None = None) -> MinutesVersion:
    """The version asked for (default: the newest the reader may read), or a clear 404/403."""
    state = require_state(reader)
    if not reader.whole_minutes:
        if not reader.own_cases:
            raise MinutesError(403, "本次会议未审查贵单位的项目，纪要不向贵单位公开 / this meeting reviewed none of "
                                    "your organisation's cases: its minutes are not yours to read",
                               code="not_your_cases")
        raise MinutesError(403, "本次会议审查了其他申请人的项目，纪要不向申请人公开；请下载一次性告知书 / this "
                                "meeting also reviewed other applicants' cases: applicants get the notice "
                                "(一次性告知书), not the minutes", code="joint_meeting")
    versions = reader.versions()
    if number is not None:
        version = state.version(number)
        if version is None or version not in versions:
            raise MinutesError(404, f"没有可查看的第{number}版 / no version {number} you may read")
        return version
    if not versions:
        raise MinutesError(404, "纪要尚未定稿 / the minutes are not final yet", code="not_final")
    return versions[-1]


async def version_document(version: MinutesVersion, fmt: DocumentFormat, data_dir: Path) -> bytes:
    """A version as a file; renderings of sealed versions are kept (see the module doc)."""
    sealed = version.status in SEALED_STATUSES and version.sha256 is not None
    if fmt == "json":  # a sealed content is the hashed one; an open one says where it stands
        return canonical_json(version.content if sealed else as_issued(version).model_dump(mode="json"))
    if not sealed:
        return await asyncio.to_thread(render, as_issued(version), fmt)
    path = data_dir / "minutes" / f"{version.sha256}-{version.status}.{fmt}"
    if not path.is_file():
        _store(path, await asyncio.to_thread(render, as_issued(version), fmt))
    return path.read_bytes()


async def notice_document(reader: Reader, fmt: NoticeFormat) -> bytes:
    """The 一次性告知书 of the newest final version, for the reader's own cases (applicants)."""
    notice = reader_notice(reader)
    return await asyncio.to_thread(render_notice, notice, fmt)


def reader_notice(reader: Reader) -> Notice:
    """The 一次性告知书 as this reader gets it (its letters and their numbers): issued with every
    final version, cut down to the reader's own cases for applicants; a MinutesError (404) when
    there is none to give."""
    state = require_state(reader)
    final = state.latest_final
    if final is None:
        raise MinutesError(404, "纪要尚未定稿，一次性告知书随定稿纪要发出 / the notice is issued with the final "
                                "minutes, which are not final yet", code="not_final")
    minutes = minutes_of(final)
    if reader.own_cases is not None:
        if not reader.own_cases:
            raise MinutesError(404, "本次会议未审查贵单位的项目，没有给贵单位的一次性告知书 / this meeting reviewed "
                                    "none of your organisation's cases: there is no notice for you",
                               code="not_your_cases")
        minutes = _own_part(minutes, reader.own_cases)
    return build_notice(minutes)


def _own_part(minutes: Minutes, codes: frozenset[str]) -> Minutes:
    """The minutes cut down to some cases: what the notice of those cases' applicant is built from."""
    return minutes.model_copy(update={
        "cases": [c for c in minutes.cases if c.project_code in codes],
        "items": [i for i in minutes.items if i.project_code in codes],
        "materials": [m for m in minutes.materials if m.project_code in codes],
    })


def media_type(fmt: str) -> str:
    return MEDIA_TYPES[fmt]


def _store(path: Path, data: bytes) -> None:
    """Write atomically (temp file + rename): a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class CaseMinutes:
    """A final (or superseded) minutes version attached to a case, as the case page lists it."""

    meeting_id: int
    number: str
    version: int
    status: str
    finalised_at: datetime | None
    whole_minutes: bool  # the reader may open the minutes themselves (else: the notice only)
    decisions: list[tuple[str, str]]  # (item name or "", text) of this case's decisions (议定事项)


async def case_minutes(db: AsyncSession, principal: Principal, case: InvestmentCase) -> list[CaseMinutes]:
    """The minutes attached to a case the principal already sees, newest first. Only those of
    meetings the principal may see: a representative sees a case through their department's item,
    yet not every meeting that reviewed it (their department may not have been invited)."""
    rows = await db.execute(select(MinutesVersion, MinutesDocument)
                            .join(MinutesCaseLink, MinutesCaseLink.version_id == MinutesVersion.id)
                            .join(MinutesDocument, MinutesDocument.id == MinutesVersion.document_id)
                            .join(Meeting, Meeting.id == MinutesDocument.meeting_id)
                            .where(MinutesCaseLink.case_id == case.id, visible_meetings(principal))
                            .order_by(MinutesVersion.finalised_at.desc(), MinutesVersion.id.desc()))
    listed = []
    for version, document in rows:
        reader = await reader_for(db, principal, document.meeting_id)
        minutes = minutes_of(version)
        listed.append(CaseMinutes(
            meeting_id=document.meeting_id, number=document.number, version=version.version,
            status=version.status, finalised_at=version.finalised_at, whole_minutes=reader.whole_minutes,
            decisions=[(d.item_name or "", d.text) for d in minutes.decisions
                       if d.project_code in (None, case.project_code)]))
    return listed
