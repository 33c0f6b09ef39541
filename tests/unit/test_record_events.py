"""The record's events: one typed, versioned model per type, checked on the way in, stored exactly
as ``payload_of`` gives them, and every type the server writes is one of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from record.events import EVENT_TYPES, SCHEMA_VERSION, EventError, parse_event, payload_keys, payload_of
from record.vocab import Capacity, LabelledEnum, MeetingStatus, OpinionKind, Post

ROOT = Path(__file__).resolve().parents[2]
WRITERS = {"append_event", "write", "_record", "record"}
"""Calls that put an event into a meeting's log (the service, MeetingLog, the review desk)."""

JOINED = {"participant_id": "p1", "user_id": 3, "display_name": "王发改", "unit": "凤庆县发展和改革局",
          "capacity": "member", "department_id": 1, "post": "A", "token_id": None, "via": "session"}
OPINION = {"opinion_id": "op-01", "revision": 1, "project_code": "P", "item_name": "备案",
           "department_code": "FQ-FGJ", "post": "B", "kind": "disagree", "text": "不同意。", "conditions": [],
           "reasons": "理由", "legal_basis": "依据", "remedy_notice": "申请人享有权利。", "refer_to": None}


def _written_types() -> set[str]:
    """Every event type the server passes as a literal to a log writer."""
    found: set[str] = set()
    for path in (ROOT / "server").rglob("*.py"):
        if "bot" in path.parts:  # the bot records what it receives, not a meeting's log
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in WRITERS:
                continue
            for arg in node.args:
                choices = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
                found.update(c.value for c in choices if isinstance(c, ast.Constant) and isinstance(c.value, str))
    return found


def test_every_type_the_server_writes_is_in_the_record() -> None:
    written = _written_types()
    assert {"participant_joined", "opinion_amended", "meeting_status_changed", "join_token_issued",
            "recording_stopped", "participant_paused"} <= written  # the scan finds the writers
    assert written - EVENT_TYPES == set()


def test_a_payload_round_trips_exactly_with_its_version() -> None:
    event = parse_event("participant_joined", JOINED)
    assert event.capacity is Capacity.MEMBER and event.post is Post.A
    assert payload_of(event) == {"schema_version": SCHEMA_VERSION, **JOINED}
    assert parse_event("participant_joined", payload_of(event)) == event
    changed = parse_event("meeting_status_changed", {"from": "live", "to": "ended", "note": "小结"})
    assert changed.from_ is MeetingStatus.LIVE and payload_of(changed)["from"] == "live"
    assert payload_keys("meeting_status_changed") == {"schema_version", "from", "to", "note"}


def test_defaults_are_written_out() -> None:
    spoke = parse_event("speaking_started", {"participant_id": "p1", "user_id": None, "display_name": "段成林"})
    assert payload_of(spoke) == {"schema_version": 1, "participant_id": "p1", "user_id": None,
                                 "display_name": "段成林", "summary": ""}


@pytest.mark.parametrize(("type", "payload", "problem"), [
    ("whiteboard_cleared", {}, "unknown event type 'whiteboard_cleared'"),
    ("participant_joined", {**JOINED, "username": "fgj_a"}, "username: Extra inputs are not permitted"),
    ("participant_joined", {k: v for k, v in JOINED.items() if k != "via"}, "via: Field required"),
    ("participant_joined", {**JOINED, "user_id": "3"}, "user_id: Input should be a valid integer"),
    ("participant_joined", {**JOINED, "user_id": True}, "user_id: Input should be a valid integer"),
    ("participant_joined", {**JOINED, "capacity": "guest"}, "capacity: Input should be"),
    ("opinion_submitted", {**OPINION, "kind": "maybe"}, "kind: Input should be"),
    ("opinion_submitted", {**OPINION, "post": "C"}, "post: Input should be 'A' or 'B'"),
    ("opinion_submitted", {**OPINION, "revision": 0}, "revision: Input should be greater than or equal to 1"),
    ("opinion_submitted", {**OPINION, "conditions": ("a",)}, "conditions: Input should be a valid list"),
    ("chat_message", {"text": "a\x00b", "to": None}, "cannot be stored"),
    ("chat_message", {"text": "好", "to": "zjj_b"}, "to: Input should be a valid integer"),
    ("chat_message", {"text": "好", "to": None, "type": "x"}, "without 'type'"),
    ("meeting_locked", {"schema_version": 2}, "schema_version: Input should be 1"),
    ("clock_suspended", {"project_code": "P", "item_name": "I", "department_code": "D", "notice_no": "N",
                         "effective_date": "2026-13-01", "reason": ""}, "effective_date"),
    ("join_token_issued", {"token_id": 1, "user_id": None, "guest_name": "", "guest_unit": "", "capacity": "observer",
                           "expires_at": "2026-12-08T10:00:00"}, "time zone"),
])
def test_what_the_record_does_not_take_is_refused_naming_the_key(type: str, payload: dict, problem: str) -> None:
    with pytest.raises(EventError, match=problem) as refused:
        parse_event(type, payload)
    assert " / " in str(refused.value)  # 中文 / English


def test_vocabularies_carry_both_labels() -> None:
    for vocabulary in (OpinionKind, Post, Capacity, MeetingStatus):
        assert issubclass(vocabulary, LabelledEnum)
        assert all(member.label_zh and member.label_en for member in vocabulary)
    assert OpinionKind("conditional").label_zh == "附条件同意" and Post.B.label_zh == "B岗"


def test_no_copy_of_the_opinion_and_post_labels_outside_the_record() -> None:
    """Readers take labels from record.vocab; a literal copy of a label table drifts."""
    labels = {k.label_zh for k in OpinionKind} | {p.label_zh for p in Post}
    copies = []
    for library in ("server", "recorder", "minutes"):
        for path in (ROOT / library).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Constant) and node.value in labels:
                    copies.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert copies == []
