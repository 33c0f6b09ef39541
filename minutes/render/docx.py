"""Blocks to DOCX (python-docx), for offices that edit minutes in a word processor.

Same page and fonts as the PDF (A4, GB/T 9704 margins, 三号 body, 二号 title); East Asian font
names are set on each run (w:eastAsia), which Word uses for Chinese text. Where the named fonts
are missing Word substitutes its own 仿宋/黑体, which is what an office expects.
"""

from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

from minutes.render.layout import Block, Heading, Number, Para, Signature, Table, Title

BODY, TITLE, LABEL = "FangSong", "FZXiaoBiaoSong-B05S", "SimHei"
LINE = Mm(225 / 22)


def _run(paragraph: Paragraph, text: str, *, font: str = BODY, size: float = 16, bold: bool = False) -> None:
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = font
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def _paragraph(document, *, align=None, first_indent: bool = False, hanging: bool = False) -> Paragraph:
    paragraph = document.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.line_spacing = LINE
    fmt.space_before = fmt.space_after = Pt(0)
    if align is not None:
        paragraph.alignment = align
    if first_indent:
        fmt.first_line_indent = Pt(32)
    if hanging:
        fmt.left_indent, fmt.first_line_indent = Pt(48), Pt(-48)
    return paragraph


def blocks_docx(title: str, blocks: list[Block]) -> bytes:
    document = Document()
    document.core_properties.title = title
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    for block in blocks:
        if isinstance(block, Title):
            _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER), block.text, font=TITLE, size=22, bold=True)
        elif isinstance(block, Number):
            _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER), block.text)
        elif isinstance(block, Heading):
            paragraph = _paragraph(document, first_indent=block.level == 2)
            paragraph.style = document.styles[f"Heading {block.level}"]
            _run(paragraph, block.text, font=LABEL if block.level == 1 else "KaiTi")
        elif isinstance(block, Para):
            paragraph = _paragraph(document, first_indent=block.indent, hanging=not block.indent)
            if block.label:
                _run(paragraph, block.label, font=LABEL)
            _run(paragraph, block.text, size=10.5 if block.small else 16)
        elif isinstance(block, Table):
            _table(document, block)
        elif isinstance(block, Signature):
            for text in (block.issuer, block.date):
                _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.RIGHT), text)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _table(document, block: Table) -> None:
    _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER), block.caption, font=LABEL, size=14)
    table = document.add_table(rows=1, cols=len(block.headers))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, block.headers, strict=True):
        _run(cell.paragraphs[0], header, font=LABEL, size=12)
    for row in block.rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            _run(cell.paragraphs[0], text, size=12)
