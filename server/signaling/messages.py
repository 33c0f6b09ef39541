"""Payloads of client -> server events, validated before anything acts on them.

Strict (no coercion of "1" to 1) and closed (unknown fields are errors), so a client bug shows up as
an ``invalid_payload`` error naming the field instead of as a half-understood request. Every event
that acts inside a meeting names the meeting, so an action aimed at another meeting than the one the
connection joined is refused rather than silently applied to the wrong one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from server.schemas.fields import PG_INT_MAX

MAX_SDP_CHARS = 4_000_000  # the real bound is signaling.max_event_bytes, checked first
Kind = Literal["audio", "video", "screen"]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class InMeeting(Message):
    meeting_id: int = Field(ge=1, le=PG_INT_MAX)  # past the database's INTEGER it names nothing


class Join(InMeeting):
    resume: str | None = Field(None, min_length=1, max_length=128)
    """The resume secret of an earlier join: take the same participant back."""
    keep_media: bool = False
    """On resume: the client's peer connections survived, keep the server's too."""


class Leave(InMeeting):
    pass


class Publish(InMeeting):
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)
    sources: dict[Annotated[str, Field(max_length=16)], Kind] = Field(default_factory=dict,
                                                                      max_length=3)


class Unpublish(InMeeting):
    kind: Kind


class Pause(InMeeting):
    kind: Literal["audio", "video"]
    paused: bool
    """True: the participant switched this source off (camera off, microphone off)."""


class LayerHint(InMeeting):
    """How large the client shows one received video (device pixels), or that it hides it."""

    producer_id: Id
    width: int = Field(ge=0, le=16_384)
    height: int = Field(ge=0, le=16_384)
    visible: bool


class SubscribeAnswer(InMeeting):
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)


class IceCandidate(InMeeting):
    connection: Literal["publish", "subscribe"]
    candidate: str = Field(max_length=1024)
    """An SDP candidate attribute; empty: end of candidates."""
    sdp_mid: str | None = Field(None, max_length=16)
    sdp_mline_index: int | None = Field(None, ge=0, le=64)


class Mute(InMeeting):
    action: Literal["mute", "unmute"]
    participant_id: Id
    kind: Literal["audio", "video"] = "audio"


class StopScreenShare(InMeeting):
    action: Literal["stop_screen_share"]
    participant_id: Id


class Remove(InMeeting):
    action: Literal["remove"]
    participant_id: Id


class Lock(InMeeting):
    action: Literal["lock", "unlock"]


class LobbyDecision(InMeeting):
    action: Literal["admit", "reject"]
    lobby_id: Id


ModerationAction = Annotated[Mute | StopScreenShare | Remove | Lock | LobbyDecision,
                             Field(discriminator="action")]

MODERATION: TypeAdapter[Mute | StopScreenShare | Remove | Lock | LobbyDecision] = TypeAdapter(
    ModerationAction
)
