"""Administrative levels read from 6-digit division codes (GB/T 2260).

Three levels approve together (三级联动审批), so an approval item, a video site and a department are
each placed at province, city or county level; the level follows from the code itself.
"""

import re

from server.domain.labels import LabelledEnum

YUNNAN = "530000"
LINCANG = "530900"
FENGQING = "530921"

_CODE = re.compile(r"[1-9][0-9]{5}")


class Level(LabelledEnum):
    """Government level (省/市/县) at which an item is approved or a site joins."""

    PROVINCE = "province", "省", "province"
    CITY = "city", "市", "city"
    COUNTY = "county", "县", "county"


class DivisionCodeError(ValueError):
    """A string that cannot be a division code at all (not six ASCII digits)."""


def _checked(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise DivisionCodeError(
            f"行政区划代码应为6位半角数字且首位不为0: {code!r} / "
            "division code must be 6 ASCII digits not starting with 0"
        )
    return code


def level_of(division_code: str) -> Level:
    """Level from the code's shape: XX0000 province, XXXX00 city (prefecture), otherwise county.

    Municipal districts (e.g. 110101) and county-level cities count as county level, which is the
    level at which they approve.
    """
    code = _checked(division_code)
    if code.endswith("0000"):
        return Level.PROVINCE
    if code.endswith("00"):
        return Level.CITY
    return Level.COUNTY


def parent_of(division_code: str) -> str | None:
    """The enclosing code by arithmetic on the digits; None for a province.

    The result is not checked against a register: for directly administered counties (e.g. 469001)
    the arithmetic parent is a placeholder, so callers that need a real division look it up.
    """
    code = _checked(division_code)
    match level_of(code):
        case Level.PROVINCE:
            return None
        case Level.CITY:
            return code[:2] + "0000"
        case Level.COUNTY:
            return code[:4] + "00"
