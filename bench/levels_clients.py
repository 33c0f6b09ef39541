"""Client side of bench/levels.py: bench/sfu_clients.py's workers, one level's bots each, in that
level's network namespace, whose light receivers also time each stream end to end.

End-to-end latency (publisher send → remote subscriber receive) comes from the sender reports. The
publisher's aiortc sender pairs in each sender report the RTP timestamp of the last packet it sent
with the wall clock read just after sending it (``RTCRtpSender._run_rtp``); the SFU passes that
pair on to every subscriber, mapped into the subscriber's RTP timeline but with the publisher's
own NTP time, over a cascade link too (docs/sfu.md: sender reports carry the publisher's clock,
``packets.mapped_sender_clock``; the link's receiving end reads them like a publisher's). So a
subscriber that noted when the packet with that RTP timestamp arrived has one exact sample:
arrival minus the publisher's send time, both read from the machine's one CLOCK_REALTIME (network
namespaces do not have clocks of their own). No extrapolation over the clip's pacing is involved:
only the packet the report names is timed, about one per stream per second.

The packet noted is the frame's last (marker) packet: the report is built between two frames, so
the packet it names is the last one of the frame sent before (an audio packet is a whole frame).
Arrival is read when the bench's light receiver takes the datagram off the socket
(bench/sfu_light.py), so a receiving process too busy to read its socket adds to the figure, as it
would to what a person sees.

Reports travel encrypted (SRTCP), so they are read where aiortc has decrypted them: each stream's
``RTCRtpReceiver._handle_rtcp_packet`` is wrapped (aiortc 1.16 internal, like sfu_light's).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from aiortc.rtp import RtcpSrPacket
from netns import enter
from sfu_clients import BotSpec, Worker, worker_main
from sfu_light import LightReceiver, LightTrack

NTP_UNIX_OFFSET_S = 2_208_988_800
ARRIVALS_KEPT = 512
"""Marker packets remembered per stream: 17 s of video, 10 s of audio, more than a sender report
can lag behind its packet (a report every 0.5-1.5 s at each of at most three hops)."""


def ntp_to_unix(ntp: int) -> float:
    return (ntp >> 32) - NTP_UNIX_OFFSET_S + (ntp & 0xFFFFFFFF) / (1 << 32)


class StampedTrack(LightTrack):
    """A light track that also notes when each frame's last packet arrived, by RTP timestamp."""

    __slots__ = ("arrivals", "last_report", "samples")

    def __init__(self, stats: Any) -> None:
        super().__init__(stats)
        self.arrivals: dict[int, float] = {}
        self.last_report: tuple[int, int] | None = None
        self.samples: list[float] = []
        """Latencies (s) measured since the last drain."""

    def count(self, data: bytes) -> None:
        if data[1] & 0x80:
            timestamp = int.from_bytes(data[4:8], "big")
            arrivals = self.arrivals
            if timestamp not in arrivals:
                arrivals[timestamp] = time.time()
                if len(arrivals) > ARRIVALS_KEPT:
                    del arrivals[next(iter(arrivals))]
        super().count(data)

    def sender_report(self, ntp: int, rtp_timestamp: int) -> None:
        """One latency sample if the packet the report names arrived here (each report once: the
        SFU repeats the publisher's newest pair until a newer one comes)."""
        if (ntp, rtp_timestamp) == self.last_report:
            return
        self.last_report = (ntp, rtp_timestamp)
        arrived = self.arrivals.get(rtp_timestamp)
        if arrived is not None:
            self.samples.append(arrived - ntp_to_unix(ntp))

    def drain(self) -> list[float]:
        samples, self.samples = self.samples, []
        return samples


class StampedReceiver(LightReceiver):
    """bench/sfu_light.py's receiver with :class:`StampedTrack`s, fed the decrypted sender reports."""

    def _promote(self, ssrc: int, dtls: Any) -> LightTrack | None:
        track = super()._promote(ssrc, dtls)
        if track is None:
            return None
        stamped = self._tracks[ssrc] = StampedTrack(track.stats)
        receiver = dtls._rtp_router.ssrc_table[ssrc]  # aiortc 1.16 internal (see sfu_light._promote)
        original: Callable[[Any], Awaitable[None]] = receiver._handle_rtcp_packet

        async def handle_rtcp_packet(packet: Any) -> None:
            if isinstance(packet, RtcpSrPacket) and packet.ssrc == ssrc:
                info = packet.sender_info
                stamped.sender_report(info.ntp_timestamp, info.rtp_timestamp)
            await original(packet)

        receiver._handle_rtcp_packet = handle_rtcp_packet  # the DTLS transport calls it on the instance
        return stamped

    def latencies(self) -> dict[str, list[float]]:
        """Samples since the last call, by source (``participant:kind``)."""
        out: dict[str, list[float]] = {}
        sources = {id(stats): name for name, stats in self._media.stats.items()}
        for track in self._tracks.values():
            if isinstance(track, StampedTrack):
                out.setdefault(sources.get(id(track.stats), "?"), []).extend(track.drain())
        return out


class LevelWorker(Worker):
    """A worker whose bots note when they asked to join and time their streams end to end."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requested_at: dict[str, float] = {}

    async def join(self, names: list[str]) -> dict[str, Any]:
        """As Worker.join, with when each bot asked: the join's start is the connection, before the
        join request itself (a person's click on "join" opens the socket first)."""
        out = {}
        for name in names:
            requested = time.monotonic()
            joined = await super().join([name])
            joined[name]["requested_at"] = requested
            out.update(joined)
        return out

    def _light_receiver(self, bot: Any) -> Any:
        return StampedReceiver(bot.participant.subscribe_pc, bot.participant.receiver)

    def mark(self) -> dict[str, Any]:
        out = super().mark()
        for name, light in self.light_receivers.items():
            out[name]["latency"] = light.latencies()
        return out


def level_worker_main(ns: str, conn: Connection, url: str, meeting_id: int, specs: list[BotSpec]) -> None:
    """Process entry point (multiprocessing, spawn): into the level's namespace before anything
    starts a thread or opens a socket, then a bench/sfu_clients.py worker."""
    enter(ns)
    worker_main(conn, url, meeting_id, specs, True, "lianshen", LevelWorker)
