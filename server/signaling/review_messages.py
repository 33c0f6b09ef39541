"""Payloads of the review-conduct events (agenda, hands, chat, opinions, decisions, presenting).

Strict and closed like every signaling payload (server.signaling.messages). Free text is checked
here for what the hash-chained event log cannot store (U+0000, lone surrogates): a text refused
only when its log write fails in the background would leave the live state and the record apart.
A text longer than its limit is refused as ``text_too_long`` naming the field and the limit; it
is never shortened to fit (what is logged is what the person wrote, trimmed at both ends only).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, ModelWrapValidatorHandler, ValidationError, model_validator

from server.domain.opinions import OpinionKind
from server.schemas.fields import PG_INT_MAX
from server.signaling.errors import SignalingError
from server.signaling.messages import Id, InMeeting, Message

TEXT_LIMITS: dict[str, int] = {
    "chat": 2000, "outcome": 500, "purpose": 200, "opinion_text": 4000, "condition": 1000,
    "reasons": 4000, "legal_basis": 2000, "material": 200, "material_detail": 1000,
    "amendment_reason": 1000, "decision": 4000, "task": 4000, "refer_to": 100, "closing_note": 500,
}
"""Characters (code points) allowed in each free text of the review. The room page writes them into
its fields' ``maxlength`` (server/web/pages/room.py), so the form counts against the server's rule."""


def _storable(value: str) -> str:
    if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError("contains a character that cannot be stored (NUL or a lone surrogate)")
    return value


def storable(max_length: int, min_length: int = 0) -> type[str]:
    """A storable string of bounded length."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length),  # type: ignore[return-value]
                     AfterValidator(_storable)]


def text_too_long(field: str, limit: int, length: int) -> SignalingError:
    """The refusal of a text over its limit; ``field`` is the payload path (``materials.0.detail``)."""
    return SignalingError(
        "text_too_long", f"{field} 最多 {limit} 个字符，现有 {length} 个，请删减 / {field} allows at most "
        f"{limit} characters and has {length}: please shorten it", field=field, limit=limit, length=length)


class ReviewRequest(InMeeting):
    """A review event's payload. A text over its limit is a person's writing, not a client's bug: it
    is refused as ``text_too_long`` with the field (its path, e.g. ``conditions.0``), the limit and
    the length, so the room can say so next to that field, rather than as a malformed payload."""

    @model_validator(mode="wrap")
    @classmethod
    def _texts_within_limits(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                if error["type"] == "string_too_long":
                    # not a ValueError: pydantic lets it through to the dispatcher as it is
                    raise text_too_long(".".join(str(part) for part in error["loc"]),
                                        error["ctx"]["max_length"], len(error["input"])) from None
            raise


ItemId = Annotated[int, Field(ge=1, le=PG_INT_MAX)]
WorkingDays = Annotated[int, Field(le=365)]
"""Lower bound (>= 1) is checked by validate_opinion / the task check, with a bilingual message."""


class AgendaOpen(ReviewRequest):
    item_id: ItemId


class AgendaClose(ReviewRequest):
    item_id: ItemId
    outcome: storable(TEXT_LIMITS["outcome"]) = ""  # type: ignore[valid-type]


class HandRaise(ReviewRequest):
    purpose: storable(TEXT_LIMITS["purpose"]) = ""  # type: ignore[valid-type]


class HandLower(ReviewRequest):
    pass


class HandNext(ReviewRequest):
    pass


class ChatSend(ReviewRequest):
    text: storable(TEXT_LIMITS["chat"], 1)  # type: ignore[valid-type]


class ChatEnable(ReviewRequest):
    enabled: bool


class MaterialIn(Message):
    material: storable(TEXT_LIMITS["material"])  # type: ignore[valid-type]
    detail: storable(TEXT_LIMITS["material_detail"]) = ""  # type: ignore[valid-type]
    due_working_days: WorkingDays


class OpinionSubmit(ReviewRequest):
    item_id: ItemId
    kind: OpinionKind = Field(strict=False)
    """One of the record's opinion kinds, by its value."""
    text: storable(TEXT_LIMITS["opinion_text"]) = ""  # type: ignore[valid-type]
    conditions: list[storable(TEXT_LIMITS["condition"])] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=30)
    reasons: storable(TEXT_LIMITS["reasons"]) = ""  # type: ignore[valid-type]
    legal_basis: storable(TEXT_LIMITS["legal_basis"]) = ""  # type: ignore[valid-type]
    materials: list[MaterialIn] = Field(default_factory=list, max_length=30)
    refer_to: storable(TEXT_LIMITS["refer_to"]) | None = None  # type: ignore[valid-type]
    """For 需转报上级 (and only for it, validate_opinion): the higher authority the matter goes up
    to, a department's code or the name of one the system does not know."""
    amendment_reason: storable(TEXT_LIMITS["amendment_reason"]) = ""  # type: ignore[valid-type]
    """Required from the second submission on (an amendment)."""


class DecisionRecord(ReviewRequest):
    item_id: ItemId | None
    text: storable(TEXT_LIMITS["decision"], 1)  # type: ignore[valid-type]


class TaskAssign(ReviewRequest):
    department_code: storable(32, 1)  # type: ignore[valid-type]
    item_id: ItemId | None
    text: storable(TEXT_LIMITS["task"], 1)  # type: ignore[valid-type]
    due_working_days: WorkingDays


class PresenterSet(ReviewRequest):
    participant_id: Id | None


class PresentationOpen(ReviewRequest):
    material_id: int = Field(ge=1, le=PG_INT_MAX)


class PresentationPage(ReviewRequest):
    page: int = Field(ge=1)


class PresentationClose(ReviewRequest):
    pass


class MeetingStart(ReviewRequest):
    """The chair opens the meeting (scheduled -> live): its start in the record."""


class MeetingEnd(ReviewRequest):
    note: storable(TEXT_LIMITS["closing_note"]) = ""  # type: ignore[valid-type]
    """The chair's closing summary, kept with the end in the record."""


class OpinionConfirm(ReviewRequest):
    """A department's representative confirms its opinion as it will print, naming the revision
    they read (an amendment crossing the confirmation is refused, not confirmed unread)."""

    opinion_id: storable(32, 1)  # type: ignore[valid-type]
    revision: int = Field(ge=1, le=PG_INT_MAX)


class MinutesPreview(ReviewRequest):
    """The draft minutes as they stand: the HTML document (``html``) or the model (``json``)."""

    format: Literal["html", "json"] = "html"
