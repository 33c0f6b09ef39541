"""The shared vocabularies of the record, each value with its Chinese and English label.

Declared here, once, because the record's events carry these values and every reader of the record
(the live room, the minutes, the recording chapters, the archive) prints them: a label copied into
a reader drifts from the one the room shows. The server's domain modules import them from here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """A string enum whose members also carry a Chinese and an English label.

    Declaring the labels with each member (``MEMBER = "value", "中文", "English"``) means a member
    cannot be added without them, and no label table can drift out of step with its enum. The
    value (stored in the database, sent over the API, written in the event log) stays a plain ASCII
    string, and lookups by value work as for any enum: ``Post("A")``.
    """

    _value_: str
    label_zh: str
    label_en: str

    def __new__(cls, value: str, label_zh: str = "", label_en: str = "") -> Self:
        # Runs only while the class body defines members; lookups by value go through
        # Enum.__new__. The label defaults exist so that type checkers accept Post("A"); a
        # member declared without both labels fails at import.
        if not (label_zh and label_en):
            raise TypeError(f"{cls.__name__} member {value!r} needs a Chinese and an English label")
        member = str.__new__(cls, value)
        member._value_ = value
        member.label_zh = label_zh
        member.label_en = label_en
        return member


class OpinionKind(LabelledEnum):
    """The five answers a department may give (local practice, brief §4)."""

    AGREE = "agree", "同意", "agree"
    AGREE_IN_PRINCIPLE = "agree_in_principle", "原则同意", "agree in principle"
    CONDITIONAL = "conditional", "附条件同意", "agree with conditions"
    DISAGREE = "disagree", "不同意", "disagree"
    REFER_UPWARD = "refer_upward", "需转报上级", "refer to a higher level"


# 行政许可法 §38 ¶2: a refusal must tell the applicant of the right to reconsideration or
# litigation; the notice travels with the refusal in the record and wherever it is printed.
REMEDY_NOTICE_ZH = "申请人如对本意见不服，享有依法申请行政复议或者提起行政诉讼的权利。"
REMEDY_NOTICE_EN = (
    "If the applicant disagrees with this opinion, it has the right to apply for administrative "
    "reconsideration or to bring an administrative lawsuit in accordance with the law."
)


def remedy_notice(kind: OpinionKind) -> str:
    """The notice an opinion of this kind carries: the §38 notice for a refusal, else nothing."""
    return REMEDY_NOTICE_ZH if kind is OpinionKind.DISAGREE else ""


class Post(LabelledEnum):
    """A department's A post and its backup B, who acts with A's authority when A is away
    (AB工作制); the record says which of them attended and acted."""

    A = "A", "A岗", "post A"
    B = "B", "B岗", "post B (backup)"


class Capacity(LabelledEnum):
    """In which capacity someone takes part in a meeting: the chair conducts it, members (出席)
    give opinions, observers and the applicant's side sit in (列席)."""

    CHAIR = "chair", "主持人", "chair"
    MEMBER = "member", "出席", "member"
    OBSERVER = "observer", "列席", "observer"
    APPLICANT = "applicant", "申请单位", "applicant"
    AGENT = "agent", "代办员", "agent"


class MeetingStatus(LabelledEnum):
    """Where a meeting is in its life; after "ended" the remaining steps concern its minutes.
    The record carries each change (``meeting_status_changed``): going live starts the meeting,
    ending it ends it."""

    SCHEDULED = "scheduled", "已安排", "scheduled"
    LIVE = "live", "进行中", "live"
    ENDED = "ended", "已结束", "ended"
    MINUTES_DRAFT = "minutes_draft", "纪要起草中", "minutes in draft"
    MINUTES_FINAL = "minutes_final", "纪要已定稿", "minutes final"
    CANCELLED = "cancelled", "已取消", "cancelled"


class ItemState(LabelledEnum):
    """Where an agenda item stands in the meeting's review."""

    PENDING = "pending", "待审议", "not yet reviewed"
    OPEN = "open", "审议中", "under review"
    CLOSED = "closed", "已审议", "reviewed"


class Phase(LabelledEnum):
    """When an act happened relative to the meeting itself (its start and end in the record):
    an opinion amended days after the meeting is a post-meeting amendment, not an in-meeting one."""

    BEFORE = "before", "会前", "before the meeting"
    DURING = "during", "会中", "during the meeting"
    AFTER = "after", "会后", "after the meeting"
