"""统一社会信用代码 (unified social credit code, GB 32100-2015) of an applicant unit.

The code identifies the applicant across departments and in the minutes; the check character
catches most typing errors. The checksum is python-stdnum's (stdnum.cn.uscc), not ours.
"""

import unicodedata

from stdnum import exceptions
from stdnum.cn import uscc


class CreditCodeError(ValueError):
    """A credit code that is not 18 valid characters with a matching check character."""


def validate_credit_code(code: str) -> str:
    """Return the code normalised (half-width, upper case, no spaces or hyphens) or raise.

    Full-width characters are folded to ASCII (NFKC) because Chinese input methods produce them
    and they denote the same code; stdnum alone folds full-width digits but not letters.

    Known limit: stdnum requires the first eight characters to be digits, so the rare codes whose
    registering-authority character is a letter (N: rural collective economic organisations,
    Y: other authorities) are refused. Enterprises (9x), institutions (12), government bodies (11)
    and social organisations (5x), the usual applicants, all begin with a digit.
    """
    normalised = unicodedata.normalize("NFKC", code)
    try:
        return uscc.validate(normalised)
    except exceptions.InvalidLength:
        length = len(uscc.compact(normalised))
        raise CreditCodeError(
            f"统一社会信用代码应为18位，实际为{length}位 / "
            f"credit code must be 18 characters, got {length}"
        ) from None
    except exceptions.InvalidChecksum:
        raise CreditCodeError(
            f"统一社会信用代码校验码不符，请核对: {code.strip()} / "
            "credit code check character does not match"
        ) from None
    except exceptions.InvalidFormat:
        raise CreditCodeError(
            "统一社会信用代码含无效字符（前8位须为数字，不得含字母 I、O、Z、S、V）/ "
            "credit code has invalid characters "
            "(first 8 must be digits; letters I, O, Z, S, V are not used)"
        ) from None
