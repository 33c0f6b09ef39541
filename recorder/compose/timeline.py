"""What the composed video shows when, and where its chapters are: pure functions of the manifest.

The layout follows the review rather than the audio level: a presentation (a screen track, or a
presentation_started event) puts the shared screen large; otherwise the participant of the last
speaking_started is large. Everyone else whose camera is recording at that instant is small, in
manifest order, so tiles do not jump around when the speaker changes. A track is shown only where
it has media (between its start and end, outside its gaps), so a late joiner or a dropped site
leaves the layout instead of freezing in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, Protocol

from record.events import (
    AgendaItemOpened,
    Logged,
    OpinionAmended,
    OpinionSubmitted,
    SpeakingStarted,
    parse_event,
    payload_keys,
)
from record.reducer import apply
from record.state import AgendaItem, ReviewState

VISUAL_KINDS = ("video", "screen")
CHAPTER_EVENTS = frozenset({"agenda_item_opened", "opinion_submitted", "opinion_amended", "speaking_started"})
TIMELINE_ZERO = datetime(1970, 1, 1, tzinfo=UTC)
"""Events on a recording carry milliseconds from its start; the reducer is given them as times
from this instant (only their order matters to chapters)."""


class TrackLike(Protocol):
    """Read-only members, so a frozen manifest entry (whose `kind` is a narrower Literal) matches."""

    @property
    def track_id(self) -> str: ...

    @property
    def participant_id(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def department(self) -> str | None: ...

    @property
    def kind(self) -> str: ...

    @property
    def start_ms(self) -> int: ...

    @property
    def end_ms(self) -> int: ...

    @property
    def gaps(self) -> Sequence[Any]: ...


class EventLike(Protocol):
    at_ms: int
    type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Span:
    """One stretch of the composed video with a constant layout: `large` is shown big (None when
    nobody is), `small` in the strip, in order."""

    start_ms: int
    end_ms: int
    large: str | None
    small: tuple[str, ...]

    @property
    def tiles(self) -> tuple[str, ...]:
        return ((self.large,) if self.large else ()) + self.small


@dataclass(frozen=True)
class Chapter:
    """A place to jump to. `kind` is agenda | opinion | speaker; only agenda and opinion
    chapters go into the MP4 (speaker changes are too many for a player's chapter menu)."""

    at_ms: int
    kind: str
    title: str

    def as_json(self) -> dict[str, Any]:
        return {"at_ms": self.at_ms, "kind": self.kind, "title": self.title}


def _gap_bounds(gap: Any) -> tuple[int, int]:
    if isinstance(gap, dict):
        return int(gap["start_ms"]), int(gap["end_ms"])
    return int(gap.start_ms), int(gap.end_ms)


def active(track: TrackLike, at_ms: int) -> bool:
    """Whether the track has media at this instant of the recording."""
    if not track.start_ms <= at_ms < track.end_ms:
        return False
    return not any(start <= at_ms < end for start, end in map(_gap_bounds, track.gaps))


def _boundaries(tracks: Iterable[TrackLike], events: Iterable[EventLike], duration_ms: int) -> list[int]:
    points = {0, duration_ms}
    for track in tracks:
        points.update((track.start_ms, track.end_ms))
        for start, end in map(_gap_bounds, track.gaps):
            points.update((start, end))
    points.update(e.at_ms for e in events if e.type in _LAYOUT_EVENTS)
    return sorted(p for p in points if 0 <= p <= duration_ms)


_LAYOUT_EVENTS = {"speaking_started", "presentation_started", "presentation_stopped"}


@dataclass
class _Review:
    """The review state that drives the layout, replayed up to an instant."""

    speaker: str | None = None
    presenting: bool = False
    presenter: str | None = None

    def apply(self, event: EventLike) -> None:
        if event.type == "speaking_started":
            self.speaker = event.payload.get("participant_id")
        elif event.type == "presentation_started":
            self.presenting = True
            self.presenter = event.payload.get("participant_id")
        elif event.type == "presentation_stopped":
            self.presenting, self.presenter = False, None


def _choose_large(visible: list[TrackLike], review: _Review, previous: str | None) -> str | None:
    screens = [t for t in visible if t.kind == "screen"]
    if screens:
        return max(screens, key=lambda t: t.start_ms).track_id
    cameras = [t for t in visible if t.kind == "video"]
    wanted = review.presenter if review.presenting and review.presenter else review.speaker
    for track in cameras:
        if wanted is not None and track.participant_id == wanted:
            return track.track_id
    if previous in {t.track_id for t in cameras}:
        return previous  # a speaker without a camera leaves the last one large
    return cameras[0].track_id if cameras else None


def layout(tracks: Sequence[TrackLike], events: Sequence[EventLike], duration_ms: int) -> list[Span]:
    """The layout spans covering [0, duration_ms), adjacent equal spans merged."""
    visual = [t for t in tracks if t.kind in VISUAL_KINDS]
    ordered = sorted(events, key=lambda e: e.at_ms)
    review, cursor = _Review(), 0
    spans: list[Span] = []
    points = _boundaries(visual, ordered, duration_ms)
    large: str | None = None
    for start, end in pairwise(points):
        while cursor < len(ordered) and ordered[cursor].at_ms <= start:
            review.apply(ordered[cursor])
            cursor += 1
        visible = [t for t in visual if active(t, start)]
        large = _choose_large(visible, review, large)
        small = tuple(t.track_id for t in visible if t.track_id != large)
        if spans and (spans[-1].large, spans[-1].small) == (large, small):
            spans[-1] = Span(spans[-1].start_ms, end, large, small)
        else:
            spans.append(Span(start, end, large, small))
    return spans


def _typed(event: EventLike) -> Any:
    """The record's event behind a chapter-worthy timeline event (None for the others). The
    placement on the timeline may have added the actor's ``participant_id`` (recorder.events);
    only the record's own keys are read."""
    if event.type not in CHAPTER_EVENTS:
        return None
    keys = payload_keys(event.type)
    return parse_event(event.type, {key: value for key, value in event.payload.items() if key in keys})


def _chapter(at_ms: int, event: Any, state: ReviewState, open_before: AgendaItem | None) -> Chapter | None:
    """The chapter an event starts, judged on the review state it leaves: an item that opens (not
    one already open), an opinion revision (marked when it amends), a change of speaker."""
    if isinstance(event, AgendaItemOpened):
        item = state.open_item
        if item is None or item is open_before:
            return None
        return Chapter(at_ms, "agenda", f"议题 {item.ref.position}：{item.ref.item_name}")
    if isinstance(event, OpinionSubmitted | OpinionAmended):
        revision = state.opinions[event.opinion_id].current
        suffix = "（修改）" if revision.amended else ""
        return Chapter(at_ms, "opinion", f"{event.department_code} 意见：{revision.content.kind.label_zh}{suffix}")
    if isinstance(event, SpeakingStarted):
        return Chapter(at_ms, "speaker", f"发言：{event.display_name}")
    return None


def chapters(events: Sequence[EventLike], duration_ms: int) -> list[Chapter]:
    """Every chapter inside the recording, in time order (the page's chapter list), found by
    folding the recording's events with the record's reducer."""
    state, found = ReviewState(), []
    for event in sorted(events, key=lambda e: e.at_ms):
        typed = _typed(event)
        if typed is None:
            continue
        open_before = state.open_item
        apply(state, Logged(TIMELINE_ZERO + timedelta(milliseconds=event.at_ms), None, typed))
        chapter = _chapter(event.at_ms, typed, state, open_before)
        if chapter is not None and 0 <= event.at_ms < duration_ms:
            found.append(chapter)
    return found


def container_chapters(all_chapters: Sequence[Chapter], duration_ms: int) -> list[tuple[int, int, str]]:
    """(start_ms, end_ms, title) for the MP4: agenda items and opinions only, each running to the
    next one; a leading 会议开始 chapter when the first starts later, so the menu covers the file."""
    marks = [c for c in all_chapters if c.kind in ("agenda", "opinion")]
    if not marks:
        return []
    if marks[0].at_ms > 0:
        marks.insert(0, Chapter(0, "start", "会议开始"))
    ends = [c.at_ms for c in marks[1:]] + [duration_ms]
    return [(c.at_ms, end, c.title) for c, end in zip(marks, ends, strict=True) if end > c.at_ms]
