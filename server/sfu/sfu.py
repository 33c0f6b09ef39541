"""The selective forwarding unit: rooms by meeting id, one asyncio loop."""

from .room import Room
from .settings import SfuSettings


class Sfu:
    """Holds the rooms of one SFU process.

    One loop forwards on one core; scale out with more processes, each holding
    some of the rooms, not with threads.
    """

    def __init__(self, settings: SfuSettings | None = None) -> None:
        self.settings = settings or SfuSettings()
        self._rooms: dict[str, Room] = {}

    @property
    def rooms(self) -> dict[str, Room]:
        return dict(self._rooms)

    def room(self, meeting_id: str) -> Room:
        """The meeting's room, created on first use."""
        room = self._rooms.get(meeting_id)
        if room is None:
            room = self._rooms[meeting_id] = Room(meeting_id, self.settings)
        return room

    async def close_room(self, meeting_id: str) -> None:
        room = self._rooms.pop(meeting_id, None)
        if room is not None:
            await room.close()

    async def close(self) -> None:
        for meeting_id in list(self._rooms):
            await self.close_room(meeting_id)
