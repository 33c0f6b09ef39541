"""Meeting life cycle: every allowed step passes, every other one is refused."""

import itertools

import pytest

from server.domain.meetings import (
    ALLOWED_TRANSITIONS,
    InvalidTransition,
    MeetingStatus,
    transition,
)

ALLOWED = [
    (MeetingStatus.SCHEDULED, MeetingStatus.LIVE),
    (MeetingStatus.SCHEDULED, MeetingStatus.CANCELLED),
    (MeetingStatus.LIVE, MeetingStatus.ENDED),
    (MeetingStatus.ENDED, MeetingStatus.MINUTES_DRAFT),
    (MeetingStatus.MINUTES_DRAFT, MeetingStatus.MINUTES_FINAL),
]
REFUSED = [pair for pair in itertools.product(MeetingStatus, repeat=2) if pair not in ALLOWED]


def test_the_table_is_the_documented_life_cycle() -> None:
    table = [
        (current, target) for current, targets in ALLOWED_TRANSITIONS.items() for target in targets
    ]
    assert sorted(table) == sorted(ALLOWED)
    assert set(ALLOWED_TRANSITIONS) == set(MeetingStatus)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transitions(current: MeetingStatus, target: MeetingStatus) -> None:
    assert transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_other_transitions_are_refused(current: MeetingStatus, target: MeetingStatus) -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(current, target)
    assert (caught.value.current, caught.value.target) == (current, target)


def test_refusal_names_both_states_in_both_languages() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(MeetingStatus.ENDED, MeetingStatus.LIVE)
    assert str(caught.value) == (
        "会议状态不能从「已结束」变为「进行中」 / a meeting cannot go from ended to live"
    )
    assert isinstance(caught.value, ValueError)
