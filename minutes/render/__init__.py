"""Renderings of minutes and of the 一次性告知书: HTML (web), PDF (GB/T 9704 print), DOCX, JSON."""

from __future__ import annotations

from typing import Literal

from minutes.model import Minutes
from minutes.notice import Notice
from minutes.render.layout import Block, integrity_note, minutes_blocks, notice_blocks

Format = Literal["html", "pdf", "docx", "json"]
FORMATS: tuple[str, ...] = ("html", "pdf", "docx", "json")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "json": "application/json",
}


def render(minutes: Minutes, fmt: Format) -> bytes:
    """The minutes in one format; ValueError for an unknown format."""
    if fmt == "json":
        return minutes.model_dump_json(indent=2).encode("utf-8")
    return _blocks(minutes.title, minutes_blocks(minutes), fmt, integrity_note(minutes))


def render_notice(notice: Notice, fmt: Literal["html", "pdf", "docx"]) -> bytes:
    """The 一次性告知书 for the applicant; ValueError for a format other than html, pdf or docx."""
    if fmt not in ("html", "pdf", "docx"):
        raise ValueError(f"一次性告知书只提供html、pdf或docx格式: {fmt!r} / the notice comes as html, pdf or docx only")
    return _blocks(notice.title, notice_blocks(notice), fmt)


def _blocks(title: str, blocks: list[Block], fmt: str, note: str = "") -> bytes:
    """note: where the document comes from (the record's hash), kept out of the official text: the
    file's metadata, and beside the document on the web page."""
    if fmt == "html":
        from minutes.render.html import blocks_html

        return blocks_html(title, blocks, note=note).encode("utf-8")
    if fmt == "pdf":
        from minutes.render.pdf import blocks_pdf

        return blocks_pdf(title, blocks, note=note)
    if fmt == "docx":
        from minutes.render.docx import blocks_docx

        return blocks_docx(title, blocks, note=note)
    raise ValueError(f"未知格式: {fmt!r}，可选 {', '.join(FORMATS)} / unknown format")
