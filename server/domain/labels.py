"""Bilingual labels carried by the domain's enums.

Screens and minutes speak Chinese, logs and error messages carry English too. Declaring the labels
with each member (``MEMBER = "value", "中文", "English"``) means a member cannot be added without
them, and no label table can drift out of step with its enum.
"""

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """A string enum whose members also carry a Chinese and an English label.

    The value (stored in the database and sent over the API) stays a plain ASCII string, and
    lookups by value work as for any enum: ``Level("city")``.
    """

    _value_: str
    label_zh: str
    label_en: str

    def __new__(cls, value: str, label_zh: str = "", label_en: str = "") -> Self:
        # Runs only while the class body defines members; lookups by value go through
        # Enum.__new__. The label defaults exist so that type checkers accept Level("city"); a
        # member declared without both labels fails at import.
        if not (label_zh and label_en):
            raise TypeError(f"{cls.__name__} member {value!r} needs a Chinese and an English label")
        member = str.__new__(cls, value)
        member._value_ = value
        member.label_zh = label_zh
        member.label_en = label_en
        return member
