"""Blocks to DOCX (python-docx), for offices that edit minutes in a word processor.

Same page and faces as the PDF, but named as a government PC has them (仿宋_GB2312, 黑体, 楷体_GB2312,
方正小标宋简体): the East Asian name (w:eastAsia) is set on every run, which is the one Word uses for
Chinese text; where a face is missing Word substitutes its own 仿宋/黑体, which is what an office
expects. GB/T 9704 parts Word can hold natively: the red 版头 and line (paragraph border), page
numbers "— n —" as PAGE fields in different odd (right) and even (left) footers, the 征求意见稿
mark in every header, and the 版记 as a frame anchored to the foot of the page it ends on.
"""

from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from minutes.render.layout import (
    Block,
    Form,
    Heading,
    Imprint,
    Masthead,
    Number,
    PageBreak,
    Para,
    Signature,
    Stamp,
    Table,
    Title,
)

BODY, TITLE, HEI, KAI = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"
RED = RGBColor(0xE6, 0x00, 0x12)
LINE = Mm(225 / 22)
TEXT_WIDTH_TWIPS = round(156 / 25.4 * 1440)
# w:pPr children that follow w:pBdr (ECMA-376 order: Word refuses a file with them out of order)
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
               "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
               "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
               "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def _run(paragraph: Paragraph, text: str, *, font: str = BODY, size: float = 16, bold: bool = False,
         colour: RGBColor | None = None) -> None:
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = font
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if colour is not None:
        run.font.color.rgb = colour


def _paragraph(container, *, align=None, first_indent: bool = False, hanging: bool = False,
               line=LINE) -> Paragraph:
    paragraph = container.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.line_spacing = line
    fmt.space_before = fmt.space_after = Pt(0)
    if align is not None:
        paragraph.alignment = align
    if first_indent:
        fmt.first_line_indent = Pt(32)
    if hanging:
        fmt.left_indent, fmt.first_line_indent = Pt(48), Pt(-48)
    return paragraph


def _border(paragraph: Paragraph, side: str, eighths_pt: int, colour: str = "000000") -> None:
    """A rule above or below the paragraph, as wide as the text block (w:pBdr)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.insert_element_before(borders, *_AFTER_PBDR)
    rule = OxmlElement(f"w:{side}")
    for key, value in (("val", "single"), ("sz", str(eighths_pt)), ("space", "4"), ("color", colour)):
        rule.set(qn(f"w:{key}"), value)
    borders.append(rule)


def _page_field(paragraph: Paragraph) -> None:
    """"— n —" with n a PAGE field, so Word numbers the pages itself."""
    _run(paragraph, "— ", font="宋体", size=14)
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind is not None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == " PAGE ":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)
    run.font.size = Pt(14)
    _run(paragraph, " —", font="宋体", size=14)


def _frame_at_foot(paragraph: Paragraph) -> None:
    """Anchor the paragraph in a frame at the bottom of the text block (consecutive paragraphs with
    the same frame form one frame): the 版记 sits at the foot of the last page."""
    frame = OxmlElement("w:framePr")
    for key, value in (("w", str(TEXT_WIDTH_TWIPS)), ("wrap", "around"), ("vAnchor", "margin"),
                       ("hAnchor", "margin"), ("xAlign", "center"), ("yAlign", "bottom")):
        frame.set(qn(f"w:{key}"), value)
    paragraph._p.get_or_add_pPr().insert_element_before(frame, "w:widowControl", "w:numPr", "w:pBdr", *_AFTER_PBDR)


def _page(document, stamp: str) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28)
    document.settings.odd_and_even_pages_header_footer = True
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        paragraph = footer.paragraphs[0]
        paragraph.alignment = align
        indent = Pt(14)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            paragraph.paragraph_format.right_indent = indent
        else:
            paragraph.paragraph_format.left_indent = indent
        _page_field(paragraph)
    if stamp:
        for header in (section.header, section.even_page_header):
            paragraph = header.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _run(paragraph, stamp, font=HEI)


def blocks_docx(title: str, blocks: list[Block], *, note: str = "") -> bytes:
    """note: the integrity data, kept in the file's properties (comments), not in the text."""
    document = Document()
    document.core_properties.title = title
    document.core_properties.comments = note
    _page(document, next((b.text for b in blocks if isinstance(b, Stamp)), ""))
    for block in blocks:
        if isinstance(block, Masthead):
            _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, line=Pt(40)), block.mark, font=TITLE,
                 size=26, colour=RED)
            number = _paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER)
            number.paragraph_format.space_before = LINE
            number.paragraph_format.space_after = LINE
            _run(number, block.number)
            _border(number, "bottom", 8, "E60012")
        elif isinstance(block, Title):
            _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER), block.text, font=TITLE, size=22)
            if block.note:
                _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER), block.note, font=KAI)
        elif isinstance(block, Number):
            _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER), block.text)
        elif isinstance(block, Heading):
            paragraph = _paragraph(document, first_indent=block.level == 2)
            paragraph.style = document.styles[f"Heading {block.level}"]
            _run(paragraph, block.text, font=HEI if block.level == 1 else KAI)
        elif isinstance(block, Para):
            paragraph = _paragraph(document, first_indent=block.indent, hanging=not block.indent)
            if block.label:
                _run(paragraph, block.label, font=HEI)
            _run(paragraph, block.text)
        elif isinstance(block, Table):
            _table(document, block)
        elif isinstance(block, Signature):
            for text in (block.issuer, block.date):
                _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.RIGHT), text)
        elif isinstance(block, Imprint):
            _imprint(document, block)
        elif isinstance(block, PageBreak):
            document.add_page_break()
        elif isinstance(block, Form):
            _form(document, block)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _imprint(document, block: Imprint) -> None:
    """版记: 分送 between a thick and a thin rule, then 印发机关 left and 印发日期 right over a thick rule."""
    distribution = _paragraph(document, line=Mm(7))
    distribution.paragraph_format.left_indent, distribution.paragraph_format.first_line_indent = Pt(56), Pt(-42)
    _run(distribution, "分送：", size=14)
    _run(distribution, block.distribution, size=14)
    _border(distribution, "top", 8)
    _border(distribution, "bottom", 6)
    printed = _paragraph(document, line=Mm(7))
    printed.paragraph_format.left_indent = printed.paragraph_format.right_indent = Pt(14)
    printed.paragraph_format.tab_stops.add_tab_stop(Mm(156) - Pt(28), alignment=WD_TAB_ALIGNMENT.RIGHT)
    _run(printed, f"{block.printer}\t{block.date}印发", size=14)
    _border(printed, "bottom", 8)
    for paragraph in (distribution, printed):
        _frame_at_foot(paragraph)


def _table(document, block: Table) -> None:
    _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER), block.caption, font=HEI, size=14)
    table = document.add_table(rows=1, cols=len(block.headers))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, block.headers, strict=True):
        _run(cell.paragraphs[0], header, font=HEI, size=12)
    for row in block.rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            _run(cell.paragraphs[0], text, size=12)


def _form(document, block: Form) -> None:
    """A form to sign: its caption as a title, then label and text rows tall enough to write in."""
    _run(_paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER), block.caption, font=TITLE, size=22)
    table = document.add_table(rows=0, cols=2)
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for label, text in block.rows:
        row = table.add_row()
        row.height = Mm(20)
        _run(row.cells[0].paragraphs[0], label, font=HEI, size=14)
        _run(row.cells[1].paragraphs[0], text, size=14)
