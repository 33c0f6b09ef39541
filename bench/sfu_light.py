"""Cheap reception for bench/sfu.py's bots: count forwarded frames straight off the UDP socket.

A bot receives through a full aiortc stack: per datagram aioice tries to parse it as STUN (an
exception for every RTP packet), queues it, the DTLS transport SRTP-decrypts and parses it, the
receiver's jitter buffer reassembles it and a decoder thread hands each frame back to the loop.
With 50+ subscribers on a 2-CPU machine that, not the SFU, is where the measurement ran out of CPU.

The RTP header is not encrypted by SRTP (RFC 3711 section 3.1), so frames can be counted from it
alone: each source goes through the normal path until its decode sample (the first
``decode_frames`` frames, which time the first picture and prove the stream decodes) is done; from
then on its datagrams are counted here and dropped. A video frame counts when its marker packet
arrives with no sequence gap since the previous frame's marker (a frame missing a packet is a lost
frame; the light path sends no NACK, so it is stricter than the full stack); every audio packet is
a frame. Bytes are the RTP payload minus the SRTP tag and the VP8 payload descriptor, as the full
path counts them (within a few bytes per packet).

Everything else (STUN, DTLS, RTCP, sources still being sampled) goes to aioice as before.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiortc import RTCPeerConnection

from server.bot.receiver import MediaReceiver, SourceStats

SRTP_TAG = 10  # SRTP_AES128_CM_HMAC_SHA1_80, the profile aiortc negotiates
VP8_DESCRIPTOR = 4  # aiortc's VP8 payload descriptor: X, I and a 15-bit picture id
MAX_DATAGRAMS_PER_WAKEUP = 64
PROMOTE_EVERY = 16


class LightTrack:
    """Frame and byte counts of one SSRC, written into the source's ``SourceStats``."""

    __slots__ = ("stats", "video", "overhead", "last_seq", "broken", "frame_bytes")

    def __init__(self, stats: SourceStats) -> None:
        self.stats = stats
        self.video = stats.mime_type.lower().startswith("video/")
        self.overhead = SRTP_TAG + (VP8_DESCRIPTOR if stats.mime_type.lower() == "video/vp8" else 0)
        self.last_seq: int | None = None
        self.broken = False
        self.frame_bytes = 0

    def count(self, data: bytes) -> None:
        seq = (data[2] << 8) | data[3]
        if self.last_seq is not None and seq != (self.last_seq + 1) & 0xFFFF:
            self.broken = True
        self.last_seq = seq
        header = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10:  # header extension: 4-byte header + length in 32-bit words
            header += 4 + 4 * ((data[header + 2] << 8) | data[header + 3])
        size = max(0, len(data) - header - self.overhead)
        stats = self.stats
        if not self.video:
            stats.frames += 1
            stats.bytes += size
            return
        self.frame_bytes += size
        if data[1] & 0x80:  # marker: last packet of a frame
            if not self.broken:
                stats.frames += 1
                stats.bytes += self.frame_bytes
            self.broken = False
            self.frame_bytes = 0


class LightReceiver:
    """Reads a subscribe connection's sockets itself and counts sampled-out sources' RTP."""

    def __init__(self, pc: RTCPeerConnection, media: MediaReceiver) -> None:
        self._pc = pc
        self._media = media
        self._decode_frames: int = media._decode_frames  # the bot's sample size (server/bot/receiver.py)
        self._tracks: dict[int, LightTrack] = {}
        self._seen: dict[int, int] = {}  # SSRC -> packets before promotion (checked every PROMOTE_EVERY)
        self._installed: set[int] = set()
        self.counted = 0
        """Datagrams counted here instead of going through aiortc."""

    def install(self) -> None:
        """Take over the reading of every socket ``pc`` has gathered so far (idempotent)."""
        loop = asyncio.get_running_loop()
        for transceiver in self._pc.getTransceivers():
            dtls = transceiver.receiver.transport
            if dtls is None:
                continue
            # aiortc 1.16 / aioice 0.13 internal, as server/sfu/sockets.py: RTCIceGatherer._connection
            # is the aioice Connection, Connection._protocols its StunProtocols (one per socket).
            for protocol in dtls.transport.iceGatherer._connection._protocols:
                transport = protocol.transport
                if transport is None or transport.is_closing():
                    continue
                # CPython 3.11 internal: the datagram transport's socket (_sock) and reader
                # registration (loop._add_reader replaces the one server/sfu/sockets.py made).
                sock = transport._sock
                if sock.fileno() in self._installed:
                    continue
                self._installed.add(sock.fileno())
                loop._add_reader(sock.fileno(), self._read_ready, sock, protocol, dtls)

    def _read_ready(self, sock: socket.socket, protocol: Any, dtls: Any) -> None:
        for _ in range(MAX_DATAGRAMS_PER_WAKEUP):
            try:
                data, addr = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                protocol.error_received(exc)
                return
            if not self._take(data, dtls):
                protocol.datagram_received(data, addr)

    def _take(self, data: bytes, dtls: Any) -> bool:
        # RFC 7983 demultiplexing: RTP/RTCP start with 128..191; RFC 5761: RTCP types 192..223
        # are payload types 64..95 with the marker bit set.
        if len(data) < 12 or not 128 <= data[0] <= 191 or 192 <= data[1] <= 223:
            return False
        ssrc = int.from_bytes(data[8:12], "big")
        track = self._tracks.get(ssrc)
        if track is None:
            seen = self._seen[ssrc] = self._seen.get(ssrc, 0) + 1
            if seen % PROMOTE_EVERY or (track := self._promote(ssrc, dtls)) is None:
                return False
        track.count(data)
        self.counted += 1
        return True

    def _promote(self, ssrc: int, dtls: Any) -> LightTrack | None:
        """A LightTrack once this SSRC's source has finished its decode sample, else None."""
        # aiortc 1.16 internal: RTCDtlsTransport._rtp_router.ssrc_table maps a routed SSRC to
        # its RTCRtpReceiver (filled by the full path's first packets of that SSRC).
        receiver = dtls._rtp_router.ssrc_table.get(ssrc)
        if receiver is None:
            return None
        mid = next((t.mid for t in self._pc.getTransceivers() if t.receiver is receiver), None)
        source = self._media._sources.get(mid) if mid is not None else None  # bench reads the bot's map
        stats = self._media.stats.get(source) if source is not None else None
        if stats is None or stats.decoded + stats.decode_errors < self._decode_frames:
            return None
        track = self._tracks[ssrc] = LightTrack(stats)
        return track
