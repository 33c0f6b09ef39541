"""A department's opinion in a joint review meeting, and what makes it admissible.

Each opinion goes verbatim into the minutes and, for a refusal, toward a decision the applicant may
challenge; so an opinion that names no conditions, or refuses without reasons and legal basis, is
refused as input rather than recorded (行政许可法 §38).
"""

from dataclasses import dataclass, replace

from record.vocab import REMEDY_NOTICE_EN, REMEDY_NOTICE_ZH, OpinionKind, remedy_notice

__all__ = ["REMEDY_NOTICE_EN", "REMEDY_NOTICE_ZH", "MaterialRequest", "Opinion", "OpinionError",
           "OpinionKind", "validate_opinion"]


@dataclass(frozen=True)
class MaterialRequest:
    """A material the applicant must supplement; all requests of a meeting are merged into one
    一次性告知书, with the due date computed from `due_working_days`."""

    name: str
    due_working_days: int


@dataclass(frozen=True)
class Opinion:
    """One department's opinion on one item; pass it through validate_opinion before recording."""

    kind: OpinionKind
    conditions: tuple[str, ...] = ()
    reasons: str = ""
    legal_basis: str = ""
    materials: tuple[MaterialRequest, ...] = ()
    refer_to: str | None = None
    """For 需转报上级: the higher authority the matter goes up to (a department's code, or its name
    when it is not one the system knows)."""

    @property
    def remedy_notice(self) -> str:
        """The notice a refusal must carry wherever it is printed; empty for other kinds."""
        return remedy_notice(self.kind)


class OpinionError(ValueError):
    """An inadmissible opinion; `field` names the part to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def validate_opinion(opinion: Opinion) -> Opinion:
    """Return the opinion with text trimmed and blank conditions dropped, or raise OpinionError.

    Conditions belong to 附条件同意 only: an "agree" with conditions would be read as unconditional
    by whoever skims the result, so it must be entered as 附条件同意. Likewise the higher authority
    belongs to 需转报上级 only, and 需转报上级 must name it: a referral that says not to whom leaves
    the applicant with no one to turn to, and a named authority beside an "agree" would be misread.
    This is the one place the rule lives; the room and the post-meeting amendment both call it.
    """
    cleaned = replace(
        opinion,
        conditions=tuple(text.strip() for text in opinion.conditions if text.strip()),
        reasons=opinion.reasons.strip(),
        legal_basis=opinion.legal_basis.strip(),
        materials=tuple(replace(m, name=m.name.strip()) for m in opinion.materials),
        refer_to=(opinion.refer_to or "").strip() or None,
    )
    kind = cleaned.kind
    if kind is OpinionKind.CONDITIONAL and not cleaned.conditions:
        raise OpinionError(
            "conditions", "附条件同意须列明条件 / a conditional agreement must state its conditions"
        )
    if kind is not OpinionKind.CONDITIONAL and cleaned.conditions:
        raise OpinionError(
            "conditions",
            f"「{kind.label_zh}」不能附条件，请选择附条件同意 / "
            f"'{kind.label_en}' cannot carry conditions; use 'agree with conditions'",
        )
    if kind is OpinionKind.REFER_UPWARD and cleaned.refer_to is None:
        raise OpinionError(
            "refer_to", "需转报上级须写明报送的上级机关 / 'refer to a higher level' must name the higher "
            "authority it goes to"
        )
    if kind is not OpinionKind.REFER_UPWARD and cleaned.refer_to is not None:
        raise OpinionError(
            "refer_to",
            f"「{kind.label_zh}」不能填写报送的上级机关，请选择需转报上级 / '{kind.label_en}' names no higher "
            "authority; use 'refer to a higher level'",
        )
    if kind is OpinionKind.DISAGREE and not cleaned.reasons:
        raise OpinionError("reasons", "不同意须说明理由 / a refusal must give its reasons")
    if kind is OpinionKind.DISAGREE and not cleaned.legal_basis:
        raise OpinionError(
            "legal_basis", "不同意须写明法律依据 / a refusal must cite its legal basis"
        )
    for material in cleaned.materials:
        if not material.name:
            raise OpinionError(
                "materials", "补正材料须写明名称 / a requested material needs a name"
            )
        if material.due_working_days < 1:
            raise OpinionError(
                "materials",
                f"补正材料「{material.name}」期限须至少1个工作日 / "
                "a material's due time must be at least 1 working day",
            )
    return cleaned
