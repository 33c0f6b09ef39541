"""The minutes (and the 一次性告知书) as a sequence of blocks: the wording and order of the document, once.

HTML, PDF and DOCX all lay out the same blocks, so the three cannot say different things; each
renderer only decides fonts, spacing and markup. The wording follows the usual shape of a 纪要:
an opening paragraph, numbered parts (一、二、…), 出席/请假/列席 lines with their label set apart,
the distribution line and the issuer with the date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from minutes.model import (
    Agency,
    Amendment,
    Case,
    CaseClock,
    Item,
    ItemClock,
    Material,
    Minutes,
    Opinion,
    Presentation,
    Statement,
)
from minutes.notice import Letter, Notice

CN_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Stamp:
    """A mark on every page (征求意见稿 on a version still open): a draft must not pass for the final."""

    text: str


@dataclass(frozen=True)
class Masthead:
    """版头 (GB/T 9704 §7.2, §10.2.1): the 纪要标志 in red, the document number, the red line."""

    mark: str
    number: str


@dataclass(frozen=True)
class Title:
    text: str
    note: str = ""
    """Centred under the title: the version and correction of a later version (（第2版，更正…）)."""


@dataclass(frozen=True)
class Number:
    text: str


@dataclass(frozen=True)
class Heading:
    level: int  # 1: 一、 2: （一）
    text: str


@dataclass(frozen=True)
class Para:
    text: str
    label: str = ""
    """Set apart before the text (黑体 in print): 出席：, 请假：, 条件：, ..."""
    link: tuple[str, str] | None = None
    """(text, url) of the recording moment, shown after the text."""
    indent: bool = True


@dataclass(frozen=True)
class Table:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Signature:
    issuer: str
    date: str


@dataclass(frozen=True)
class Imprint:
    """版记 (GB/T 9704 §7.4) at the foot of the last page, between separator lines: 分送, then the
    印发机关 and 印发日期. A 纪要 carries no signature: the 版记 says who issued it and when."""

    distribution: str
    printer: str
    date: str


@dataclass(frozen=True)
class PageBreak:
    """What follows starts a new page (the 送达回证 is a page of its own, to be signed and returned)."""


@dataclass(frozen=True)
class Form:
    """A form to fill in by hand: a caption set as its title, and rows of a label and the text
    printed beside it (blank where the signer writes)."""

    caption: str
    rows: tuple[tuple[str, str], ...]


Block = Stamp | Masthead | Title | Number | Heading | Para | Table | Signature | Imprint | PageBreak | Form
_OPEN = ("draft", "awaiting_confirmation")


@dataclass
class _Parts:
    """Numbers the level-1 headings as they are added."""

    blocks: list[Block] = field(default_factory=list)
    count: int = 0

    def part(self, text: str) -> None:
        self.blocks.append(Heading(1, f"{cn_numeral(self.count + 1)}、{text}"))
        self.count += 1


def cn_numeral(n: int) -> str:
    """1..99 in Chinese numerals (一, 十一, 二十三) for part numbers."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, units = divmod(n, 10)
    return f"{CN_NUMERALS[tens - 1] if tens > 1 else ''}十{CN_NUMERALS[units - 1] if units else ''}"


def cn_date(iso: str) -> str:
    """2026-11-27 -> 2026年11月27日."""
    day = date.fromisoformat(iso[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def cn_time(iso: str) -> str:
    """2026-11-20T09:30 -> 9时30分."""
    moment = datetime.fromisoformat(iso)
    return f"{moment.hour}时{moment.minute:02d}分"


def due_text(working_days: int, due_date: str, provisional: bool) -> str:
    note = "（暂定，该年度节假日安排未确认）" if provisional else ""
    return f"{working_days}个工作日内（{cn_date(due_date)}前）{note}"


def clock_offset(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def minutes_blocks(minutes: Minutes) -> list[Block]:
    doc = _Parts(_head(minutes))
    doc.blocks.append(Para(_opening(minutes)))
    if minutes.summary:
        doc.blocks.append(Para(minutes.summary, label="会议小结："))
    _cases(doc, minutes)
    _items(doc, minutes)
    if minutes.decisions:
        doc.part("议定事项")
        doc.blocks += [Para(f"（{cn_numeral(n)}）{d.text}") for n, d in enumerate(minutes.decisions, start=1)]
    doc.part("需补正材料（一次性告知）")
    if minutes.materials:
        doc.blocks.append(materials_table(minutes.materials, "需补正材料清单"))
        doc.blocks.append(Para("以上材料由会议主办单位汇总形成一次性告知书送达申请人，申请人补齐后审查时限继续计算。"))
    else:
        doc.blocks.append(Para("无。"))
    if minutes.tasks:
        doc.part("任务分工")
        for group in minutes.tasks:
            for task in group.tasks:
                doc.blocks.append(Para(f"{task.text.rstrip('。；;.')}{_about(task.item_name)}，"
                                       f"{due_text(task.due_working_days, task.due_date, task.provisional)}办结。",
                                       label=f"{group.department}："))
    if minutes.referrals:
        doc.part("需转报上级事项")
        doc.blocks += [Para(f"{r.item_name}：{r.from_department}意见需转报{r.to_department or '上级部门'}。{r.text}")
                       for r in minutes.referrals]
    doc.part("审批时限")
    if minutes.clock:
        doc.blocks += [Para(f"{c.item_name}（{c.department}）：自{cn_date(c.effective_date)}起{c.label}，"
                            f"通知书文号{c.notice_no}。{c.reason}") for c in minutes.clock]
    else:
        doc.blocks.append(Para("本次会议未中止或恢复审查时限。"))
    doc.blocks.append(Para(minutes.absent_policy_statement))
    _recordings(doc, minutes)
    _attendance(doc, minutes)
    doc.blocks.append(Para(f"{minutes.recorder or minutes.issuer}；整理人：{minutes.compiler or minutes.issuer}。",
                           label="记录人：", indent=False))
    if minutes.confirmations:
        doc.blocks.append(Para("、".join(f"{c.department}（{c.person}，{cn_date(c.at)}）"
                                        for c in minutes.confirmations), label="确认：", indent=False))
    doc.blocks.append(Imprint("、".join(minutes.distribution) + "。", minutes.printer or minutes.issuer,
                              cn_date(minutes.issued_on or minutes.date)))
    return doc.blocks


def _head(minutes: Minutes) -> list[Block]:
    """The stamp of an open or superseded version, the 版头 (or, without a 纪要标志, the number under
    the title), and the title with the note a later version carries. The integrity data of the
    record (event count, hash) is no part of the official text: see integrity_note."""
    stamp: list[Block] = []
    if minutes.status in _OPEN:
        stamp = [Stamp("征求意见稿")]
    elif minutes.status == "superseded":
        stamp = [Stamp("已更正作废")]
    note = ""
    if minutes.version > 1:
        because = f"更正：{minutes.correction.rstrip('。')}" if minutes.correction else "更正稿"
        note = f"（第{minutes.version}版，{because}；原第{minutes.version - 1}版同时作废）"
    title = Title(minutes.title, note)
    if minutes.masthead:
        return [*stamp, Masthead(minutes.masthead, minutes.number), title]
    return [*stamp, title, Number(minutes.number)]


def integrity_note(minutes: Minutes) -> str:
    """Where the minutes come from, for the PDF's metadata and the web page (not the paper)."""
    if not (minutes.source_log and minutes.source_log.head_hash):
        return ""
    return (f"本纪要依据会议记录生成：共{minutes.source_log.events}条事件，末条哈希{minutes.source_log.head_hash} / "
            f"built from the meeting record: {minutes.source_log.events} events, head hash "
            f"{minutes.source_log.head_hash}")


def notice_blocks(notice: Notice) -> list[Block]:
    """Each applicant's letter, then its 送达回证 on a page of its own; the next letter starts a
    new page."""
    blocks: list[Block] = []
    for n, letter in enumerate(notice.letters):
        blocks += [PageBreak()] if n else []
        blocks += _letter(notice, letter)
        blocks += [PageBreak(), _receipt(notice, letter)]
    return blocks


def _letter(notice: Notice, letter: Letter) -> list[Block]:
    """行政许可法 §32: to whom, which project, every material with its department, due date and
    basis, where to hand it in, whom to call; the issuer and the date."""
    agent = f"（代办员：{letter.agency.agent}）" if letter.agency else ""
    projects = "、".join(f"{c.name}（项目代码{c.project_code}）" for c in letter.cases)
    blocks: list[Block] = [Title(notice.title), Number(letter.number),
                           Para(f"{letter.applicant}{agent}：", indent=False)]
    meeting = f"{cn_date(notice.meeting_date)}召开的{notice.meeting_title}"
    if not letter.materials:
        blocks.append(Para(f"你单位申请的{projects}，经{meeting}审查，未提出需补正的材料。"))
    else:
        blocks.append(Para(
            f"根据《中华人民共和国行政许可法》第三十二条和本中心一次性告知制度，经{meeting}审查，你单位申请的"
            f"{projects}中{len(letter.items)}个审批事项需补正以下{len(letter.materials)}项材料。请按下列要求"
            "一次性补齐，于期限内送交政务服务中心综合受理窗口；补齐材料后，中止的审查时限自收到之日起恢复计算。"))
        blocks.append(_notice_table(letter.materials))
        note = "补正期限以工作日计，自会议之日的次日起算。"
        if any(m.provisional for m in letter.materials):
            note += "标注“暂定”的日期所在年度节假日安排尚未确认，以国务院公布的安排为准。"
        blocks.append(Para(note))
        blocks.append(Para("逾期未补正又无正当理由的，相关部门将依法作出处理。"))
    phone = f"（联系电话：{notice.telephone}）" if notice.telephone else ""
    blocks.append(Para(f"如有疑问，请与各提出部门或{notice.issuer}联系{phone}。"))
    blocks.append(Signature(notice.issuer, cn_date(notice.issued_on)))
    return blocks


def _notice_table(materials: list[Material]) -> Table:
    """The materials with why each is asked for (the columns fall on the widths print.css gives
    the materials table: the material and its requirements get the widest)."""
    rows = tuple((str(n), m.item_name, m.department, f"{m.material}：{m.detail}" if m.detail else m.material,
                  due_text(m.due_working_days, m.due_date, m.provisional), m.legal_basis)
                 for n, m in enumerate(materials, start=1))
    return Table("补正材料清单", ("序号", "审批事项", "提出部门", "补正材料及要求", "补正期限", "依据"), rows)


def _receipt(notice: Notice, letter: Letter) -> Form:
    """送达回证: what was served on whom, where, how, who signed for it and when, who served it and
    when; the applicant's agent may sign for it under the commission. Blank cells are written in by
    hand (no spaces stand in for blanks: the 仿宋 face has no space glyph)."""
    remark = f"申请人委托代办员{_agency(letter.agency)}，可由代办员代为签收。" if letter.agency else ""
    return Form("送达回证", (
        ("送达文书名称及文号", f"{notice.title}（{letter.number}）"),
        ("受送达人", letter.applicant),
        ("送达地点", ""),
        ("送达方式", "□直接送达、□邮寄送达、□电子送达"),
        ("签收人签名", ""),
        ("签收日期", ""),
        ("送达人", ""),
        ("送达日期", ""),
        ("备注", remark),
    ))


def _agency(agency: Agency) -> str:
    """周代办（洛党镇为民服务中心代办员，委托书凤代办委〔2026〕7号）."""
    facts = "，".join(x for x in (agency.title, f"委托书{agency.document_no}" if agency.document_no else "") if x)
    return f"{agency.agent}（{facts}）" if facts else agency.agent


def materials_table(materials: list[Material], caption: str) -> Table:
    rows = tuple((str(n), m.item_name, m.material, m.detail, m.department,
                  due_text(m.due_working_days, m.due_date, m.provisional))
                 for n, m in enumerate(materials, start=1))
    return Table(caption, ("序号", "审批事项", "补正材料", "具体要求", "提出部门", "补正期限"), rows)


def _opening(minutes: Minutes) -> str:
    remote = [s for s in minutes.sites if not s.is_host]
    video = ("，通过视频会商系统连线" + "、".join(f"{s.name}（{s.level_label}级）" for s in remote)) if remote else ""
    cases = "、".join(c.name for c in minutes.cases)
    reviewed = sum(1 for item in minutes.items if item.reviewed)
    if reviewed:
        others = len(minutes.items) - reviewed
        what = (f"对{cases}的{reviewed}个审批事项进行并联审查" + (f"（另有{others}个事项未审议）" if others else "")
                + "。现将会议议定事项纪要如下：")
    else:
        what = f"{cases}的{len(minutes.items)}个审批事项均未审议。现将会议情况纪要如下："
    return (f"{meeting_time(minutes)}，{minutes.chair_unit}{minutes.chair.title.removeprefix(minutes.chair_unit)}"
            f"{minutes.chair.name}在{minutes.place}主持召开{minutes.meeting_title}{video}，{what}")


def meeting_time(minutes: Minutes) -> str:
    """When the meeting was held, as the record has it: from its start to its end; only the start
    when it has no end or ended the minute it started; the planned time, said to be planned, when
    the record has no start."""
    start = f"{cn_date(minutes.start)}{cn_time(minutes.start)}"
    if minutes.start_planned:
        return f"{start}（计划时间）"
    if not minutes.end or minutes.end == minutes.start:
        return start
    same_day = minutes.end[:10] == minutes.start[:10]
    return f"{start}至{'' if same_day else cn_date(minutes.end)}{cn_time(minutes.end)}"


def _cases(doc: _Parts, minutes: Minutes) -> None:
    doc.part("项目基本情况")
    for case in minutes.cases:
        doc.blocks.append(Para(
            f"{case.name}（项目代码{case.project_code}），申请单位{case.applicant}"
            f"（统一社会信用代码{case.applicant_credit_code}），建设地点{case.location}，"
            f"总投资{case.total_investment}万元，管理类别{case.category_label}"
            + (f"，所属行业{case.industry}" if case.industry else "")
            + (f"；申请单位委托代办员{_agency(case.agency)}全程代办" if case.agency else "") + "。"))
        doc.blocks.append(Para(case.scale_content, label="建设规模及内容："))
        if case.clock:
            doc.blocks.append(Para(_case_clock(case.clock, case.category_label, minutes.date), label="办理时限："))
        presented = _presented(case, minutes.presentations, minutes.statements)
        if presented:
            doc.blocks.append(Para(presented, label="项目单位汇报："))
    unplaced = _presented(None, minutes.presentations, minutes.statements)  # (only in a joint meeting)
    if unplaced:
        doc.blocks.append(Para(unplaced, label="申请方汇报："))


def _presented(case: Case | None, presentations: list[Presentation], statements: list[Statement]) -> str:
    """What the applicant's side presented on the case (None: on no case that can be named) and
    the gist of what it said, in one short paragraph."""
    def about(codes: list[str]) -> bool:
        return case.project_code in codes if case else not codes

    shown = [p for p in presentations if about(p.project_codes)]
    said: dict[str, list[str]] = {}
    for statement in statements:
        if about(statement.project_codes):
            said.setdefault(statement.speaker, []).append(statement.summary.rstrip("。；;. "))
    parts = [f"{p.presenter}（{p.unit}）展示《{p.title}》（共{p.page_count}页）汇报项目情况。" for p in shown]
    parts += [f"{speaker}发言：{'；'.join(gists)}。" for speaker, gists in said.items()]
    return "".join(parts)


def _case_clock(clock: CaseClock, category_label: str, as_of: str) -> str:
    """The case's clock against the centre's promise, on the meeting's date."""
    promise = f"本中心承诺{category_label}项目{clock.limit_wd}个工作日内办结"
    if clock.start is None:
        return f"{promise}，{clock.state_label}。"
    deadline = f"，承诺办结日{cn_date(clock.deadline)}" if clock.deadline and clock.state != "decided" else ""
    return (f"{promise}，自{cn_date(clock.start)}受理起计，截至{cn_date(as_of)}{clock_figures(clock)}"
            f"{deadline}。")


def clock_figures(clock: CaseClock | ItemClock) -> str:
    """Used and left (or overdue) working days, and where the clock stands; the figures are the
    server's one clock computation, never counted again here."""
    if clock.used is None or clock.left is None:
        return clock.state_label
    if clock.state == "decided":
        figures = f"用时{clock.used}个工作日" + (f"，超期{-clock.left}个工作日" if clock.left < 0 else "")
    else:
        figures = f"已用{clock.used}个工作日，" + (f"超期{-clock.left}个工作日" if clock.left < 0
                                                    else f"剩余{clock.left}个工作日")
    note = "（暂定，该年度节假日安排未确认）" if clock.provisional else ""
    return f"{clock.state_label}，{figures}{note}"


def _items(doc: _Parts, minutes: Minutes) -> None:
    """The reviewed items with every department's opinion (or what stands for a missing one),
    then the items the meeting never opened: not reviewed, carried to follow-up, no opinion deemed."""
    doc.part("审查事项及部门意见")
    reviewed = [item for item in minutes.items if item.reviewed]
    for n, item in enumerate(reviewed, start=1):
        doc.blocks.append(Heading(2, f"（{cn_numeral(n)}）{item.name}"))
        doc.blocks.append(Para(_item_facts(item)))
        doc.blocks += [block for o in item.opinions for block in _opinion(o)]
        doc.blocks += [Para(f"{a.statement}。", label=f"{a.department}：") for a in item.absent]
        if item.outcome:
            doc.blocks.append(Para(item.outcome, label="审查结果："))
    if not reviewed:
        doc.blocks.append(Para("本次会议未审议审批事项。"))
    not_reviewed = [item for item in minutes.items if not item.reviewed]
    if not_reviewed:
        doc.part("未审议事项")
        for n, item in enumerate(not_reviewed, start=1):
            doc.blocks.append(Heading(2, f"（{cn_numeral(n)}）{item.name}"))
            doc.blocks.append(Para(f"{_item_facts(item)}本次会议未审议，未形成会议意见，转会后跟进办理。"))
            doc.blocks += [block for o in item.opinions for block in _opinion(o)]


def _item_facts(item: Item) -> str:
    clock = f"截至会议当日{clock_figures(item.clock)}。" if item.clock else ""
    return (f"主办部门{item.department}（{item.level_label}级），"
            + (f"{cn_date(item.accepted_on)}受理，" if item.accepted_on else "")
            + f"承诺时限{item.promised_limit_wd}个工作日（法定{item.statutory_limit_wd}个工作日）。{clock}")


def _opinion(opinion: Opinion) -> list[Block]:
    """The opinion under its department and who gave it; its conditions each on a line of their
    own, numbered 1. 2. (GB/T 9704 §7.3.3: the level under （一）); then reasons, basis, referral,
    the remedy notice and the amendments."""
    who = "，".join(x for x in (opinion.given_by, opinion.post_label) if x)
    head = "".join([f"{opinion.kind_label}。" if not opinion.text.startswith(opinion.kind_label) else "",
                    opinion.text, "条件如下：" if opinion.conditions else ""])
    link = None
    if opinion.recording:
        link = (f"录像 {clock_offset(opinion.recording.offset_s)}", opinion.recording.url)
    label = f"{opinion.department}（{who}）：" if who else f"{opinion.department}："
    blocks: list[Block] = [Para(head, label=label, link=link)]
    conditions = [c.strip().rstrip("。；;.，, ") for c in opinion.conditions if c.strip()]
    blocks += [Para(f"{n}.{c}{'。' if n == len(conditions) else '；'}")
               for n, c in enumerate(conditions, start=1)]
    rest = []
    if opinion.reasons:
        rest.append(f"理由：{opinion.reasons}")
    if opinion.legal_basis:
        rest.append(f"依据：{opinion.legal_basis}。".replace("。。", "。"))
    if opinion.refer_to_name:
        rest.append(f"转报：{opinion.refer_to_name}。")
    if opinion.remedy_notice:
        rest.append(opinion.remedy_notice)
    rest += [_amendment(a) for a in opinion.amendments]
    if not rest:
        return blocks
    if not conditions:  # one paragraph, as before: the opinion reads on
        return [Para(head + "".join(rest), label=label, link=link)]
    return [*blocks, Para("".join(rest))]


def _amendment(amendment: Amendment) -> str:
    """（会中修改：…） or （会后修改：…）: when (local time), by whom with which post, and why."""
    who = f"{amendment.by}（{amendment.post_label}）" if amendment.post_label else amendment.by
    facts = [f"{cn_date(amendment.at)}{cn_time(amendment.at)}", who, f"理由：{amendment.reason}"]
    return f"（{amendment.phase_label}修改：{'，'.join(x for x in facts if x)}）"


def _about(item_name: str | None) -> str:
    return f"（{item_name}）" if item_name else ""


def _recordings(doc: _Parts, minutes: Minutes) -> None:
    for span in minutes.recordings:
        until = f"至{cn_time(span.stopped_at)}" if span.stopped_at else ""
        doc.blocks.append(Para(f"会议录像{span.recording_key}（{cn_time(span.started_at)}{until}）。"
                               f"{span.consent_notice}", label="录像："))


def _attendance(doc: _Parts, minutes: Minutes) -> None:
    def people(unit) -> str:
        names = []
        for person in unit.people:
            extra = "，".join(x for x in (person.post_label,
                                         f"代{person.stands_in_for}" if person.stands_in_for else "",
                                         f"网络不佳{person.poor_link_minutes}分钟" if person.poor_link_minutes else "")
                              if x)
            names.append(f"{person.name}（{extra}）" if extra else person.name)
        return f"{unit.name}{'、'.join(names)}"

    attendance = minutes.attendance
    chair = f"{minutes.chair_unit}{minutes.chair.name}（主持）"
    doc.blocks.append(Para("；".join([chair] + [people(u) for u in attendance.present]) + "。",
                           label="出席：", indent=False))
    if attendance.absent:
        doc.blocks.append(Para("；".join(f"{a.name}（{a.reason.rstrip('。')}）" for a in attendance.absent) + "。"
                               + "".join(a.statement for a in attendance.absent), label="请假：", indent=False))
    if attendance.observers:
        doc.blocks.append(Para("；".join(people(u) for u in attendance.observers) + "。",
                               label="列席：", indent=False))
