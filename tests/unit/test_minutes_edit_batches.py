"""minutes.edit for the editor: each editable text named by kind, number and subject (the page
labels it from these, never from its path), and a batch reduced to the texts it really changes."""

from __future__ import annotations

import pytest

from minutes.build import build_minutes
from minutes.edit import EditError, TextChange, TextEdit, editable_paths, editable_texts, text_changes
from tests.unit.test_minutes_library import _source


def test_editable_texts_say_what_each_text_is_about() -> None:
    minutes = build_minutes(_source(), number="N〔2026〕1号")
    texts = editable_texts(minutes)
    assert [t.path for t in texts] == editable_paths(minutes)
    assert [(t.kind, t.number) for t in texts] == [("summary", 1), ("outcome", 1), ("decision", 1), ("task", 1)]
    assert texts[1].subject == minutes.items[0].name
    assert texts[3].subject == minutes.tasks[0].department
    assert [t.text for t in texts] == [minutes.summary, minutes.items[0].outcome, minutes.decisions[0].text,
                                       minutes.tasks[0].tasks[0].text]


def test_a_batch_keeps_only_real_changes_with_line_breaks_as_stored() -> None:
    minutes = build_minutes(_source(), number="N〔2026〕1号")
    outcome = minutes.items[0].outcome
    # every field comes back, the item's empty outcome too: only the summary changed
    posted = [TextEdit("summary", "第一行\r\n第二行 "), TextEdit("items/1/outcome", f"  {outcome}\r\n"),
              TextEdit("decisions/d-1/text", "议定。")]
    assert text_changes(minutes, posted) == [TextChange("summary", minutes.summary, "第一行\n第二行")]
    assert text_changes(minutes, posted[1:]) == []
    # the same text twice in one batch: the second compares with the first
    twice = [TextEdit("summary", "甲"), TextEdit("summary", "甲")]
    assert text_changes(minutes, twice) == [TextChange("summary", minutes.summary, "甲")]


@pytest.mark.parametrize("bad", [TextEdit("items/1/opinions", "x"), TextEdit("summary", "a\x07b"),
                                 TextEdit("decisions/d-1/text", "\r\n")])
def test_a_batch_with_one_bad_edit_is_refused_whole(bad: TextEdit) -> None:
    minutes = build_minutes(_source(), number="N〔2026〕1号")
    with pytest.raises(EditError):
        text_changes(minutes, [TextEdit("summary", "先改"), bad])
