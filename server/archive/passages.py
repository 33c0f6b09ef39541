"""What in a meeting event or a minutes version is worth finding, as plain passages (no I/O).

Only events that carry words an archivist asks about become passages: opinions, decisions,
material requests, tasks, item outcomes, clock notices, public chat, the gist of a speech, the
closing summary, what was presented. Presence events (joins, mutes, hands) carry none. Private chat
(`to` set) is left out of the index: the search is shared by roles (an applicant searches their
own cases) who were not party to a private message; it stays in the event log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from server.domain.opinions import OpinionKind

# Entry kinds, as the search filter names them.
KINDS = ("opinion", "decision", "material", "task", "outcome", "clock", "chat", "speech", "summary",
         "presentation", "minutes")


@dataclass(frozen=True)
class Passage:
    """One searchable text. `project_code` None: it concerns the whole meeting (every case on it)."""

    kind: str
    title: str
    body: str
    project_code: str | None = None
    department_code: str = ""
    opinion_type: str = ""


def _text(*parts: Any) -> str:
    """Non-empty string parts joined by newlines; lists are flattened (conditions)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, list):
            out.extend(str(p).strip() for p in part if isinstance(p, str) and p.strip())
        elif isinstance(part, str) and part.strip():
            out.append(part.strip())
    return "\n".join(out)


def _kind_label(kind: str) -> str:
    try:
        return OpinionKind(kind).label_zh
    except ValueError:
        return kind


def _code(payload: dict[str, Any], key: str = "project_code") -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def event_passages(type: str, payload: dict[str, Any]) -> list[Passage]:
    """The passages of one event (usually none or one)."""
    code = _code(payload)
    dept = _code(payload, "department_code") or ""
    item = payload.get("item_name") or ""
    if type in ("opinion_submitted", "opinion_amended"):
        kind = str(payload.get("kind") or "")
        title = f"{item} · {_kind_label(kind)}" + ("（修改）" if type == "opinion_amended" else "")
        body = _text(payload.get("text"), payload.get("conditions"), payload.get("reasons"),
                     payload.get("legal_basis"), payload.get("amendment_reason"))
        return [Passage("opinion", title, body, code, dept, kind)]
    simple = {
        "decision_recorded": ("decision", "议定事项", ("text",)),
        "material_requested": ("material", "补正材料", ("material", "detail")),
        "task_assigned": ("task", "任务分工", ("text",)),
        "agenda_item_closed": ("outcome", "审查结果", ("outcome",)),
        "clock_suspended": ("clock", "中止办理", ("notice_no", "reason")),
        "clock_resumed": ("clock", "恢复办理", ("notice_no", "reason")),
        "speaking_started": ("speech", "发言", ("speaker_name", "summary")),
        "meeting_ended": ("summary", "会议小结", ("summary",)),
        "presentation_started": ("presentation", "演示材料", ("title", "file_name")),
    }
    if type == "chat_message":
        if payload.get("to"):
            return []
        return _one("chat", "聊天", _text(payload.get("text")), code, dept)
    if type in simple:
        kind, title, keys = simple[type]
        if type == "speaking_started" and not payload.get("summary"):
            return []  # the live meeting records who spoke, not what: nothing to find
        return _one(kind, f"{item} · {title}" if item else title, _text(*(payload.get(k) for k in keys)),
                    code, dept)
    return []


def _one(kind: str, title: str, body: str, code: str | None, dept: str) -> list[Passage]:
    return [Passage(kind, title, body, code, dept)] if body else []


def minutes_passages(content: dict[str, Any], status: str) -> list[Passage]:
    """One passage per minutes version: its number and every free text a reader might quote.

    Read defensively (`.get`): the archive must still index minutes written by an older schema.
    """
    status_label = {"final": "定稿", "superseded": "已被取代"}.get(status, status)
    title = f"{content.get('number', '')} 第{content.get('version', '')}版（{status_label}）"
    return [Passage("minutes", title, _text(*_minutes_texts(content)))]


def _minutes_texts(content: dict[str, Any]) -> Iterator[Any]:
    yield content.get("title")
    yield content.get("summary")
    for item in _dicts(content.get("items")):
        yield item.get("name")
        yield item.get("outcome")
        for opinion in _dicts(item.get("opinions")):
            yield f"{opinion.get('department', '')}：{opinion.get('kind_label', '')}"
            yield opinion.get("text")
            yield opinion.get("conditions")
            yield opinion.get("reasons")
    for key, field in (("decisions", "text"), ("materials", "material"), ("referrals", "text")):
        for part in _dicts(content.get(key)):
            yield part.get(field)
    for group in _dicts(content.get("tasks")):
        for task in _dicts(group.get("tasks")):
            yield task.get("text")


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
