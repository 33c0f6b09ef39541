"""Issue 17: a subscriber on a weak link gets the low simulcast layer, the others keep the top.

One publisher sends three layers; three subscribers: two on loopback, one in a network namespace
behind a veth whose SFU end is shaped to 300 kbit/s (tc tbf) and whose far end drops 2 % of
incoming UDP at random (iptables statistic). The weak one must fall to the lowest layer and keep
decoding it smoothly while the others keep the top layer at full rate; when the shaping and the
loss are lifted it must climb back to the top within 10 s. The room tells the weak one's sustained
degradation (``link_degraded``, what the signaling layer logs) once, and its recovery once, and
nothing of the clean ones. The namespace, the subscriber
process and its signaling are test_loss_recovery.py's.

Needs real root: ``unshare -n sh -c 'ip link set lo up && exec .venv/bin/python -m pytest ...'``.
"""

import asyncio
import time

import pytest

from server.bot.simulcast import LAYER_SIZES, SimulcastCamera
from server.sfu.degradation import RECOVERED_HOLD_S, Episode
from server.sfu.packet_consumer import PacketConsumer

from .meeting import Meeting, source_name
from .remote_subscriber import LoopLag
from .test_loss_recovery import LOSS_CHAIN, LossyLink, RemoteSubscriber, _run, freeze_s, lossy, lossy_link, settings  # noqa: F401 - fixtures

RATE = "300kbit"
LOSS = 0.02
TOP = len(LAYER_SIZES) - 1
LOW_MIN_FPS = 10.0
CLEAN_MIN_FPS = 27.0
MAX_FREEZE_S = 1.0
FALL_TIMEOUT_S = 15.0
CLIMB_LIMIT_S = 10.0
WINDOW_FRAMES = 300
"""The measuring window on the low layer: until a clean subscriber got this many frames (10 s)."""
VIDEO, AUDIO = source_name("alice", "video"), source_name("alice", "audio")


def near_interface(link: LossyLink) -> str:
    """The veth end on the SFU's side (the test fixture names it; the address finds it)."""
    return _run("ip", "-o", "addr", "show", "to", link.near).split()[1]


def shape(link: LossyLink) -> None:
    """300 kbit/s towards the subscriber, and 2 % of what reaches it dropped."""
    _run("tc", "qdisc", "add", "dev", near_interface(link), "root", "tbf",
         "rate", RATE, "burst", "8kb", "latency", "200ms")
    link.inside("iptables", "-R", LOSS_CHAIN, "1", "-m", "statistic", "--mode", "random",
                "--probability", str(LOSS), "-j", "DROP")
    link.start_losing()


def lift(link: LossyLink) -> None:
    _run("tc", "qdisc", "del", "dev", near_interface(link), "root")
    link.inside("iptables", "-D", "INPUT", "-p", "udp", "-j", LOSS_CHAIN)


def consumer_to(meeting: Meeting, subscriber: str) -> PacketConsumer:
    producer = meeting.peers["alice"].producers["video"]
    slot = next(s for s in meeting.peers[subscriber].slots if s.producer_id == producer.id)
    assert isinstance(slot.consumer, PacketConsumer)
    return slot.consumer


@pytest.mark.asyncio
@pytest.mark.timeout(180)
async def test_a_weak_link_gets_the_low_layer_and_climbs_back(
    meeting: Meeting, lossy_link: LossyLink, lossy: RemoteSubscriber
) -> None:
    told: list[tuple[str, Episode]] = []
    for kind in ("link_degraded", "link_recovered"):
        meeting.room.on(kind, lambda episode, kind=kind: told.append((kind, episode)))

    def told_of(subscriber: str) -> list[str]:
        return [kind for kind, episode in told if episode.subscriber == subscriber]

    await meeting.join("alice", simulcast=SimulcastCamera())
    clean = [await meeting.join(name, publish=False) for name in ("bob", "carol")]
    bob = clean[0]
    async with asyncio.timeout(60):
        await lossy.wait_decoding(VIDEO)
    for participant in clean:
        await participant.receiver.wait_for_frames([VIDEO], 30, timeout=30)
    weak = consumer_to(meeting, "lossy")
    choice = meeting.peers["alice"].producers["video"].layer_choice(weak)
    assert choice is not None
    # Everyone starts on the top layer (the clean subscribers' frames pace the waits below).
    await bob.receiver.wait_for(lambda: weak.layer == TOP, timeout=20)

    shape(lossy_link)
    shaped_at = time.monotonic()
    await bob.receiver.wait_for(lambda: weak.layer == 0, timeout=FALL_TIMEOUT_S)
    fall_s = time.monotonic() - shaped_at
    # Settle on the low layer (its first frames after the switch), then measure a window.
    await bob.receiver.wait_for_frames([VIDEO], bob.receiver.frames(VIDEO) + 60, timeout=20)
    lag = LoopLag()
    before = await lossy._ask({"report": True, "restart_gaps": True})
    clean_before = {p.name: (p.receiver.frames(VIDEO), time.monotonic()) for p in clean}
    for participant in clean:
        participant.receiver.stats[VIDEO].longest_gap_s = 0.0
    await bob.receiver.wait_for_frames([VIDEO], clean_before["bob"][0] + WINDOW_FRAMES, timeout=40)
    after = await lossy.report()
    await lag.close()
    video, audio = after["report"][VIDEO], after["report"][AUDIO]
    window_s = after["now"] - before["now"]
    fps = (video["frames"] - before["report"][VIDEO]["frames"]) / window_s
    layers_in_window = weak.layer
    # below its layer since the fall, over 10 s before the window ended: sustained
    await bob.receiver.wait_for(lambda: told_of("lossy") == ["link_degraded"], timeout=10)
    degraded = told[-1][1]
    stalls = (f"event loops stalled up to {lag.longest_s:.3f} s here and "
              f"{after['loop_lag_s']:.3f} s in the subscriber")

    passed_while_shaped = choice.probes_passed
    lift(lossy_link)
    lifted_at = time.monotonic()
    await bob.receiver.wait_for(lambda: weak.layer == TOP, timeout=CLIMB_LIMIT_S + 20)
    climb_s = time.monotonic() - lifted_at
    top_width = LAYER_SIZES[TOP][0]
    report_after_climb = await lossy.report()

    print(f"weak link ({RATE}, {LOSS:.0%} loss): fell to layer 0 in {fall_s:.1f} s; "
          f"{fps:.1f} fps at width {video['width']}, longest freeze {freeze_s(video):.3f} s, "
          f"{video['decode_errors']} decode errors; audio freeze {freeze_s(audio):.3f} s; "
          f"probes {choice.probes} ({choice.probes_failed} failed); climbed back in {climb_s:.1f} s; "
          f"{stalls}")
    # the weak subscriber: the low layer, smoothly; no probe up passed on a link that cannot
    # carry the next layer (at its rate, the probe must find no room to spare)
    assert passed_while_shaped == 0, f"{passed_while_shaped} of {choice.probes} probes passed"
    assert layers_in_window == 0 and video["width"] == LAYER_SIZES[0][0]
    assert fps >= LOW_MIN_FPS, stalls
    assert freeze_s(video) <= MAX_FREEZE_S, stalls
    assert video["decode_errors"] == 0
    assert freeze_s(audio) <= MAX_FREEZE_S and audio["decode_errors"] == 0, stalls
    # the others kept the top layer at full rate
    for participant in clean:
        start_frames, since = clean_before[participant.name]
        stats = participant.receiver.stats[VIDEO]
        assert (stats.frames - start_frames) / (time.monotonic() - since) >= CLEAN_MIN_FPS, stalls
        assert stats.width == top_width and stats.decode_errors == 0, participant.name
        assert consumer_to(meeting, participant.name).layer_switches == 0, participant.name
    # and the weak one climbed back
    assert climb_s <= CLIMB_LIMIT_S
    await bob.receiver.wait_for(lambda: True, timeout=1)
    assert report_after_climb["report"][VIDEO]["decode_errors"] == 0
    # one episode on the record: degraded at layer 0 of the top it wanted, recovered once back
    assert (degraded.layer, degraded.wanted, degraded.layers) == (0, TOP, len(LAYER_SIZES))
    await bob.receiver.wait_for(lambda: told_of("lossy") == ["link_degraded", "link_recovered"],
                                timeout=RECOVERED_HOLD_S + 10)
    print(f"degraded since {time.time() - degraded.since:.1f} s ago ({degraded.reason}), then recovered")
    assert told_of("bob") == told_of("carol") == []
