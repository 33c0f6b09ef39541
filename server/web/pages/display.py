"""Small formatting helpers for templates: enum labels in the page's language, local times."""

from __future__ import annotations

from datetime import datetime

from server.domain.labels import LabelledEnum
from server.services.meetings import local
from server.web import i18n


def label(lang: str, member: LabelledEnum) -> str:
    """The member's label in the page language."""
    return member.label_zh if lang == "zh" else member.label_en


def when(moment: datetime) -> str:
    """A stored moment as local (Asia/Shanghai) date and minute."""
    return local(moment).strftime("%Y-%m-%d %H:%M")


def span(start: datetime, end: datetime) -> str:
    """"2026-12-08 09:30–11:30" (the end's date only when it differs), in local time."""
    first, last = local(start), local(end)
    tail = last.strftime("%H:%M") if first.date() == last.date() else when(end)
    return f"{when(start)}–{tail}"


def held(lang: str, started: datetime | None, ended: datetime | None) -> str:
    """When the meeting really ran, as its record has it (the start and end the minutes print),
    in local time; "" before it started. One helper for the meeting page and the dossier, so the
    two never tell different times for the same meeting."""
    if started is None:
        return ""
    if ended is None:
        return i18n.translate(lang, "meetings.held_live", start=when(started))
    return span(started, ended)
