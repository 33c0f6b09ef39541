"""What simulcast layers cost the packet path: per-packet forwarding, plain vs layered, and the
per-consumer layer choice, measured in-process (no network: the send is a no-op sink).

``python bench/layers.py`` prints microseconds per forwarded packet for a consumer of a producer
without layers, one of a three-layer producer on its first layer (packets of the two others are
skipped), and one after a switch (VP8 picture ids renumbered: a payload copy per packet), and
microseconds per LayerChoice.update(). The temporal cases (VP8 L1T3): a consumer of all three
temporal layers (every packet through the temporal filter, nothing left out), one held at T0
(three frames in four left out, the rest renumbered), the producer's per-packet read of TID/Y,
and the choice among nine steps. Fall/recover times over a shaped link come from
tests/media/test_layers_shaped.py (it prints them).
"""

import asyncio
import time
from types import SimpleNamespace

from aiortc.codecs.vpx import Vp8Encoder

from server.bot.media import L1T3_PATTERN
from server.bot.simulcast import packetize
from server.sfu.layer_choice import LayerChoice
from server.sfu.layers import LayerIn
from server.sfu.packet_consumer import PacketConsumer
from server.sfu.packets import ForwardedPacket, PacketCache
from server.sfu.vp8 import read_temporal

PACKETS = 200_000
ROUNDS = 5
"""Each case's best of this many runs: the machine is shared, the minimum is the cost."""


class Sink:
    """The part of RtpOut a consumer drives, sending nowhere."""

    ready = True
    next_seq = 0
    last_timestamp: int | None = None
    clock_rate = 90000
    timeline_owner: object = None
    sender_clock: object = None
    receiver_report = None
    remb_bps = None

    def send(self, packet: ForwardedPacket, seq: int, ts: int, payload: bytes | None = None) -> None:
        self.next_seq, self.last_timestamp = (seq + 1) % 65536, ts

    def resend(self, packet: ForwardedPacket, seq: int, ts: int, payload: bytes | None = None) -> None:
        pass

    def next_timestamp(self) -> int:
        return 0 if self.last_timestamp is None else self.last_timestamp + 1800


def stream(layers: int, temporal: bool = False) -> list[ForwardedPacket]:
    """Packets of ``layers`` interleaved layers, 5 per frame, a keyframe every 60 frames; with
    ``temporal``, each frame in L1T3's pattern with TL0PICIDX, TID and Y in its descriptor."""
    packets = []
    for index in range(PACKETS):
        frame, layer = divmod(index // 5, layers)
        keyframe = frame % 60 == 0 and index % 5 == 0
        data = b"\x00" * 1100 if not keyframe else b"\x10\x02\x00\x9d\x01\x2a" + b"\x00" * 1094
        tid_y = L1T3_PATTERN[frame % 60 % 4] if temporal else None
        payload = packetize(data, frame % 32768, frame // 4 % 256, tid_y)[0] if temporal else \
            Vp8Encoder._packetize(data, frame % 32768)[0]
        packets.append(ForwardedPacket(index // layers % 65536, frame * 3000, 1, payload, None, 0, keyframe, layer,
                                       tid_y))
    return packets


async def per_packet(layer_count: int, switch: bool, temporal: int | None = None) -> float:
    layers = [SimpleNamespace(cache=PacketCache(1024), keyframes=None) for _ in range(layer_count)]
    consumer = PacketConsumer("p", True, Sink(), layers, lambda layer: None,  # type: ignore[arg-type]
                              lambda layer, seq: None, lambda consumer: None, lambda layer: None, "video/VP8")
    consumer.set_target_layer(0, 2 if temporal is None else temporal)
    packets = stream(layer_count, temporal is not None)
    if switch:  # forward some of layer 0, then move to the top layer: renumbered from then on
        for packet in packets[:2000]:
            consumer.forward(packet)
        consumer.set_target_layer(layer_count - 1)
        packets = packets[2000:]
    started = time.perf_counter()
    for packet in packets:
        consumer.forward(packet)
    return (time.perf_counter() - started) / len(packets) * 1e6


def per_read() -> float:
    """The producer's read of TID and Y, per packet."""
    payloads = [packet.payload for packet in stream(1, temporal=True)[:20_000]]
    started = time.perf_counter()
    for payload in payloads:
        read_temporal(payload)
    return (time.perf_counter() - started) / len(payloads) * 1e6


async def per_choice(temporal: bool = False) -> float:
    layers = [LayerIn(i, rid, PacketCache(64), None) for i, rid in enumerate("qhf")]  # type: ignore[arg-type]
    if temporal:
        for layer in layers:
            layer.meter.temporal_bps = (40_000, 60_000, 100_000)
    consumer = SimpleNamespace(layer=2, target_layer=2, temporal_layer=2, temporal_target=2, receiver_report=None,
                               remb_bps=None, set_target_layer=lambda layer, temporal=2: None,
                               probe=lambda size: None)
    choice = LayerChoice(consumer, layers, "bench")  # type: ignore[arg-type]
    started = time.perf_counter()
    for _ in range(20_000):
        choice.update()
    return (time.perf_counter() - started) / 20_000 * 1e6


async def main() -> None:
    plain = min([await per_packet(1, switch=False) for _ in range(ROUNDS)])
    layered = min([await per_packet(3, switch=False) for _ in range(ROUNDS)])
    switched = min([await per_packet(3, switch=True) for _ in range(ROUNDS)])
    choice = min([await per_choice() for _ in range(ROUNDS)])
    all_temporal = min([await per_packet(1, switch=False, temporal=2) for _ in range(ROUNDS)])
    t0 = min([await per_packet(1, switch=False, temporal=0) for _ in range(ROUNDS)])
    read = min([per_read() for _ in range(ROUNDS)])
    temporal_choice = min([await per_choice(temporal=True) for _ in range(ROUNDS)])
    print(f"forward, no layers:            {plain:.2f} µs per packet")
    print(f"forward, 3 layers, lowest:     {layered:.2f} µs per packet offered (2 of 3 skipped)")
    print(f"forward, after a layer switch: {switched:.2f} µs per packet offered (picture ids renumbered)")
    print(f"forward, L1T3, all layers:     {all_temporal:.2f} µs per packet (temporal filter, nothing left out)")
    print(f"forward, L1T3, held at T0:     {t0:.2f} µs per packet offered (3 frames of 4 left out, renumbered)")
    print(f"producer, read TID/Y:          {read:.2f} µs per packet received")
    print(f"layer choice:                  {choice:.2f} µs per consumer per 0.25 s tick")
    print(f"layer choice, 3x3 steps:       {temporal_choice:.2f} µs per consumer per 0.25 s tick")


if __name__ == "__main__":
    asyncio.run(main())
