"""Diagnostic wrapper around `python -m server serve`: the same server, plus forwarding counters.

Used by ``bench/sfu.py --probe``: every second it appends one JSON line to $LIANSHEN_PROBE_OUT with
the kernel's UDP counters (/proc/net/snmp: drops for lack of receive buffer, of this network
namespace: server and bots together), the server's own UDP sockets (/proc/net/udp: queue and drop
count per socket) and, per room, every producer (frames received, keyframes, keyframe requests and
PLIs sent upstream, RTP packets received and lost on the publish leg) and every consumer (frames
forwarded/dropped, resyncs, deepest queue) with its subscribe sender (RTP packets sent,
retransmissions). Reading them over a run tells where a frame is lost: before the producer, in a
consumer queue, or in the kernel between the SFU and a subscriber.

It also splits the server's CPU time (thread CPU time, not wall time: a sampling profiler's
wall-clock stacks on this 2-core machine pile up wherever the server was preempted, which is mostly
inside ``sendto`` right after it woke a subscriber): ``cpu.take_ns`` is every SRTP/SRTCP datagram
handled in the socket's read callback (``rtp_in.SrtpIn.take``: unprotect, parse, the receiver's
upkeep, and the whole fan-out), ``cpu.forward_ns`` every packet's fan-out (``fan_out.fan_out``:
each subscriber's rewrite decision and protected send), counted in copies (``cpu.forwards``).
Every measured call pays for two reads of the thread clock (``cpu.clock_read_ns`` each, a system
call here), included in both totals. ``cpu.loop_ns`` is the event loop thread's whole CPU time and
``cpu.process_ns`` the process's (every thread), with the loop thread's user and system time and
context switches (``getrusage``), so the split also tells how much of the server is
outside the datagram path (RTCP loops, timers, signaling, the event loop itself).
``python bench/sfu_probe.py --cpu-split <run>.probe.jsonl`` prints them per datagram and per copy,
every 5 s of the run.

With ``LIANSHEN_PROBE_PROFILE=1`` the event loop thread runs under ``cProfile`` timed by the thread's
CPU clock from 10 s after the first room on (the joins left out), and ``<run>.probe.prof`` holds the
stats (rewritten every 5 s; read it with ``python -m pstats``). The profiler's own clock reads inflate every call by about
``cpu.clock_read_ns``: read it for where the CPU goes, not for absolute costs.

With ``LIANSHEN_PROBE_PYTHON_FAN_OUT=1`` every copy is decided in Python (``PacketConsumer.forward``)
and still sent natively: the packet path as it was before ``fan_out.py``, for an A/B of the two;
with ``LIANSHEN_PROBE_PYTHON_UNPROTECT=1`` incoming SRTP is unprotected by pylibsrtp, as it was
before ``srtp_recv.py``.

It patches only this process, from outside the server code, so the server under test is unchanged.
"""

from __future__ import annotations

import asyncio
import cProfile
import functools
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiortc import RTCRtpSender  # noqa: E402

from server.sfu import keyframes, packet_consumer, producer, rtp_in, sfu, srtp_recv  # noqa: E402
from server.sfu.fan_out import Lane  # noqa: E402
from server.sfu.packet_consumer import PacketConsumer  # noqa: E402
from server.sfu.rtp_in import SrtpIn  # noqa: E402

_rooms: list[sfu.Sfu] = []
_cpu = {"take_ns": 0, "takes": 0, "forward_ns": 0, "forwards": 0}


def _clock_read_ns() -> int:
    """What one read of the thread CPU clock costs, in the clock's own terms."""
    reads = 10_000
    started = time.thread_time_ns()
    for _ in range(reads):
        time.thread_time_ns()
    return (time.thread_time_ns() - started) // reads
_retransmits: dict[int, int] = {}  # id(sender) -> retransmitted packets
_keyframes: dict[int, int] = {}  # id(KeyframeRequester) -> keyframes seen


def _udp_snmp() -> dict[str, int]:
    lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Udp:")]
    return dict(zip(lines[0][1:], map(int, lines[1][1:]), strict=True))


def _own_udp_sockets() -> list[dict[str, Any]]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    out = []
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[9] in inodes:
            tx, rx = (int(v, 16) for v in fields[4].split(":"))
            out.append({"port": int(fields[1].split(":")[1], 16), "tx_queue": tx, "rx_queue": rx,
                        "drops": int(fields[12])})
    return out


def _sender_counts(sender: RTCRtpSender) -> dict[str, int]:
    return {"packets": sender._RTCRtpSender__packet_count,  # aiortc 1.16 private counters
            "bytes": sender._RTCRtpSender__octet_count,
            "retransmits": _retransmits.get(id(sender), 0)}


def snapshot() -> dict[str, Any]:
    rooms = []
    for unit in _rooms:
        for room in unit.rooms.values():
            producers = []
            for peer in room.peers.values():
                for producer in peer.producers.values():
                    streams = producer._receiver._RTCRtpReceiver__remote_streams  # aiortc 1.16
                    rtp = {str(ssrc): {"received": s.packets_received,
                                       "expected": (s.max_seq or 0) + s.cycles - (s.base_seq or 0) + 1}
                           for ssrc, s in streams.items()}
                    producers.append({"peer": peer.id, "kind": producer.kind, "frames": producer.frames,
                                      "keyframes": _keyframes.get(id(producer.keyframes), 0),
                                      "kf_requests": producer.keyframes.requests,
                                      "plis_sent": producer.keyframes.plis_sent, "rtp": rtp,
                                      "consumers": []})
                    by_consumer: dict[int, tuple[str | None, Any]] = {}
                    for other in room.peers.values():
                        for slot in other.slots:
                            if slot.consumer is not None and slot.transceiver is not None:
                                by_consumer[id(slot.consumer)] = (other.id, slot)
                    for consumer in producer.consumers:
                        subscriber, slot = by_consumer.get(id(consumer), (None, None))
                        entry: dict[str, Any] = {"peer": subscriber, "forwarded": consumer.forwarded,
                                                 "dropped": consumer.dropped}
                        if isinstance(consumer, PacketConsumer):  # the packet path: no queue, own counters
                            out = slot.out if slot is not None else None
                            entry.update(nacks_answered=consumer.nacks_answered, nacks_missed=consumer.nacks_missed,
                                         sender=None if out is None else {
                                             "packets": out.packets, "bytes": out.octets,
                                             "retransmits": out.retransmitted})
                        else:
                            entry.update(resyncs=consumer.resyncs, max_depth=consumer.max_depth,
                                         depth=len(consumer._frames),
                                         sender=_sender_counts(slot.transceiver.sender) if slot is not None
                                         and slot.transceiver is not None else None)
                        producers[-1]["consumers"].append(entry)
            rooms.append({"room": room.meeting_id, "producers": producers})
    return {"t": time.monotonic(), "udp": _udp_snmp(), "sockets": _own_udp_sockets(), "rooms": rooms,
            "cpu": {**_cpu, "loop_ns": time.thread_time_ns(), "process_ns": time.process_time_ns(), **_loop_usage()}}


def _loop_usage() -> dict[str, int]:
    """The event loop thread's user and system CPU time and its context switches (getrusage)."""
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return {"loop_user_ns": int(usage.ru_utime * 1e9), "loop_system_ns": int(usage.ru_stime * 1e9),
            "loop_waits": usage.ru_nvcsw, "loop_preempted": usage.ru_nivcsw}


async def _write_every(path: Path, interval: float) -> None:
    """Runs on the event loop's thread, so ``snapshot`` reads that thread's clock."""
    profiling = os.environ.get("LIANSHEN_PROBE_PROFILE") == "1"
    profile: cProfile.Profile | None = None
    started = written = time.monotonic()
    with path.open("a") as out:
        while True:
            out.write(json.dumps(snapshot()) + "\n")
            out.flush()
            now = time.monotonic()
            if profiling and profile is None and now - started >= PROFILE_AFTER_S:
                profile = cProfile.Profile(time.thread_time_ns, 1e-9)
                profile.enable()
                written = now
            elif profile is not None and now - written >= PROFILE_EVERY_S:
                profile.dump_stats(path.with_suffix(".prof"))  # stops it, too
                profile.enable()
                written = now
            await asyncio.sleep(interval)


PROFILE_AFTER_S = 10.0
"""The profile leaves out the joins: it starts this long after the first room."""
PROFILE_EVERY_S = 5.0


def install(path: Path, interval: float = 1.0) -> None:
    sfu_init = sfu.Sfu.__init__
    sfu_room = sfu.Sfu.room
    arrived = keyframes.KeyframeRequester.keyframe_arrived
    retransmit = RTCRtpSender._retransmit
    take = SrtpIn.take
    fan_out = producer.fan_out
    clock = time.thread_time_ns
    _cpu["clock_read_ns"] = _clock_read_ns()
    started: list[asyncio.Task[None]] = []

    def init(self: sfu.Sfu, *args: Any, **kwargs: Any) -> None:
        sfu_init(self, *args, **kwargs)
        _rooms.append(self)

    def room(self: sfu.Sfu, meeting_id: str) -> Any:
        if not started:
            started.append(asyncio.get_running_loop().create_task(_write_every(path, interval)))
        return sfu_room(self, meeting_id)

    def keyframe_arrived(self: keyframes.KeyframeRequester) -> None:
        _keyframes[id(self)] = _keyframes.get(id(self), 0) + 1
        arrived(self)

    async def retransmitted(self: RTCRtpSender, sequence_number: int) -> None:
        _retransmits[id(self)] = _retransmits.get(id(self), 0) + 1
        await retransmit(self, sequence_number)

    def timed_take(self: SrtpIn, data: bytes) -> bool:
        begun = clock()
        taken = take(self, data)
        if taken:
            _cpu["take_ns"] += clock() - begun
            _cpu["takes"] += 1
        return taken

    def timed_fan_out(entries: list[Any], packet: Any) -> None:
        begun = clock()
        fan_out(entries, packet)
        _cpu["forward_ns"] += clock() - begun
        _cpu["forwards"] += len(entries)

    if os.environ.get("LIANSHEN_PROBE_PYTHON_FAN_OUT") == "1":  # a Python lane: fan_out calls forward
        packet_consumer.lane_on = Lane  # type: ignore[assignment]
    if os.environ.get("LIANSHEN_PROBE_PYTHON_UNPROTECT") == "1":
        rtp_in.unprotector = functools.partial(srtp_recv.unprotector, native=False)
    SrtpIn.take = timed_take  # type: ignore[method-assign]
    producer.fan_out = timed_fan_out
    sfu.Sfu.__init__ = init  # type: ignore[method-assign]
    sfu.Sfu.room = room  # type: ignore[method-assign]
    keyframes.KeyframeRequester.keyframe_arrived = keyframe_arrived  # type: ignore[method-assign]
    RTCRtpSender._retransmit = retransmitted  # type: ignore[method-assign]


def cpu_split(path: Path, every_s: float = 5.0) -> None:
    """Print the CPU split of a probe file, one row per ``every_s``: µs of thread CPU per datagram
    taken and per subscriber copy (each with the probe's two clock reads in it), and their rates."""
    snapshots = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print("      t   datagrams/s  µs/datagram   copies/s  µs/copy  loop %  taken %  process %"
          "  loop user / system %  waits/s  preempted/s")
    previous = snapshots[0] if snapshots else None
    for snapshot in snapshots[1:]:
        assert previous is not None
        span = snapshot["t"] - previous["t"]
        if span < every_s:
            continue
        now, then = snapshot["cpu"], previous["cpu"]
        takes, copies = now["takes"] - then["takes"], now["forwards"] - then["forwards"]
        print(f"{snapshot['t'] - snapshots[0]['t']:7.0f} {takes / span:12.0f} "
              f"{(now['take_ns'] - then['take_ns']) / max(1, takes) / 1000:12.1f} {copies / span:10.0f} "
              f"{(now['forward_ns'] - then['forward_ns']) / max(1, copies) / 1000:8.1f} "
              f"{(now['loop_ns'] - then['loop_ns']) / span / 1e7:7.1f} "
              f"{(now['take_ns'] - then['take_ns']) / span / 1e7:8.1f} "
              f"{(now['process_ns'] - then['process_ns']) / span / 1e7:10.1f} "
              f"{(now['loop_user_ns'] - then['loop_user_ns']) / span / 1e7:11.1f} / "
              f"{(now['loop_system_ns'] - then['loop_system_ns']) / span / 1e7:4.1f} "
              f"{(now['loop_waits'] - then['loop_waits']) / span:9.0f} "
              f"{(now['loop_preempted'] - then['loop_preempted']) / span:11.0f}")
        previous = snapshot
    if snapshots:
        print(f"(each includes two reads of the thread clock, {snapshots[-1]['cpu']['clock_read_ns'] / 1000:.1f} µs each)")


if __name__ == "__main__" and sys.argv[1:2] == ["--cpu-split"]:
    cpu_split(Path(sys.argv[2]))
elif __name__ == "__main__":
    install(Path(os.environ["LIANSHEN_PROBE_OUT"]))
    from server.cli import main

    sys.exit(main())
