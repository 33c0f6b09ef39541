"""A synthetic meeting participant, as the SFU sees a browser.

It holds the client half of the SFU's negotiation model: a publish connection
it offers (camera clip + microphone clip, sendonly) and a subscribe connection
the SFU offers to it. It speaks SDP strings only, so the same object serves
tests (wired straight to :class:`server.sfu.Peer`) and the bot over socket.io.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpSender,
    RTCSessionDescription,
    sdp as aiortc_sdp,
)

from server.sfu.ice import gathering_on
from server.sfu.keyframes import intercept_keyframe_requests
from server.sfu.producer import ProducerKind
from server.sfu.sockets import drain_sockets

from .media import ClipTrack, EncodedClip, audio_clip, video_clip
from .receiver import MediaReceiver
from .simulcast import SimulcastCamera


def codec_preferences(mime_type: str) -> list[RTCRtpCodecCapability]:
    kind = mime_type.split("/")[0]
    return [
        codec
        for codec in RTCRtpSender.getCapabilities(kind).codecs
        if codec.mimeType.lower() in (mime_type.lower(), "video/rtx")
    ]


class Participant:
    """Publishes looping clips and counts what it receives, per source."""

    def __init__(
        self,
        name: str,
        gather_addresses: Sequence[str] = (),
        ice_servers: Sequence[Mapping[str, Any]] = (),
        video: EncodedClip | None = None,
        audio: EncodedClip | None = None,
        decode_frames: int = 90,
        simulcast: SimulcastCamera | None = None,
    ) -> None:
        """``simulcast``: publish the camera as layers (then ``video`` is not sent)."""
        self.name = name
        self._gather_addresses = tuple(gather_addresses)
        self._configuration = RTCConfiguration(
            iceServers=[RTCIceServer(**dict(server)) for server in ice_servers],
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
        )
        self.video = ClipTrack(video or video_clip())
        self.audio = ClipTrack(audio or audio_clip())
        self.screen: ClipTrack | None = None
        self.simulcast = simulcast
        self._published: dict[str, ProducerKind] = {}  # mid -> what it carries
        self.publish_pc = RTCPeerConnection(self._configuration)
        self.subscribe_pc = RTCPeerConnection(self._configuration)
        self.receiver = MediaReceiver(decode_frames)
        self.receiver.attach(self.subscribe_pc)

    @property
    def sources(self) -> dict[str, ProducerKind]:
        """What each published m-line carries, by mid, for the SFU."""
        return dict(self._published)

    def share_screen(self, clip: EncodedClip | None = None) -> None:
        """Add a screen track; it is offered by the next :meth:`publish_offer`."""
        self.screen = ClipTrack(clip or video_clip())

    def stop_sharing(self) -> None:
        """Stop sending the screen; the next :meth:`publish_offer` tells the SFU."""
        for transceiver in self.publish_pc.getTransceivers():
            if transceiver.mid is not None and self._published.get(transceiver.mid) == "screen":
                transceiver.direction = "inactive"
                del self._published[transceiver.mid]
        if self.screen is not None:
            self.screen.stop()
            self.screen = None

    async def publish_offer(self) -> str:
        """An offer (or re-offer) for the publish connection, all tracks sendonly."""
        tracks: list[tuple[ProducerKind, ClipTrack | None]] = [
            ("audio", self.audio),
            ("video", self.video),
            ("screen", self.screen),
        ]
        added = []
        for kind, track in tracks:
            if track is not None and kind not in self._published.values():
                layered = kind == "video" and self.simulcast is not None
                sent = self.simulcast.track if layered and self.simulcast else track
                transceiver = self.publish_pc.addTransceiver(sent, direction="sendonly")
                # packets are already encoded: only their codec may be negotiated
                transceiver.setCodecPreferences(codec_preferences(track.clip.mime_type))
                if not layered:
                    intercept_keyframe_requests(transceiver.sender, track.request_keyframe)
                added.append((kind, transceiver))
        with gathering_on(self._gather_addresses):
            await self.publish_pc.setLocalDescription(await self.publish_pc.createOffer())
        drain_sockets(self.publish_pc)
        for kind, transceiver in added:
            assert transceiver.mid is not None
            self._published[transceiver.mid] = kind
        offer = self.publish_pc.localDescription.sdp
        video_mid = self._mid_of("video")
        if self.simulcast is not None and video_mid is not None:
            offer = self.simulcast.offer(offer, video_mid)
        return offer

    async def publish_answer(self, sdp: str) -> None:
        await self.publish_pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
        video_mid = self._mid_of("video")
        if self.simulcast is not None and video_mid is not None:
            transceiver = next(t for t in self.publish_pc.getTransceivers() if t.mid == video_mid)
            self.simulcast.start(transceiver, sdp)

    def _mid_of(self, kind: ProducerKind) -> str | None:
        return next((mid for mid, published in self._published.items() if published == kind), None)

    async def subscribe_offer(self, sdp: str, sources: Mapping[str, str]) -> str:
        """Answer the SFU's subscribe offer; ``sources`` names each active mid."""
        pc = self.subscribe_pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        with gathering_on(self._gather_addresses):
            await pc.setLocalDescription(await pc.createAnswer())
        drain_sockets(pc)  # a bot process holds many subscribers: same one-datagram-per-turn cap
        offer = aiortc_sdp.SessionDescription.parse(sdp)
        mime_types = {m.rtp.muxId: m.rtp.codecs[0].mimeType for m in offer.media}
        self.receiver.set_sources(pc, sources, mime_types)
        return pc.localDescription.sdp

    async def close(self) -> None:
        if self.simulcast is not None:
            await self.simulcast.stop()
        await self.receiver.close()
        await self.publish_pc.close()
        await self.subscribe_pc.close()
