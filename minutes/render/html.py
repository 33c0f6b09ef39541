"""Blocks to HTML: the web page of the minutes, and the print page WeasyPrint turns into the PDF.

One template serves both; only the style sheet differs (screen vs GB/T 9704 print) and whether
the recording links are shown (a printed link cannot be followed).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from minutes.render.layout import Block

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def _template() -> Template:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2"]),
                      undefined=StrictUndefined, trim_blocks=True)
    return env.get_template("document.html.j2")


@cache
def _css(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def blocks_html(title: str, blocks: list[Block], *, for_print: bool = False, note: str = "") -> str:
    """note: the integrity data, as <meta> (WeasyPrint writes description and keywords into the
    PDF's Subject and Keywords) and, on the web page, beside the document."""
    return _template().render(title=title, blocks=blocks, css=_css("print.css" if for_print else "web.css"),
                              links=not for_print, note=note)
