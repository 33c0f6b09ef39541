"""项目代码 (investment project code) validation.

The code is how every department, the online approval platform and the archive refer to one project,
so a mistyped code silently splits one project into two. Only what can be checked without the
national register is checked: the shape, the issue time (a real month, not before the format began
and not after the current month) and the issuing division. The last digit of
a current code is a check digit whose algorithm is not public; it is deliberately not verified.
"""

import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import date
from typing import Literal

_SHAPE = re.compile(r"([0-9]{4})-([0-9]{6})-([0-9]{2})-([0-9]{2})-([0-9]{6})")
_OLD_FORMAT_YEARS = range(2016, 2021)
# GB/T 40058-2021 codes began in November 2020: an earlier YYMM cannot be a current-format code.
_NEW_FORMAT_FIRST_YYMM = 2011


class ProjectCodeError(ValueError):
    """A project code that cannot be right; `segment` says which part is wrong.

    segment is one of "shape", "issue_time", "division", so a form can mark the offending part.
    """

    def __init__(self, segment: str, message: str) -> None:
        super().__init__(message)
        self.segment = segment


@dataclass(frozen=True)
class ProjectCode:
    """A parsed project code.

    Current format (since 2020-11): YYMM-division-guiding department-project type-5 random+1 check.
    Old format (2016-2020, still valid): YYYY-division-industry-project type-serial; for those codes
    `guiding_code` holds the industry code (the third segment) and `month` is None.
    """

    raw: str
    format: Literal["new", "old"]
    year: int
    month: int | None
    division_code: str
    guiding_code: str
    type_code: str
    serial: str


def parse_project_code(code: str, known_divisions: Container[str], today: date) -> ProjectCode:
    """Parse and check a project code; raise ProjectCodeError naming the first bad segment.

    `today` is the centre's date (Asia/Shanghai): a code is issued before the case reaches the
    centre, so an issue month after today's (3412-...) is a typing error, not a future project.

    Full-width digits or dashes (as typed with a Chinese input method) are refused, not converted:
    the code is copied from the platform's certificate, so a full-width character means it was
    retyped and should be checked by the person entering it.
    """
    raw = code.strip()
    shape = _SHAPE.fullmatch(raw)
    if shape is None:
        raise ProjectCodeError(
            "shape",
            f"项目代码格式应为 NNNN-NNNNNN-NN-NN-NNNNNN（24位半角数字和连字符）: {raw!r} / "
            "project code must be 24 half-width characters shaped NNNN-NNNNNN-NN-NN-NNNNNN",
        )
    issue_time, division, guiding, type_code, serial = shape.groups()
    year, month = _issue_time(issue_time)
    if (year, month or 1) > (today.year, today.month):
        raise ProjectCodeError(
            "issue_time",
            f"项目代码第1段（赋码时间）晚于本月（{today.year}年{today.month}月）: {issue_time} / "
            "issue time is after the current month",
        )
    if division not in known_divisions:
        raise ProjectCodeError(
            "division",
            f"项目代码第2段（赋码地行政区划代码）不是已知区划: {division} / "
            "unknown administrative division code",
        )
    return ProjectCode(
        raw=raw,
        format="new" if month is not None else "old",
        year=year,
        month=month,
        division_code=division,
        guiding_code=guiding,
        type_code=type_code,
        serial=serial,
    )


def _issue_time(segment: str) -> tuple[int, int | None]:
    """(year, month) of the first segment; month None marks an old-format (YYYY) code.

    The two readings never collide: as YYMM, 2016..2020 would be months 16..20.
    """
    if int(segment) in _OLD_FORMAT_YEARS:
        return int(segment), None
    month = int(segment[2:])
    if not 1 <= month <= 12:
        raise ProjectCodeError(
            "issue_time",
            f"项目代码第1段（赋码时间）月份无效: {segment[2:]} / issue month invalid",
        )
    if int(segment) < _NEW_FORMAT_FIRST_YYMM:
        raise ProjectCodeError(
            "issue_time",
            f"项目代码第1段（赋码时间）早于2020年11月新赋码规则启用、也不是2016-2020年旧格式年份: "
            f"{segment} / issue time precedes the 2020-11 format and is not an old-format year",
        )
    return 2000 + int(segment[:2]), month
