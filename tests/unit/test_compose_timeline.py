"""The composed layout and chapters as pure functions of a manifest's tracks and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recorder.compose.geometry import Box, boxes, fit
from recorder.compose.timeline import Span, chapters, container_chapters, layout


@dataclass
class T:
    track_id: str
    participant_id: str
    kind: str = "video"
    start_ms: int = 0
    end_ms: int = 10_000
    display_name: str = ""
    department: str | None = None
    gaps: list[dict[str, int]] = field(default_factory=list)


@dataclass
class E:
    at_ms: int
    type: str
    payload: dict[str, Any] = field(default_factory=dict)


def _at(spans: list[Span], ms: int) -> Span:
    return next(s for s in spans if s.start_ms <= ms < s.end_ms)


def test_one_camera_fills_the_frame_and_spans_cover_the_recording() -> None:
    spans = layout([T("a", "p1"), T("mic", "p1", kind="audio")], [], 10_000)
    assert spans == [Span(0, 10_000, "a", ())]


def test_active_speaker_is_large_others_small_in_manifest_order() -> None:
    tracks = [T("a", "p1"), T("b", "p2"), T("c", "p3")]
    events = [E(2000, "speaking_started", {"participant_id": "p2"}),
              E(5000, "speaking_started", {"participant_id": "p3"})]
    spans = layout(tracks, events, 10_000)
    assert _at(spans, 1000) == Span(0, 2000, "a", ("b", "c"))  # nobody spoke yet: the first camera
    assert _at(spans, 3000) == Span(2000, 5000, "b", ("a", "c"))
    assert _at(spans, 9000) == Span(5000, 10_000, "c", ("a", "b"))


def test_screen_share_is_large_while_it_lasts() -> None:
    tracks = [T("a", "p1"), T("b", "p2"), T("s", "p2", kind="screen", start_ms=3000, end_ms=6000)]
    events = [E(1000, "speaking_started", {"participant_id": "p1"}),
              E(3000, "presentation_started", {"participant_id": "p2"}),
              E(6000, "presentation_stopped", {})]
    spans = layout(tracks, events, 10_000)
    assert _at(spans, 4000) == Span(3000, 6000, "s", ("a", "b"))
    assert _at(spans, 7000).large == "a"  # back to the speaker


def test_presentation_without_screen_track_puts_the_presenter_large() -> None:
    tracks = [T("a", "p1"), T("b", "p2")]
    events = [E(1000, "speaking_started", {"participant_id": "p1"}),
              E(2000, "presentation_started", {"participant_id": "p2", "title": "选址图"}),
              E(2500, "speaking_started", {"participant_id": "p1"}),
              E(4000, "presentation_stopped", {})]
    spans = layout(tracks, events, 6000)
    assert _at(spans, 3000).large == "b"  # presenting beats speaking
    assert _at(spans, 5000).large == "a"


def test_absent_tracks_leave_the_layout() -> None:
    tracks = [T("a", "p1", end_ms=8000), T("b", "p2", start_ms=2000, gaps=[{"start_ms": 4000, "end_ms": 5000}])]
    spans = layout(tracks, [E(2000, "speaking_started", {"participant_id": "p2"})], 10_000)
    assert _at(spans, 1000) == Span(0, 2000, "a", ())  # b joins late
    assert _at(spans, 3000) == Span(2000, 4000, "b", ("a",))
    assert _at(spans, 4500) == Span(4000, 5000, "a", ())  # b's gap: the speaker is not shown
    assert _at(spans, 9000) == Span(8000, 10_000, "b", ())  # a left
    assert [(s.start_ms, s.end_ms) for s in spans][-1][1] == 10_000


def test_nobody_on_camera_is_a_black_span() -> None:
    assert layout([T("a", "p1", start_ms=5000)], [], 8000)[0] == Span(0, 5000, None, ())


def _opinion(opinion_id: str, department: str, kind: str, revision: int = 1) -> dict[str, Any]:
    return {"opinion_id": opinion_id, "revision": revision, "project_code": "P", "item_name": "企业投资项目备案",
            "department_code": department, "post": "A", "kind": kind, "text": "", "conditions": [],
            "reasons": "", "legal_basis": "", "remedy_notice": "", "refer_to": None}


def test_chapters_from_agenda_opinions_and_speakers() -> None:
    """Chapters are where the review moves on, as the record's reducer sees it: an item opening
    (not opened again while open), an opinion or its amendment, a new speaker. A placed event may
    carry the actor's participant_id beside the record's keys."""
    item = {"project_code": "P", "item_name": "企业投资项目备案", "position": 1}
    events = [
        E(500, "speaking_started", {"participant_id": "p1", "user_id": 1, "display_name": "李主任"}),
        E(1000, "agenda_item_opened", {**item, "participant_id": "p1"}),
        E(1500, "agenda_item_opened", item),
        E(2000, "opinion_submitted", _opinion("op-1", "FQ-FGJ", "conditional")),
        E(3000, "opinion_amended", {**_opinion("op-1", "FQ-FGJ", "disagree", 2), "amendment_reason": "复核"}),
        E(3500, "chat_message", {"text": "x", "to": None}),
        E(99_000, "agenda_item_opened", {**item, "item_name": "after the end", "position": 2}),
    ]
    found = chapters(events, 10_000)
    assert [(c.at_ms, c.kind, c.title) for c in found] == [
        (500, "speaker", "发言：李主任"),
        (1000, "agenda", "议题 1：企业投资项目备案"),
        (2000, "opinion", "FQ-FGJ 意见：附条件同意"),
        (3000, "opinion", "FQ-FGJ 意见：不同意（修改）"),
    ]
    assert container_chapters(found, 10_000) == [
        (0, 1000, "会议开始"), (1000, 2000, "议题 1：企业投资项目备案"),
        (2000, 3000, "FQ-FGJ 意见：附条件同意"), (3000, 10_000, "FQ-FGJ 意见：不同意（修改）")]
    assert container_chapters([], 10_000) == []


def test_geometry_large_above_strip_below_and_fit_keeps_aspect() -> None:
    assert boxes(640, 360, True, 0) == [Box(0, 0, 640, 360)]
    large, *small = boxes(640, 360, True, 3)
    assert large == Box(0, 0, 640, 270)
    assert [b.x for b in small] == [80, 240, 400] and {(b.y, b.w, b.h) for b in small} == {(270, 160, 90)}
    assert len(boxes(640, 360, True, 8)) == 9 and all(b.x + b.w <= 640 for b in boxes(640, 360, True, 8))
    assert fit(320, 240, Box(0, 0, 640, 270)) == Box(140, 0, 360, 270)  # 4:3 pillar-boxed, centred
    assert fit(640, 360, Box(0, 0, 640, 360)) == Box(0, 0, 640, 360)
    assert all(v % 2 == 0 for v in vars(fit(333, 187, Box(10, 10, 101, 57))).values())
