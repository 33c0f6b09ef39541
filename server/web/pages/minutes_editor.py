"""The chair's minutes editor as the page shows it: the open version laid out in the document's
order under Chinese section labels, each editable text in place, and the recorded edits.

A path such as ``items/1/outcome`` means nothing to the civil servant who writes the minutes, so
every text is named as the document names it ("第1项 企业投资项目备案 · 审查结果"); the parts the
chair may not change (the departments' opinions) stand beside the fields as read-only text, so the
page reads like the document. The texts come from minutes.edit, the one list of what is editable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from minutes.edit import EditableText, EditError, editable_texts, find_text
from minutes.model import Item, Minutes, Opinion
from minutes.render.layout import cn_numeral, meeting_time
from server.db.models import MinutesEdit
from server.web.pages.display import when

Translate = Callable[..., str]


@dataclass(frozen=True)
class Line:
    """A read-only line of the document shown for context: its label set apart, then the text.
    What the document itself says is quoted as printed, in Chinese whatever the page's language
    (the page declares it so): the text of a fact, the label and text of a department's words."""

    label: str
    text: str
    quote_label: bool = False
    quote_text: bool = False


@dataclass(frozen=True)
class EditField:
    """An editable text: the form field's name carries its path (``edit:<path>``)."""

    path: str
    label: str
    text: str
    hint: str = ""


@dataclass
class Part:
    """A sub-part of a section (an item): its heading, read-only lines, then its field if any."""

    heading: str = ""
    lines: list[Line] = field(default_factory=list)
    fields: list[EditField] = field(default_factory=list)


@dataclass
class Section:
    heading: str
    parts: list[Part]


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class Batch:
    """Edits recorded together: one person, one moment, one reason (one save of the editor, or
    one amendment of an opinion)."""

    when: str
    editor: str
    reason: str
    changes: list[Change]


def editor_sections(minutes: Minutes, t: Translate, lang: str) -> list[Section]:
    """The editor's sections in the document's order; only non-empty ones, numbered 一、二、…"""
    texts = {text.path: text for text in editable_texts(minutes)}

    def number(n: int) -> str | int:
        return cn_numeral(n) if lang == "zh" else n

    def field_of(path: str, hint: str = "") -> EditField:
        text = texts[path]
        return EditField(path, text_label(text, t, lang), text.text, hint)

    overview = Part(lines=[Line(t("minutes.editor.fact.meeting"), minutes.meeting_title, quote_text=True),
                           Line(t("minutes.editor.fact.time"), meeting_time(minutes), quote_text=True),
                           Line(t("minutes.editor.fact.place"), minutes.place, quote_text=True),
                           Line(t("minutes.editor.fact.chair"), f"{minutes.chair_unit} {minutes.chair.name}",
                                quote_text=True)],
                    fields=[field_of("summary")])
    sections = [("overview", [overview])]
    reviewed = [item for item in minutes.items if item.reviewed]
    sections.append(("items", [Part(t("minutes.editor.item", n=item.position, name=item.name),
                                    _item_lines(item), [field_of(f"items/{item.position}/outcome")])
                               for item in reviewed] or [Part(lines=[Line("", t("minutes.editor.none_reviewed"))])]))
    not_reviewed = [item for item in minutes.items if not item.reviewed]
    if not_reviewed:
        sections.append(("not_reviewed", [Part(t("minutes.editor.item", n=item.position, name=item.name),
                                               [Line("", t("minutes.editor.not_reviewed"))])
                                          for item in not_reviewed]))
    if minutes.decisions:
        sections.append(("decisions", [Part(fields=[field_of(f"decisions/{d.decision_id}/text")
                                                    for d in minutes.decisions])]))
    if minutes.tasks:
        sections.append(("tasks", [Part(fields=[
            field_of(f"tasks/{task.task_id}/text",
                     t("minutes.editor.due", days=task.due_working_days, date=task.due_date))
            for group in minutes.tasks for task in group.tasks])]))
    return [Section(t("minutes.editor.numbered", n=number(n), title=t(f"minutes.editor.section.{key}")), parts)
            for n, (key, parts) in enumerate(sections, start=1)]


def _item_lines(item: Item) -> list[Line]:
    """What the departments said on an item, as the document prints it (not editable here: an
    opinion changes only through its own department)."""
    return ([Line(_speaker(o), _opinion_text(o), quote_label=True, quote_text=True) for o in item.opinions]
            + [Line(a.department, a.statement, quote_label=True, quote_text=True) for a in item.absent])


def _speaker(opinion: Opinion) -> str:
    who = "，".join(x for x in (opinion.given_by, opinion.post_label) if x)
    return f"{opinion.department}（{who}）" if who else opinion.department


def _opinion_text(opinion: Opinion) -> str:
    conditions = "".join(f"{n}.{c}；" for n, c in enumerate(opinion.conditions, start=1))
    return "".join([f"{opinion.kind_label}。" if not opinion.text.startswith(opinion.kind_label) else "",
                    opinion.text, f"条件：{conditions}" if conditions else ""])


def text_label(text: EditableText, t: Translate, lang: str) -> str:
    """The Chinese (or English) name of an editable text, as the document's sections name it."""
    n = cn_numeral(text.number) if lang == "zh" else text.number
    if text.kind == "summary":
        return t("minutes.editor.label.summary")
    if text.kind == "outcome":
        return t("minutes.editor.label.outcome", n=text.number, name=text.subject)
    if text.kind == "decision":
        label = t("minutes.editor.label.decision", n=n)
        return f"{label} · {text.subject}" if text.subject else label
    return t("minutes.editor.label.task", n=n, department=text.subject)


def path_label(minutes: Minutes, path: str, t: Translate, lang: str) -> str:
    """The name of a recorded edit's text in the open version: a wording edit's section, or the
    department's opinion an amendment changed; a text no longer in the minutes says so."""
    if path.startswith("opinions/"):
        opinion_id = path.removeprefix("opinions/")
        found = next(((item, o) for item in minutes.items for o in item.opinions if o.opinion_id == opinion_id),
                     None)
        if found is not None:
            return t("minutes.editor.label.opinion", item=found[0].name, department=found[1].department)
    else:
        try:
            return text_label(find_text(minutes, path), t, lang)
        except EditError:
            pass
    return t("minutes.editor.label.gone")


def edit_batches(edits: Sequence[MinutesEdit], minutes: Minutes, t: Translate, lang: str,
                 kind: str) -> list[Batch]:
    """The recorded edits of one kind grouped as they were made (same person, moment and reason),
    newest first: a save of several texts is one batch under its one reason."""
    rows = [e for e in edits if e.kind == kind]
    batches = [list(group) for _key, group in groupby(rows, key=lambda e: (e.editor_id, e.reason, e.at))]
    return [Batch(when(group[0].at), group[0].editor.display_name, group[0].reason,
                  [Change(path_label(minutes, e.path, t, lang), e.old_text, e.new_text) for e in group])
            for group in reversed(batches)]
