"""Which simulcast layer each subscriber gets: the best its link and its tile can use.

The choice is among **steps**: each spatial layer at each of its VP8 temporal layers, lowest
first (layer 0 at T0, T1, T2, then layer 1 at T0 ...; ``step()``). A layer without temporal
layers has one step, at its full rate. So a link that cannot carry a layer at its full rate
keeps its size at half or a quarter of the frame rate before it falls to the smaller layer, and
the lowest layer at T0 is the floor; a temporal step changes at the next frame going down and at
a layer sync frame going up (``temporal.py``), without a keyframe. The tile caps the spatial
layer only (a hidden tile: the lowest step), and a sustained shortfall is judged on the spatial
layer (the size the viewer's tile misses).

Two limits, re-read every ``TICK_S`` for every consumer of a layered producer:
- **The tile**: the client says how large it shows the video (``layer_hint``); the smallest
  layer at least that large is enough, and a hidden tile gets the lowest layer.
- **The link**: the loss and round trip in the subscriber's receiver reports, and its REMB.
  Going down is quick (the condition held for ``DOWN_HOLD_S``): loss above ``LOSS_DOWN`` or a
  round trip ``QUEUE_DOWN_S`` above the link's own (a queue filling) costs the viewer freezes.
  REMB does not take a layer down: a receiver's delay-based estimate collapses whenever its
  process stalls (measured on a loaded 2-core machine: 20-50 kbit/s on clean loopback).
  Going up needs evidence the estimate cannot give: a receiver's estimate is capped at ~1.5x
  what it receives (libwebrtc's AIMD, aiortc's too), so a subscriber on a 150 kbps layer
  never reports room for a 500 kbps one. So after ``UP_HOLD_S`` of low loss the consumer
  probes: it resends recent packets (as RTX) to make up the bitrate of the next layer up, with
  ``PROBE_HEADROOM`` to spare, for as long as it takes the subscriber to answer a sender report
  sent ``PROBE_ANSWERED_AFTER_S`` into the probe (its round trip crossed whatever queue the probe
  built); if that answer shows no loss and no queue (round trip), and its estimate did not drop
  meanwhile, the layer goes up, else the next probe waits twice as long (up to ``BACKOFF_MAX_S``).
Switches themselves happen at a keyframe of the target layer (``packet_consumer.py``).
A consumer kept below its tile's layer by its link for ``SUSTAINED_S`` is reported as a
:class:`~.degradation.Shortfall` on every judgement until it has been back for
``RECOVERED_HOLD_S``; the room folds those into each site's episodes (``degradation.py``).
Audio is never touched here; a layer is only chosen among those the publisher is sending.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .degradation import RECOVERED_HOLD_S, SUSTAINED_S, Reason, Shortfall
from .layers import LayerIn, sent_layers
from .packet_consumer import PacketConsumer
from .vp8 import TEMPORAL_TOP

logger = logging.getLogger(__name__)

TICK_S = 0.25
DOWN_HOLD_S = 0.75
UP_HOLD_S = 1.5
PROBE_ANSWERED_AFTER_S = 0.5
PROBE_REPORT_WAIT_S = 4.0
"""A probe without a receiver report this long after it started counts as failed."""
PROBE_REMB_DROP = 0.9
"""A subscriber's estimate falling below this share of its value at the probe's start fails the
probe at once: its receiver saw the delay grow (a REMB comes at once when the estimate drops)."""
QUEUE_DOWN_S = 0.15
QUEUE_DOWN_REPORTS = 2
QUEUE_UP_S = 0.05
"""Round trip above the lowest seen: a queue on the path (a shaper's, a router's)."""
BACKOFF_MIN_S = 2.0
BACKOFF_MAX_S = 4.0
"""Bounds how long a recovered link waits for its next probe; a link that stays weak pays one
failed probe (a short burst of loss) per this interval. The target is back at the top within
10 s of a link's recovery: the wait, then two probes (low to middle, middle to top), each judged
by a report answering a sender report sent half a second in (aiortc sends them every 0.5-1.5 s:
up to ~2.5 s a probe), each followed by a switch at a keyframe. With 5 s the worst case came to
10.8 s (test_layers_shaped, CI 2026-12-07)."""
LOSS_DOWN = 0.10
LOSS_UP = 0.05
FIT = 0.95
"""A layer fits when its bitrate is at most this share of the subscriber's estimate."""
PROBE_HEADROOM = 1.25
"""A probe sends this much more than the next step's measured bitrate: that bitrate is an average
of payload alone, and the step's keyframes, packet overhead and the audio on the same link come
on top. A link that carries the step with no room to spare (a clip running under its target on
a busy machine, a shaper at the step's rate) must fail the probe, or the layer goes up, loses
packets there, and comes down again."""
REPORT_FRESH_S = 3.0

ShortfallReport = Callable[[Shortfall | None], None]

STEPS_PER_LAYER = TEMPORAL_TOP + 1


def step(layer: int, temporal: int = TEMPORAL_TOP) -> int:
    """The step of spatial ``layer`` up to temporal layer ``temporal`` (steps order the choice)."""
    return layer * STEPS_PER_LAYER + temporal


def layer_steps(layer: LayerIn) -> tuple[int, ...]:
    """The steps a layer offers, lowest first: one per temporal layer it is sent with, the top
    one meaning all of them (``TEMPORAL_TOP``)."""
    temporal = len(layer.meter.temporal_bps)
    full = step(layer.index)
    if temporal < 2:
        return (full,)
    return (*(step(layer.index, tid) for tid in range(temporal - 1)), full)


@dataclass(frozen=True)
class View:
    """How a subscriber shows a producer: tile size in CSS pixels times device pixel ratio."""

    width: int
    height: int
    visible: bool


class LayerChoice:
    """The layer decision for one consumer of a layered producer."""

    def __init__(
        self,
        consumer: PacketConsumer,
        layers: Sequence[LayerIn],
        describe: str,
        now: Callable[[], float] = time.monotonic,
        report: ShortfallReport | None = None,
    ) -> None:
        """``report`` is told the consumer's :class:`Shortfall` (or None) after every judgement."""
        self.consumer = consumer
        self._layers = layers
        self._describe = describe
        self._now = now
        self.view: View | None = None
        self.link_limit = step(len(layers) - 1)
        """The highest step (``step()``) the link carries, as last judged."""
        self._trouble_since: float | None = None
        self._calm_since: float | None = None
        self._probing = False
        self._probe_layer = 0
        self._probe_remb: int | None = None
        self._probe_started = 0.0
        self._base_rtt: float | None = None
        self._last_report_at: float | None = None
        self._queued_reports = 0
        self._down_report_at: float | None = None
        self._backoff_s = BACKOFF_MIN_S
        self._next_probe_at = 0.0
        self._report = report
        self._reason: Reason = "bandwidth"
        """Why the link limit last went down (or a probe up failed)."""
        self._below_since: float | None = None
        self._back_since: float | None = None
        self.shortfall: Shortfall | None = None
        """Sustained degradation, if the link has held this consumer below its tile's layer."""
        self.probes = 0
        self.probes_failed = 0
        self.probes_passed = 0

    def set_view(self, view: View) -> None:
        self.view = view
        self.update()

    def view_limit(self) -> int:
        """The smallest live layer that fills the tile (lowest when hidden; top when unknown)."""
        top = len(self._layers) - 1
        if self.view is None:
            return top
        if not self.view.visible:
            return 0
        for layer in self._layers:
            if layer.size is not None and (layer.size[0] >= self.view.width or layer.size[1] >= self.view.height):
                return layer.index
        return top

    def view_cap(self) -> int:
        """The highest step the tile can use: its layer at full rate; hidden: the lowest step."""
        if self.view is not None and not self.view.visible:
            return step(0, 0)
        return step(self.view_limit())

    def update(self) -> None:
        """Re-judge the link and set the consumer's target layer."""
        steps = [s for layer in self._layers for s in layer_steps(layer)]
        if len(steps) < 2:
            return  # one layer without temporal layers (yet): nothing to choose
        now = self._now()
        consumer = self.consumer
        current = step(consumer.layer, consumer.temporal_layer)
        report = consumer.receiver_report
        fresh = report is not None and time.monotonic() - report.received_at < REPORT_FRESH_S
        loss = report.fraction_lost if report is not None and fresh else 0.0
        queue = 0.0
        if report is not None and fresh and report.rtt_s is not None:
            self._base_rtt = report.rtt_s if self._base_rtt is None else min(self._base_rtt, report.rtt_s)
            queue = report.rtt_s - self._base_rtt
            if report.received_at != self._last_report_at:  # one vote per report
                self._last_report_at = report.received_at
                self._queued_reports = self._queued_reports + 1 if queue > QUEUE_DOWN_S else 0
        remb = consumer.remb_bps
        if self._probing:
            falling = remb is not None and self._probe_remb is not None and remb < PROBE_REMB_DROP * self._probe_remb
            answered = report.answered_sent_at if report is not None else None
            self._judge_probe(now, loss, queue, falling, answered)
        else:
            report_at = report.received_at if report is not None and fresh else None
            self._judge_link(now, steps, current, loss, queue, remb, report_at)
        live = [s for layer in sent_layers(self._layers, now) for s in layer_steps(layer)] or [current]
        cap = self.view_cap()
        wanted = min(self.link_limit, cap)
        target = max((s for s in live if s <= wanted), default=min(live))
        if target != step(consumer.target_layer, consumer.temporal_target) or target != current:
            consumer.set_target_layer(*divmod(target, STEPS_PER_LAYER))
        unlimited = max((s for s in live if s <= cap), default=min(live))
        self._judge_shortfall(now, target // STEPS_PER_LAYER, unlimited // STEPS_PER_LAYER)

    def _bitrate(self, at: int) -> int:
        """What step ``at`` costs: its layer's bitrate up to its temporal layer."""
        index, temporal = divmod(at, STEPS_PER_LAYER)
        meter = self._layers[index].meter
        if not meter.temporal_bps:
            return meter.bitrate_bps
        return meter.temporal_bps[min(temporal, len(meter.temporal_bps) - 1)]

    def _judge_link(
        self, now: float, steps: list[int], current: int, loss: float, queue: float, remb: int | None,
        report_at: float | None,
    ) -> None:
        # A queue must show in two reports running: one late report can be a stalled process. A
        # report that already took a layer down says nothing yet about the layer below.
        news = report_at is not None and report_at != self._down_report_at
        if news and (loss > LOSS_DOWN or self._queued_reports >= QUEUE_DOWN_REPORTS):
            self._calm_since = None
            self._trouble_since = self._trouble_since if self._trouble_since is not None else now
            if now - self._trouble_since >= DOWN_HOLD_S and current > steps[0]:
                # what the link delivered of this step bounds what it carries
                carried = self._bitrate(current) * (1 - loss)
                fitting = [s for s in steps if s < current and self._bitrate(s) <= FIT * carried]
                self.link_limit = max(fitting, default=steps[0])
                self._reason = "loss" if loss > LOSS_DOWN else "rtt"
                logger.info(
                    "%s: down to layer %d T%d (loss %.0f %%, queue %.0f ms, REMB %s bps, bitrate %d)",
                    self._describe, *divmod(self.link_limit, STEPS_PER_LAYER), 100 * loss, 1000 * queue, remb,
                    self._bitrate(current),
                )
                self._trouble_since = None
                self._down_report_at = report_at
                self._queued_reports = 0
                self._next_probe_at = now + self._backoff_s
            return
        self._trouble_since = None
        if loss >= LOSS_UP or queue > QUEUE_UP_S:
            self._calm_since = None
            return
        self._calm_since = self._calm_since if self._calm_since is not None else now
        top = max((s for s in steps if s <= self.view_cap()), default=steps[0])
        if self.link_limit >= top or now - self._calm_since < UP_HOLD_S or now < self._next_probe_at:
            return
        if current < self.link_limit:
            return  # a switch up is still waiting for its keyframe (or layer sync frame)
        if remb is not None and self._bitrate(top) <= FIT * remb:
            self.link_limit = top  # the estimate already allows it
            return
        # one step at a time: a probe the link cannot carry must overload it as little as it can
        self._probe_layer = min(s for s in steps if s > self.link_limit)
        self._probe_remb = remb
        self._probing = True
        self._probe_started = time.monotonic()
        self.probes += 1

    def _judge_probe(self, now: float, loss: float, queue: float, falling: bool, answered: float | None) -> None:
        # judged by the first report answering a sender report sent well into the probe: its round
        # trip went through whatever queue the probe built
        reported = answered is not None and answered > self._probe_started + PROBE_ANSWERED_AFTER_S
        failed = loss >= LOSS_UP or queue > QUEUE_UP_S or falling
        waited = time.monotonic() - self._probe_started >= PROBE_REPORT_WAIT_S
        if not reported and not failed and not waited:
            current = step(self.consumer.layer, self.consumer.temporal_layer)
            shortfall = PROBE_HEADROOM * self._bitrate(self._probe_layer) - self._bitrate(current)
            self.consumer.probe(int(max(0, shortfall) * TICK_S / 8))
            return
        self._probing = False
        if failed or not reported:
            self._calm_since = None
            self.probes_failed += 1
            self._reason = "bandwidth"
            self._backoff_s = min(BACKOFF_MAX_S, self._backoff_s * 2)
            self._next_probe_at = now + self._backoff_s
        else:
            self._backoff_s = BACKOFF_MIN_S
            self.probes_passed += 1
            self.link_limit = self._probe_layer
            logger.info("%s: probe passed, up to layer %d T%d", self._describe,
                        *divmod(self.link_limit, STEPS_PER_LAYER))

    def _judge_shortfall(self, now: float, target: int, unlimited: int) -> None:
        """Sustained below ``unlimited`` (what the tile would get of the live layers on a perfect
        link) starts a shortfall; a shortfall ends once back for ``RECOVERED_HOLD_S``."""
        if target < unlimited:
            self._back_since = None
            self._below_since = self._below_since if self._below_since is not None else now
            if self.shortfall is None and now - self._below_since >= SUSTAINED_S:
                self.shortfall = Shortfall(self._below_since, target, unlimited, len(self._layers), self._reason)
                logger.warning("%s: layer %d instead of %d for %.0f s (%s)",
                               self._describe, target, unlimited, now - self._below_since, self._reason)
        else:
            self._below_since = None
            if self.shortfall is not None:
                self._back_since = self._back_since if self._back_since is not None else now
                if now - self._back_since >= RECOVERED_HOLD_S:
                    logger.info("%s: back to layer %d", self._describe, target)
                    self.shortfall, self._back_since = None, None
        if self._report is not None:
            self._report(self.shortfall)

    def gone(self) -> None:
        """The consumer closed: whatever it lacked, it lacks no more."""
        self.shortfall = None
        if self._report is not None:
            self._report(None)


class LayerChooser:
    """Runs every layered consumer's :class:`LayerChoice` of one producer on a timer."""

    def __init__(self) -> None:
        self.choices: dict[PacketConsumer, LayerChoice] = {}
        self._task = asyncio.get_running_loop().create_task(self._run())

    def add(self, choice: LayerChoice) -> None:
        self.choices[choice.consumer] = choice

    def remove(self, consumer: PacketConsumer) -> None:
        choice = self.choices.pop(consumer, None)
        if choice is not None:
            choice.gone()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)  # a periodic re-judgement, not a synchronisation
            for choice in list(self.choices.values()):
                try:
                    choice.update()
                except Exception:  # one consumer's choice must not stop the others'
                    logger.exception("layer choice failed for %s", choice.consumer.producer_id)

    def stop(self) -> None:
        self._task.cancel()

    async def stopped(self) -> None:
        await asyncio.gather(self._task, return_exceptions=True)
