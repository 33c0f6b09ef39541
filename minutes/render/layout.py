"""The minutes (and the 一次性告知书) as a sequence of blocks: the wording and order of the document, once.

HTML, PDF and DOCX all lay out the same blocks, so the three cannot say different things; each
renderer only decides fonts, spacing and markup. The wording follows the usual shape of a 纪要:
an opening paragraph, numbered parts (一、二、…), 出席/请假/列席 lines with their label set apart,
the distribution line and the issuer with the date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from minutes.model import Material, Minutes, Opinion
from minutes.notice import Notice

CN_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Title:
    text: str


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
    small: bool = False


@dataclass(frozen=True)
class Table:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Signature:
    issuer: str
    date: str


Block = Title | Number | Heading | Para | Table | Signature


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
    doc = _Parts([Title(minutes.title), Number(minutes.number)])
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
    if minutes.confirmations:
        doc.blocks.append(Para("、".join(f"{c.department}（{c.person}，{cn_date(c.at)}）"
                                        for c in minutes.confirmations), label="确认：", indent=False))
    doc.blocks.append(Para("、".join(minutes.distribution) + "。", label="分送：", indent=False))
    if minutes.source_log and minutes.source_log.head_hash:
        doc.blocks.append(Para(f"本纪要依据会议记录（共{minutes.source_log.events}条事件，"
                               f"末条哈希{minutes.source_log.head_hash}）生成。", indent=False, small=True))
    doc.blocks.append(Signature(minutes.issuer, cn_date(minutes.date)))
    return doc.blocks


def notice_blocks(notice: Notice) -> list[Block]:
    blocks: list[Block] = [Title(notice.title), Number(notice.number),
                           Para("、".join(notice.addressees) + "：", indent=False)]
    if not notice.materials:
        blocks.append(Para(f"{cn_date(notice.meeting_date)}召开的{notice.meeting_title}未提出需补正的材料。"))
    else:
        blocks.append(Para(
            f"根据《中华人民共和国行政许可法》第三十二条和本中心一次性告知制度，经{cn_date(notice.meeting_date)}"
            f"召开的{notice.meeting_title}审查，你单位申请的{len(notice.items)}个审批事项需补正以下"
            f"{len(notice.materials)}项材料。请按下列要求一次性补齐，于期限内送交政务服务中心综合受理窗口；"
            "补齐材料后，中止的审查时限自收到之日起恢复计算。"))
        blocks.append(materials_table(notice.materials, "补正材料清单"))
        blocks.append(Para("逾期未补正又无正当理由的，相关部门将依法作出处理。如有疑问，请与各提出部门或本中心联系。"))
    blocks.append(Signature(notice.issuer, cn_date(notice.meeting_date)))
    return blocks


def materials_table(materials: list[Material], caption: str) -> Table:
    rows = tuple((str(n), m.item_name, m.material, m.detail, m.department,
                  due_text(m.due_working_days, m.due_date, m.provisional))
                 for n, m in enumerate(materials, start=1))
    return Table(caption, ("序号", "审批事项", "补正材料", "具体要求", "提出部门", "补正期限"), rows)


def _opening(minutes: Minutes) -> str:
    when = f"{cn_date(minutes.start)}{cn_time(minutes.start)}"
    if minutes.end:
        when += f"至{cn_time(minutes.end)}"
    remote = [s for s in minutes.sites if not s.is_host]
    video = ("，通过视频会商系统连线" + "、".join(f"{s.name}（{s.level_label}级）" for s in remote)) if remote else ""
    cases = "、".join(c.name for c in minutes.cases)
    return (f"{when}，{minutes.chair_unit}{minutes.chair.title.removeprefix(minutes.chair_unit)}"
            f"{minutes.chair.name}在{minutes.place}主持召开{minutes.meeting_title}{video}，"
            f"对{cases}的{len(minutes.items)}个审批事项进行并联审查。现将会议议定事项纪要如下：")


def _cases(doc: _Parts, minutes: Minutes) -> None:
    doc.part("项目基本情况")
    for case in minutes.cases:
        doc.blocks.append(Para(
            f"{case.name}（项目代码{case.project_code}），申请单位{case.applicant}"
            f"（统一社会信用代码{case.applicant_credit_code}），建设地点{case.location}，"
            f"总投资{case.total_investment}万元，管理类别{case.category_label}"
            + (f"，所属行业{case.industry}" if case.industry else "") + "。"))
        doc.blocks.append(Para(case.scale_content, label="建设规模及内容："))


def _items(doc: _Parts, minutes: Minutes) -> None:
    doc.part("审查事项及部门意见")
    for n, item in enumerate(minutes.items, start=1):
        doc.blocks.append(Heading(2, f"（{cn_numeral(n)}）{item.name}"))
        doc.blocks.append(Para(
            f"主办部门{item.department}（{item.level_label}级），"
            + (f"{cn_date(item.accepted_on)}受理，" if item.accepted_on else "")
            + f"承诺时限{item.promised_limit_wd}个工作日（法定{item.statutory_limit_wd}个工作日）。"))
        doc.blocks += [_opinion(o) for o in item.opinions]
        doc.blocks += [Para(f"{a.statement}。", label=f"{a.department}：") for a in item.absent]
        if item.outcome:
            doc.blocks.append(Para(item.outcome, label="审查结果："))


def _opinion(opinion: Opinion) -> Para:
    who = "，".join(x for x in (opinion.given_by, opinion.post_label) if x)
    parts = [f"{opinion.kind_label}。" if not opinion.text.startswith(opinion.kind_label) else "",
             opinion.text]
    if opinion.conditions:
        parts.append("条件：" + "".join(f"{n}.{c}" for n, c in enumerate(opinion.conditions, start=1)))
    if opinion.reasons:
        parts.append(f"理由：{opinion.reasons}")
    if opinion.legal_basis:
        parts.append(f"依据：{opinion.legal_basis}。".replace("。。", "。"))
    if opinion.refer_to_name:
        parts.append(f"转报：{opinion.refer_to_name}。")
    if opinion.remedy_notice:
        parts.append(opinion.remedy_notice)
    if opinion.amendments:
        reasons = "；".join(a.reason for a in opinion.amendments)
        parts.append(f"（会中修改意见{len(opinion.amendments)}次，理由：{reasons}）")
    link = None
    if opinion.recording:
        link = (f"录像 {clock_offset(opinion.recording.offset_s)}", opinion.recording.url)
    return Para("".join(parts), label=f"{opinion.department}（{who}）：" if who else f"{opinion.department}：",
                link=link)


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
                                         f"代{person.stands_in_for}" if person.stands_in_for else "") if x)
            names.append(f"{person.name}（{extra}）" if extra else person.name)
        return f"{unit.name}{'、'.join(names)}"

    attendance = minutes.attendance
    chair = f"{minutes.chair_unit}{minutes.chair.name}（主持）"
    doc.blocks.append(Para("；".join([chair] + [people(u) for u in attendance.present]) + "。",
                           label="出席：", indent=False))
    if attendance.absent:
        doc.blocks.append(Para("；".join(f"{a.name}（{a.reason}）" for a in attendance.absent) + "。",
                               label="请假：", indent=False))
    if attendance.observers:
        doc.blocks.append(Para("；".join(people(u) for u in attendance.observers) + "。",
                               label="列席：", indent=False))
