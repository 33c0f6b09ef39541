"""Life cycle of a parallel approval meeting (并联审批会议).

The status decides what the system allows (joining, giving opinions, editing the minutes), so a
jump such as reopening an ended meeting or finalising minutes that were never drafted is refused.
"""

from collections.abc import Mapping
from types import MappingProxyType

from record.vocab import MeetingStatus

__all__ = ["ALLOWED_TRANSITIONS", "InvalidTransition", "MeetingStatus", "transition"]


ALLOWED_TRANSITIONS: Mapping[MeetingStatus, frozenset[MeetingStatus]] = MappingProxyType(
    {
        MeetingStatus.SCHEDULED: frozenset({MeetingStatus.LIVE, MeetingStatus.CANCELLED}),
        MeetingStatus.LIVE: frozenset({MeetingStatus.ENDED}),
        MeetingStatus.ENDED: frozenset({MeetingStatus.MINUTES_DRAFT}),
        MeetingStatus.MINUTES_DRAFT: frozenset({MeetingStatus.MINUTES_FINAL}),
        MeetingStatus.MINUTES_FINAL: frozenset(),
        MeetingStatus.CANCELLED: frozenset(),
    }
)


class InvalidTransition(ValueError):
    """A status change the life cycle does not allow; carries both ends for the caller's message."""

    def __init__(self, current: MeetingStatus, target: MeetingStatus) -> None:
        super().__init__(
            f"会议状态不能从「{current.label_zh}」变为「{target.label_zh}」 / "
            f"a meeting cannot go from {current.label_en} to {target.label_en}"
        )
        self.current = current
        self.target = target


def transition(current: MeetingStatus, target: MeetingStatus) -> MeetingStatus:
    """Return `target` if the move is allowed, else raise InvalidTransition."""
    if target not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransition(current, target)
    return target
