"""Is a page in the person's language? The check the whole-review walk runs on every page it visits.

A Chinese page may show no internal code (snake_case tokens, enum values such as ``approved``) and
no English word beyond a short list of names that Chinese interfaces use as they are (PDF, SHA-256,
BagIt…). An English page may show no Chinese character and no full-width punctuation in its
interface. What is *data* is exempt in both: the names of people, departments and organisations,
case titles, the texts people typed — the caller passes those (``data``), they are taken out before
the check. Content that is declared in another language with the HTML ``lang`` attribute (the
language switch naming the other language, the Chinese minutes document shown on an English page)
is left out when the page's text is read, as is what a person types into a field.

The rules are pure functions of text (unit-tested in tests/unit/test_language_check.py); reading a
page's visible text and attributes is the one browser call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from playwright.async_api import Page

# Latin words a Chinese interface shows as they are: file formats, the hash's name, the bag format,
# units, and the names printed on keys. Compared case-insensitively.
ZH_ALLOWED_WORDS = frozenset({"pdf", "docx", "html", "json", "sha", "url", "bagit", "id", "mb", "kb", "gb",
                              "ms", "kbps", "zip", "ctrl", "enter", "esc", "shift", "alt", "tab"})
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Ideographic punctuation (、。「」〔〕…) and full-width forms (：（），；～！？).
FULL_WIDTH = re.compile(r"[\u3000-\u303f\uff01-\uff5e]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_]*[A-Za-z]")
# Self-evident data, not words: hex digests, file paths and names of a dossier or bag, addresses.
DIGEST = re.compile(r"\b[0-9a-f]{12,}\b")
PATH = re.compile(r"(?:[\w.-]+/)+[\w.-]+|[\w.-]+\.(?:zip|pdf|docx|jsonl?|mp4|webm|ogg|mkv|txt)\b")
ADDRESS = re.compile(r"https?://\S+")

# Everything a person sees or hears from the page: text nodes of rendered elements (options of a
# rendered select, not a field's typed value), the title, and the labels assistive technology
# reads. Elements declared in another language (lang="…") are skipped with their content.
READ_PAGE = """() => {
  const page = (document.documentElement.lang || '').slice(0, 2);
  const foreign = (el) => { const own = el.closest('[lang]'); return own && own.lang.slice(0, 2) !== page; };
  const shown = (el) => el.tagName === 'OPTION' || el.tagName === 'OPTGROUP'
    ? shown(el.closest('select') || el.parentElement) : el.checkVisibility({visibilityProperty: true});
  const out = [{where: 'title', text: document.title}];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.textContent.trim();
    if (!text || !el || el.tagName === 'TEXTAREA' || foreign(el) || !shown(el)) continue;
    out.push({where: el.id ? `${el.tagName.toLowerCase()}#${el.id}` : el.tagName.toLowerCase(), text});
  }
  for (const el of document.body.querySelectorAll('[title], [placeholder], [aria-label], [alt]')) {
    if (foreign(el) || !shown(el)) continue;
    for (const name of ['title', 'placeholder', 'aria-label', 'alt']) {
      const text = (el.getAttribute(name) || '').trim();
      if (text) out.push({where: `${el.tagName.toLowerCase()}[${name}]`, text});
    }
  }
  return out;
}"""


@dataclass(frozen=True)
class Finding:
    """One piece of interface text in the wrong language: where on the page, the offending part,
    the whole text it was found in."""

    where: str
    found: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.found!r} in {self.text!r}"


def without_data(text: str, data: Iterable[str]) -> str:
    """`text` with self-evident data (addresses, paths and file names, digests: whole, before a
    name inside them is taken out) and every occurrence of a data string (longest first) blanked
    out, so only the interface's own words remain."""
    for pattern in (ADDRESS, PATH, DIGEST):
        text = pattern.sub(" ", text)
    for value in sorted({d for d in data if d}, key=len, reverse=True):
        text = text.replace(value, " ")
    return text


def zh_findings(where: str, text: str, data: Iterable[str] = ()) -> list[Finding]:
    """Internal codes and English words in Chinese interface text."""
    rest = without_data(text, data)
    return [Finding(where, word, text) for word in LATIN_WORD.findall(rest)
            if word.lower() not in ZH_ALLOWED_WORDS]


def en_findings(where: str, text: str, data: Iterable[str] = ()) -> list[Finding]:
    """Chinese characters and full-width punctuation in English interface text."""
    rest = without_data(text, data)
    return [Finding(where, match.group(), text) for match in re.finditer(f"{CJK.pattern}+|{FULL_WIDTH.pattern}",
                                                                          rest)]


def findings(lang: str, texts: Iterable[tuple[str, str]], data: Iterable[str] = ()) -> list[Finding]:
    """Every finding in a page's (where, text) pieces for a page in `lang` ("zh" or "en")."""
    check = zh_findings if lang == "zh" else en_findings
    kept = list(data)
    return [f for where, text in texts for f in check(where, text, kept)]


async def page_findings(page: Page, lang: str, data: Iterable[str]) -> list[Finding]:
    """What on the page, as it is shown now, is not in `lang`."""
    pieces = await page.evaluate(READ_PAGE)
    return findings(lang, ((p["where"], p["text"]) for p in pieces), data)
