"""Per-packet cost of a packet-path receiver: aiortc's handler behind a closed FrameGate vs ReceiverUpkeep.

Runs both on the same VP8 packets (the bot's clip, abs-send-time stamped, in memory: no network)
interleaved, and prints microseconds per packet for each and their ratio. Issue 15.

    python bench/receiver_upkeep.py [--packets 20000] [--reps 5]
"""

import argparse
import asyncio
import statistics
import time

from server.sfu.passthrough import FrameGate
from server.sfu.receiver_upkeep import ReceiverUpkeep
from tests.unit.test_sfu_frame_gate import clip_packets
from tests.unit.test_sfu_receiver_upkeep import MEDIA_SSRC, _Transport, receiver_with


async def per_packet_us(upkeep: bool, count: int) -> float:
    receiver = receiver_with(_Transport())
    gate = FrameGate(receiver, is_open=False)
    if upkeep:
        ReceiverUpkeep(receiver, gate)
    _frames, clip = clip_packets(0, 0)
    packets, arrivals = [], []
    for index in range(count):
        model = clip[index % len(clip)]
        packet = type(model)(payload_type=model.payload_type, sequence_number=index % 65536,
                             timestamp=(index // len(clip)) * 24000 + model.timestamp, marker=model.marker,
                             ssrc=MEDIA_SSRC, payload=model.payload)
        # a browser paces a frame's packets out within a few ms; frames come every 33 ms
        sent_ms = packet.timestamp // 90 + index % len(clip) // 4
        packet.extensions.abs_send_time = (sent_ms << 18) // 1000 & 0xFFFFFF
        packets.append(packet)
        arrivals.append(sent_ms + 20)
    handle = receiver._handle_rtp_packet
    start = time.perf_counter()
    for packet, arrival_ms in zip(packets, arrivals, strict=True):
        await handle(packet, arrival_time_ms=arrival_ms)
    return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    old, new = [], []
    for _ in range(args.reps):
        old.append(asyncio.run(per_packet_us(False, args.packets)))
        new.append(asyncio.run(per_packet_us(True, args.packets)))
    for name, runs in (("aiortc handler, gate closed", old), ("ReceiverUpkeep", new)):
        print(f"{name:28} {statistics.median(runs):.1f} us/packet (runs {', '.join(f'{v:.1f}' for v in runs)})")
    print(f"ratio new/old: {statistics.median(new) / statistics.median(old):.2f}")


if __name__ == "__main__":
    main()
