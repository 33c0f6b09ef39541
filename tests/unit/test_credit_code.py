"""统一社会信用代码 validation through python-stdnum."""

import pytest

from server.domain.credit_code import CreditCodeError, validate_credit_code

# Check characters computed with stdnum.cn.uscc.calc_check_digit on the first 17 characters.
VALID = [
    "91530921MA6K3L7X04",  # enterprise registered in 凤庆县
    "12530921015123456R",  # public institution in 凤庆县
    "115309000150123454",  # government body in 临沧市
    "91110000600037341L",  # stdnum's own documented example
]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_pass_unchanged(code: str) -> None:
    assert validate_credit_code(code) == code


@pytest.mark.parametrize(
    "typed",
    [
        " 91530921ma6k3l7x04 ",
        "91530921 MA6K3L7X04",
        "915309-21MA6K3L7X04",
        "９１５３０９２１ＭＡ６Ｋ３Ｌ７Ｘ０４",  # full-width, as typed with a Chinese input method
    ],
)
def test_codes_are_normalised(typed: str) -> None:
    assert validate_credit_code(typed) == "91530921MA6K3L7X04"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91530921MA6K3L7X0", "应为18位，实际为17位 / credit code must be 18 characters, got 17"),
        ("", "got 0"),
        ("91530921MA6K3L7X05", "校验码不符"),  # last character changed
        ("91530921MA6K3L7X40", "check character does not match"),  # two characters swapped
        ("91530921MA6KIL7X04", "invalid characters"),  # letter I is never used
        ("A1110000600037341L", "first 8 must be digits"),
    ],
)
def test_invalid_codes_are_refused_with_a_bilingual_message(code: str, message: str) -> None:
    with pytest.raises(CreditCodeError, match=message):
        validate_credit_code(code)


def test_credit_code_error_is_a_value_error() -> None:
    assert issubclass(CreditCodeError, ValueError)
