"""The content a real 纪要 and 一次性告知书 carry (issue 13), on sources made by hand: numbered
conditions each on a line of their own, 记录人 / 整理人, what the applicant's side presented and
said, the commissioned 代办员; the notice's own number, addressee, materials with due dates and
legal basis, the centre's telephone and the 送达回证 on a page of its own."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from datetime import timedelta

import pypdf
import pytest
from docx import Document
from docx.oxml.ns import qn

from minutes import model as m, source as ms
from minutes.build import build_minutes
from minutes.notice import build_notice, notice_number
from minutes.render import render_notice
from minutes.render.layout import Form, PageBreak, Para, Signature, Table, minutes_blocks, notice_blocks
from tests.minutes_checks import check_html, check_pdf
from tests.unit.test_minutes_truth import CODE, FILING, LAND, LIVE, NUMBER, PEOPLE, Log, _opinion, _source, _text

APPLICANT = ms.Person(user_id=8, display_name="张峰", organisation_credit_code="X")
AGENT = ms.Person(user_id=9, display_name="周代办", title="小湾镇为民服务中心代办员")
AGENCY = m.Agency(agent="周代办", title="小湾镇为民服务中心代办员", document_no="凤代办委〔2026〕7号")
CONDITIONS = ["取得排污许可证后方可开工；", "送出线路路径须经电力部门审查。", "  "]


def _with(source: ms.MinutesSource, **changes: object) -> ms.MinutesSource:
    return source.model_copy(update=changes)


def _joined(log: Log, person: ms.Person, capacity: str, unit: str) -> Log:
    return log.add(person.user_id, "participant_joined", participant_id=f"p{person.user_id}",
                   user_id=person.user_id, display_name=person.display_name, unit=unit, capacity=capacity,
                   department_id=None, post=None, token_id=None, via="session")


def _requested(log: Log, request_id: str, item: str, department: str, opinion_id: str | None,
               days: int = 5, project_code: str = CODE) -> Log:
    return log.add(2, "material_requested", request_id=request_id, opinion_id=opinion_id, project_code=project_code,
                   item_name=item, department_code=department, material=f"材料{request_id}",
                   detail="附说明。", due_working_days=days)


# ------------------------------------------------------------------ the 纪要


def test_conditions_are_numbered_each_on_a_line_of_their_own() -> None:
    log = Log().live().join(2, 11, "A").open(FILING, 1)
    basis = "《企业投资项目核准和备案管理条例》"
    log.add(2, "opinion_submitted", **{**_opinion(FILING, "FGJ", "A", "conditional", "附条件同意。"),
                                        "conditions": CONDITIONS, "legal_basis": basis})
    minutes = build_minutes(_source(log.end(at=30), members=("FGJ",)), number=NUMBER)
    blocks = [b for b in minutes_blocks(minutes) if isinstance(b, Para)]
    head = next(n for n, b in enumerate(blocks) if b.label == "县发改局（王发改，A岗）：")
    assert blocks[head].text == "附条件同意。条件如下："
    assert [b.text for b in blocks[head + 1:head + 4]] == [
        "1.取得排污许可证后方可开工；", "2.送出线路路径须经电力部门审查。", f"依据：{basis}。"]
    assert not re.search(r"开工[；;]?2\.", _text(minutes).replace("\n", "|"))


def test_an_opinion_without_conditions_reads_as_one_paragraph() -> None:
    log = Log().live().join(2, 11, "A").open(FILING, 1)
    log.add(2, "opinion_submitted", **{**_opinion(FILING, "FGJ", "A", "disagree", "不同意。"),
                                        "reasons": "不符合规划。"})
    minutes = build_minutes(_source(log.end(at=30), members=("FGJ",)), number=NUMBER)
    [para] = [b for b in minutes_blocks(minutes) if isinstance(b, Para) and b.label == "县发改局（王发改，A岗）："]
    assert para.text == "不同意。理由：不符合规划。"


def test_recorder_and_compiler_are_named_else_the_issuing_office() -> None:
    log = Log().live().end(at=5)
    recorder = ms.Person(user_id=6, display_name="李春燕", title="副主任")
    source = _source(log)
    named = build_minutes(_with(source, meeting=source.meeting.model_copy(update={"recorder": recorder}),
                                compilers=(PEOPLE[1], PEOPLE[1])), number=NUMBER)
    assert (named.recorder, named.compiler) == ("李春燕", "李主任")
    assert "记录人：李春燕；整理人：李主任。" in _text(named)
    unnamed = build_minutes(source, number=NUMBER)
    assert (unnamed.recorder, unnamed.compiler) == ("并联审批办公室", "并联审批办公室")


def test_a_site_with_poor_video_is_noted_on_its_attendance_line_in_whole_minutes() -> None:
    log = Log().live().join(2, 11, "A").join(4, 12, "A")

    def link(type: str, at: float, since: float) -> None:
        log.add(None, type, at=at, participant_id="p2", user_id=2, since=(LIVE + timedelta(minutes=since)).isoformat(),
                layer=0, wanted=2, layers=3, reason="loss")

    link("link_degraded", at=5, since=4.8)
    link("link_recovered", at=7, since=4.8)  # 2 min 12 s
    link("link_degraded", at=20, since=19.9)  # still poor when the meeting ends: counts to the end
    minutes = build_minutes(_source(log.end(at=22), members=("FGJ", "ZRJ")), number=NUMBER)
    people = {a.name: a.poor_link_minutes for unit in minutes.attendance.present for a in unit.people}
    assert people == {"王发改": 5, "钱自然": 0}  # 2.2 + 2.1 minutes, rounded up
    assert "王发改（A岗，网络不佳5分钟）" in _text(minutes)
    assert "钱自然（A岗）" in _text(minutes)


def test_what_the_applicant_presented_and_said_is_summarised_with_the_case() -> None:
    log = _joined(Log().live().join(2, 11, "A"), APPLICANT, "applicant", "某公司")
    log.add(8, "presentation_started", title="某项目情况汇报", file_name="汇报.pdf", page_count=18)
    log.add(8, "presentation_stopped", title="某项目情况汇报")
    log.add(8, "presentation_started", title="某项目情况汇报", file_name="汇报.pdf", page_count=18)  # again: once
    log.add(None, "speaking_started", participant_id="p8", user_id=8, display_name="张峰",
            summary="汇报项目建设背景和投资。")
    # a department's presentation and words are not the applicant's
    log.add(2, "presentation_started", title="县发改局审查要点", file_name="要点.pdf", page_count=3)
    log.add(None, "speaking_started", participant_id="p2", user_id=2, display_name="王发改", summary="说明审查要点。")
    log.add(None, "speaking_started", participant_id="p8", user_id=8, display_name="张峰", summary="")  # no gist
    log.add(None, "speaking_started", participant_id="p8", user_id=8, display_name="张峰",
            summary="表示按期补正材料")
    minutes = build_minutes(_with(_source(log.end(at=30)), people=(*PEOPLE.values(), APPLICANT)), number=NUMBER)
    assert [(p.presenter, p.unit, p.title, p.page_count, p.project_codes) for p in minutes.presentations] == [
        ("张峰", "某公司", "某项目情况汇报", 18, [CODE])]
    assert [(s.speaker, s.summary) for s in minutes.statements] == [
        ("张峰", "汇报项目建设背景和投资。"), ("张峰", "表示按期补正材料")]
    assert ("项目单位汇报：张峰（某公司）展示《某项目情况汇报》（共18页）汇报项目情况。"
            "张峰发言：汇报项目建设背景和投资；表示按期补正材料。") in _text(minutes)
    assert "审查要点" not in _text(minutes)


def test_in_a_joint_meeting_each_case_gets_its_own_applicants_words() -> None:
    other = ms.Case(project_code="2611-530921-04-01-600001", name="另一项目", applicant_name="另一公司",
                    applicant_credit_code="Y", location="凤庆县", total_investment="1.00", scale_content="",
                    category="filing", agency=AGENCY, agent_user_id=9)
    guest = ms.Person(user_id=10, display_name="来宾")
    log = _joined(_joined(_joined(Log().live(), APPLICANT, "applicant", "某公司"), AGENT, "agent", "代办"),
                  guest, "applicant", "不明单位")
    for user, gist in ((8, "某公司的汇报。"), (9, "代办员的汇报。"), (10, "来宾的汇报。")):
        log.add(None, "speaking_started", participant_id=f"p{user}", user_id=user, display_name=str(user),
                summary=gist)
    source = _source(log.end(at=30))
    minutes = build_minutes(_with(source, cases=(*source.cases, other), people=(*PEOPLE.values(), APPLICANT, AGENT,
                                                                                   guest)), number=NUMBER)
    assert [(s.unit, s.project_codes) for s in minutes.statements] == [
        ("某公司", [CODE]), ("另一公司委托代办员", [other.project_code]), ("不明单位", [])]
    text = _text(minutes)
    assert "项目单位汇报：8发言：某公司的汇报。" in text and "项目单位汇报：9发言：代办员的汇报。" in text
    assert "申请方汇报：10发言：来宾的汇报。" in text
    assert "申请单位委托代办员周代办（小湾镇为民服务中心代办员，委托书凤代办委〔2026〕7号）全程代办" in text


# ------------------------------------------------------------------ the 一次性告知书


@pytest.mark.parametrize(("number", "serial", "expected"), [
    ("凤联审纪〔2026〕21号", None, "凤联审告〔2026〕21号"),
    ("凤联审纪〔2026〕21号", 2, "凤联审告〔2026〕21-2号"),
    ("凤联审纪〔2026〕（草稿）", None, "凤联审告〔2026〕（草稿）"),
    ("N〔2026〕1号", None, "N告〔2026〕1号"),
])
def test_the_notice_number_is_derived_from_the_minutes_number(number: str, serial: int | None,
                                                              expected: str) -> None:
    assert notice_number(number, serial) == expected


def _notice_source(*, agency: bool = False, telephone: str = "0883-6123456") -> ms.MinutesSource:
    log = Log().live().join(2, 11, "A").join(4, 12, "A").open(LAND, 2)
    log.add(4, "opinion_submitted", **{**_opinion(LAND, "ZRJ", "A", "disagree", "不同意现选址。"),
                                       "legal_basis": "《中华人民共和国土地管理法》第三十五条"})
    log.add(2, "opinion_submitted", **{**_opinion(LAND, "FGJ", "A", "agree", "同意。"), "legal_basis": "备案条例"})
    _requested(log, "mr-1", LAND, "ZRJ", f"op-{LAND}-ZRJ", days=10)
    _requested(log, "mr-2", LAND, "FGJ", None, days=3)  # no opinion named: the department's opinion on the item
    _requested(log, "mr-3", LAND, "CITY", None, days=400)  # the city gave none; due in a year not confirmed
    source = _source(log.end(at=30))
    case = source.cases[0].model_copy(update={"agency": AGENCY if agency else None})
    return _with(source, cases=(case,), centre=source.centre.model_copy(update={"telephone": telephone}))


def test_materials_carry_the_legal_basis_of_their_opinion_else_the_departments() -> None:
    minutes = build_minutes(_notice_source(), number="凤联审纪〔2026〕21号")
    assert [(x.request_id, x.legal_basis) for x in minutes.materials] == [
        ("mr-1", "《中华人民共和国土地管理法》第三十五条"), ("mr-2", "备案条例"), ("mr-3", "")]
    assert [c.notice_number for c in minutes.cases] == ["凤联审告〔2026〕21号"]
    assert minutes.contact_phone == "0883-6123456"


def test_the_notice_tells_the_applicant_everything_and_ends_with_its_receipt() -> None:
    minutes = build_minutes(_notice_source(agency=True), number="凤联审纪〔2026〕21号")
    blocks = notice_blocks(build_notice(minutes))
    paras = "\n".join(f"{b.label}{b.text}" for b in blocks if isinstance(b, Para))
    assert "凤联审告〔2026〕21号" in [getattr(b, "text", "") for b in blocks]
    assert "某公司（代办员：周代办）：" in paras
    assert f"某项目（项目代码{CODE}）中1个审批事项需补正以下3项材料" in paras
    assert "联系电话：0883-6123456" in paras and "暂定" in paras
    [table] = [b for b in blocks if isinstance(b, Table)]
    assert table.headers[-3:] == ("补正材料及要求", "补正期限", "依据")
    assert [row[-1] for row in table.rows] == ["《中华人民共和国土地管理法》第三十五条", "备案条例", ""]
    assert table.rows[0][-2] == "10个工作日内（2026年12月16日前）"
    assert table.rows[2][-2].endswith("（暂定，该年度节假日安排未确认）")
    assert isinstance(blocks[-2], PageBreak) and isinstance(blocks[-3], Signature)
    receipt = blocks[-1]
    assert isinstance(receipt, Form) and receipt.caption == "送达回证"
    fields = dict(receipt.rows)
    assert [label for label, _ in receipt.rows] == [
        "送达文书名称及文号", "受送达人", "送达地点", "送达方式", "签收人签名", "签收日期", "送达人", "送达日期",
        "备注"]
    assert fields["送达文书名称及文号"] == "补正材料一次性告知书（凤联审告〔2026〕21号）"
    assert fields["受送达人"] == "某公司" and "周代办" in fields["备注"]


def test_without_a_telephone_the_notice_prints_none() -> None:
    minutes = build_minutes(_notice_source(telephone=""), number="凤联审纪〔2026〕21号")
    paras = [b.text for b in notice_blocks(build_notice(minutes)) if isinstance(b, Para)]
    assert "如有疑问，请与各提出部门或并联审批办公室联系。" in paras


def test_each_applicant_of_a_joint_meeting_gets_a_letter_and_keeps_its_number_when_cut_down() -> None:
    other = ms.Case(project_code="2611-530921-04-01-600001", name="另一项目", applicant_name="另一公司",
                    applicant_credit_code="Y", location="凤庆县", total_investment="1.00", scale_content="",
                    category="filing")
    source = _notice_source()
    log = Log().live().join(2, 11, "A")
    _requested(log, "mr-9", "另一事项", "FGJ", None, project_code=other.project_code)
    source = _with(source, cases=(*source.cases, other), events=(*source.events, *(
        e.model_copy(update={"seq": e.seq + 100}) for e in log.events[2:])))
    minutes = build_minutes(source, number="凤联审纪〔2026〕21号")
    notice = build_notice(minutes)
    assert [(x.number, x.applicant, [mat.request_id for mat in x.materials]) for x in notice.letters] == [
        ("凤联审告〔2026〕21-1号", "某公司", ["mr-1", "mr-2", "mr-3"]),
        ("凤联审告〔2026〕21-2号", "另一公司", ["mr-9"])]
    blocks = notice_blocks(notice)
    assert [type(b).__name__ for b in blocks].count("PageBreak") == 3  # receipt, next letter, its receipt
    cut = minutes.model_copy(update={"cases": minutes.cases[1:], "materials": [x for x in minutes.materials
                                                                     if x.project_code == other.project_code]})
    [letter] = build_notice(cut).letters
    assert letter.number == "凤联审告〔2026〕21-2号" and letter.applicant == "另一公司"


def _page_texts(data: bytes) -> list[str]:
    """The text of each page as poppler reads it (pypdf cannot map the derived 仿宋 face's glyphs
    back to characters; pdftotext uses the font's ToUnicode map as a PDF viewer does)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(data)
        pdf.flush()
        text = subprocess.run(["pdftotext", pdf.name, "-"], check=True, capture_output=True,
                              text=True).stdout
    pages = text.split("\f")
    assert len(pages) - 1 == len(pypdf.PdfReader(io.BytesIO(data)).pages)  # pdftotext ends each page with \f
    return [re.sub(r"\s+", "", page) for page in pages[:-1]]


def test_the_printed_notice_has_the_receipt_alone_on_its_last_page() -> None:
    notice = build_notice(build_minutes(_notice_source(agency=True), number="凤联审纪〔2026〕21号"))
    pdf = render_notice(notice, "pdf")
    check_pdf(pdf, [])  # A4, the text block, the folios
    *letter, last = _page_texts(pdf)
    for phrase in ("凤联审告〔2026〕21号", CODE, "0883-6123456", "《中华人民共和国土地管理法》第三十五条"):
        assert phrase in "".join(letter), phrase
    assert last.startswith("送达回证") and "签收人签名" in last and "受送达人某公司" in last
    assert "补正材料清单" not in last and "一次性告知制度" not in last
    assert not any("送达回证" in page for page in letter)
    check_html(render_notice(notice, "html"), ["送达回证", "凤联审告〔2026〕21号", "0883-6123456"])
    document = Document(io.BytesIO(render_notice(notice, "docx")))
    body = document.element.body
    breaks = [br for br in body.iter(qn("w:br")) if br.get(qn("w:type")) == "page"]
    assert len(breaks) == 1
    receipt = document.tables[-1]
    assert [row.cells[0].text for row in receipt.rows][:2] == ["送达文书名称及文号", "受送达人"]
    # the page break comes after every paragraph of the letter and before the receipt's title
    texts = [p.text for p in document.paragraphs]
    assert texts.index("送达回证") > texts.index("并联审批办公室")
    assert "0883-6123456" in "".join(texts) and CODE in "".join(texts)
