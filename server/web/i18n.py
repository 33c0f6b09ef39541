"""Message catalogs shared by the server's pages and the browser client (client_web/i18n/*.json).

One JSON catalog per language serves both Jinja templates and the meeting room's scripts, so a
label is translated once. Chinese is the default; English is switched with ?lang=en (remembered in
a cookie).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from aiohttp import web

CATALOG_DIR = Path(__file__).resolve().parent.parent.parent / "client_web" / "i18n"
LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "lang"


@cache
def catalog(lang: str) -> dict[str, str]:
    """The flat key -> text mapping for `lang`."""
    return json.loads((CATALOG_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def language(request: web.Request) -> str:
    """The language for this request: explicit ?lang=, then the cookie, then Chinese."""
    for candidate in (request.query.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


def translate(lang: str, key: str, **values: object) -> str:
    """The text for `key`; falls back to Chinese, then to the key itself so a gap is visible."""
    text = catalog(lang).get(key) or catalog(DEFAULT).get(key) or key
    return text.format(**values) if values else text
