"""Archive search: Chinese full text over the entries, combined with filters, newest first, highlighted.

User text never becomes query syntax. The query is split on white space into terms (all must
match); on SQLite each term of three or more characters becomes a quoted FTS5 phrase (quotes
doubled), so AND, OR, NEAR, *, ^, column filters and stray quotes are just characters to find;
shorter terms (the trigram index cannot hold them) and every term on PostgreSQL go through
LIKE/ILIKE with %, _ and the escape character escaped. Snippets are built in Python from the
stored text: everything is HTML-escaped and only our own <mark> tags are added.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from pydantic import Field, field_validator
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, column, func, or_, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.archive.passages import KINDS
from server.auth.policy import visible_cases
from server.auth.principal import Principal
from server.db.models import ArchiveEntry, InvestmentCase
from server.domain.divisions import Level
from server.domain.opinions import OpinionKind
from server.schemas.base import Body, Out
from server.services.clock import CENTRE_TZ
from server.services.minutes_reading import APPLICANT_ROLES

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
TRIGRAM = 3
SNIPPET_CHARS = 80
LIKE_ESCAPE = "\\"
CODE_ABOVE = "\x7f"  # sorts after every character a project code may hold ([0-9A-Za-z-])

Kind = Literal[KINDS]  # type: ignore[valid-type]


class ArchiveQuery(Body):
    """Search text and filters. project_code ending in * matches a prefix (2603-530921*)."""

    q: Annotated[str, Field(max_length=MAX_QUERY_CHARS)] = ""
    project_code: Annotated[str, Field(max_length=25, pattern=r"^[0-9A-Za-z-]*\*?$")] = ""
    case_name: Annotated[str, Field(max_length=100)] = ""
    applicant: Annotated[str, Field(max_length=100)] = ""
    department: Annotated[str, Field(max_length=100)] = ""
    opinion_type: OpinionKind | None = None
    kind: Kind | None = None
    level: Level | None = None
    date_from: date | None = None
    date_to: date | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    offset: Annotated[int, Field(ge=0, le=10_000)] = 0

    @field_validator("q", "case_name", "applicant", "department")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(c) < 32 or c == "\x7f" for c in value):
            raise ValueError("不可包含控制字符 / must not contain control characters")
        return value

    @field_validator("q")
    @classmethod
    def _few_terms(cls, value: str) -> str:
        if len(value.split()) > MAX_TERMS:
            raise ValueError(f"最多 {MAX_TERMS} 个检索词 / at most {MAX_TERMS} search terms")
        return value

    @property
    def terms(self) -> list[str]:
        return list(dict.fromkeys(self.q.split()))

    def filters(self) -> dict[str, str]:
        """The filters that are set, as text (for the access log and the page's links)."""
        return {name: str(getattr(value, "value", value)) for name, value in self.model_dump().items()
                if name not in ("limit", "offset") and value not in ("", None)}


class ArchiveHit(Out):
    id: int
    kind: str
    title: str
    snippet_html: str
    case_id: int
    project_code: str
    case_name: str
    applicant: str
    department: str
    level: str
    opinion_type: str
    at: datetime
    meeting_id: int
    event_seq: int | None
    minutes_version_id: int | None
    url: str


class ArchiveSearchResult(Out):
    hits: list[ArchiveHit]
    offset: int
    limit: int
    has_more: bool


def like_pattern(fragment: str) -> str:
    """A LIKE pattern matching `fragment` anywhere, with its wildcards taken literally."""
    escaped = (fragment.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
               .replace("_", LIKE_ESCAPE + "_"))
    return f"%{escaped}%"


def fts_phrase(term: str) -> str:
    """An FTS5 string literal: the term as one phrase, whatever characters it holds."""
    return '"' + term.replace('"', '""') + '"'


def _contains(col: SQLColumnExpression[str], fragment: str, postgres: bool) -> ColumnElement[bool]:
    pattern = like_pattern(fragment)
    return col.ilike(pattern, escape=LIKE_ESCAPE) if postgres else col.like(pattern, escape=LIKE_ESCAPE)


def _filters(query: ArchiveQuery, postgres: bool) -> list[ColumnElement[bool]]:
    e = ArchiveEntry
    where: list[ColumnElement[bool]] = []
    if query.project_code.endswith("*"):
        prefix = query.project_code[:-1]
        where.append(e.project_code.like(like_pattern(prefix)[1:], escape=LIKE_ESCAPE))  # [1:]: a prefix
        if not postgres:  # the same prefix as a range, which SQLite serves from the index
            where.append(and_(e.project_code >= prefix, e.project_code < prefix + CODE_ABOVE))
    elif query.project_code:
        where.append(e.project_code == query.project_code)
    if query.case_name:
        where.append(_contains(e.case_name, query.case_name, postgres))
    if query.applicant:
        where.append(_contains(e.applicant_name, query.applicant, postgres))
    if query.department:
        where.append(or_(e.department_code == query.department,
                         _contains(e.department_name, query.department, postgres)))
    if query.opinion_type is not None:
        where.append(e.opinion_type == query.opinion_type.value)
    if query.kind is not None:
        where.append(e.kind == query.kind)
    if query.level is not None:
        where.append(e.level == query.level.value)
    return where + _date_filters(query)


def _date_filters(query: ArchiveQuery) -> list[ColumnElement[bool]]:
    where = []
    if query.date_from is not None:
        where.append(ArchiveEntry.at >= datetime.combine(query.date_from, time(0), CENTRE_TZ))
    if query.date_to is not None:
        where.append(ArchiveEntry.at < datetime.combine(query.date_to + timedelta(days=1), time(0), CENTRE_TZ))
    return where


def build_statement(query: ArchiveQuery, principal: Principal, dialect: str,
                    id_range: tuple[int, int] | None = None) -> Select[ArchiveEntry]:
    """The one SELECT a search runs. `id_range`: the lowest and highest entry id in the date
    range, handed to FTS5 as a rowid range (entries are indexed roughly in time order, so this
    spares walking every match newer than the range; it is exact, the date filter still applies)."""
    postgres = dialect == "postgresql"
    terms = query.terms
    statement = select(ArchiveEntry).where(*_filters(query, postgres))
    if not principal.is_staff_reader:
        statement = statement.where(ArchiveEntry.case_id.in_(
            select(InvestmentCase.id).where(visible_cases(principal))))
    if principal.role in APPLICANT_ROLES:
        statement = statement.where(ArchiveEntry.joint.is_(False))
    long_terms = [t for t in terms if len(t) >= TRIGRAM and not postgres]
    short_terms = [t for t in terms if t not in long_terms]
    for term in short_terms:
        statement = statement.where(_contains(ArchiveEntry.search_text, term, postgres))
    if long_terms:
        fts = table("archive_fts", column("rowid"))
        statement = (statement.join(fts, fts.c.rowid == ArchiveEntry.id)
                     .where(text("archive_fts MATCH :fts_query").bindparams(
                         fts_query=" AND ".join(fts_phrase(t) for t in long_terms)))
                     .order_by(fts.c.rowid.desc()))
        if id_range is not None:
            statement = statement.where(fts.c.rowid.between(*id_range))
    else:
        statement = statement.order_by(ArchiveEntry.at.desc(), ArchiveEntry.id.desc())
    return statement.offset(query.offset).limit(query.limit + 1)


def snippet_html(body: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """A window of `body` around the first hit, HTML-escaped, every hit wrapped in <mark>."""
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)),
                         re.IGNORECASE) if terms else None
    first = pattern.search(body) if pattern else None
    start = max(0, first.start() - width // 3) if first else 0
    window = body[start:start + width]
    parts = ["…" if start > 0 else ""]
    cursor = 0
    for match in pattern.finditer(window) if pattern else ():
        parts.append(html.escape(window[cursor:match.start()]))
        parts.append(f"<mark>{html.escape(match.group())}</mark>")
        cursor = match.end()
    parts.append(html.escape(window[cursor:]))
    parts.append("…" if start + width < len(body) else "")
    return "".join(parts).replace("\n", " ")


def hit_url(entry: ArchiveEntry) -> str:
    """The dossier page opened at the hit (an event row or a minutes version)."""
    anchor = (f"minutes-{entry.minutes_version_id}" if entry.minutes_version_id is not None
              else f"event-{entry.meeting_id}-{entry.event_seq}")
    return f"/archive/cases/{entry.case_id}#{anchor}"


async def search(db: AsyncSession, principal: Principal, query: ArchiveQuery) -> ArchiveSearchResult:
    """One page of hits the principal may see, newest first (by index order when there is text:
    bm25 ranking would score every match before the first page, hundreds of ms for a common
    fragment in 100,000 minutes, while index order stops at the page; see bench/archive.py)."""
    dialect = db.get_bind().dialect.name
    id_range = None
    if dialect == "sqlite" and query.terms and (query.date_from or query.date_to):
        low, high = (await db.execute(select(func.min(ArchiveEntry.id), func.max(ArchiveEntry.id))
                                      .where(*_date_filters(query)))).one()
        id_range = (low or 0, high or 0)
    rows = list(await db.scalars(build_statement(query, principal, dialect, id_range)))
    terms = query.terms
    hits = [ArchiveHit(id=e.id, kind=e.kind, title=e.title, snippet_html=snippet_html(e.body, terms),
                case_id=e.case_id, project_code=e.project_code, case_name=e.case_name,
                applicant=e.applicant_name, department=e.department_name, level=e.level,
                opinion_type=e.opinion_type, at=e.at.astimezone(CENTRE_TZ), meeting_id=e.meeting_id,
                event_seq=e.event_seq, minutes_version_id=e.minutes_version_id, url=hit_url(e))
            for e in rows[:query.limit]]
    return ArchiveSearchResult(hits=hits, offset=query.offset, limit=query.limit, has_more=len(rows) > query.limit)
