"""What recording needs of a live meeting, and how it refuses: its side of the wiring.

Recording does not import signaling (nor signaling recording): the composition root
(server.live_recording) adapts a live meeting to ``RecordedMeeting`` and turns a
``RecordingRefused`` into the refusal its transport sends. The media come straight from the SFU
room (producers added, removed, paused by their owners), so what is recorded follows the SFU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from server.services.live_meeting import LiveFacts
from server.sfu import Room

MESSAGES = {
    "recording_active": "会议正在录制 / the meeting is already being recorded",
    "not_recording": "会议未在录制 / the meeting is not being recorded",
    "disk_low": "存储空间不足，无法录制 / not enough disk space to record",
    "recording_disk_low": "存储空间不足，录制已停止 / disk space ran low: recording stopped",
    "recording_failed": "录制无法开始 / the recording could not start",
}


class RecordingRefused(Exception):
    """Recording cannot do what was asked (or had to stop): a stable code, a bilingual message."""

    def __init__(self, code: str, **details: Any) -> None:
        self.code = code
        self.message = MESSAGES[code]
        self.details = details
        super().__init__(f"{code}: {self.message}")


@dataclass(frozen=True)
class Publisher:
    """Who publishes a producer, as a recording's track names them."""

    participant_id: str
    user_id: int | None
    display_name: str
    department_id: int | None
    unit: str | None


class RecordedMeeting(Protocol):
    """A live meeting as recording sees it."""

    @property
    def id(self) -> int: ...

    @property
    def room(self) -> Room:
        """The meeting's SFU room: the producers a recording takes its tracks from."""

    @property
    def facts(self) -> LiveFacts: ...

    def publisher(self, peer_id: str) -> Publisher | None:
        """Who is behind an SFU peer (None once they have left)."""

    async def record(self, actor_id: int | None, type: str, **payload: Any) -> None:
        """Write an on-record event (``actor_id`` None: the system); return once everyone was told."""

    def announce(self, event: str, data: dict[str, Any]) -> None:
        """Tell everyone in the meeting."""

    def warn_chairs(self, problem: RecordingRefused) -> None:
        """Tell the chair about a problem nobody asked about (automatic start, a filling disk)."""

    @property
    def recording_keys(self) -> set[str]:
        """The keys of the meeting's recordings on the record, wherever they were made (a node
        taking over a meeting's home must not reuse the key of one made on the node that died)."""
