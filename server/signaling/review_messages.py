"""Payloads of the review-conduct events (agenda, hands, chat, opinions, decisions, presenting).

Strict and closed like every signaling payload (server.signaling.messages). Free text is checked
here for what the hash-chained event log cannot store (U+0000, lone surrogates): a text refused
only when its log write fails in the background would leave the live state and the record apart.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from server.domain.opinions import OpinionKind
from server.signaling.messages import Id, InMeeting, Message


def _storable(value: str) -> str:
    if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError("contains a character that cannot be stored (NUL or a lone surrogate)")
    return value


def storable(max_length: int, min_length: int = 0) -> type[str]:
    """A storable string of bounded length."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length),  # type: ignore[return-value]
                     AfterValidator(_storable)]


ItemId = Annotated[int, Field(ge=1)]
WorkingDays = Annotated[int, Field(le=365)]
"""Lower bound (>= 1) is checked by validate_opinion / the task check, with a bilingual message."""


class AgendaOpen(InMeeting):
    item_id: ItemId


class AgendaClose(InMeeting):
    item_id: ItemId
    outcome: storable(500) = ""  # type: ignore[valid-type]


class HandRaise(InMeeting):
    purpose: storable(200) = ""  # type: ignore[valid-type]


class HandLower(InMeeting):
    pass


class HandNext(InMeeting):
    pass


class ChatSend(InMeeting):
    text: storable(2000, 1)  # type: ignore[valid-type]


class ChatEnable(InMeeting):
    enabled: bool


class MaterialIn(Message):
    material: storable(200)  # type: ignore[valid-type]
    detail: storable(1000) = ""  # type: ignore[valid-type]
    due_working_days: WorkingDays


class OpinionSubmit(InMeeting):
    item_id: ItemId
    kind: Literal["agree", "agree_in_principle", "conditional", "disagree", "refer_upward"]
    text: storable(4000) = ""  # type: ignore[valid-type]
    conditions: list[storable(1000)] = Field(default_factory=list, max_length=30)  # type: ignore[valid-type]
    reasons: storable(4000) = ""  # type: ignore[valid-type]
    legal_basis: storable(2000) = ""  # type: ignore[valid-type]
    materials: list[MaterialIn] = Field(default_factory=list, max_length=30)
    refer_to: storable(32) | None = None  # type: ignore[valid-type]
    """For 需转报上级: the code of the department the matter goes up to."""
    amendment_reason: storable(1000) = ""  # type: ignore[valid-type]
    """Required from the second submission on (an amendment)."""

    @property
    def opinion_kind(self) -> OpinionKind:
        return OpinionKind(self.kind)


class DecisionRecord(InMeeting):
    item_id: ItemId | None
    text: storable(4000, 1)  # type: ignore[valid-type]


class TaskAssign(InMeeting):
    department_code: storable(32, 1)  # type: ignore[valid-type]
    item_id: ItemId | None
    text: storable(4000, 1)  # type: ignore[valid-type]
    due_working_days: WorkingDays


class PresenterSet(InMeeting):
    participant_id: Id | None


class PresentationOpen(InMeeting):
    material_id: int = Field(ge=1)


class PresentationPage(InMeeting):
    page: int = Field(ge=1)


class PresentationClose(InMeeting):
    pass
