"""Constrained field types for API bodies and queries, so bad input is a 422 naming the field.

Without bounds, an id beyond the database's integer range or a string holding NUL reaches the
driver and fails there (PostgreSQL refuses both) as a 500 instead of a refusal of the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, Field, StringConstraints

PG_INT_MAX = 2_147_483_647

# A database id: strict, so "7", 7.0 and true are type errors rather than silently converted.
DbId = Annotated[int, Field(strict=True, ge=1, le=PG_INT_MAX)]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("不能包含控制字符或换行 / must not contain control characters or line breaks")
    return value


def _paragraphs(value: str) -> str:
    if _CONTROL_EXCEPT_LINES.search(value):
        raise ValueError("不能包含控制字符 / must not contain control characters")
    return value


@dataclass(frozen=True)
class BoundedText(GroupedMetadata):
    """Length limits plus a character check, as metadata: `Annotated[str, one_line(64, 1)]`.

    Metadata rather than a type-returning function so that the annotation stays a type a checker
    can read (`str`); pydantic unpacks grouped metadata into its constraints and validators.
    """

    max_length: int
    min_length: int
    check: Callable[[str], str]

    def __iter__(self) -> Iterator[Any]:
        yield StringConstraints(min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(self.check)


def one_line(max_length: int, min_length: int = 0) -> BoundedText:
    """A one-line text of bounded length (names, titles, places)."""
    return BoundedText(max_length, min_length, _single_line)


def paragraphs(max_length: int, min_length: int = 0) -> BoundedText:
    """A text that may span lines (reasons, notes)."""
    return BoundedText(max_length, min_length, _paragraphs)

