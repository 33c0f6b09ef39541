"""The walk's language check (tests/browser/language_check.py) catches what it is for: a planted
internal code or English word on a Chinese page, a Chinese label or full-width colon on an English
page, while data (names, typed texts, digests, file paths) passes in either language."""

from __future__ import annotations

from tests.browser.language_check import en_findings, findings, zh_findings

NAMES = ("李主任", "凤庆县发展和改革局", "小湾生态渔业鱼制品加工厂建设项目")
DIGEST = "9f2c4e1ab37d5e60c1f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"


def test_a_chinese_page_with_an_internal_code_fails() -> None:
    found = zh_findings("td", "会议状态：minutes_draft")
    assert [f.found for f in found] == ["minutes_draft"]


def test_a_chinese_page_with_an_enum_value_or_english_word_fails() -> None:
    assert [f.found for f in zh_findings("span", "审批事项 approved")] == ["approved"]
    assert [f.found for f in zh_findings("td", "李主任 · member")] == ["member"]
    assert [f.found for f in zh_findings("p", "Result：同意")] == ["Result"]


def test_a_chinese_page_keeps_the_names_it_uses_as_they_are() -> None:
    text = (f"下载 PDF · DOCX · HTML · JSON　SHA-256：{DIGEST}　BagIt 包 meeting-3/minutes-v1.json 12.5 MB A岗"
            "　lianshen-archive-case-2603-530921-04-01-512345.zip　快捷键：Ctrl+S 或 Ctrl+Enter 保存")
    assert zh_findings("dd", text) == []
    assert zh_findings("dd", text, data=["2603-530921-04-01-512345"]) == []  # a code inside a file name


def test_latin_data_on_a_chinese_page_passes_only_when_it_is_data() -> None:
    code = "91530921MA6K3A6X0Q"
    assert [f.found for f in zh_findings("dd", f"申请人（{code}）")] == ["MA"]
    assert zh_findings("dd", f"申请人（{code}）", data=[code]) == []


def test_an_english_page_with_a_chinese_label_fails() -> None:
    found = en_findings("p", "Under review: 请假")
    assert [f.found for f in found] == ["请假"]


def test_an_english_page_with_full_width_punctuation_fails() -> None:
    assert [f.found for f in en_findings("h1", "Case dossier：wind farm")] == ["："]
    assert [f.found for f in en_findings("td", "Planned start ～ finish")] == ["～"]
    assert [f.found for f in en_findings("td", "Notice（PDF）")] == ["（", "）"]


def test_chinese_data_on_an_english_page_passes_but_its_glue_does_not() -> None:
    assert en_findings("td", "Chair 李主任 · 凤庆县发展和改革局", data=NAMES) == []
    found = en_findings("td", "凤庆县发展和改革局（县）", data=NAMES)
    assert [f.found for f in found] == ["（", "县", "）"]


def test_findings_checks_every_piece_in_the_page_language() -> None:
    pieces = [("title", "Dossier"), ("td", "approved"), ("th", "事项")]
    assert [f.found for f in findings("en", pieces)] == ["事项"]
    assert [f.found for f in findings("zh", pieces)] == ["Dossier", "approved"]
