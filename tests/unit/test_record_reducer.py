"""The one reducer: what the state of a review keeps of each event (who, with which post, when,
during or after the meeting; which items were opened; who attended, spoke and acted)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from record.events import Logged, parse_event
from record.reducer import fold
from record.state import AgendaRef
from record.vocab import Capacity, ItemState, MeetingStatus, Phase, Post

T0 = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)
LAND, FILING = "用地预审", "企业投资项目备案"
AGENDA = [AgendaRef(1, "P", FILING), AgendaRef(2, "P", LAND)]
A_POST, B_POST, CHAIR = 11, 12, 1


def _opinion(kind: str, post: str, revision: int = 1, item: str = FILING, **extra: Any) -> dict[str, Any]:
    return {"opinion_id": f"op-{item}", "revision": revision, "project_code": "P", "item_name": item,
            "department_code": "FQ-FGJ", "post": post, "kind": kind, "text": f"{kind}。",
            "conditions": ["条件"] if kind == "conditional" else [], "reasons": "", "legal_basis": "",
            "remedy_notice": "", "refer_to": None, **extra}


def _joined(pid: str, user_id: int | None, name: str, capacity: str, post: str | None = None) -> dict[str, Any]:
    return {"participant_id": pid, "user_id": user_id, "display_name": name, "unit": "", "capacity": capacity,
            "department_id": 5 if post else None, "post": post, "token_id": None,
            "via": "session" if user_id else "token"}


def _log(*events: tuple[int, int | None, str, dict[str, Any]]) -> list[Logged]:
    return [Logged(T0 + timedelta(minutes=minute), actor, parse_event(type, payload), seq)
            for seq, (minute, actor, type, payload) in enumerate(events, start=1)]


MEETING = _log(
    (0, CHAIR, "participant_joined", _joined("p1", CHAIR, "李主任", "chair")),
    (1, B_POST, "participant_joined", _joined("p2", B_POST, "赵发改", "member", "B")),
    (2, None, "participant_joined", _joined("p3", None, "鲁志明", "observer")),
    (3, CHAIR, "meeting_status_changed", {"from": "scheduled", "to": "live", "note": ""}),
    (4, CHAIR, "recording_started", {"recording_key": "R1", "consent_notice": "录音录像。"}),
    (5, CHAIR, "agenda_item_opened", {"project_code": "P", "item_name": FILING, "position": 1}),
    (6, None, "speaking_started", {"participant_id": "p2", "user_id": B_POST, "display_name": "赵发改"}),
    (7, B_POST, "opinion_submitted", _opinion("conditional", "B")),
    (8, B_POST, "material_requested", {"request_id": "mr-1", "opinion_id": f"op-{FILING}", "project_code": "P",
                                       "item_name": FILING, "department_code": "FQ-FGJ", "material": "图纸",
                                       "detail": "", "due_working_days": 5}),
    (9, CHAIR, "agenda_item_closed", {"project_code": "P", "item_name": FILING, "position": 1, "outcome": "通过"}),
    (10, CHAIR, "agenda_item_opened", {"project_code": "P", "item_name": FILING, "position": 1}),
    (11, CHAIR, "recording_stopped", {"recording_key": "R1"}),
    (12, None, "participant_left", {"participant_id": "p3", "user_id": None, "display_name": "鲁志明",
                                    "reason": "left", "duration_ms": 600_000}),
    (13, CHAIR, "meeting_status_changed", {"from": "live", "to": "ended", "note": "审查1个事项。"}),
    (60 * 24 * 3, A_POST, "opinion_amended", {**_opinion("agree", "A", 2), "amendment_reason": "复核后同意"}),
    (60 * 24 * 3 + 1, A_POST, "material_requested", {
        "request_id": "mr-2", "opinion_id": f"op-{FILING}", "project_code": "P", "item_name": FILING,
        "department_code": "FQ-FGJ", "material": "承诺书", "detail": "", "due_working_days": 3}),
)


def test_meeting_start_and_end_come_from_the_record() -> None:
    state = fold(MEETING, AGENDA)
    assert (state.started, state.ended) == (T0 + timedelta(minutes=3), T0 + timedelta(minutes=13))
    assert state.status is MeetingStatus.ENDED and state.closing_note == "审查1个事项。"


def test_each_revision_keeps_who_with_which_post_when_and_whether_during_the_meeting() -> None:
    opinion = fold(MEETING, AGENDA).opinions[f"op-{FILING}"]
    first, amended = opinion.revisions
    assert (first.act.actor_id, first.act.actor_name, first.post, first.act.phase) == (
        B_POST, "赵发改", Post.B, Phase.DURING)
    assert (amended.act.actor_id, amended.act.actor_name, amended.post, amended.act.phase) == (
        A_POST, None, Post.A, Phase.AFTER)  # days later, by someone not in the room
    assert amended.amended and amended.amendment_reason == "复核后同意"
    assert opinion.current is amended and opinion.amendments == [amended]


def test_materials_belong_to_the_revision_they_came_with() -> None:
    state = fold(MEETING, AGENDA)
    opinion = state.opinions[f"op-{FILING}"]
    assert [(m.event.request_id, m.opinion_revision) for m in state.materials] == [("mr-1", 1), ("mr-2", 2)]
    assert [m.event.request_id for m in state.materials_of(opinion)] == ["mr-2"]


def test_items_never_opened_stay_pending_and_a_closed_item_does_not_reopen() -> None:
    state = fold(MEETING, AGENDA)
    filing, land = state.agenda[("P", FILING)], state.agenda[("P", LAND)]
    assert (filing.status, filing.outcome, filing.opened.at) == (ItemState.CLOSED, "通过", T0 + timedelta(minutes=5))
    assert (land.status, land.opened, land.closed) == (ItemState.PENDING, None, None)


def test_attendance_says_who_came_left_spoke_and_acted() -> None:
    presences = fold(MEETING, AGENDA).presences
    chair, rep, guest = presences["p1"], presences["p2"], presences["p3"]
    assert (chair.capacity, chair.acts, chair.floor) == (Capacity.CHAIR, 5, 0)
    assert (rep.post, rep.floor, rep.acts, rep.here) == (Post.B, 1, 2, True)
    assert (guest.user_id, guest.left, guest.left_reason, guest.acts) == (
        None, T0 + timedelta(minutes=12), "left", 0)


def test_recording_and_presentation_switch_on_and_off() -> None:
    state = fold(MEETING[:5], AGENDA)
    assert state.recording and state.recordings["R1"].stopped is None
    assert not fold(MEETING, AGENDA).recording
    shown = fold(_log((0, 3, "presentation_started", {"title": "汇报", "file_name": "a.pdf", "page_count": 3})))
    assert shown.presentation is not None and shown.presentation.event.title == "汇报"
    stopped = fold(_log((0, 3, "presentation_started", {"title": "汇报", "file_name": "a.pdf", "page_count": 3}),
                        (1, 3, "presentation_stopped", {"title": "汇报"})))
    assert stopped.presentation is None


def test_without_the_agenda_items_are_learnt_when_opened() -> None:
    state = fold(MEETING)
    assert list(state.agenda) == [("P", FILING)]
    other = fold(_log((0, 1, "agenda_item_opened", {"project_code": "Q", "item_name": "其他", "position": 9}),
                      (1, 2, "opinion_submitted", _opinion("agree", "A", item="其他"))), AGENDA)
    assert ("Q", "其他") not in other.agenda and "op-其他" in other.opinions
    assert all(item.status is ItemState.PENDING for item in other.agenda.values())


def test_excused_departments_are_kept() -> None:
    state = fold(_log((0, 1, "invitation_excused", {"invitation_id": 4, "department_id": 7, "reason": "外出"})))
    assert state.excused == {7: "外出"}


def _link(pid: str, user_id: int | None, since_minute: int, layer: int = 0,
          reason: str = "loss") -> dict[str, Any]:
    return {"participant_id": pid, "user_id": user_id, "since": (T0 + timedelta(minutes=since_minute)).isoformat(),
            "layer": layer, "wanted": 2, "layers": 3, "reason": reason}


def test_degraded_episodes_are_kept_per_presence_and_an_open_one_ends_with_the_leave() -> None:
    state = fold(_log(
        (0, B_POST, "participant_joined", _joined("p2", B_POST, "赵发改", "member", "B")),
        (0, None, "participant_joined", _joined("p3", None, "鲁志明", "observer")),
        (2, None, "link_degraded", _link("p2", B_POST, 1, reason="rtt")),
        (3, None, "link_degraded", _link("p2", B_POST, 3)),  # one open at a time
        (5, None, "link_recovered", _link("p2", B_POST, 1, reason="rtt")),
        (6, None, "link_recovered", _link("p2", B_POST, 1)),  # nothing open: no effect
        (8, None, "link_degraded", _link("p2", B_POST, 7, layer=1, reason="bandwidth")),
        (9, None, "link_degraded", _link("p3", None, 8)),
        (11, None, "participant_left", {"participant_id": "p3", "user_id": None, "display_name": "鲁志明",
                                        "reason": "left", "duration_ms": 660_000}),
        (12, None, "link_recovered", _link("p3", None, 8)),  # after the leave: ignored
        (13, None, "link_degraded", _link("nobody", None, 12)),
    ))
    p2, p3 = state.presences["p2"], state.presences["p3"]
    assert [(s.since, s.until, s.layer, s.reason) for s in p2.degraded] == [
        (T0 + timedelta(minutes=1), T0 + timedelta(minutes=5), 0, "rtt"),
        (T0 + timedelta(minutes=7), None, 1, "bandwidth")]
    assert p2.degraded_s(T0 + timedelta(minutes=10)) == 7 * 60  # 4 closed + 3 still open
    assert p3.degraded[-1].until is None and p3.degraded_s(T0 + timedelta(minutes=30)) == 3 * 60  # to the leave
    assert "nobody" not in state.presences
