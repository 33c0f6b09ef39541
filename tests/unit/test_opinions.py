"""Admissibility of a department's opinion (brief §4, 行政许可法 §38)."""

import dataclasses
from typing import Any

import pytest

from server.domain.opinions import (
    REMEDY_NOTICE_ZH,
    MaterialRequest,
    Opinion,
    OpinionError,
    OpinionKind,
    validate_opinion,
)

REFUSAL = Opinion(
    kind=OpinionKind.DISAGREE,
    reasons="项目选址位于生态保护红线内",
    legal_basis="《中华人民共和国森林法》第三十七条",
)


def test_plain_agreement_is_admissible() -> None:
    assert validate_opinion(Opinion(OpinionKind.AGREE)) == Opinion(OpinionKind.AGREE)


def test_conditional_agreement_keeps_its_conditions_trimmed() -> None:
    opinion = Opinion(OpinionKind.CONDITIONAL, conditions=(" 开工前取得使用林地审核同意书 ", "  "))
    assert validate_opinion(opinion).conditions == ("开工前取得使用林地审核同意书",)


@pytest.mark.parametrize("conditions", [(), ("",), ("   ", "\n")])
def test_conditional_agreement_without_conditions_is_refused(conditions: tuple[str, ...]) -> None:
    with pytest.raises(OpinionError, match="附条件同意须列明条件 / a conditional") as caught:
        validate_opinion(Opinion(OpinionKind.CONDITIONAL, conditions=conditions))
    assert caught.value.field == "conditions"


@pytest.mark.parametrize("kind", [OpinionKind.AGREE, OpinionKind.AGREE_IN_PRINCIPLE])
def test_conditions_on_an_unconditional_kind_are_refused(kind: OpinionKind) -> None:
    with pytest.raises(OpinionError, match=f"「{kind.label_zh}」不能附条件") as caught:
        validate_opinion(Opinion(kind, conditions=("补充水土保持方案",)))
    assert caught.value.field == "conditions"


def test_complete_refusal_is_admissible_and_carries_the_remedy_notice() -> None:
    assert validate_opinion(REFUSAL) == REFUSAL
    assert REFUSAL.remedy_notice == REMEDY_NOTICE_ZH
    assert "行政复议" in REMEDY_NOTICE_ZH and "行政诉讼" in REMEDY_NOTICE_ZH


@pytest.mark.parametrize("kind", [k for k in OpinionKind if k is not OpinionKind.DISAGREE])
def test_other_kinds_carry_no_remedy_notice(kind: OpinionKind) -> None:
    assert Opinion(kind).remedy_notice == ""


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("reasons", "不同意须说明理由 / a refusal must give its reasons"),
        ("legal_basis", "不同意须写明法律依据 / a refusal must cite its legal basis"),
    ],
)
def test_refusal_without_reasons_or_legal_basis_is_refused(field: str, message: str) -> None:
    blanked: dict[str, Any] = {field: "  "}
    incomplete = dataclasses.replace(REFUSAL, **blanked)
    with pytest.raises(OpinionError, match=message) as caught:
        validate_opinion(incomplete)
    assert caught.value.field == field


def test_requested_materials_are_trimmed() -> None:
    opinion = Opinion(OpinionKind.AGREE_IN_PRINCIPLE, materials=(MaterialRequest(" 节能报告 ", 5),))
    assert validate_opinion(opinion).materials == (MaterialRequest("节能报告", 5),)


@pytest.mark.parametrize(
    ("material", "message"),
    [
        (MaterialRequest(" ", 5), "needs a name"),
        (MaterialRequest("节能报告", 0), "at least 1 working day"),
    ],
)
def test_invalid_material_requests_are_refused(material: MaterialRequest, message: str) -> None:
    with pytest.raises(OpinionError, match=message) as caught:
        validate_opinion(Opinion(OpinionKind.AGREE, materials=(material,)))
    assert caught.value.field == "materials"


def test_opinion_kind_labels() -> None:
    assert [k.label_zh for k in OpinionKind] == [
        "同意",
        "原则同意",
        "附条件同意",
        "不同意",
        "需转报上级",
    ]
