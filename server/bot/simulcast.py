"""A synthetic camera that publishes simulcast: three VP8 layers on one m-line, by rid.

aiortc 1.16 sends one stream per m-line, so the layers are sent here, next to aiortc's sender
(which stays idle): three clips encoded once (180p, 360p, 540p, like a browser's camera with
scaleResolutionDownBy 4/2/1), each packetised as VP8 with its own SSRC, sequence numbers,
timestamps and picture ids, named by the mid and rid header extensions, protected and sent by
the connection's DTLS transport. Each layer has its own RTCP: sender reports, and keyframe
requests (PLI/FIR) to its SSRC restart that layer's clip at its keyframe, as an encoder would.
A layer can be held back and resumed (``LayerOut.sending``), as a browser adds its top layer only
once its bandwidth estimate allows and drops layers when its uplink weakens. With
``temporal_layers=3`` each layer is also encoded in three temporal layers (L1T3, as a browser's
``scalabilityMode``), its packets carrying TL0PICIDX, TID and the layer sync bit.
"""

import asyncio
import functools
import random
from dataclasses import dataclass, field

from aiortc import RTCRtpTransceiver, clock, sdp as aiortc_sdp
from aiortc.codecs.vpx import PACKET_MAX, Vp8Encoder, VpxPayloadDescriptor
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    AnyRtcpPacket,
    HeaderExtensionsMap,
    RtcpPsfbPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    RtpPacket,
)

from server.sfu.simulcast_sdp import RID_URI, offer_simulcast

from .media import EncodedClip, video_clip

RIDS = ("q", "h", "f")
"""Lowest layer first, as the SFU reads ``a=simulcast`` (and as browsers name them)."""
RID_EXTENSION_ID = 10
"""Free in aiortc's numbering (mid 1, audio level 2, abs-send-time 3)."""
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
SENDER_REPORT_INTERVAL_S = 1.0
LAYER_SIZES = ((320, 180, 120_000), (640, 360, 300_000), (960, 540, 700_000))
"""(width, height, bitrate) per layer, lowest first: a browser camera's 4/2/1 steps, kept small
enough that encoding them once stays cheap on a loaded test machine."""


@functools.lru_cache(maxsize=2)
def simulcast_clips(seconds: float = 2.0, fps: int = 30, temporal_layers: int = 1) -> tuple[EncodedClip, ...]:
    """The three layers' clips (encoded once per process), lowest first."""
    return tuple(
        video_clip(width=width, height=height, bitrate=bitrate, seconds=seconds, fps=fps,
                   temporal_layers=temporal_layers)
        for width, height, bitrate in LAYER_SIZES
    )


def packetize(frame: bytes, picture_id: int, tl0: int | None = None, temporal: tuple[int, bool] | None = None
              ) -> list[bytes]:
    """One VP8 frame's RTP payloads; with ``temporal`` (TID, Y) the descriptor carries TL0PICIDX
    ``tl0`` and them (aiortc's packetizer writes the picture id only)."""
    if temporal is None:
        return Vp8Encoder._packetize(frame, picture_id)
    descriptor = VpxPayloadDescriptor(partition_start=1, partition_id=0, picture_id=picture_id,
                                      tl0picidx=tl0, tid=(temporal[0], int(temporal[1])))
    header = bytes(descriptor)
    descriptor.partition_start = 0
    rest = bytes(descriptor)
    payloads: list[bytes] = []
    for position in range(0, len(frame), PACKET_MAX - len(header)):
        payloads.append((rest if payloads else header) + frame[position:position + PACKET_MAX - len(header)])
    return payloads


class IdleTrack(MediaStreamTrack):
    """The track aiortc's own sender is given: it yields nothing (the layers go around it)."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._stopped = asyncio.Event()

    async def recv(self) -> None:  # type: ignore[override]
        await self._stopped.wait()
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        self._stopped.set()


@dataclass(eq=False)  # hashable: the RTCP router keeps it in a set
class LayerOut:
    """One layer's stream: its clip position and its RTP numbering."""

    rid: str
    clip: EncodedClip
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    sequence_number: int = field(default_factory=lambda: random.getrandbits(16))
    timestamp_base: int = field(default_factory=lambda: random.getrandbits(32))
    picture_id: int = field(default_factory=lambda: random.getrandbits(15))
    tl0: int = field(default_factory=lambda: random.getrandbits(8))
    index: int = 0
    keyframe_requested: bool = False
    keyframe_requests: int = 0
    """PLI/FIR received for this layer's SSRC."""
    packets: int = 0
    octets: int = 0
    last_timestamp: int = 0
    sending: bool = True
    """False: this layer is held back (no media, no sender reports); its clip resumes where it was,
    and the receiver asks for a keyframe if it needs one."""

    async def _handle_rtcp_packet(self, packet: AnyRtcpPacket) -> None:
        """Called by the DTLS transport's RTCP routing for this SSRC (as for aiortc's senders)."""
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            self.keyframe_requested = True
            self.keyframe_requests += 1


class SimulcastCamera:
    """Sends :func:`simulcast_clips` as simulcast on a publish connection's video m-line."""

    def __init__(self, clips: tuple[EncodedClip, ...] | None = None, temporal_layers: int = 1) -> None:
        """``temporal_layers=3``: each layer in L1T3 (``simulcast_clips``), unless ``clips`` are given."""
        clips = clips or simulcast_clips(temporal_layers=temporal_layers)
        self.layers = [LayerOut(rid, clip) for rid, clip in zip(RIDS, clips, strict=True)]
        self.track = IdleTrack()
        self._task: asyncio.Task[None] | None = None
        self._mid: str | None = None

    def offer(self, offer_sdp: str, mid: str) -> str:
        """The publish offer with this m-line's simulcast lines added."""
        self._mid = mid
        return offer_simulcast(offer_sdp, mid, RIDS, RID_EXTENSION_ID)

    def start(self, transceiver: RTCRtpTransceiver, answer_sdp: str) -> None:
        """Start sending once the answer accepted simulcast (else nothing is sent)."""
        if self._task is not None:
            return
        answer = aiortc_sdp.SessionDescription.parse(answer_sdp)
        media = next(m for m in answer.media if m.rtp.muxId == self._mid)
        if "a=simulcast:recv" not in answer_sdp:
            raise ValueError("the SFU did not accept simulcast")
        payload_type = next(c.payloadType for c in media.rtp.codecs if c.mimeType.lower() == "video/vp8")
        ids = {ext.uri: ext.id for ext in media.rtp.headerExtensions}
        extensions = HeaderExtensionsMap()
        extensions.configure(
            RTCRtpParameters(
                headerExtensions=[
                    RTCRtpHeaderExtensionParameters(id=ids.get(MID_URI, 1), uri=MID_URI),
                    RTCRtpHeaderExtensionParameters(id=RID_EXTENSION_ID, uri=RID_URI),
                ]
            )
        )
        transport = transceiver.sender.transport
        assert payload_type is not None and transport is not None
        for layer in self.layers:
            # aiortc 1.16 internal: the DTLS transport routes RTCP naming an SSRC to whatever
            # object is registered for it and calls its _handle_rtcp_packet.
            transport._rtp_router.register_sender(layer, layer.ssrc)  # type: ignore[arg-type]
        self._task = asyncio.get_running_loop().create_task(
            self._run(transport, payload_type, extensions, transceiver.mid or "")
        )

    async def _run(
        self, transport: RTCDtlsTransport, payload_type: int, extensions: HeaderExtensionsMap, mid: str
    ) -> None:
        connected = asyncio.Event()
        if transport.state == "connected":
            connected.set()
        transport.on("statechange", lambda: connected.set() if transport.state == "connected" else None)
        await connected.wait()
        loop = asyncio.get_running_loop()
        started = loop.time()
        frame_duration = self.layers[0].clip.frame_duration
        frame_s = float(frame_duration * self.layers[0].clip.time_base)
        next_report = started
        frame = 0
        try:
            while transport.state == "connected":
                due = started + frame * frame_s
                await asyncio.sleep(max(0.0, due - loop.time()))  # real-time pacing
                for layer in self.layers:
                    if layer.sending:
                        await self._send_frame(transport, layer, payload_type, extensions, mid, frame * frame_duration)
                if loop.time() >= next_report:
                    next_report += SENDER_REPORT_INTERVAL_S
                    for layer in self.layers:
                        if not layer.sending:
                            continue
                        report = RtcpSrPacket(
                            ssrc=layer.ssrc,
                            sender_info=RtcpSenderInfo(
                                ntp_timestamp=clock.current_ntp_time(),
                                rtp_timestamp=layer.last_timestamp,
                                packet_count=layer.packets & 0xFFFFFFFF,
                                octet_count=layer.octets & 0xFFFFFFFF,
                            ),
                        )
                        await transport._send_rtp(bytes(report))
                frame += 1
        except ConnectionError:
            return  # the connection closed

    async def _send_frame(
        self,
        transport: RTCDtlsTransport,
        layer: LayerOut,
        payload_type: int,
        extensions: HeaderExtensionsMap,
        mid: str,
        elapsed: int,
    ) -> None:
        clip = layer.clip
        if layer.keyframe_requested and not clip.keyframes[layer.index]:
            while not clip.keyframes[layer.index]:
                layer.index -= 1
        layer.keyframe_requested = False
        temporal = clip.temporal[layer.index] if clip.temporal else None
        if temporal is not None and temporal[0] == 0:
            layer.tl0 = (layer.tl0 + 1) % 256  # a base-layer frame: the others name it by this
        payloads = packetize(clip.frames[layer.index], layer.picture_id, layer.tl0, temporal)
        layer.index = (layer.index + 1) % len(clip.frames)
        layer.picture_id = (layer.picture_id + 1) % (1 << 15)
        timestamp = (layer.timestamp_base + elapsed) % (1 << 32)
        layer.last_timestamp = timestamp
        for position, payload in enumerate(payloads):
            packet = RtpPacket(
                payload_type=payload_type,
                marker=int(position == len(payloads) - 1),
                sequence_number=layer.sequence_number,
                timestamp=timestamp,
                ssrc=layer.ssrc,
                payload=payload,
            )
            packet.extensions.mid = mid
            packet.extensions.rtp_stream_id = layer.rid
            layer.sequence_number = (layer.sequence_number + 1) % (1 << 16)
            layer.packets += 1
            layer.octets += len(payload)
            # aiortc 1.16 internal: RTCDtlsTransport._send_rtp protects (SRTP/SRTCP) and sends.
            await transport._send_rtp(packet.serialize(extensions))

    async def stop(self) -> None:
        self.track.stop()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
