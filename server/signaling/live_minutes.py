"""The draft minutes of a live meeting, as they build from its record while it goes on.

The room shows the minutes the meeting's end would draft, at any moment: the same builder
(minutes.build.build_minutes over a MinutesSource) and the same HTML renderer as the minutes page,
never a second template, so what a department reads and confirms in the room is what will print.

What it costs, and how it is kept cheap:
- the meeting's facts (people, departments, cases, clocks, calendar: everything of a MinutesSource
  but its events) are read from the database once, when the draft is first asked for, and again
  only when the record names a person they do not hold (someone new joined) or an event was
  written outside the room (``stale``: an excuse, a change of plan or status);
- the events are the live review's own log (server.signaling.review.Review.log: the stored log it
  was loaded from, then every event as it is written), so following the meeting never reads the
  log back;
- a rebuild happens only when someone asks (the room asks while its draft panel is open), at most
  once per ``interval_s``, and one build serves everyone who asked meanwhile; it runs in a worker
  thread (a build folds the whole log: ~10 ms for the demo's meeting, ~0.1 s for 10,000 events,
  bench/live_minutes.py), so the event loop keeps forwarding media and signaling.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from minutes import source as ms
from minutes.build import build_minutes
from minutes.model import Minutes
from minutes.render import render
from record.events import (
    ChatMessage,
    HandRaised,
    JoinTokenIssued,
    LobbyAdmitted,
    LobbyRejected,
    Logged,
    MeetingLocked,
    MeetingUnlocked,
    ParticipantJoined,
    ParticipantMuted,
    ParticipantPaused,
    ParticipantResumed,
    ParticipantUnmuted,
    PresentationStarted,
    PresentationStopped,
    ProducerPublished,
    ProducerUnpublished,
    ScreenShareStopped,
    SpeakingStarted,
    payload_of,
)

LIVE_NUMBER = "（散会后编号）"
"""The draft has no number yet: the minutes are numbered when the meeting's end drafts them."""
INTERVAL_S = 2.0
QUIET = (SpeakingStarted, ChatMessage, HandRaised, ProducerPublished, ProducerUnpublished, ParticipantMuted,
         ParticipantUnmuted, ParticipantPaused, ParticipantResumed, ScreenShareStopped, PresentationStarted,
         PresentationStopped, MeetingLocked, MeetingUnlocked, LobbyAdmitted, LobbyRejected, JoinTokenIssued)
"""Events the minutes do not carry (what was said and shown, media, the lobby: minutes.build):
they do not make the room ask for a new draft."""

FactsLoader = Callable[[], Awaitable[ms.MinutesSource]]
Built = Callable[["Preview"], None]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preview:
    """One build of the live draft."""

    minutes: Minutes
    html: str
    events: int
    """How many events of the record it was built from."""
    built_at: datetime
    build_ms: float
    """Wall time of the build and the HTML rendering, in the worker thread."""

    def public(self, fmt: str, recorded: int) -> dict[str, Any]:
        """What the room is sent: the HTML document or the minutes' model as JSON, and whether
        the record has moved on since (``stale``: a newer draft follows within the interval)."""
        body: dict[str, Any] = ({"html": self.html} if fmt == "html"
                                else {"minutes": self.minutes.model_dump(mode="json")})
        return {**body, "format": fmt, "events": self.events, "stale": recorded > self.events,
                "built_at": self.built_at.isoformat(), "build_ms": round(self.build_ms, 1)}


def is_quiet(logged: Logged) -> bool:
    return isinstance(logged.event, QUIET)


def build_preview(source: ms.MinutesSource) -> tuple[Minutes, str, float]:
    """The draft and its HTML (the minutes page's renderer), and how long they took (ms)."""
    began = time.perf_counter()
    minutes = build_minutes(source, number=LIVE_NUMBER, version=1)
    html = render(minutes, "html").decode("utf-8")
    return minutes, html, (time.perf_counter() - began) * 1000


class LiveDraft:
    """One live meeting's draft minutes, built on demand from the meeting's facts and the review's
    log, at most once per ``interval_s``.

    Asking never waits for the interval (a participant's requests are handled one at a time, and
    an opinion must not queue behind a draft): within it, the last draft is answered, marked stale,
    and one build is scheduled for the interval's end; ``on_built`` then tells the room."""

    def __init__(self, log: list[Logged], load_facts: FactsLoader, on_built: Built, *,
                 interval_s: float = INTERVAL_S) -> None:
        self._log = log
        self._load_facts = load_facts
        self._on_built = on_built
        self._interval_s = interval_s
        self._facts: ms.MinutesSource | None = None
        self._facts_stale = False
        self._known: set[int] = set()
        self._events: list[ms.Event] = []
        self._preview: Preview | None = None
        self._building: asyncio.Task[Preview] | None = None
        self._later: asyncio.TimerHandle | None = None
        self._last_start = -math.inf

    @property
    def drafted(self) -> int | None:
        """How many events of the record the newest draft holds (None before the first)."""
        return self._preview.events if self._preview is not None else None

    async def preview(self) -> Preview:
        """The newest draft: one of everything on record when the interval allows a build (the
        first draft always waits for its build), else the last one, stale, with a build to come."""
        while self._preview is None or self._preview.events < len(self._log):
            if self._building is not None:  # one build serves everyone who asked meanwhile
                await asyncio.shield(self._building)
                continue
            if self._preview is not None and self._due() > 0:
                self._build_later()
                break
            self._building = asyncio.get_running_loop().create_task(self._build())
        assert self._preview is not None
        return self._preview

    def stale(self) -> None:
        """The meeting's facts may have changed (an event was written outside the room: an excuse,
        a plan or status change): the next build reads them again."""
        self._facts_stale = True

    def close(self) -> None:
        if self._later is not None:
            self._later.cancel()
            self._later = None

    def _due(self) -> float:
        return self._last_start + self._interval_s - time.monotonic()

    def _build_later(self) -> None:
        if self._later is None:
            self._later = asyncio.get_running_loop().call_later(max(0.0, self._due()), self._build_now)

    def _build_now(self) -> None:
        self._later = None
        if self._building is None:
            self._building = asyncio.get_running_loop().create_task(self._build())
            self._building.add_done_callback(self._built)

    def _built(self, task: asyncio.Task[Preview]) -> None:
        if task.cancelled():
            return
        if task.exception() is not None:
            logger.error("the live draft of the minutes could not be built", exc_info=task.exception())
            return
        self._on_built(task.result())

    async def _build(self) -> Preview:
        try:
            self._last_start = time.monotonic()
            count = len(self._log)
            if self._facts is None or self._facts_stale or self._names_someone_new(self._log[len(self._events):count]):
                self._facts_stale = False  # marked again if it goes stale while this read is under way
                self._facts = await self._load_facts()
                count = len(self._log)
                self._known = {p.user_id for p in self._facts.people if p.user_id is not None}
                self._known |= {user_id for logged in self._log[:count] for user_id in _named(logged)}
            self._events += [ms.Event(seq=seq, ts=logged.ts, actor_id=logged.actor_id, type=logged.event.type,
                                      payload=payload_of(logged.event))
                             for seq, logged in enumerate(self._log[len(self._events):count], len(self._events) + 1)]
            source = self._facts.model_copy(update={"events": tuple(self._events), "log": None})
            minutes, html, took = await asyncio.to_thread(build_preview, source)
            self._preview = Preview(minutes, html, count, datetime.now(UTC), took)
            return self._preview
        finally:
            self._building = None

    def _names_someone_new(self, new: list[Logged]) -> bool:
        """Whether the record names a person the facts do not hold (their name and post print)."""
        return any(user_id not in self._known for logged in new for user_id in _named(logged))


def _named(logged: Logged) -> set[int]:
    """The people an event names by user id: its actor, and whoever joined."""
    ids = {logged.actor_id}
    if isinstance(logged.event, ParticipantJoined):
        ids.add(logged.event.user_id)
    return {user_id for user_id in ids if user_id is not None}
