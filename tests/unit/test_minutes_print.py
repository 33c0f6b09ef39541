"""The minutes on paper as GB/T 9704-2012 asks (issue 13), measured in the PDF and the DOCX: A4 and
the 156 x 225 mm text block, 22 lines a full page, at most 28 characters a line, the 仿宋 body face
embedded and covering the text with its fallback, the red 版头, the 版记 below all text on the last
page, the 征求意见稿 mark on every page of a draft, the correction note of a later version, the
integrity data in the metadata only; the DOCX's PAGE fields and East Asian face names."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections import defaultdict
from functools import cache
from itertools import pairwise
from pathlib import Path

import pypdf
import pytest
from docx import Document
from docx.oxml.ns import qn
from fontTools.ttLib import TTCollection, TTFont

from minutes.model import Minutes
from minutes.render import render
from minutes.render.layout import minutes_blocks

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "minutes_scripted.json"
MM = 72 / 25.4
LEFT, TOP, BOTTOM, WIDTH = 28, 37, 35, 156
BODY_FACE = "Lianshen-FangSong"
FONT_FILES = {"Lianshen FangSong": ["/usr/local/share/fonts/lianshen/LianshenFangSong.ttf",
                                    str(Path.home() / ".local/share/fonts/lianshen/LianshenFangSong.ttf")],
              "Noto Serif CJK SC": ["/usr/share/fonts/opentype/noto/NotoSerifCJK-Light.ttc"]}


def _minutes(**changes: object) -> Minutes:
    content = json.loads(GOLDEN.read_text(encoding="utf-8"))
    content.update(meeting_id=1, masthead="凤庆县投资项目并联审批会议纪要", **changes)
    return Minutes.model_validate(content)


@cache
def _pdf(status: str = "final", version: int = 1) -> bytes:
    return render(_minutes(status=status, version=version, correction="更正出席人员职务" if version > 1 else ""),
                  "pdf")


def _spots(page: pypdf.PageObject) -> list[tuple[float, str, str, float]]:
    """(baseline in mm from the bottom, text, font, size in pt) of each text run of the page."""
    spots = []

    def visit(text, cm, tm, font, size):  # type: ignore[no-untyped-def]
        if text.strip():
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            spots.append((round(y / MM, 2), text.replace("\n", ""), str(font["/BaseFont"]) if font else "",
                          round(size * (tm[3] or 1) * (cm[3] or 1), 1)))

    page.extract_text(visitor_text=visit)
    return spots


def _body_lines(page: pypdf.PageObject) -> dict[float, str]:
    """The 三号 lines inside the text block, by baseline."""
    lines: dict[float, str] = defaultdict(str)
    for y, text, _font, size in _spots(page):
        if size == 16 and BOTTOM < y < 297 - TOP:
            lines[y] += text
    return dict(lines)


def _cells(line: str) -> float:
    """Width of a line in character cells: full-width characters 1, half-width 0.5."""
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in line)


def test_page_text_block_and_line_grid() -> None:
    reader = pypdf.PdfReader(io.BytesIO(_pdf()))
    counts = []
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width) / MM), round(float(box.height) / MM)) == (210, 297)
        lines = _body_lines(page)
        counts.append(len(lines))
        for line in lines.values():
            assert _cells(line) <= 28, line
    assert max(counts) == 22, counts  # a full page holds 22 lines, none more
    assert counts.count(22) >= 2, counts
    full = next(lines for lines in map(_body_lines, reader.pages) if len(lines) == 22)
    baselines = sorted(full, reverse=True)
    pitches = [a - b for a, b in pairwise(baselines)]
    assert all(abs(pitch - 225 / 22) < 0.2 for pitch in pitches), pitches  # one grid, no taller line
    assert any(_cells(line) == 28 for line in full.values())  # a full line holds 28 characters


def test_body_face_is_the_embedded_fangsong_and_covers_the_text() -> None:
    reader = pypdf.PdfReader(io.BytesIO(_pdf()))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert all(fonts.values()), fonts  # every font embedded
    body = [font for _y, text, font, size in _spots(reader.pages[1]) if size == 16 and len(text) > 1]
    assert BODY_FACE in max(set(body), key=body.count)  # most body runs are set in the 仿宋 face
    # every character the body shows is in the 仿宋 face or its named fallback: no tofu
    covered: set[int] = set()
    for paths in FONT_FILES.values():
        path = next((p for p in paths if Path(p).is_file()), None)
        assert path, f"font missing: {paths} (scripts/setup.sh installs it)"
        font = TTCollection(path).fonts[2] if path.endswith(".ttc") else TTFont(path)
        covered |= set(font.getBestCmap())
    text = "".join(str(getattr(b, f, "")) for b in minutes_blocks(_minutes()) for f in ("text", "mark", "number"))
    missing = {c for c in text if not c.isspace() and ord(c) not in covered}
    assert not missing, "".join(sorted(missing))


def test_masthead_is_red_and_the_imprint_closes_the_last_page() -> None:
    reader = pypdf.PdfReader(io.BytesIO(_pdf()))
    first = reader.pages[0].get_contents().get_data().decode("latin-1")
    reds = [m for m in re.finditer(r"([\d.]+) ([\d.]+) ([\d.]+) (rg|RG)", first)
            if float(m[1]) > 0.85 and float(m[2]) < 0.1 and float(m[3]) < 0.15]
    # WeasyPrint fills both the 纪要标志's glyphs and the separator line (a rectangle) in red
    assert len(reds) >= 2 and re.search(r"re\s+f", first[reds[0].start():]), reds
    assert _spots(reader.pages[0])[0][1] == "凤庆县投资项目并联审批会议纪要"
    last = _spots(reader.pages[-1])
    imprint = [y for y, text, _f, _s in last if "印发" in text or "分送" in text]
    body = [y for y, text, _f, size in last if size == 16 and BOTTOM < y]
    assert imprint and max(imprint) < min(body), (imprint, body)
    assert "—" not in "".join(t for _y, t, _f, _s in last if "印发" in t)
    text = "".join(page.extract_text() for page in reader.pages)
    assert "哈希" not in text and "征求意见稿" not in text
    assert "末条哈希" in str(reader.metadata["/Subject"])


@pytest.mark.parametrize("status", ["draft", "awaiting_confirmation"])
def test_an_open_version_is_marked_on_every_page(status: str) -> None:
    reader = pypdf.PdfReader(io.BytesIO(_pdf(status)))
    for page in reader.pages:
        assert any(text == "征求意见稿" and y > 297 - TOP for y, text, _f, _s in _spots(page))


def test_a_later_version_carries_its_number_and_correction() -> None:
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(_pdf("final", 2))).pages))
    assert "（第2版，更正：更正出席人员职务；原第1版同时作废）" in text


def test_docx_has_page_fields_and_east_asian_faces() -> None:
    document = Document(io.BytesIO(render(_minutes(status="draft"), "docx")))
    section = document.sections[0]
    assert document.settings.odd_and_even_pages_header_footer
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        xml = footer._element.xml
        assert "PAGE" in xml and 'w:fldCharType="begin"' in xml and f'w:val="{align}"' in xml
        assert re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", xml).replace(" PAGE ", "")) == "—1—"
    assert "征求意见稿" in section.header._element.xml and "征求意见稿" in section.even_page_header._element.xml
    faces = {r._element.rPr.rFonts.get(qn("w:eastAsia")) for p in document.paragraphs for r in p.runs}
    assert {"仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体"} <= faces
    mark = next(r for p in document.paragraphs for r in p.runs if r.text == "凤庆县投资项目并联审批会议纪要")
    assert str(mark.font.color.rgb) == "E60012"
    imprint = [p for p in document.paragraphs if "印发" in p.text]
    assert imprint and imprint[-1]._p.pPr.find(qn("w:framePr")).get(qn("w:yAlign")) == "bottom"
    assert "末条哈希" in document.core_properties.comments
    assert all("哈希" not in p.text for p in document.paragraphs)
