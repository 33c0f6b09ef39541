"""Where a subscriber of a simulcast camera starts: on a layer the publisher is sending.

Chromium pauses simulcast layers its estimate cannot carry (in a publisher's first seconds, and
on a weak uplink) and ignores keyframe requests for a paused layer; a new subscriber that waits
for such a layer's keyframe sees nothing until the choice moves it (seen: 1.8 s of a browser
join). So a new consumer starts on the best layer sent, a layer is judged paused after
``SILENT_S`` without a packet while another layer sends, and a consumer still waiting when its
choice moves it starts from the new layer's recent keyframe, as a late joiner does.
"""

from typing import Any, cast

from server.sfu.layer_choice import LayerChoice
from server.sfu.layers import SILENT_S, LayerIn, best_live
from server.sfu.packet_consumer import PacketConsumer
from server.sfu.packets import ForwardedPacket, PacketCache
from tests.unit.test_sfu_temporal import Sink

NOW = 100.0


def layers_sending(last_packet_at: tuple[float, ...]) -> list[LayerIn]:
    """Three layers whose latest packets came at ``last_packet_at`` (each sent for a second before)."""
    layers = [LayerIn(index, rid, PacketCache(64), cast(Any, None)) for index, rid in enumerate("qhf")]
    for layer, last in zip(layers, last_packet_at, strict=True):
        layer.meter._window_start = last - 1.0
        layer.meter.add(1000, last - 1.0)
        layer.meter.add(1000, last)
    return layers


def keyframe(layer: int, sequence_number: int = 500) -> ForwardedPacket:
    return ForwardedPacket(sequence_number, 9000, 0, b"key", None, 0, True, layer)


class Subscriber:
    """A packet consumer of ``layers`` on a ready m-line, and what it asked of the publisher."""

    def __init__(self, layers: list[LayerIn], recent: dict[int, list[ForwardedPacket]]) -> None:
        self.out = Sink()
        self.asked: list[int] = []
        self.consumer = PacketConsumer(
            "camera", True, self.out, layers, self.asked.append,  # type: ignore[arg-type]
            lambda layer, seq: None, lambda consumer: None, lambda layer: None, "video/VP8",
            lambda layer: recent.get(layer, []), best_live(layers, NOW),
        )


def test_a_layer_silent_for_half_a_second_is_not_live_and_a_new_subscriber_starts_below_it() -> None:
    layers = layers_sending((NOW, NOW, NOW - SILENT_S - 0.1))  # the top paused 0.6 s ago
    assert best_live(layers, NOW) == 1
    subscriber = Subscriber(layers, {})
    assert subscriber.asked == [1]  # the keyframe asked for is one the publisher will send
    subscriber.consumer.forward(keyframe(1))
    assert len(subscriber.out.sent) == 1 and subscriber.consumer.layer == 1

    assert best_live(layers_sending((NOW - 0.8,) * 3), NOW) == 2  # a stall here delays all alike
    assert best_live(layers_sending((NOW - 3, NOW - 3, NOW - 3)), NOW) is None  # nothing sent: no guess
    assert Subscriber(layers_sending((NOW - 3,) * 3), {}).consumer.target_layer == 2  # the top, then


def test_a_waiting_subscriber_moved_to_a_layer_with_a_recent_keyframe_starts_from_it_at_once() -> None:
    layers = layers_sending((NOW, NOW, NOW))
    run = [keyframe(0, 70), ForwardedPacket(71, 9000, 1, b"rest", None, 0, False, 0)]
    subscriber = Subscriber(layers, {0: run})
    assert subscriber.consumer.target_layer == 2 and subscriber.out.sent == []  # waits for the top's
    subscriber.consumer.set_target_layer(0)
    assert [seq for seq, _ in subscriber.out.sent] == [0, 1]  # no round trip to the publisher
    assert subscriber.asked == [2]
    assert subscriber.consumer.layer == 0


def test_the_choice_leaves_a_paused_layer_at_its_next_judgement() -> None:
    layers = layers_sending((NOW, NOW, NOW))
    subscriber = Subscriber(layers, {})
    clock = [NOW]
    choice = LayerChoice(subscriber.consumer, layers, "test", now=lambda: clock[0])
    choice.update()
    assert subscriber.consumer.target_layer == 2
    for layer in layers[:2]:  # the publisher goes on sending the two lower layers only
        layer.meter.add(1000, NOW + SILENT_S + 0.1)
    clock[0] = NOW + SILENT_S + 0.1
    choice.update()
    assert subscriber.consumer.target_layer == 1
    assert subscriber.asked == [2, 1]
