"""Participants wired straight to a room: the signaling layer, in-process."""

import asyncio

from server.bot.participant import Participant
from server.sfu import Peer, Room, SubscribeOffer

LOOPBACK = ("127.0.0.1",)


def source_name(peer_id: str, kind: str) -> str:
    return f"{peer_id}:{kind}"


class Meeting:
    """Participants joined to one room, with signaling done by direct calls.

    In production socket.io carries these SDP strings; here they are handed
    over in-process, which is all the signaling layer adds.
    """

    def __init__(self, room: Room) -> None:
        self.room = room
        self.participants: dict[str, Participant] = {}
        self.peers: dict[str, Peer] = {}

    async def join(self, name: str, publish: bool = True, answers: asyncio.Event | None = None,
                   **media: object) -> Participant:
        """``answers``: while it is clear, subscribe offers wait for their answer (a slow client)."""
        participant = Participant(name, gather_addresses=LOOPBACK, **media)  # type: ignore[arg-type]

        async def on_offer(offer: SubscribeOffer) -> None:
            if answers is not None:
                await answers.wait()
            sources = {mid: source_name(i.peer_id, i.kind) for mid, i in offer.tracks.items()}
            answer = await participant.subscribe_offer(offer.sdp, sources)
            await self.peers[name].subscribe_answer(answer)

        self.participants[name] = participant
        self.peers[name] = await self.room.join(name, {"name": name}, on_offer)
        if publish:
            await self.publish(name)
        return participant

    async def publish(self, name: str) -> None:
        """Run the participant's publish offer/answer (first time or again)."""
        participant = self.participants[name]
        offer = await participant.publish_offer()
        answer = await self.peers[name].publish(offer, participant.sources)
        await participant.publish_answer(answer)

    async def leave(self, name: str) -> None:
        await self.room.leave(name)
        del self.peers[name]
        await self.participants.pop(name).close()

    async def close(self) -> None:
        for name in list(self.participants):
            await self.leave(name)
