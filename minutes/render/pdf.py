"""Blocks to PDF through WeasyPrint, laid out as a 纪要 under GB/T 9704-2012 (print.css).

Fonts come from Debian's CJK packages through fontconfig; WeasyPrint embeds only the glyphs used,
so the file stays small. The font configuration is built once per process: it is the slow part of
a first render.
"""

from __future__ import annotations

from functools import cache

from minutes.render.html import blocks_html
from minutes.render.layout import Block


@cache
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def blocks_pdf(title: str, blocks: list[Block], *, note: str = "") -> bytes:
    from weasyprint import HTML

    document = HTML(string=blocks_html(title, blocks, for_print=True, note=note))
    return document.write_pdf(font_config=_fonts())
