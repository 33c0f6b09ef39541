"""Administrative levels from division codes."""

import pytest

from server.domain.divisions import (
    FENGQING,
    LINCANG,
    YUNNAN,
    DivisionCodeError,
    Level,
    level_of,
    parent_of,
)


@pytest.mark.parametrize(
    ("code", "level", "label"),
    [(YUNNAN, Level.PROVINCE, "省"), (LINCANG, Level.CITY, "市"), (FENGQING, Level.COUNTY, "县")],
)
def test_level_follows_from_the_code(code: str, level: Level, label: str) -> None:
    assert level_of(code) is level
    assert level_of(code).label_zh == label


def test_parents_walk_up_county_city_province() -> None:
    assert parent_of(FENGQING) == LINCANG
    assert parent_of(LINCANG) == YUNNAN
    assert parent_of(YUNNAN) is None


def test_municipal_district_is_county_level() -> None:
    assert level_of("110101") is Level.COUNTY
    assert parent_of("110101") == "110100"


@pytest.mark.parametrize(
    "code", ["53092", "5309211", "053000", "000000", "５３０９２１", "53092a", ""]
)
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(DivisionCodeError, match="6 ASCII digits"):
        level_of(code)
    with pytest.raises(ValueError):
        parent_of(code)


def test_levels_are_stored_as_plain_strings() -> None:
    assert [level.value for level in Level] == ["province", "city", "county"]
    assert Level("city") is Level.CITY
