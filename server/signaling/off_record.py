"""A review's state that is not on the record: raised hands in order, the floor, the chat switch,
the chair's choice of presenter, the presentation open and its page.

These belong to the people present and start afresh with each session (server.signaling.review).
On one node they live in the meeting's ``Review``. On several nodes they must be one for the whole
room — a hand raised on the county's node is in the queue of the chair on the province's — so the
review desk changes them through a ``SharedOffRecord`` (server.cluster.room_share: a Redis hash
per meeting, changed atomically, each change announced) and every node's review mirrors it.

Why not the record: the record already holds what the minutes use (each ``hand_raised`` with its
purpose, ``speaking_started`` for whom the room heard, every chat line); the order of the queue,
who holds the floor right now, whether chat is switched on and who was picked to present are the
room's working state, not acts of the meeting (opening and closing a presentation are on the record
too; the page turned is not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from server.signaling.review import Presentation, Review


@dataclass
class OffRecord:
    hands: list[str] = field(default_factory=list)
    """Participant ids with a hand raised, in the order raised."""
    floor: str | None = None
    chat_enabled: bool = True
    presenter_choice: str | None = None
    presentation: Presentation | None = None

    def copy(self) -> OffRecord:
        return replace(self, hands=list(self.hands),
                       presentation=replace(self.presentation) if self.presentation is not None else None)

    def to_json(self) -> dict[str, Any]:
        shown = self.presentation
        return {"hands": self.hands, "floor": self.floor, "chat_enabled": self.chat_enabled,
                "presenter_choice": self.presenter_choice,
                "presentation": None if shown is None else {
                    "material_id": shown.material_id, "title": shown.title, "file_name": shown.file_name,
                    "page_count": shown.page_count, "page": shown.page}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OffRecord:
        """ValueError/TypeError/KeyError on anything but what ``to_json`` writes."""
        hands, floor, chat, presenter, shown = (data["hands"], data["floor"], data["chat_enabled"],
                                                data["presenter_choice"], data["presentation"])
        if not isinstance(hands, list) or not all(isinstance(pid, str) for pid in hands) \
                or not isinstance(chat, bool) or not isinstance(floor, str | None) \
                or not isinstance(presenter, str | None) or not isinstance(shown, dict | None):
            raise ValueError(f"not an off-record state: {data!r}")
        presentation = None if shown is None else Presentation(
            int(shown["material_id"]), str(shown["title"]), str(shown["file_name"]),
            int(shown["page_count"]), int(shown["page"]))
        return cls(list(hands), floor, chat, presenter, presentation)


Change = Callable[[OffRecord], None]
"""Changes the state in place; may raise SignalingError to refuse (nothing is changed then)."""


class SharedOffRecord(Protocol):
    """Where the off-record state of meetings live on several nodes is kept (server.cluster)."""

    async def change(self, meeting_id: int, change: Change, here: OffRecord) -> OffRecord:
        """Apply ``change`` atomically to the shared state (``here``, this node's copy, when the
        meeting has none yet) and return the new state, which the other nodes are told of."""
        ...


def off_record(review: Review) -> OffRecord:
    return OffRecord(list(review.hands), review.floor, review.chat_enabled, review.presenter_choice,
                     review.presentation).copy()


def put_off_record(review: Review, state: OffRecord) -> None:
    review.hands = list(state.hands)
    review.floor = state.floor
    review.chat_enabled = state.chat_enabled
    review.presenter_choice = state.presenter_choice
    review.presentation = state.presentation
