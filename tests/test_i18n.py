"""The message catalogs: every key in both languages, and every key a template uses exists."""

from __future__ import annotations

import re
from pathlib import Path

from server.web.i18n import CATALOG_DIR, LANGUAGES, catalog

TEMPLATES = Path(__file__).resolve().parent.parent / "client_web" / "templates"
KEY_USE = re.compile(r"""\bt\(\s*['"]([\w.\-]+)['"]""")


def test_languages_have_the_same_keys() -> None:
    zh, en = (set(catalog(lang)) for lang in LANGUAGES)
    assert zh - en == set(), f"missing in en: {sorted(zh - en)}"
    assert en - zh == set(), f"missing in zh: {sorted(en - zh)}"


def test_templates_use_only_known_keys() -> None:
    known = set(catalog("zh"))
    used = {key for path in TEMPLATES.rglob("*.html") for key in KEY_USE.findall(path.read_text("utf-8"))}
    assert used, "no translated text found: the pattern is broken"
    # "prefix." + value builds a key at render time: at least one key must carry the prefix.
    prefixes = {key for key in used if key.endswith(".")}
    assert {p for p in prefixes if not any(k.startswith(p) for k in known)} == set()
    assert used - prefixes - known == set(), f"unknown keys: {sorted(used - prefixes - known)}"


def test_catalogs_are_valid_files() -> None:
    assert sorted(p.stem for p in CATALOG_DIR.glob("*.json")) == sorted(LANGUAGES)
