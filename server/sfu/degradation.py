"""Sustained link degradation per site: when a subscriber's video stays below what its tiles want.

The chair's panel shows the link now; the meeting's record (and through it the minutes' 网络不佳
line and support) needs the episodes: a site whose received video stayed below its tiles' layer
for ``SUSTAINED_S``, and when it came back. Layer decisions change every few hundred
milliseconds on a weak link, so the record takes only debounced episodes:

- a consumer (one tile) is *short* after ``SUSTAINED_S`` below its tile's layer for its link's
  sake, and stays short until it has been back for ``RECOVERED_HOLD_S`` (:class:`Shortfall`,
  judged in ``layer_choice.py``);
- a site's episode opens when one of its consumers is short and closes when none is (nor gone
  away), and a site opens at most one episode per ``EPISODE_GAP_S``: a link that keeps failing
  within that minute stays one open episode's worth of record, logged once it may open again.

The SFU does not write the record: :class:`SiteDegradation` tells the room, which emits
``link_degraded`` / ``link_recovered`` for the signaling layer to log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Literal

SUSTAINED_S = 10.0
"""Below the tile's layer this long is sustained degradation (shorter dips are the link's weather)."""
RECOVERED_HOLD_S = 10.0
"""Back at the tile's layer this long before a consumer counts as recovered."""
EPISODE_GAP_S = 60.0
"""A site opens at most one episode per this interval (no flapping pairs in the record)."""

Reason = Literal["bandwidth", "loss", "rtt"]
"""Why the link holds the layer down: loss above the down threshold, a round trip growing (a
queue), or a probe for the next layer up failing (the link cannot carry its bitrate)."""


@dataclass(frozen=True)
class Shortfall:
    """One consumer held below its tile's layer by its link, sustained."""

    since: float
    """time.monotonic() when it went below."""
    layer: int
    wanted: int
    layers: int
    reason: Reason


@dataclass(frozen=True)
class Episode:
    """A site's degradation as the record takes it: the worst of its consumers when it opened."""

    subscriber: str
    since: float
    """time.time() when its first short consumer went below."""
    layer: int
    wanted: int
    layers: int
    reason: Reason


EpisodeCallback = Callable[[str, Episode], None]
"""Told ``"link_degraded"`` or ``"link_recovered"`` and the site's episode."""


@dataclass
class _Site:
    short: dict[Hashable, Shortfall]
    open: Episode | None = None
    opened_at: float | None = None
    """time.monotonic() when its last episode opened."""


class SiteDegradation:
    """Folds consumers' shortfalls into each subscriber's episodes; tells ``on_change`` with
    ``"link_degraded"`` or ``"link_recovered"`` and the episode."""

    def __init__(
        self,
        on_change: EpisodeCallback,
        now: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._on_change = on_change
        self._now = now
        self._wall = wall
        self._sites: dict[str, _Site] = {}

    def episode(self, subscriber: str) -> Episode | None:
        site = self._sites.get(subscriber)
        return site.open if site is not None else None

    def report(self, subscriber: str, consumer: Hashable, shortfall: Shortfall | None) -> None:
        """A consumer's state, reported on every judgement (so an episode held back by
        ``EPISODE_GAP_S`` opens at the first report after the gap)."""
        site = self._sites.setdefault(subscriber, _Site({}))
        if shortfall is None:
            site.short.pop(consumer, None)
        else:
            site.short[consumer] = shortfall
        self._judge(subscriber, site)

    def forget(self, subscriber: str) -> None:
        """The subscriber left: an open episode ends with it (the record closes it at the leave)."""
        self._sites.pop(subscriber, None)

    def _judge(self, subscriber: str, site: _Site) -> None:
        now = self._now()
        if site.open is not None and not site.short:
            episode, site.open = site.open, None
            self._on_change("link_recovered", episode)
        elif site.open is None and site.short:
            if site.opened_at is not None and now - site.opened_at < EPISODE_GAP_S:
                return
            worst = min(site.short.values(), key=lambda s: (s.layer - s.wanted, s.since))
            first = min(s.since for s in site.short.values())
            site.opened_at = now
            site.open = Episode(subscriber, self._wall() - (now - first), worst.layer, worst.wanted,
                                worst.layers, worst.reason)
            self._on_change("link_degraded", site.open)
        elif not site.short and site.opened_at is None:
            del self._sites[subscriber]

