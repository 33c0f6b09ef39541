"""Checks on a case's plain fields, and the stored values of its enums."""

from datetime import date
from decimal import Decimal

import pytest

from server.domain.cases import (
    CaseFieldError,
    InvestorType,
    ItemStatus,
    ManagementCategory,
    validate_category,
    validate_promised_limit,
    validate_schedule,
    validate_total_investment,
)


def test_enum_values_and_labels() -> None:
    assert [(c.value, c.label_zh) for c in ManagementCategory] == [
        ("approval", "审批制"),
        ("ratification", "核准制"),
        ("filing", "备案制"),
    ]
    assert [i.value for i in InvestorType] == ["government", "enterprise"]
    assert [s.value for s in ItemStatus] == [
        "pending",
        "accepted",
        "in_review",
        "suspended",
        "approved",
        "rejected",
        "withdrawn",
    ]
    assert ItemStatus.REJECTED.label_zh == "不予许可"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (Decimal("1250.5"), Decimal("1250.50")),
        ("3800", Decimal("3800.00")),
        (12, Decimal("12.00")),
        ("0.01", Decimal("0.01")),
        (Decimal("7.230"), Decimal("7.23")),  # trailing zero is not a third decimal
    ],
)
def test_total_investment_is_kept_to_two_decimals(
    given: Decimal | int | str, expected: Decimal
) -> None:
    result = validate_total_investment(given)
    assert result == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (0, "must be positive"),
        ("-5", "must be positive"),
        ("NaN", "must be positive"),
        ("Infinity", "must be positive"),
        ("1.234", "at most 2 decimals"),
        ("一千万", "is not a number"),
        (12.5, "not a float"),
    ],
)
def test_impossible_total_investment_is_refused(given: object, message: str) -> None:
    with pytest.raises(CaseFieldError, match=message) as caught:
        validate_total_investment(given)  # type: ignore[arg-type]
    assert caught.value.field == "total_investment"


@pytest.mark.parametrize(
    ("category", "investor"),
    [
        (ManagementCategory.APPROVAL, InvestorType.GOVERNMENT),
        (ManagementCategory.RATIFICATION, InvestorType.ENTERPRISE),
        (ManagementCategory.FILING, InvestorType.ENTERPRISE),
    ],
)
def test_category_matching_the_investor_is_accepted(
    category: ManagementCategory, investor: InvestorType
) -> None:
    validate_category(category, investor)


@pytest.mark.parametrize(
    ("category", "investor", "message"),
    [
        (ManagementCategory.APPROVAL, InvestorType.ENTERPRISE, "企业投资项目不适用审批制"),
        (ManagementCategory.RATIFICATION, InvestorType.GOVERNMENT, "政府投资项目不适用核准制"),
        (ManagementCategory.FILING, InvestorType.GOVERNMENT, "filing does not apply to government"),
    ],
)
def test_category_not_matching_the_investor_is_refused(
    category: ManagementCategory, investor: InvestorType, message: str
) -> None:
    with pytest.raises(CaseFieldError, match=message) as caught:
        validate_category(category, investor)
    assert caught.value.field == "category"


def test_schedule_may_start_and_finish_on_the_same_day() -> None:
    validate_schedule(date(2026, 3, 1), date(2026, 3, 1))


def test_finish_before_start_is_refused() -> None:
    with pytest.raises(CaseFieldError, match="planned finish is before planned start") as caught:
        validate_schedule(date(2026, 3, 1), date(2026, 2, 28))
    assert caught.value.field == "planned_finish"


def test_promised_limit_up_to_the_statutory_limit_is_accepted() -> None:
    validate_promised_limit(20, 20)
    validate_promised_limit(1, 20)


@pytest.mark.parametrize(
    ("promised", "message"),
    [
        (21, "承诺时限21个工作日超过法定时限20个工作日 / promised limit 21 WD exceeds"),
        (0, "at least 1 working day"),
    ],
)
def test_promised_limit_beyond_the_law_is_refused(promised: int, message: str) -> None:
    with pytest.raises(CaseFieldError, match=message) as caught:
        validate_promised_limit(promised, 20)
    assert caught.value.field == "promised_limit_wd"
