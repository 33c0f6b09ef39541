"""Simulcast: one publisher sends three layers, each subscriber gets the one chosen for it."""

import time

import pytest

from server.bot.participant import Participant
from server.bot.simulcast import LAYER_SIZES, SimulcastCamera
from server.sfu.layers import best_live
from server.sfu.packet_consumer import PacketConsumer

from .meeting import Meeting, source_name

packet_path = pytest.mark.parametrize("settings", ["packet"], indirect=True)
TOP, LOW = len(LAYER_SIZES) - 1, 0
WIDTHS = [width for width, _, _ in LAYER_SIZES]


def width(viewer: Participant, source: str) -> int | None:
    stats = viewer.receiver.stats.get(source)
    return stats.width if stats is not None else None


def consumer_of(meeting: Meeting, subscriber: str, publisher: str) -> PacketConsumer:
    producer = meeting.peers[publisher].producers["video"]
    slot = next(s for s in meeting.peers[subscriber].slots if s.producer_id == producer.id)
    assert isinstance(slot.consumer, PacketConsumer)
    return slot.consumer


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(90)
async def test_each_subscriber_decodes_the_layer_chosen_for_it_across_switches(meeting: Meeting) -> None:
    camera = SimulcastCamera()
    await meeting.join("alice", simulcast=camera)
    bob = await meeting.join("bob", publish=False, decode_frames=100_000)
    carol = await meeting.join("carol", publish=False, decode_frames=100_000)
    video = source_name("alice", "video")
    producer = meeting.peers["alice"].producers["video"]
    assert [layer.rid for layer in producer.layers] == ["q", "h", "f"]

    # Both start on the top layer.
    for viewer in (bob, carol):
        await viewer.receiver.wait_for(lambda v=viewer: width(v, video) == WIDTHS[TOP], timeout=20)
    # (each from a keyframe of the top layer: the cached one if under half a second old, which the
    # camera's first is when they come up quickly, else one asked for: either is right here)

    # Bob goes down to the lowest layer: at that layer's next keyframe, which is asked for.
    requests_before = camera.layers[LOW].keyframe_requests
    assert meeting.peers["bob"].set_view(producer.id, 300, 170, visible=True)
    await bob.receiver.wait_for(lambda: width(bob, video) == WIDTHS[LOW], timeout=10)
    assert camera.layers[LOW].keyframe_requests > requests_before
    frames_on_low = bob.receiver.stats[video].frames
    await bob.receiver.wait_for(lambda: bob.receiver.stats[video].frames >= frames_on_low + 60, timeout=10)

    # And back up; carol never moved.
    assert meeting.peers["bob"].set_view(producer.id, 1200, 700, visible=True)
    await bob.receiver.wait_for(lambda: width(bob, video) == WIDTHS[TOP], timeout=10)
    frames_on_top = bob.receiver.stats[video].frames
    await bob.receiver.wait_for(lambda: bob.receiver.stats[video].frames >= frames_on_top + 60, timeout=10)

    bob_stats = bob.receiver.stats[video]
    assert bob_stats.decode_errors == 0 and bob_stats.longest_gap_s < 1.0
    assert carol.receiver.stats[video].width == WIDTHS[TOP] and carol.receiver.stats[video].decode_errors == 0
    (bob_view,) = [s for s in producer.consumer_stats() if s.layer_switches == 2]
    assert bob_view.layer == TOP and bob_view.target_layer == TOP and bob_view.layers == 3
    # sequence numbers stayed continuous across both switches: nothing reported lost
    assert bob_view.receiver_report is None or bob_view.receiver_report.packets_lost == 0
    # aiortc's receiver is given none of the layers (layers.py keeps their reports and NACKs), and
    # without a recording nothing is reassembled (best_layer.py does it while one is attached)
    assert producer.frames == 0


@packet_path
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_a_late_subscriber_starts_on_the_best_layer_still_sent(meeting: Meeting) -> None:
    """The publisher paused its top layer (a browser's allocator does, on a tight uplink): a
    subscriber joining now starts on the middle layer, through ``Producer.consume_packets``, and
    never waits for a top-layer keyframe that does not come (issue 17)."""
    camera = SimulcastCamera()
    await meeting.join("alice", simulcast=camera)
    carol = await meeting.join("carol", publish=False, decode_frames=100_000)
    video = source_name("alice", "video")
    producer = meeting.peers["alice"].producers["video"]
    await carol.receiver.wait_for(lambda: width(carol, video) == WIDTHS[TOP], timeout=20)

    camera.layers[TOP].sending = False
    # re-checked at each of carol's frames: the SFU sees the top layer as paused
    await carol.receiver.wait_for(lambda: best_live(producer.layers, time.monotonic()) == TOP - 1, timeout=5)

    bob = await meeting.join("bob", publish=False, decode_frames=100_000)
    await bob.receiver.wait_for(lambda: bob.receiver.frames(video) >= 1, timeout=5)
    assert width(bob, video) == WIDTHS[TOP - 1]
    consumer = consumer_of(meeting, "bob", "alice")
    # started there: a consumer made on the top layer and moved down would count a switch
    assert consumer.layer == TOP - 1 and consumer.layer_switches == 0
