"""Case materials: PDFs an applicant supplies for a case, presented page by page in the meeting room.

An upload is streamed to a temporary file (it may be larger than any request body the JSON API
accepts), checked to be a PDF by its magic bytes and by actually opening it with pypdf (which also
gives the page count the presenter turns through), and stored under data_dir/materials named by
its SHA-256: the uploader's file name is kept only for display, so a name like ``../../x`` can
never reach the file system.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.policy import visible_cases
from server.auth.principal import Principal
from server.db.models import CaseMaterial, InvestmentCase
from server.domain.roles import Role

PDF_MAGIC = b"%PDF-"
MATERIALS_DIR = "materials"
MAX_NAME_CHARS = 120
FALLBACK_NAME = "material.pdf"
# Who may add materials: the applicant side of the case (checked against the case's organisation)
# and the parallel-approval office, which sometimes uploads on an applicant's behalf.
UPLOADERS = frozenset({Role.APPLICANT, Role.AGENT, Role.CHAIR})


class MaterialError(Exception):
    """An upload refused; ``status`` is the HTTP status, ``field`` the form field at fault."""

    def __init__(self, status: int, message: str, code: str, field: str = "file") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.field = field


@dataclass(frozen=True)
class StoredPdf:
    """A checked upload already in its final place."""

    sha256: str
    size: int
    page_count: int
    path: Path


def file_url(material_id: int) -> str:
    """Where a material's PDF is served (the meeting room's viewer loads it from here)."""
    return f"/api/v1/materials/{material_id}/file"


def materials_dir(data_dir: Path) -> Path:
    return data_dir / MATERIALS_DIR


def material_path(data_dir: Path, sha256: str) -> Path:
    return materials_dir(data_dir) / f"{sha256}.pdf"


def safe_file_name(raw: str | None) -> str:
    """The display name of an upload: its last path segment, without control characters or
    quotes, at most MAX_NAME_CHARS, ending in .pdf. Browsers send whatever the user's file was
    called (some clients percent-encode it, as aiohttp does); this is what we show and what a
    download is offered as."""
    name = re.split(r"[\\/]", unquote(raw or "", errors="strict") if _is_quoted(raw) else raw or "")[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name)
                   if unicodedata.category(c)[0] != "C" and c not in '"<>|:*?')
    name = name.strip().lstrip(".").strip()
    if not name:
        return FALLBACK_NAME
    stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() != "pdf":
        stem = name
    stem = stem[:MAX_NAME_CHARS - 4].rstrip() or "material"
    return f"{stem}.pdf"


def _is_quoted(raw: str | None) -> bool:
    try:
        return bool(raw) and "%" in raw and unquote(raw, errors="strict") != raw  # type: ignore[operator,arg-type]
    except UnicodeDecodeError:
        return False


def default_title(file_name: str) -> str:
    return file_name[:-4] if file_name.lower().endswith(".pdf") else file_name


async def find_case(db: AsyncSession, principal: Principal, case_id: int) -> InvestmentCase | None:
    """The case if the principal may see it (None otherwise: the caller answers 404)."""
    return await db.scalar(select(InvestmentCase).where(InvestmentCase.id == case_id,
                                                        visible_cases(principal)))


async def find_material(db: AsyncSession, principal: Principal, material_id: int) -> CaseMaterial | None:
    """The material if the principal may see its case."""
    return await db.scalar(select(CaseMaterial).join(InvestmentCase, InvestmentCase.id == CaseMaterial.case_id)
                           .where(CaseMaterial.id == material_id, visible_cases(principal)))


async def list_materials(db: AsyncSession, case_id: int) -> list[CaseMaterial]:
    rows = await db.scalars(select(CaseMaterial).where(CaseMaterial.case_id == case_id)
                            .order_by(CaseMaterial.id))
    return list(rows)


async def store_pdf(chunks: AsyncIterator[bytes], data_dir: Path, max_bytes: int) -> StoredPdf:
    """Stream an upload to disk, check it is a readable PDF of at least one page, and move it to
    its content-addressed place. MaterialError (nothing kept) otherwise."""
    folder = materials_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise MaterialError(413, f"文件超过 {max_bytes // (1024 * 1024)} MB 上限 / the file "
                                        f"exceeds the {max_bytes // (1024 * 1024)} MB limit", "too_large")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise MaterialError(422, "文件为空 / the file is empty", "empty_file")
        # a few bytes of the local file just written (the chunks above are written the same way)
        with open(temporary, "rb") as check:  # noqa: ASYNC230
            if check.read(len(PDF_MAGIC)) != PDF_MAGIC:
                raise MaterialError(415, "只接受 PDF 文件 / only PDF files are accepted", "not_pdf")
        pages = _page_count(Path(temporary))
        sha256 = digest.hexdigest()
        final = material_path(data_dir, sha256)
        os.replace(temporary, final)
        return StoredPdf(sha256, size, pages, final)
    finally:
        if os.path.exists(temporary):  # noqa: ASYNC240  # one stat of a local file
            os.unlink(temporary)


def _page_count(path: Path) -> int:
    unreadable = MaterialError(422, "PDF 文件已损坏或无法读取 / the PDF is damaged or unreadable", "bad_pdf")
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise MaterialError(422, "PDF 文件已加密，无法在会上展示 / encrypted PDFs cannot be presented",
                                "encrypted_pdf")
        pages = len(reader.pages)
    except MaterialError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError):
        raise unreadable from None
    if pages < 1:
        raise MaterialError(422, "PDF 文件没有页面 / the PDF has no pages", "bad_pdf")
    return pages


async def discard_if_unused(db: AsyncSession, data_dir: Path, sha256: str) -> None:
    """Remove a stored file no material refers to (its upload was refused after it was stored)."""
    used = await db.scalar(select(CaseMaterial.id).where(CaseMaterial.sha256 == sha256).limit(1))
    if used is None:
        material_path(data_dir, sha256).unlink(missing_ok=True)


async def add_material(db: AsyncSession, principal: Principal, case: InvestmentCase, stored: StoredPdf,
                       file_name: str, title: str) -> CaseMaterial:
    """Record an upload for the case; 409 if the same file is already among its materials."""
    duplicate = await db.scalar(select(CaseMaterial.id).where(CaseMaterial.case_id == case.id,
                                                              CaseMaterial.sha256 == stored.sha256))
    if duplicate is not None:
        raise MaterialError(409, f"该文件已上传（材料 {duplicate}） / this file was already uploaded "
                            f"(material {duplicate})", "duplicate_material")
    material = CaseMaterial(case_id=case.id, title=title, file_name=file_name, sha256=stored.sha256,
                            size=stored.size, page_count=stored.page_count,
                            uploaded_by_id=principal.user_id, uploaded_at=datetime.now(UTC))
    db.add(material)
    await db.flush()
    return material
