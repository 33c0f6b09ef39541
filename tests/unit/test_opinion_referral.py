"""需转报上级 names the higher authority, and only it does (validate_opinion, the one place of the rule)."""

from typing import Any

import pytest

from server.domain.opinions import Opinion, OpinionError, OpinionKind, validate_opinion


@pytest.mark.parametrize("refer_to", [None, "", "  \n"])
def test_a_referral_without_its_higher_authority_is_refused(refer_to: str | None) -> None:
    with pytest.raises(OpinionError, match="需转报上级须写明报送的上级机关 / 'refer to a higher level' must") as caught:
        validate_opinion(Opinion(OpinionKind.REFER_UPWARD, refer_to=refer_to))
    assert caught.value.field == "refer_to"


def test_a_referral_keeps_its_authority_trimmed() -> None:
    assert validate_opinion(Opinion(OpinionKind.REFER_UPWARD, refer_to=" LC-FGW ")).refer_to == "LC-FGW"


@pytest.mark.parametrize("kind", [k for k in OpinionKind if k is not OpinionKind.REFER_UPWARD])
def test_other_kinds_name_no_higher_authority(kind: OpinionKind) -> None:
    complete: dict[str, Any] = {"conditions": ("开工前取得环评批复",) if kind is OpinionKind.CONDITIONAL else (),
                                "reasons": "选址位于饮用水源保护区", "legal_basis": "《水污染防治法》第六十五条"}
    with pytest.raises(OpinionError, match=f"「{kind.label_zh}」不能填写报送的上级机关") as caught:
        validate_opinion(Opinion(kind, refer_to="LC-FGW", **complete))
    assert caught.value.field == "refer_to"
    assert validate_opinion(Opinion(kind, refer_to="  ", **complete)).refer_to is None
