"""Labelled enums behave as plain string enums that also carry their labels."""

import json
from enum import StrEnum

import pytest

from server.domain.labels import LabelledEnum


class Colour(LabelledEnum):
    RED = "red", "红", "red"
    GREEN = "green", "绿", "green"


def test_value_is_the_plain_string() -> None:
    assert Colour.RED.value == "red"
    assert isinstance(Colour.RED, str)
    assert str(Colour.RED) == f"{Colour.RED}" == "red"
    assert json.dumps({"c": Colour.GREEN}) == '{"c": "green"}'


def test_members_are_looked_up_by_value() -> None:
    assert Colour("green") is Colour.GREEN


def test_members_carry_both_labels() -> None:
    assert (Colour.GREEN.label_zh, Colour.GREEN.label_en) == ("绿", "green")


def test_labelled_enums_are_string_enums() -> None:
    assert issubclass(Colour, StrEnum)
    assert list(Colour) == [Colour.RED, Colour.GREEN]


def test_a_member_without_labels_fails_at_definition() -> None:
    with pytest.raises(TypeError, match="needs a Chinese and an English label"):

        class Unlabelled(LabelledEnum):
            BARE = "bare"
