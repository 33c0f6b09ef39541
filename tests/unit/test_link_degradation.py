"""Sustained link degradation: a consumer's shortfall (layer_choice.py) and a site's debounced
episodes (server.sfu.degradation) — onset after 10 s, recovery after 10 s back, one episode per
site per minute, no pair for a dip. Live on a shaped link: tests/media/test_layers_shaped.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from server.sfu.degradation import EPISODE_GAP_S, RECOVERED_HOLD_S, SUSTAINED_S, Episode, Shortfall, SiteDegradation
from server.sfu.layer_choice import LayerChoice, View, step
from server.sfu.layers import LayerIn
from server.sfu.packet_consumer import PacketConsumer

WALL0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Told:
    events: list[tuple[str, Episode]] = field(default_factory=list)

    def __call__(self, event: str, episode: Episode) -> None:
        self.events.append((event, episode))

    @property
    def kinds(self) -> list[str]:
        return [kind for kind, _episode in self.events]


def _sites(clock: Clock) -> tuple[SiteDegradation, Told]:
    told = Told()
    return SiteDegradation(told, now=clock, wall=lambda: WALL0 + clock.t), told


def _short(since: float, layer: int = 0, reason: Any = "loss") -> Shortfall:
    return Shortfall(since=since, layer=layer, wanted=2, layers=3, reason=reason)


def test_an_episode_opens_with_the_first_short_consumer_and_closes_when_none_is() -> None:
    clock = Clock()
    sites, told = _sites(clock)
    sites.report("site", "tile-a", None)
    assert told.events == []
    sites.report("site", "tile-a", _short(clock.t - SUSTAINED_S, layer=1, reason="rtt"))
    clock.t += 3
    sites.report("site", "tile-b", _short(clock.t - SUSTAINED_S - 5, layer=0))
    sites.report("site", "tile-a", _short(clock.t - SUSTAINED_S - 3, layer=1, reason="rtt"))
    assert told.kinds == ["link_degraded"]  # reported every judgement, told once
    opened = told.events[0][1]
    assert opened == Episode("site", WALL0 + 1000.0 - SUSTAINED_S, 1, 2, 3, "rtt")
    sites.report("site", "tile-a", None)
    assert told.kinds == ["link_degraded"]  # tile-b is still short
    sites.report("site", "tile-b", None)
    assert told.events[1] == ("link_recovered", opened)
    assert sites.episode("site") is None


def test_a_site_opens_at_most_one_episode_a_minute_and_a_held_back_one_opens_after_the_gap() -> None:
    clock = Clock()
    sites, told = _sites(clock)
    sites.report("site", "tile", _short(clock.t - SUSTAINED_S))
    clock.t += 20
    sites.report("site", "tile", None)
    clock.t += 10
    sites.report("site", "tile", _short(clock.t - SUSTAINED_S))  # 30 s after the first opened
    clock.t += EPISODE_GAP_S - 31
    sites.report("site", "tile", _short(clock.t - SUSTAINED_S - 29))
    assert told.kinds == ["link_degraded", "link_recovered"]
    clock.t += 1  # the minute is over: the episode opens, dated when it went below
    sites.report("site", "tile", _short(clock.t - SUSTAINED_S - 30))
    assert told.kinds == ["link_degraded", "link_recovered", "link_degraded"]
    assert told.events[2][1].since == WALL0 + clock.t - SUSTAINED_S - 30


def test_sites_are_independent_and_a_departed_site_is_forgotten() -> None:
    clock = Clock()
    sites, told = _sites(clock)
    sites.report("a", "tile", _short(clock.t))
    sites.report("b", "tile", _short(clock.t))
    assert [episode.subscriber for _kind, episode in told.events] == ["a", "b"]
    sites.forget("a")
    assert sites.episode("a") is None and sites.episode("b") is not None
    sites.report("a", "tile", _short(clock.t))  # a rejoin under the same id starts afresh
    assert told.kinds == ["link_degraded"] * 3


@dataclass
class _Consumer:
    """What LayerChoice reads and calls of a PacketConsumer."""

    layer: int = 2
    target_layer: int = 2
    temporal_layer: int = 2
    temporal_target: int = 2
    receiver_report: None = None
    remb_bps: int | None = None
    producer_id: str = "cam"

    def set_target_layer(self, layer: int, temporal: int = 2) -> None:
        self.target_layer = layer
        self.layer = layer  # as if its keyframe came at once

    def probe(self, size: int) -> None:
        pass


def _choice(clock: Clock, reports: list[Shortfall | None]) -> LayerChoice:
    layers = [LayerIn(i, f"r{i}", cast(Any, None), cast(Any, None)) for i in range(3)]
    for i, layer in enumerate(layers):
        layer.size = (320 * 2**i, 180 * 2**i)
    choice = LayerChoice(cast(PacketConsumer, _Consumer()), layers, "test", now=clock, report=reports.append)
    choice.set_view(View(1280, 720, True))  # wants the top layer
    return choice


def _run(choice: LayerChoice, clock: Clock, seconds: float) -> None:
    for _ in range(int(seconds / 0.25)):
        clock.t += 0.25
        for layer in choice._layers:  # every layer live
            layer.meter.last_packet_at = clock.t
        choice.update()


def test_a_consumer_is_short_after_ten_seconds_below_and_back_after_ten_seconds_up() -> None:
    clock = Clock()
    reports: list[Shortfall | None] = []
    choice = _choice(clock, reports)
    _run(choice, clock, 1)
    choice.link_limit = step(0)  # the link took it down
    went_below = clock.t + 0.25
    _run(choice, clock, SUSTAINED_S - 1)
    assert choice.consumer.layer == 0 and choice.shortfall is None
    _run(choice, clock, 1.5)
    assert choice.shortfall == Shortfall(went_below, 0, 2, 3, "bandwidth")
    choice.link_limit = step(2)
    _run(choice, clock, 1)
    choice.link_limit = step(0)  # a dip back down does not end it, nor start another
    _run(choice, clock, 1)
    choice.link_limit = step(2)
    _run(choice, clock, RECOVERED_HOLD_S - 1)
    assert choice.shortfall is not None
    _run(choice, clock, 1.5)
    assert choice.shortfall is None and reports[-1] is None
    assert len({id(report) for report in reports if report is not None}) == 1  # one shortfall throughout


def test_a_closed_consumer_reports_no_shortfall() -> None:
    clock = Clock()
    reports: list[Shortfall | None] = []
    choice = _choice(clock, reports)
    choice.link_limit = step(0)
    _run(choice, clock, SUSTAINED_S + 1)
    assert reports[-1] is not None
    choice.gone()
    assert reports[-1] is None and choice.shortfall is None
