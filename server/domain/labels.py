"""Bilingual labels carried by the domain's enums.

Screens and minutes speak Chinese, logs and error messages carry English too. Declaring the labels
with each member (``MEMBER = "value", "中文", "English"``) means a member cannot be added without
them, and no label table can drift out of step with its enum.
"""

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """A string enum whose members also carry a Chinese and an English label.

    The value (stored in the database and sent over the API) stays a plain ASCII string.
    """

    label_zh: str
    label_en: str

    def __new__(cls, value: str, label_zh: str, label_en: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label_zh = label_zh
        member.label_en = label_en
        return member
