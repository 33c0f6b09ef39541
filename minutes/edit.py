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

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from minutes.model import DepartmentTasks, Minutes

EDITABLE_PATHS: tuple[str, ...] = (
    "summary",
    "items/<position>/outcome",
    "decisions/<decision_id>/text",
    "tasks/<task_id>/text",
)
MAX_TEXT = 4000
# control characters other than the line break and the tab cannot go into the paper (a form post
# reaches here without the API's schema, so this is the one check of an edited text)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

TextKind = Literal["summary", "outcome", "decision", "task"]


class EditError(ValueError):
    """An edit that names no editable text, or whose text cannot go into the minutes."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class TextEdit:
    path: str
    text: str


@dataclass(frozen=True)
class EditableText:
    """One text the writer may reword, with what an editor needs to say which part of the document
    it is (a path means nothing to a reader): its kind, its number among texts of that kind (an
    item's agenda position), and what it is about (the item's name, or the task's department)."""

    path: str
    kind: TextKind
    number: int
    subject: str
    text: str


@dataclass(frozen=True)
class TextChange:
    """An edit that changes its text: the text before and after (normalised as it will be stored)."""

    path: str
    old: str
    new: str


def editable_texts(minutes: Minutes) -> list[EditableText]:
    """Every text apply_edits may change in these minutes, in document order."""
    texts = [EditableText("summary", "summary", 1, "", minutes.summary)]
    texts += [EditableText(f"items/{item.position}/outcome", "outcome", item.position, item.name, item.outcome)
              for item in minutes.items]
    texts += [EditableText(f"decisions/{d.decision_id}/text", "decision", n, d.item_name or "", d.text)
              for n, d in enumerate(minutes.decisions, start=1)]
    tasks = [(group, task) for group in minutes.tasks for task in group.tasks]
    texts += [EditableText(f"tasks/{task.task_id}/text", "task", n, group.department, task.text)
              for n, (group, task) in enumerate(tasks, start=1)]
    return texts


def editable_paths(minutes: Minutes) -> list[str]:
    """Every concrete path apply_edits accepts for these minutes, in document order."""
    return [text.path for text in editable_texts(minutes)]


def find_text(minutes: Minutes, path: str) -> EditableText:
    """The editable text a path names; EditError if none."""
    found = next((text for text in editable_texts(minutes) if text.path == path), None)
    if found is None:
        raise EditError(path, "不是可编辑的内容 / not an editable text of these minutes")
    return found


def current_text(minutes: Minutes, path: str) -> str:
    """The text a path names now (for showing an edit form or a diff); EditError if none."""
    return find_text(minutes, path).text


def normalised(text: str) -> str:
    """A text as it is stored: line breaks as "\\n" (a browser posts a textarea with "\\r\\n"),
    trimmed at both ends; so that a text sent back unchanged compares equal to what was shown."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def text_changes(minutes: Minutes, edits: Sequence[TextEdit]) -> list[TextChange]:
    """The edits that change their text, in the order given. An edit that leaves its text as it is
    (a form posts every field, an empty outcome included) is dropped, so a batch records only real
    changes; a later edit of the same text compares with the earlier one.

    Raises EditError for an unknown path or a changed text that cannot be stored (the minutes are
    not touched: the caller applies the changes once all are known).
    """
    changes: list[TextChange] = []
    for edit in edits:
        old, new = current_text(minutes, edit.path), normalised(edit.text)
        if new != old:
            _check_text(edit)
            changes.append(TextChange(edit.path, old, new))
            minutes = _apply(minutes, edit.path.split("/"), new)
    return changes


def apply_edits(minutes: Minutes, edits: Sequence[TextEdit]) -> Minutes:
    """A copy of the minutes with each edit applied in turn; the original is unchanged.

    Raises EditError for an unknown path or an unstorable text, before anything is applied.
    """
    for edit in edits:
        find_text(minutes, edit.path)
        _check_text(edit)
    for edit in edits:
        minutes = _apply(minutes, edit.path.split("/"), normalised(edit.text))
    return minutes


def _check_text(edit: TextEdit) -> None:
    text = normalised(edit.text)
    if _CONTROL.search(text) or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise EditError(edit.path, "含无法保存的字符 / contains a character that cannot be stored")
    if len(text) > MAX_TEXT:
        raise EditError(edit.path, f"超过{MAX_TEXT}字 / longer than {MAX_TEXT} characters")
    if edit.path != "summary" and not text:
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
