"""Document numbers of minutes: 凤联审纪〔2026〕3号 (GB/T 9704-2012 §7.2.4: the year in 〔〕,
the serial without leading zeros). The next serial per year is the workflow's business (it lives
in the database); this only spells and reads the number."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(?P<prefix>.+)〔(?P<year>[0-9]{4})〕(?P<seq>[1-9][0-9]*)号")


def format_number(prefix: str, year: int, seq: int) -> str:
    if not prefix.strip():
        raise ValueError("纪要编号前缀不能为空 / the minutes number needs a prefix")
    if not 1000 <= year <= 9999:
        raise ValueError(f"年份须为四位数: {year} / the year must have four digits")
    if seq < 1:
        raise ValueError(f"序号须为正整数: {seq} / the serial number must be positive")
    return f"{prefix.strip()}〔{year}〕{seq}号"


def parse_number(number: str) -> tuple[str, int, int]:
    """(prefix, year, seq) of a number written by format_number; ValueError otherwise."""
    match = _NUMBER.fullmatch(number)
    if match is None:
        raise ValueError(f"不是纪要编号: {number!r} / not a minutes number")
    return match["prefix"], int(match["year"]), int(match["seq"])


def draft_number(prefix: str, year: int) -> str:
    """The number shown on minutes not yet numbered by the workflow: 凤联审纪〔2026〕（草稿）.
    It cannot be mistaken for an issued number (parse_number refuses it)."""
    return f"{prefix.strip()}〔{year}〕（草稿）"
