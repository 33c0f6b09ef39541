"""SQLAlchemy models: the persistent shape of divisions, people, cases, meetings and their event log.

Enumerated columns store the domain enums' string values (plain VARCHAR + CHECK-free) so that the
same rows read identically on SQLite and PostgreSQL; the domain layer validates them on the way in.
Schema changes go through alembic migrations in `server/db/migrations` only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from server.db.types import UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Division(Base):
    """An administrative division (省/市/县) by its 6-digit code."""

    __tablename__ = "divisions"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"))


class Department(Base):
    """A government department at one level; its chief representatives give its opinions."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    short_name: Mapped[str] = mapped_column(String(32))
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"))
    division: Mapped[Division] = relationship(lazy="joined")


class Organisation(Base):
    """An applicant unit, identified by its 统一社会信用代码."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(256), default="")
    legal_representative: Mapped[str] = mapped_column(String(64), default="")
    contact: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")


class User(Base):
    """A person who signs in. Which links are set depends on the role (see server.domain.people)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("department_id", "post", name="uq_users_department_post"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    post: Mapped[str | None] = mapped_column(String(1))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    title: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    department: Mapped[Department | None] = relationship(lazy="joined")
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")


class AgentCommission(Base):
    """The recorded commission under which an agent (代办员) acts for an applicant organisation."""

    __tablename__ = "agent_commissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    document_no: Mapped[str] = mapped_column(String(64))
    granted_on: Mapped[date] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class InvestmentCase(Base):
    """An investment project under approval (brief §2)."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"))
    town: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(256), default="")
    total_investment: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    scale_content: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16))
    industry: Mapped[str] = mapped_column(String(64), default="")
    investor_type: Mapped[str] = mapped_column(String(16))
    funding_source: Mapped[str] = mapped_column(String(128), default="")
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_finish: Mapped[date | None] = mapped_column(Date)
    # 审批部门: the department that approves (备案/核准/审批) the project for the centre and leads its
    # meetings. Null only for cases registered before migration 0010 with nothing to fill it from.
    approving_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    approving_department: Mapped[Department | None] = relationship(lazy="joined")
    items: Mapped[list[ApprovalItem]] = relationship(
        back_populates="case", order_by="ApprovalItem.id", lazy="selectin"
    )


class ApprovalItem(Base):
    """One approval matter (审批事项) of a case, handled by one department with its own clock."""

    __tablename__ = "approval_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    accepted_on: Mapped[date | None] = mapped_column(Date)
    statutory_limit_wd: Mapped[int] = mapped_column(Integer)
    promised_limit_wd: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(Text, default="")
    document_no: Mapped[str] = mapped_column(String(64), default="")
    # The day the item was decided (approved, rejected, withdrawn): its clocks stop there.
    decided_on: Mapped[date | None] = mapped_column(Date)
    case: Mapped[InvestmentCase] = relationship(back_populates="items")
    department: Mapped[Department] = relationship(lazy="joined")
    suspensions: Mapped[list[ClockSuspension]] = relationship(
        order_by="ClockSuspension.start", lazy="selectin"
    )


class ClockSuspension(Base):
    """A period the item's clock stands still, each end backed by a notice document: 中止/恢复办理
    (kind "suspension") or a period §45 does not count (kind "excluded"; domain.cases.PeriodKind)."""

    __tablename__ = "clock_suspensions"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("approval_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="suspension", server_default="suspension")
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    suspend_notice_no: Mapped[str] = mapped_column(String(64))
    resume_notice_no: Mapped[str] = mapped_column(String(64), default="")


class CalendarYear(Base):
    """Whether a year's holiday table is official (State Council notice) or still a guess."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    confirmed: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CalendarDay(Base):
    """A day that differs from the Mon-Fri rule: a holiday on a weekday or a make-up working weekend."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "holiday" | "workday"
    name: Mapped[str] = mapped_column(String(64), default="")


class Meeting(Base):
    """A parallel approval meeting (并联审批会议) for one or more cases."""

    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), index=True)
    scheduled_start: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    scheduled_end: Mapped[datetime] = mapped_column(UtcDateTime)
    place: Mapped[str] = mapped_column(String(128), default="")
    chair_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lead_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    chair: Mapped[User] = relationship(foreign_keys=[chair_id], lazy="joined")
    lead_department: Mapped[Department] = relationship(lazy="joined")
    agenda: Mapped[list[AgendaEntry]] = relationship(
        order_by="AgendaEntry.position", lazy="selectin", cascade="all, delete-orphan"
    )
    invitations: Mapped[list[Invitation]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )
    sites: Mapped[list[MeetingSite]] = relationship(lazy="selectin", cascade="all, delete-orphan")


class AgendaEntry(Base):
    """An approval item under review in a meeting; the meeting's cases are those of its items."""

    __tablename__ = "meeting_agenda"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("approval_items.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[ApprovalItem] = relationship(lazy="joined")


class Invitation(Base):
    """A unit invited to a meeting: a department (A post invited, B post may stand in) or an applicant.

    capacity: "member" departments give opinions (出席), "observer" units attend (列席), "applicant"
    organisations present their case (with their commissioned agent).
    """

    __tablename__ = "meeting_invitations"
    __table_args__ = (
        UniqueConstraint("meeting_id", "department_id", name="uq_invitation_department"),
        UniqueConstraint("meeting_id", "organisation_id", name="uq_invitation_organisation"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    capacity: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # 请假: an invited unit that announced its absence, with its reason.
    excused_reason: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[Department | None] = relationship(lazy="joined")
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")


class MeetingSite(Base):
    """A video site (视频会商点) joining from a province, city or county."""

    __tablename__ = "meeting_sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"))
    level: Mapped[str] = mapped_column(String(16))


class MeetingEvent(Base):
    """One entry of a meeting's append-only, hash-chained event log (never updated or deleted).

    The migration installs triggers that refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "meeting_events"
    __table_args__ = (UniqueConstraint("meeting_id", "seq", name="uq_meeting_events_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    seq: Mapped[int] = mapped_column(Integer)
    ts: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(String(48))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuthSession(Base):
    """A signed-in browser session; the cookie holds a random token, the row only its SHA-256."""

    __tablename__ = "auth_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    remote: Mapped[str] = mapped_column(String(64), default="")


class LoginAttempt(Base):
    """Failed sign-ins, kept to throttle password guessing per account and per address."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_at", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    remote: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginLock(Base):
    """One username's consecutive failed sign-ins and the lock they earned (migration 0007).

    Keyed by the username typed, existing or not, so that an unknown username locks exactly like a
    real account and lockouts do not reveal which usernames exist. Each attempt is counted here
    before its password is checked (see server.auth.throttle).
    """

    __tablename__ = "login_locks"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class AccountAudit(Base):
    """What an administrator did to someone's account (unlock, password reset), append-only."""

    __tablename__ = "account_audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    remote: Mapped[str] = mapped_column(String(64))


class JoinToken(Base):
    """A signed, expiring, single-use link for joining one meeting (remote sites, guests).

    The token itself carries only this row's id, the meeting and the expiry under an HMAC; who it
    admits and whether it was used live here, so a used token cannot be replayed.
    """

    __tablename__ = "join_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    guest_name: Mapped[str] = mapped_column(String(64), default="")
    guest_unit: Mapped[str] = mapped_column(String(128), default="")
    capacity: Mapped[str] = mapped_column(String(16))
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CaseMaterial(Base):
    """A PDF the applicant supplied for a case, shown page by page in the meeting room.

    The file lives under data_dir/materials named by its SHA-256, so the stored name never comes
    from the uploader and identical uploads share one file; ``file_name`` is only for display.
    """

    __tablename__ = "case_materials"
    __table_args__ = (UniqueConstraint("case_id", "sha256", name="uq_case_materials_case_sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    file_name: Mapped[str] = mapped_column(String(256))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MinutesDocument(Base):
    """The minutes (会议纪要) of one meeting: its number 凤联审纪〔2026〕3号, sequential per year."""

    __tablename__ = "minutes_documents"
    __table_args__ = (UniqueConstraint("year", "seq", name="uq_minutes_documents_year_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MinutesVersion(Base):
    """One numbered version of a meeting's minutes; `content` is the minutes.model.Minutes JSON.

    A draft is edited in place (each edit recorded in MinutesEdit); a final version carries the
    SHA-256 of its canonical JSON and the migration's triggers refuse any change to it except
    final -> superseded when a newer version is finalised.
    """

    __tablename__ = "minutes_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "version", name="uq_minutes_versions_document_version"),
        CheckConstraint("status IN ('draft', 'awaiting_confirmation', 'final', 'superseded')", name="status"),
        CheckConstraint("status NOT IN ('final', 'superseded') OR (sha256 IS NOT NULL "
                        "AND finalised_at IS NOT NULL)", name="final_sealed"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("minutes_documents.id"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finalised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Why the chair finalised without every department's confirmation ("" when all confirmed).
    finalise_note: Mapped[str] = mapped_column(Text, default="")


class MinutesEdit(Base):
    """A recorded change to a draft (append-only): a chair's wording edit ("edit") or a department
    representative's amendment of its own opinion ("amendment")."""

    __tablename__ = "minutes_edits"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("minutes_versions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(256))
    old_text: Mapped[str] = mapped_column(Text)
    new_text: Mapped[str] = mapped_column(Text)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    editor: Mapped[User] = relationship(lazy="joined")


class MinutesConfirmation(Base):
    """A department's answer to a version (append-only): its latest answer counts, and only while
    the draft still has the content it answered (`content_sha256`); an edit asks again."""

    __tablename__ = "minutes_confirmations"
    __table_args__ = (CheckConstraint("verdict IN ('confirm', 'object')", name="verdict"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("minutes_versions.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    post: Mapped[str] = mapped_column(String(1))
    verdict: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    person: Mapped[User] = relationship(lazy="joined")


class MinutesCaseLink(Base):
    """A final minutes version attached to a case it covers (shown on the case page)."""

    __tablename__ = "minutes_case_links"
    version_id: Mapped[int] = mapped_column(ForeignKey("minutes_versions.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, index=True)
    attached_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ArchiveEntry(Base):
    """One searchable passage of the archive (an opinion, decision, chat line, minutes version...)
    as it concerns one case, with the facts the archivist filters on copied in (code, applicant,
    department, level), so a search is one indexed query. Rebuilt from the event log and the final
    minutes by server.archive.indexer; never the record itself, only a way into it."""

    __tablename__ = "archive_entries"
    __table_args__ = (Index("ix_archive_entries_kind_at", "kind", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    event_seq: Mapped[int | None] = mapped_column(Integer)
    minutes_version_id: Mapped[int | None] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    project_code: Mapped[str] = mapped_column(String(24), index=True)
    case_name: Mapped[str] = mapped_column(String(256))
    applicant_name: Mapped[str] = mapped_column(String(128))
    department_code: Mapped[str] = mapped_column(String(32))
    department_name: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16))
    opinion_type: Mapped[str] = mapped_column(String(24))
    # About a whole meeting that also reviewed another organisation's case (its chat, summary,
    # minutes): applicants do not get it, as they do not get such minutes (minutes_reading).
    joint: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)


class ArchiveIndexCursor(Base):
    """How far a meeting's event log has been indexed (the last seq), so indexing is incremental."""

    __tablename__ = "archive_index_cursors"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ArchiveWatermark(Base):
    """How far the index has read something without a per-meeting cursor (minutes: the newest
    finalisation indexed), so an up-to-date index costs one indexed lookup per refresh."""

    __tablename__ = "archive_watermarks"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ArchiveFixity(Base):
    """The SHA-256 of an archived file (path relative to the data directory) when first seen,
    re-checked by `lianshen archive verify`: a manifest rewritten together with its track files
    still differs from what was recorded here."""

    __tablename__ = "archive_fixity"
    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ArchiveAccess(Base):
    """Who searched, viewed or downloaded what in the archive, when, from where (append-only)."""

    __tablename__ = "archive_access_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(256))
    detail: Mapped[str] = mapped_column(Text)
    remote: Mapped[str] = mapped_column(String(64))


class RecordMigration(Base):
    """A meeting whose event log a data migration rewrote to the record's schema: the head hash
    before and after (append-only, migration 0008; see docs/architecture.md "The record")."""

    __tablename__ = "record_migrations"
    __table_args__ = (UniqueConstraint("migration", "meeting_id", name="uq_record_migrations_meeting"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    migration: Mapped[str] = mapped_column(String(16))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    events: Mapped[int] = mapped_column(Integer)
    old_head_hash: Mapped[str] = mapped_column(String(64))
    new_head_hash: Mapped[str] = mapped_column(String(64))
    migrated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RecordMigrationRow(Base):
    """An event row as it was before a data migration rewrote it (type, payload and its place in
    the old chain), with the hash of the row that replaced it (append-only)."""

    __tablename__ = "record_migration_rows"
    __table_args__ = (UniqueConstraint("migration", "meeting_id", "seq", name="uq_record_migration_rows_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    migration: Mapped[str] = mapped_column(String(16))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    seq: Mapped[int] = mapped_column(Integer)
    ts: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(48))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), index=True)
    new_hash: Mapped[str] = mapped_column(String(64))


class ExportJobRow(Base):
    """An archive export started from the browser (server.services.export_jobs), kept so that a
    restart still shows finished jobs and their zips, and a job cut off by one as interrupted.
    ``bags`` holds each bag's validation report; ``error`` is a catalog code, ``error_detail``
    what broke (an exception's text, for the operator)."""

    __tablename__ = "export_jobs"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(40))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    state: Mapped[str] = mapped_column(String(8), index=True)
    step: Mapped[str] = mapped_column(String(16))
    current: Mapped[str] = mapped_column(String(24), default="")
    steps_done: Mapped[int] = mapped_column(Integer)
    steps_total: Mapped[int] = mapped_column(Integer)
    bags: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    zip_name: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str] = mapped_column(String(16), default="")
    error_detail: Mapped[str] = mapped_column(Text, default="")
