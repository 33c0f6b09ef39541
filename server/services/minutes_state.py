"""The minutes of a meeting as stored: versions, their statuses, where each attending department
stands, and the canonical JSON a final version is sealed with.

Kept apart from server.services.minutes_workflow (which changes the minutes) because reading,
rendering, the archive and its offline checks need these and nothing that writes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minutes.model import Minutes
from server.db.models import Department, MinutesConfirmation, MinutesDocument, MinutesEdit, MinutesVersion
from server.domain.roles import Post
from server.services.clock import CENTRE_TZ

DRAFT, AWAITING, FINAL, SUPERSEDED = "draft", "awaiting_confirmation", "final", "superseded"
OPEN_STATUSES = frozenset({DRAFT, AWAITING})
SEALED_STATUSES = frozenset({FINAL, SUPERSEDED})
CONFIRM, OBJECT = "confirm", "object"


class MinutesError(Exception):
    """A refused minutes operation: HTTP-like status, bilingual message, the culprit field if any."""

    def __init__(self, status: int, message: str, field: str = "", code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.code = code


def canonical_json(content: dict[str, Any]) -> bytes:
    """The content as canonical JSON: sorted keys, no spaces, UTF-8 (the JSON download)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_sha256(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: what a final version is sealed with and what a confirmation
    answered; anyone can recompute it from the JSON download."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


@dataclass
class DepartmentAnswer:
    """Where one attending department stands on the current version."""

    department: Department
    answer: MinutesConfirmation | None  # its latest answer to the current content, if any

    @property
    def confirmed(self) -> bool:
        return self.answer is not None and self.answer.verdict == CONFIRM


@dataclass
class MinutesState:
    """A meeting's minutes as the API and pages show them."""

    document: MinutesDocument
    versions: list[MinutesVersion]  # oldest first
    edits: list[MinutesEdit]  # of the current version, oldest first
    answers: list[DepartmentAnswer] = field(default_factory=list)

    @property
    def current(self) -> MinutesVersion:
        return self.versions[-1]

    @property
    def latest_final(self) -> MinutesVersion | None:
        return next((v for v in reversed(self.versions) if v.status == FINAL), None)

    def version(self, number: int) -> MinutesVersion | None:
        return next((v for v in self.versions if v.version == number), None)


async def find_document(db: AsyncSession, meeting_id: int) -> MinutesDocument | None:
    return await db.scalar(select(MinutesDocument).where(MinutesDocument.meeting_id == meeting_id))


async def load_state(db: AsyncSession, meeting_id: int) -> MinutesState | None:
    """The minutes of a meeting (None before a draft exists); visibility is the caller's check."""
    document = await find_document(db, meeting_id)
    if document is None:
        return None
    versions = list(await db.scalars(select(MinutesVersion).where(MinutesVersion.document_id == document.id)
                                     .order_by(MinutesVersion.version)
                                     .execution_options(populate_existing=True)))
    current = versions[-1]
    edits = list(await db.scalars(select(MinutesEdit).where(MinutesEdit.version_id == current.id)
                                  .order_by(MinutesEdit.id)))
    return MinutesState(document=document, versions=versions, edits=edits,
                        answers=await _answers(db, current))


async def _answers(db: AsyncSession, version: MinutesVersion) -> list[DepartmentAnswer]:
    """Each attending member department with its answer to the version's present content: the
    latest, unless the A post answered and only the B post later (``replaces``)."""
    departments = await required_departments(db, version)
    if version.status in SEALED_STATUSES:
        digest = None  # the sealed content carries its confirmations; list the answers it was sealed on
    else:
        digest = content_sha256(version.content)
    rows = await db.scalars(select(MinutesConfirmation).where(MinutesConfirmation.version_id == version.id)
                            .order_by(MinutesConfirmation.id))
    latest: dict[int, MinutesConfirmation] = {}
    for row in rows:
        if (digest is None or row.content_sha256 == digest) and replaces(latest.get(row.department_id), row.post):
            latest[row.department_id] = row
    return [DepartmentAnswer(d, latest.get(d.id)) for d in departments]


def replaces(standing: MinutesConfirmation | None, post: str | None) -> bool:
    """Whether an answer given in ``post`` replaces the department's standing answer (AB工作制):
    the B post answers with A's authority only while A has not, so nothing but A's own later
    answer replaces an answer of the A post; any later answer replaces a B answer."""
    return standing is None or standing.post != Post.A.value or post == Post.A.value


async def required_departments(db: AsyncSession, version: MinutesVersion) -> list[Department]:
    """The member departments the minutes list as present (出席): they confirm the minutes."""
    codes = [unit["code"] for unit in version.content["attendance"]["present"] if unit.get("code")]
    if not codes:
        return []
    rows = {d.code: d for d in await db.scalars(select(Department).where(Department.code.in_(codes)))}
    return [rows[code] for code in codes if code in rows]


def minutes_of(version: MinutesVersion) -> Minutes:
    return Minutes.model_validate(version.content)


def as_issued(version: MinutesVersion) -> Minutes:
    """The minutes as their paper shows them: the content with the version's standing, its
    correction reason and its own date (印发日期: when it was made final, else when it was drawn up),
    which live on the version row. A sealed content keeps what it was sealed with; only a
    superseded version's standing comes from the row (it changed after the seal)."""
    minutes = minutes_of(version)
    moment = version.finalised_at or version.created_at
    return minutes.model_copy(update={
        "status": version.status, "correction": version.reason or minutes.correction,
        "issued_on": minutes.issued_on or (moment.astimezone(CENTRE_TZ).date().isoformat() if moment else None)})
