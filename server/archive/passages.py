"""What in a meeting event or a minutes version is worth finding, as plain passages (no I/O).

Only events that carry words an archivist asks about become passages: opinions, decisions,
material requests, tasks, item outcomes, clock notices, public chat, the gist of a speech, the
closing summary, what was presented. Presence events (joins, mutes, hands) carry none. Private chat
(`to` set) is left out of the index: the search is shared by roles (an applicant searches their
own cases) who were not party to a private message; it stays in the event log.

Events are read as the record's typed events (record.events), labels from its vocabularies. A
passage is the words of one event, indexed incrementally from a cursor, so it needs no review
state (the record's reducer gives state, not text).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from record.events import (
    AgendaItemClosed,
    ChatMessage,
    ClockResumed,
    ClockSuspended,
    DecisionRecorded,
    MaterialRequested,
    MeetingStatusChanged,
    OpinionAmended,
    OpinionSubmitted,
    PresentationStarted,
    SpeakingStarted,
    TaskAssigned,
    parse_event,
)
from record.vocab import MeetingStatus

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


def event_passages(type: str, payload: dict[str, Any]) -> list[Passage]:
    """The passages of one stored event (usually none or one)."""
    event = parse_event(type, payload)
    match event:
        case OpinionSubmitted() | OpinionAmended():
            amended = isinstance(event, OpinionAmended)
            amendment_reason = event.amendment_reason if isinstance(event, OpinionAmended) else ""
            title = f"{event.item_name} · {event.kind.label_zh}" + ("（修改）" if amended else "")
            body = _text(event.text, event.conditions, event.reasons, event.legal_basis, amendment_reason)
            return [Passage("opinion", title, body, event.project_code or None, event.department_code,
                            event.kind.value)]
        case DecisionRecorded():
            return _one("decision", "议定事项", event.item_name, _text(event.text), event.project_code)
        case MaterialRequested():
            return _one("material", "补正材料", event.item_name, _text(event.material, event.detail),
                        event.project_code, event.department_code)
        case TaskAssigned():
            return _one("task", "任务分工", event.item_name, _text(event.text), event.project_code,
                        event.department_code)
        case AgendaItemClosed():
            return _one("outcome", "审查结果", event.item_name, _text(event.outcome), event.project_code)
        case ClockSuspended() | ClockResumed():
            title = "中止办理" if isinstance(event, ClockSuspended) else "恢复办理"
            return _one("clock", title, event.item_name, _text(event.notice_no, event.reason),
                        event.project_code, event.department_code)
        case ChatMessage(to=None):
            return _one("chat", "聊天", None, _text(event.text))
        case SpeakingStarted(summary=summary) if summary:
            # the live meeting records who spoke, not what: only a written gist is found
            return _one("speech", "发言", None, _text(event.display_name, summary))
        case MeetingStatusChanged(to=MeetingStatus.ENDED):
            return _one("summary", "会议小结", None, _text(event.note))
        case PresentationStarted():
            return _one("presentation", "演示材料", None, _text(event.title, event.file_name))
    return []


def _one(kind: str, title: str, item: str | None, body: str, code: str | None = None,
         dept: str = "") -> list[Passage]:
    return [Passage(kind, f"{item} · {title}" if item else title, body, code or None, dept)] if body else []


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
