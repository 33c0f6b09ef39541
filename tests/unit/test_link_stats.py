"""The link-state arithmetic: rates from sampled counters, the quality thresholds, room totals and
the /metrics text (server.sfu.link_stats, server.web.pages.metrics). Live numbers: tests/media."""

from __future__ import annotations

import pytest

from server.sfu.link_stats import (
    CounterSampler,
    Interval,
    PeerLinks,
    PublishLink,
    RoomLinks,
    SubscribeLink,
    furthest_below,
    link_quality,
)
from server.web.pages.metrics import prometheus_text


def test_rate_is_the_increase_over_the_time_between_samples() -> None:
    sampler = CounterSampler(min_interval_s=1.0)
    assert sampler.interval("k", (1000, 10), at=100.0) is None  # one sample is no rate
    span = sampler.interval("k", (4000, 40), at=102.0)
    assert span == Interval(2.0, (3000, 30))
    assert span.rate() == 1500.0 and span.rate(1) == 15.0


def test_a_sample_too_soon_repeats_the_previous_interval_and_keeps_its_base() -> None:
    sampler = CounterSampler(min_interval_s=1.0)
    sampler.interval("k", (0,), at=0.0)
    first = sampler.interval("k", (2000,), at=2.0)
    assert sampler.interval("k", (2100,), at=2.3) == first  # 0.3 s would be a noisy rate
    # the next interval runs from the kept sample (t=2), not from the ignored one
    assert sampler.interval("k", (5000,), at=3.0) == Interval(1.0, (3000,))


def test_counters_going_backwards_start_afresh() -> None:
    sampler = CounterSampler(min_interval_s=1.0)
    sampler.interval("k", (5000,), at=0.0)
    assert sampler.interval("k", (10,), at=2.0) is None
    assert sampler.interval("k", (1010,), at=3.0) == Interval(1.0, (1000,))


def test_forgotten_keys_start_afresh_and_keys_are_independent() -> None:
    sampler = CounterSampler(min_interval_s=1.0)
    sampler.interval("a", (0,), at=0.0)
    sampler.interval("b", (0,), at=0.0)
    sampler.keep_only(["b"])
    assert sampler.interval("a", (100,), at=2.0) is None
    assert sampler.interval("b", (100,), at=2.0) == Interval(2.0, (100,))


@pytest.mark.parametrize(("loss", "rtt", "quality"), [
    (None, None, "unknown"),
    (0.0, 20.0, "good"),
    (None, 20.0, "good"),
    (0.019, 149.0, "good"),
    (0.02, 20.0, "fair"),
    (0.0, 150.0, "fair"),
    (0.079, 399.0, "fair"),
    (0.08, 20.0, "poor"),
    (0.0, 400.0, "poor"),
    (0.5, None, "poor"),
])
def test_quality_thresholds(loss: float | None, rtt: float | None, quality: str) -> None:
    assert link_quality(loss, rtt) == quality


def _subscribe(producer: str, publisher: str, loss: float | None, sent: int, dropped: int = 0,
               layer: int | None = None, wanted: int | None = None, layers: int = 1) -> SubscribeLink:
    return SubscribeLink(
        producer_id=producer, publisher_peer_id=publisher, kind="video", bitrate_kbps=500.0, bytes_sent=sent,
        loss_fraction=loss, jitter_ms=2.0, remb_kbps=None, rtt_ms=12.0, forwarded=10, nacks_answered=0,
        nacks_missed=0, retransmitted=0, send_dropped=dropped, waiting_dropped=0, layer=layer,
        wanted_layer=wanted, layers=layers)


def test_the_panel_shows_the_layered_video_furthest_below_what_its_tile_wants() -> None:
    plain = _subscribe("a-v", "a", 0.0, 0)
    small_tile = _subscribe("b-v", "b", 0.0, 0, layer=0, wanted=0, layers=3)
    held_back = _subscribe("c-v", "c", 0.0, 0, layer=1, wanted=2, layers=3)
    full = _subscribe("d-v", "d", 0.0, 0, layer=2, wanted=2, layers=3)
    assert furthest_below([plain, small_tile, held_back, full]) == held_back
    assert furthest_below([full, small_tile]) == small_tile  # none held back: the lowest layer
    assert furthest_below([plain]) is None  # no layers, no column


def _peer(peer_id: str, name: str, subscribe: tuple[SubscribeLink, ...], up_kbps: float | None) -> PeerLinks:
    publish = (PublishLink(producer_id=f"{peer_id}-v", kind="video", muted=False, bitrate_kbps=up_kbps,
                           packets_received=100, packets_lost=0, loss_fraction=0.0, jitter_ms=1.0,
                           upstream_nacks=0),)
    return PeerLinks(peer_id=peer_id, name=name, publish=publish, subscribe=subscribe, up_kbps=up_kbps,
                     down_kbps=500.0 * len(subscribe), up_loss=0.0,
                     down_loss=max((s.loss_fraction or 0.0 for s in subscribe), default=None),
                     rtt_ms=12.0, quality="good")


ROOM = RoomLinks("7", (
    _peer("a", '会场"甲"', (_subscribe("b-v", "b", 0.1, 1000, dropped=3),), 600.0),
    _peer("b", "会场乙", (_subscribe("a-v", "a", 0.0, 3000), _subscribe("c-v", "c", None, 500)), None),
), taken_at=0.0)


def test_room_totals() -> None:
    totals = ROOM.totals
    assert (totals.peers, totals.producers, totals.consumers) == (2, 2, 3)
    assert (totals.bytes_sent, totals.send_dropped) == (4500, 3)
    assert totals.mean_subscriber_loss == pytest.approx(0.05)  # reports only: the silent one is left out
    assert totals.max_subscriber_loss == 0.1


def test_metrics_text() -> None:
    lines = prometheus_text([ROOM]).splitlines()
    assert "# TYPE lianshen_meeting_peers gauge" in lines
    assert 'lianshen_meeting_peers{meeting="7"} 2' in lines
    assert 'lianshen_meeting_subscriber_loss_max{meeting="7"} 0.1' in lines
    assert 'lianshen_peer_info{meeting="7",peer="a",name="会场\\"甲\\""} 1' in lines  # quotes escaped
    assert 'lianshen_link_bitrate_kbps{meeting="7",peer="a",direction="up"} 600' in lines
    assert 'lianshen_link_rtt_ms{meeting="7",peer="b",direction="down"} 12' in lines
    # an unknown value is no sample at all (not a zero that would read as "nothing sent")
    assert not any(line.startswith('lianshen_link_bitrate_kbps{meeting="7",peer="b",direction="up"}')
                   for line in lines)


def test_metrics_text_without_live_meetings_declares_the_metrics() -> None:
    text = prometheus_text([])
    assert "# HELP lianshen_link_loss_ratio" in text
    assert not [line for line in text.splitlines() if not line.startswith("#")]
