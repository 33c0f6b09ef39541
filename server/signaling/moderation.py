"""The chair's powers over a live meeting: mute, stop a screen share, remove, lock, lobby.

Each act is checked (only the meeting's chair, only on participants of that meeting), applied where
it takes effect (server-side in the SFU, so a muted participant cannot simply keep sending), told
to the people concerned and written to the event log. On several nodes, an act aimed at someone
another node serves is checked here (the chair) and applied there (``apply_here`` with a
``RemoteChair``: server.cluster.control carries it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeGuard

from server.signaling import messages
from server.signaling.errors import SignalingError
from server.signaling.room_state import Acting, LiveMeeting, Participant

logger = logging.getLogger(__name__)

Action = messages.Mute | messages.StopScreenShare | messages.Remove | messages.Lock | messages.LobbyDecision
Relayable = messages.Mute | messages.StopScreenShare | messages.Remove | messages.LobbyDecision
"""The acts aimed at one person (a participant, someone in the lobby): on a cluster, applied by
the node serving that person, whichever node the chair is on (server.cluster.control)."""


def elsewhere(action: Action, meeting: LiveMeeting) -> TypeGuard[Relayable]:
    """Whether the act is aimed at someone another node of the cluster serves."""
    if isinstance(action, messages.LobbyDecision):
        return action.lobby_id in meeting.lobby_elsewhere
    return isinstance(action, Relayable) and action.participant_id in meeting.remote


@dataclass(frozen=True)
class RemoteChair:
    """A chair whose act reached this node from the node serving them: checked there."""

    id: str
    user_id: int | None


def _target(meeting: LiveMeeting, participant_id: str) -> Participant:
    target = meeting.participants.get(participant_id)
    if target is None:
        raise SignalingError("unknown_participant")
    return target


async def moderate(meeting: LiveMeeting, chair: Participant, action: Action) -> dict[str, Any]:
    """Apply one chair action; SignalingError if the actor is not the chair or the target is gone.

    Returns what the ack reports back to the chair. A removed participant's connection must be
    closed by the caller, which knows the connections: the ``disconnect`` key names it.
    """
    require_chair(meeting, chair, action)
    if not isinstance(action, messages.Lock):
        return await apply_here(meeting, chair, action)
    locked = action.action == "lock"
    if meeting.locked != locked:
        meeting.locked = locked
        meeting.log.write("meeting_locked" if locked else "meeting_unlocked", chair.user_id)
        meeting.broadcast("meeting_locked", {"locked": locked, "by": chair.id})
    return {}


def require_chair(meeting: LiveMeeting, chair: Participant, action: Action) -> None:
    """Checked on the chair's own node, before an act goes anywhere (its answer may come from
    another node, the check never does)."""
    if not chair.is_chair:
        logger.warning("meeting %s: %s (%s) tried %s without being the chair", meeting.id,
                       chair.id, chair.identity.display_name, action.action)
        raise SignalingError("not_chair")


async def apply_here(meeting: LiveMeeting, chair: Acting, action: Relayable) -> dict[str, Any]:
    """Apply a chair's act to someone this node serves (the chair checked by the caller:
    ``moderate`` here, the chair's own node for a ``RemoteChair``)."""
    match action:
        case messages.Mute(action=verb, participant_id=target_id, kind=kind):
            target = _target(meeting, target_id)
            muted = verb == "mute"
            (target.muted.add if muted else target.muted.discard)(kind)
            target.peer.set_muted(kind, muted)
            meeting.log.write("participant_muted" if muted else "participant_unmuted", chair.user_id,
                              participant_id=target.id, user_id=target.user_id, kind=kind)
            meeting.tell(target.sid, "muted", {"kind": kind, "muted": muted, "by": chair.id})
            meeting.broadcast("participant_updated", {"participant": target.public()})
        case messages.StopScreenShare(participant_id=target_id):
            target = _target(meeting, target_id)
            if "screen" not in target.peer.producers:
                raise SignalingError("not_sharing")
            meeting.log.write("screen_share_stopped", chair.user_id, participant_id=target.id,
                              user_id=target.user_id)
            await target.peer.stop_producer("screen")
            meeting.tell(target.sid, "screen_share_stopped", {"by": chair.id})
        case messages.Remove(participant_id=target_id):
            target = _target(meeting, target_id)
            if target.id == chair.id:
                raise SignalingError("bad_state", "主持人不能移除自己 / the chair cannot remove themselves")
            meeting.refused[target.identity.key] = "removed"
            meeting.log.write("participant_removed", chair.user_id, participant_id=target.id,
                              user_id=target.user_id, display_name=target.identity.display_name)
            meeting.tell(target.sid, "removed", {"reason": "removed", "by": chair.id})
            sid = target.sid
            await meeting.leave(target, "removed", actor_id=chair.user_id)
            return {"disconnect": sid}
        case messages.LobbyDecision(action=verb, lobby_id=entry_id):
            meeting.decide(entry_id, verb == "admit", chair)
    return {}
