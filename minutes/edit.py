"""Editing the free text of built minutes, by path, without touching the record.

The minutes writer may reword the chair's summary, an item's outcome, a decision or a task, but
never a department's opinion, a date or an attendance line: those are what the log says happened,
and the departments confirm them as given. Paths name one text each:

    summary
    items/<position>/outcome
    decisions/<decision_id>/text
    tasks/<task_id>/text
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from minutes.model import DepartmentTasks, Minutes

EDITABLE_PATHS: tuple[str, ...] = (
    "summary",
    "items/<position>/outcome",
    "decisions/<decision_id>/text",
    "tasks/<task_id>/text",
)
MAX_TEXT = 4000


class EditError(ValueError):
    """An edit that names no editable text, or whose text cannot go into the minutes."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class TextEdit:
    path: str
    text: str


def editable_paths(minutes: Minutes) -> list[str]:
    """Every concrete path apply_edits accepts for these minutes, in document order."""
    return (
        ["summary"]
        + [f"items/{item.position}/outcome" for item in minutes.items]
        + [f"decisions/{d.decision_id}/text" for d in minutes.decisions]
        + [f"tasks/{t.task_id}/text" for group in minutes.tasks for t in group.tasks]
    )


def current_text(minutes: Minutes, path: str) -> str:
    """The text a path names now (for showing an edit form or a diff); EditError if none."""
    parts = path.split("/")
    if parts == ["summary"]:
        return minutes.summary
    if len(parts) == 3:
        kind, key, field = parts
        texts: list[tuple[str, str]] = []
        if kind == "items" and field == "outcome":
            texts = [(str(i.position), i.outcome) for i in minutes.items]
        elif kind == "decisions" and field == "text":
            texts = [(d.decision_id, d.text) for d in minutes.decisions]
        elif kind == "tasks" and field == "text":
            texts = [(t.task_id, t.text) for g in minutes.tasks for t in g.tasks]
        for found, text in texts:
            if found == key:
                return text
    raise EditError(path, "不是可编辑的内容 / not an editable text of these minutes")


def apply_edits(minutes: Minutes, edits: Sequence[TextEdit]) -> Minutes:
    """A copy of the minutes with each edit applied in turn; the original is unchanged.

    Raises EditError for an unknown path or an unstorable text, before anything is applied.
    """
    for edit in edits:
        current_text(minutes, edit.path)
        _check_text(edit)
    for edit in edits:
        minutes = _apply(minutes, edit.path.split("/"), edit.text.strip())
    return minutes


def _check_text(edit: TextEdit) -> None:
    text = edit.text
    if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise EditError(edit.path, "含无法保存的字符 / contains a character that cannot be stored")
    if len(text) > MAX_TEXT:
        raise EditError(edit.path, f"超过{MAX_TEXT}字 / longer than {MAX_TEXT} characters")
    if edit.path != "summary" and not text.strip():
        raise EditError(edit.path, "内容不能为空 / the text cannot be empty")


def _apply(minutes: Minutes, parts: list[str], text: str) -> Minutes:
    if parts == ["summary"]:
        return minutes.model_copy(update={"summary": text})
    kind, key, _field = parts
    if kind == "items":
        items = [i.model_copy(update={"outcome": text}) if str(i.position) == key else i
                 for i in minutes.items]
        return minutes.model_copy(update={"items": items})
    if kind == "decisions":
        decisions = [d.model_copy(update={"text": text}) if d.decision_id == key else d
                     for d in minutes.decisions]
        return minutes.model_copy(update={"decisions": decisions})
    groups = [DepartmentTasks(department_code=g.department_code, department=g.department,
                              tasks=[t.model_copy(update={"text": text}) if t.task_id == key else t
                                     for t in g.tasks])
              for g in minutes.tasks]
    return minutes.model_copy(update={"tasks": groups})
