"""Real PDFs for the case-material tests, and a material already in place for probes."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

from aiohttp import FormData
from pypdf import PdfWriter

from server.db.models import CaseMaterial
from server.services.materials import material_path
from server.settings import Settings
from tests.world import World


def pdf(pages: int = 2, padding: int = 0) -> bytes:
    """A valid PDF of blank A4 pages; ``padding`` bytes of attachment make it as large as wanted."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if padding:
        writer.add_attachment("padding.bin", bytes(range(256)) * (padding // 256 + 1))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def form(content: bytes, file_name: str = "选址图.pdf", title: str | None = None) -> FormData:
    data = FormData()
    data.add_field("file", content, filename=file_name, content_type="application/pdf")
    if title is not None:
        data.add_field("title", title)
    return data


async def seed_material(db_sessions, settings: Settings, world: World) -> int:  # type: ignore[no-untyped-def]
    """A material of case X with its file stored, as if the applicant had uploaded it."""
    content = pdf(1)
    sha256 = hashlib.sha256(content).hexdigest()
    path = material_path(settings.data_dir, sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    async with db_sessions() as db:
        row = CaseMaterial(case_id=world.case_x, title="项目建议书", file_name="项目建议书.pdf", sha256=sha256,
                           size=len(content), page_count=1, uploaded_by_id=world.user_ids["applicant"],
                           uploaded_at=datetime.now(UTC))
        db.add(row)
        await db.commit()
        return row.id
