"""Checks shared by the minutes tests: a PDF laid out as GB/T 9704 asks, a DOCX and an HTML page
that hold the expected text (not a test module itself)."""

from __future__ import annotations

import io
import re

import html5lib
import pypdf
from docx import Document

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
LEFT, RIGHT, TOP, BOTTOM = 28, 26, 37, 35  # mm, text block 156 x 225


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> str:
    return _flat("".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages))


def check_pdf(data: bytes, expected: list[str]) -> None:
    """A4 pages, body text inside the 156 x 225 mm block, page numbers "— n —" below it, and the
    expected strings in the extracted text."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    for number, page in enumerate(reader.pages, start=1):
        box = page.mediabox
        assert (round(float(box.width), 1), round(float(box.height), 1)) == (round(A4[0], 1), round(A4[1], 1))
        spots: list[tuple[float, float, str]] = []

        def visit(text, cm, tm, _font, _size):  # type: ignore[no-untyped-def]
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                spots.append((x / MM, y / MM, text))

        page.extract_text(visitor_text=visit)
        body = [s for s in spots if "—" not in s[2] and s[2] != "征求意见稿"]  # folio, draft mark: margins
        assert min(x for x, _y, _t in body) >= LEFT - 0.5, f"page {number}: text left of the margin"
        assert max(y for _x, y, _t in body) <= 297 - TOP, f"page {number}: text above the top margin"
        assert min(y for _x, y, _t in body) >= BOTTOM - 0.5, f"page {number}: text below the block"
        folio = [s for s in spots if "—" in s[2]]
        assert folio and _flat(folio[0][2]) == f"—{number}—" and folio[0][1] < BOTTOM, f"page {number}: folio"
    text = pdf_text(data)
    for phrase in expected:
        assert _flat(phrase) in text, phrase


def check_docx(data: bytes, expected: list[str]) -> None:
    document = Document(io.BytesIO(data))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (round(section.left_margin.mm), round(section.right_margin.mm)) == (LEFT, RIGHT)
    assert (round(section.top_margin.mm), round(section.bottom_margin.mm)) == (TOP, BOTTOM)
    text = _flat("".join(p.text for p in document.paragraphs)
                 + "".join(c.text for t in document.tables for r in t.rows for c in r.cells))
    for phrase in expected:
        assert _flat(phrase) in text, phrase


def check_html(data: bytes, expected: list[str]) -> None:
    """Valid (html5lib strict parse) and accessible: lang, one h1, headings, table headers and
    captions, and the expected text."""
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(data.decode("utf-8"))
    assert tree.get("lang") == "zh-CN"
    assert len(tree.findall(".//h1")) == 1
    assert not tree.findall(".//h3") or tree.findall(".//h2"), "a heading level is skipped"
    for table in tree.iter("table"):
        assert table.find("caption") is not None and table.find("caption").text
        assert all(th.get("scope") in ("col", "row") for th in table.iter("th")) and table.findall(".//th")
    text = _flat("".join(tree.itertext()))
    for phrase in expected:
        assert _flat(phrase) in text, phrase
