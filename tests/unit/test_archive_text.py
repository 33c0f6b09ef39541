"""The archive's pure text handling: which events become passages, FTS/LIKE escaping, snippets."""

from __future__ import annotations

from server.archive.passages import event_passages, minutes_passages
from server.archive.search import fts_phrase, like_pattern, snippet_html


def test_passages_of_events() -> None:
    (opinion,) = event_passages("opinion_amended", {
        "opinion_id": "op-1", "revision": 2, "project_code": "P1", "item_name": "备案", "department_code": "FQ-FGJ",
        "post": "A", "kind": "conditional", "text": "附条件同意。", "conditions": ["须取得排污许可证", " "],
        "reasons": "", "legal_basis": "", "remedy_notice": "", "refer_to": None, "amendment_reason": "补充条件"})
    assert (opinion.kind, opinion.project_code, opinion.department_code, opinion.opinion_type) == (
        "opinion", "P1", "FQ-FGJ", "conditional")
    assert opinion.title == "备案 · 附条件同意（修改）"
    assert opinion.body == "附条件同意。\n须取得排污许可证\n补充条件"
    assert event_passages("chat_message", {"text": "私下说", "to": 3}) == []
    assert event_passages("chat_message", {"text": "  ", "to": None}) == []
    assert event_passages("speaking_started", {"participant_id": "p1", "user_id": 3, "display_name": "王"}) == []
    (speech,) = event_passages("speaking_started", {"participant_id": "p1", "user_id": None,
                                                    "display_name": "段成林", "summary": "说明废水处理工艺。"})
    assert (speech.kind, speech.body) == ("speech", "段成林\n说明废水处理工艺。")
    assert event_passages("participant_joined", {
        "participant_id": "p1", "user_id": 3, "display_name": "王", "unit": "", "capacity": "member",
        "department_id": 1, "post": "A", "token_id": None, "via": "session"}) == []
    (decision,) = event_passages("decision_recorded", {"decision_id": "d", "project_code": None,
                                                       "item_name": None, "text": "会议议定。"})
    assert decision.project_code is None and decision.title == "议定事项"
    (summary,) = event_passages("meeting_status_changed", {"from": "live", "to": "ended", "note": "审查2个事项。"})
    assert (summary.kind, summary.title, summary.body) == ("summary", "会议小结", "审查2个事项。")
    assert event_passages("meeting_status_changed", {"from": "scheduled", "to": "live", "note": "开始"}) == []


def test_minutes_passage_reads_old_or_odd_content() -> None:
    (passage,) = minutes_passages({"number": "凤联审纪〔2026〕3号", "version": 2, "summary": "小结",
                                   "items": [{"outcome": "通过", "opinions": "not a list"}], "decisions": None},
                                  "superseded")
    assert passage.title == "凤联审纪〔2026〕3号 第2版（已被取代）" and passage.body == "小结\n通过"


def test_query_text_cannot_become_syntax() -> None:
    assert fts_phrase('a"b OR c') == '"a""b OR c"'
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


def test_snippet_escapes_and_marks() -> None:
    body = "前文" * 40 + "<b>乡镇污水处理厂</b>建设" + "后文" * 40
    html = snippet_html(body, ["污水处理", "<b>"])
    assert "<mark>污水处理</mark>" in html and "<mark>&lt;b&gt;</mark>" in html
    assert "<b>" not in html and html.startswith("…") and html.endswith("…")
    assert snippet_html("没有命中", ["x"]) == "没有命中"
