"""项目代码 parsing: both formats, and an error naming each bad segment."""

from datetime import date

import pytest

from server.domain.divisions import FENGQING, LINCANG, YUNNAN
from server.domain.project_code import ProjectCode, ProjectCodeError, parse_project_code

KNOWN = frozenset({YUNNAN, LINCANG, FENGQING})
TODAY = date(2026, 12, 6)  # the centre's date


def test_current_format_code_is_parsed_into_its_segments() -> None:
    code = parse_project_code("2604-530921-04-01-583026", KNOWN, TODAY)
    assert code == ProjectCode(
        raw="2604-530921-04-01-583026",
        format="new",
        year=2026,
        month=4,
        division_code=FENGQING,
        guiding_code="04",
        type_code="01",
        serial="583026",
    )


def test_old_format_code_is_parsed_with_year_only() -> None:
    code = parse_project_code("2018-530900-47-03-012345", KNOWN, TODAY)
    assert (code.format, code.year, code.month) == ("old", 2018, None)
    assert (code.division_code, code.guiding_code, code.type_code, code.serial) == (
        LINCANG,
        "47",
        "03",
        "012345",
    )


@pytest.mark.parametrize(
    ("text", "expected_format", "year", "month"),
    [
        ("2011-530000-04-01-000001", "new", 2020, 11),  # first month of the current format
        ("2016-530000-04-01-000001", "old", 2016, None),
        ("2020-530000-04-01-000001", "old", 2020, None),
        ("2112-530000-04-01-000001", "new", 2021, 12),
    ],
)
def test_format_boundaries(text: str, expected_format: str, year: int, month: int | None) -> None:
    code = parse_project_code(text, KNOWN, TODAY)
    assert (code.format, code.year, code.month) == (expected_format, year, month)


def test_surrounding_whitespace_is_stripped() -> None:
    code = parse_project_code("  2604-530921-04-01-583026\u3000\n", KNOWN, TODAY)
    assert code.raw == "2604-530921-04-01-583026"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2604530921040158302",  # no hyphens
        "2604-530921-04-01-58302",  # 23 characters
        "2604-530921-04-01-5830261",  # 25 characters
        "26045-30921-04-01-583026",  # hyphens misplaced
        "2604-53092A-04-01-583026",  # a letter
        "２６０４-530921-04-01-583026",  # full-width digits
        "2604－530921－04－01－583026",  # full-width hyphens
        "2604—530921-04-01-583026",  # em dash
        "2604-530921-04-01-583026x",
    ],
)
def test_malformed_codes_are_a_shape_error(text: str) -> None:
    with pytest.raises(ProjectCodeError) as caught:
        parse_project_code(text, KNOWN, TODAY)
    assert caught.value.segment == "shape"
    assert "NNNN-NNNNNN-NN-NN-NNNNNN" in str(caught.value)
    assert "半角" in str(caught.value) and "half-width" in str(caught.value)


@pytest.mark.parametrize(
    ("first_segment", "message"),
    [
        ("2613", "月份无效: 13 / issue month invalid"),
        ("2600", "月份无效: 00 / issue month invalid"),
        ("2015", "月份无效: 15 / issue month invalid"),  # not an old-format year either
        ("2010", "precedes the 2020-11 format"),  # October 2020: the old format still applied
        ("1912", "precedes the 2020-11 format"),
    ],
)
def test_impossible_issue_time_is_an_issue_time_error(first_segment: str, message: str) -> None:
    with pytest.raises(ProjectCodeError) as caught:
        parse_project_code(f"{first_segment}-530921-04-01-583026", KNOWN, TODAY)
    assert caught.value.segment == "issue_time"
    assert "第1段（赋码时间）" in str(caught.value)
    assert message in str(caught.value)


def test_unknown_division_is_a_division_error() -> None:
    with pytest.raises(ProjectCodeError) as caught:
        parse_project_code("2604-530922-04-01-583026", KNOWN, TODAY)
    assert caught.value.segment == "division"
    assert "第2段" in str(caught.value) and "530922" in str(caught.value)
    assert "unknown administrative division code" in str(caught.value)


def test_project_code_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_project_code("nonsense", KNOWN, TODAY)


def test_a_code_issued_this_month_is_accepted() -> None:
    assert parse_project_code("2612-530921-04-01-583026", KNOWN, TODAY).month == 12


@pytest.mark.parametrize("first_segment", ["3412", "2701"])
def test_a_code_issued_after_the_current_month_is_refused(first_segment: str) -> None:
    with pytest.raises(ProjectCodeError) as caught:
        parse_project_code(f"{first_segment}-530921-04-01-583026", KNOWN, TODAY)
    assert caught.value.segment == "issue_time"
    assert f"第1段（赋码时间）晚于本月（2026年12月）: {first_segment}" in str(caught.value)
    assert "issue time is after the current month" in str(caught.value)


def test_an_old_format_year_after_today_is_refused() -> None:
    with pytest.raises(ProjectCodeError) as caught:
        parse_project_code("2020-530921-46-01-031742", KNOWN, date(2019, 6, 1))
    assert caught.value.segment == "issue_time"
