"""VP8 temporal layers (issue 17): a subscriber held at T0 decodes a quarter of the frames, all of
them whole, and climbs back to T2 at layer sync frames without a keyframe; the others see nothing."""

import time

import pytest

from server.bot.participant import Participant
from server.bot.simulcast import SimulcastCamera

from .meeting import Meeting, source_name
from .test_simulcast import LOW, TOP, WIDTHS, consumer_of, packet_path, width

WINDOW_FRAMES = 120
"""A measuring window: until the untouched subscriber got this many frames (4 s at 30 fps)."""


async def rate_against(slow: Participant, steady: Participant, source: str) -> float:
    """``slow``'s frames per frame ``steady`` receives, over ``WINDOW_FRAMES`` of the latter."""
    slow_before, steady_before = slow.receiver.frames(source), steady.receiver.frames(source)
    await steady.receiver.wait_for_frames([source], steady_before + WINDOW_FRAMES, timeout=20)
    return (slow.receiver.frames(source) - slow_before) / (steady.receiver.frames(source) - steady_before)


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(150)  # encoding three clips takes 40 s on a loaded 2-core machine
async def test_a_subscriber_held_at_t0_gets_a_quarter_of_the_frames_and_climbs_at_sync_points(
    meeting: Meeting,
) -> None:
    camera = SimulcastCamera(temporal_layers=3)
    await meeting.join("alice", simulcast=camera)
    bob = await meeting.join("bob", publish=False, decode_frames=100_000)
    carol = await meeting.join("carol", publish=False, decode_frames=100_000)
    video = source_name("alice", "video")
    producer = meeting.peers["alice"].producers["video"]
    for viewer in (bob, carol):
        await viewer.receiver.wait_for(lambda v=viewer: width(v, video) == WIDTHS[TOP], timeout=20)
    # the packets carry temporal layers, and what each costs is measured
    await carol.receiver.wait_for(lambda: len(producer.layers[TOP].meter.temporal_bps) == 3, timeout=10)
    bob_view, carol_view = consumer_of(meeting, "bob", "alice"), consumer_of(meeting, "carol", "alice")

    # bob hides the tile: the lowest step, the small layer at T0
    assert meeting.peers["bob"].set_view(producer.id, 300, 170, visible=False)
    await bob.receiver.wait_for(
        lambda: (bob_view.layer, bob_view.temporal_layer) == (LOW, 0) and width(bob, video) == WIDTHS[LOW],
        timeout=10)
    held_at = time.monotonic()
    held_rate = await rate_against(bob, carol, video)
    # the subscriber's own report: nothing lost although three frames in four were left out
    await bob.receiver.wait_for(lambda: (r := bob_view.receiver_report) is not None and r.received_at > held_at,
                                timeout=10)
    held = bob_view.stats()
    assert held.receiver_report is not None and held.receiver_report.packets_lost == 0
    assert held.temporal_dropped > 0 and held.temporal_layer == 0

    # shown again at a small size: the same layer at T1, then T2, at sync frames, no keyframe
    requests = camera.layers[LOW].keyframe_requests
    assert meeting.peers["bob"].set_view(producer.id, 300, 170, visible=True)
    await bob.receiver.wait_for(lambda: bob_view.temporal_layer == 2, timeout=5)
    climbed_rate = await rate_against(bob, carol, video)
    print(f"held at T0: {held_rate:.2f} of the frames; back at T2: {climbed_rate:.2f}; "
          f"{held.temporal_dropped} packets left out")
    assert 0.15 <= held_rate <= 0.35
    assert climbed_rate >= 0.85
    assert camera.layers[LOW].keyframe_requests == requests and bob_view.layer == LOW
    bob_stats = bob.receiver.stats[video]
    assert bob_stats.decode_errors == 0 and bob_stats.width == WIDTHS[LOW]
    report = bob_view.receiver_report
    assert report is not None and report.packets_lost == 0

    # carol saw none of it
    carol_stats = carol.receiver.stats[video]
    assert carol_stats.decode_errors == 0 and carol_stats.width == WIDTHS[TOP]
    untouched = carol_view.stats()
    assert (untouched.layer, untouched.temporal_layer, untouched.temporal_dropped, untouched.layer_switches) == (
        TOP, 2, 0, 0)
