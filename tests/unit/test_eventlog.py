"""The meeting event log's canonical encoding and hash chain."""

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from server.domain.eventlog import (
    GENESIS_HASH,
    EventRecord,
    canonical_bytes,
    compute_hash,
    next_event,
    verify_chain,
)

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def build_chain(length: int = 5, meeting_id: int = 7) -> list[EventRecord]:
    records: list[EventRecord] = []
    for index in range(length):
        previous = records[-1] if records else None
        payload = {"n": index, "who": "凤庆县发展和改革局"}
        ts = T0 + timedelta(seconds=index)
        records.append(next_event(previous, meeting_id, ts, 3, "chat_message", payload))
    return records


def kinds(records: list[EventRecord]) -> list[tuple[str, int]]:
    return [(problem.kind, problem.seq) for problem in verify_chain(records)]


# --- canonical encoding --------------------------------------------------------------------


def test_canonical_bytes_are_exactly_the_documented_form() -> None:
    encoded = canonical_bytes(
        7, 1, T0, 3, "joined", {"名": "张三", "a": [1, True, None]}, GENESIS_HASH
    )
    expected = (
        '{"actor_id":3,"meeting_id":7,"payload":{"a":[1,true,null],"名":"张三"},'
        f'"prev_hash":"{GENESIS_HASH}","seq":1,"ts":"2026-11-29T08:00:00.000000Z","type":"joined"}}'
    ).encode()
    assert encoded == expected


def test_control_characters_are_escaped_as_python_json_does() -> None:
    encoded = canonical_bytes(7, 1, T0, 3, "x", {"t": 'a\nb\x01"\\/é'}, GENESIS_HASH)
    assert b'"t":"a\\nb\\u0001\\"\\\\/\xc3\xa9"' in encoded


def test_hash_is_sha256_of_the_canonical_bytes() -> None:
    fields: dict[str, Any] = {
        "meeting_id": 7,
        "seq": 1,
        "ts": T0,
        "actor_id": None,
        "type": "meeting_started",
        "payload": {},
        "prev_hash": GENESIS_HASH,
    }
    assert compute_hash(**fields) == hashlib.sha256(canonical_bytes(**fields)).hexdigest()


def test_timestamps_in_another_zone_hash_as_the_same_instant() -> None:
    beijing = T0.astimezone(timezone(timedelta(hours=8)))
    assert compute_hash(7, 1, beijing, 3, "x", {}, GENESIS_HASH) == compute_hash(
        7, 1, T0, 3, "x", {}, GENESIS_HASH
    )


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        canonical_bytes(7, 1, datetime(2026, 11, 29, 8, 0), 3, "x", {}, GENESIS_HASH)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"amount": 1.5}, "float"),
        ({"amount": float("nan")}, "float"),
        ({"tags": {"a"}}, "set"),
        ({"blob": b"\x00"}, "bytes"),
        ({"pair": (1, 2)}, "tuple"),
        ({"amount": Decimal("1.50")}, "Decimal"),
        ({"at": T0}, "datetime"),
        ({"big": 2**53}, "exceeds"),
        ({"text": "a\x00b"}, "NUL"),
        ({"text": "\ud800"}, "lone surrogate"),
        ({1: "x"}, "not a string"),
        ({"nested": [{"deep": 0.1}]}, r"event\.payload\.nested\[0\]\.deep"),
    ],
)
def test_payloads_that_would_not_round_trip_are_refused(
    payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        canonical_bytes(7, 1, T0, 3, "x", payload, GENESIS_HASH)


def test_largest_safe_integer_is_accepted() -> None:
    assert b"9007199254740991" in canonical_bytes(7, 1, T0, 3, "x", {"n": 2**53 - 1}, GENESIS_HASH)


# --- building the chain --------------------------------------------------------------------


def test_first_event_starts_the_chain_at_genesis() -> None:
    first = next_event(None, 7, T0, None, "meeting_started", {})
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert first.hash == compute_hash(7, 1, T0, None, "meeting_started", {}, GENESIS_HASH)


def test_each_event_links_to_the_previous_one() -> None:
    records = build_chain(3)
    assert [record.seq for record in records] == [1, 2, 3]
    assert records[1].prev_hash == records[0].hash
    assert records[2].prev_hash == records[1].hash


def test_next_event_stores_utc_and_its_own_copy_of_the_payload() -> None:
    payload = {"items": [1]}
    record = next_event(None, 7, T0.astimezone(timezone(timedelta(hours=8))), 3, "x", payload)
    payload["items"].append(2)
    assert record.ts.utcoffset() == timedelta(0)
    assert record.payload == {"items": [1]}
    assert verify_chain([record]) == []


def test_next_event_refuses_another_meetings_predecessor() -> None:
    with pytest.raises(ValueError, match="belongs to meeting 7"):
        next_event(build_chain(1)[0], 8, T0, 3, "x", {})


# --- verifying the chain -------------------------------------------------------------------


def test_intact_and_empty_chains_have_no_problems() -> None:
    assert verify_chain(build_chain()) == []
    assert verify_chain([]) == []


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("meeting_id", 8, [("changed", 3)]),
        ("ts", T0 + timedelta(hours=1), [("changed", 3)]),
        ("actor_id", 4, [("changed", 3)]),
        ("actor_id", None, [("changed", 3)]),
        ("type", "decision_recorded", [("changed", 3)]),
        ("payload", {"n": 2, "who": "凤庆县自然资源局"}, [("changed", 3)]),
        ("prev_hash", "f" * 64, [("changed", 3), ("broken_link", 3)]),
        ("hash", "f" * 64, [("changed", 3), ("broken_link", 4)]),
        ("seq", 4, [("missing", 3), ("changed", 4), ("duplicate", 4)]),
    ],
)
def test_every_tampered_field_is_detected(
    field: str, value: Any, expected: list[tuple[str, int]]
) -> None:
    records = build_chain()
    tampered: dict[str, Any] = {field: value}
    records[2] = dataclasses.replace(records[2], **tampered)
    assert kinds(records) == expected


def test_changed_event_reports_recomputed_and_stored_hash() -> None:
    records = build_chain()
    original = records[2]
    records[2] = dataclasses.replace(original, payload={"n": 99})
    (problem,) = verify_chain(records)
    assert problem.expected == compute_hash(
        7, 3, original.ts, 3, "chat_message", {"n": 99}, original.prev_hash
    )
    assert problem.found == original.hash
    assert "seq 3" in problem.message and original.hash in problem.message


def test_payload_tampered_into_an_unhashable_value_is_reported_not_raised() -> None:
    records = build_chain()
    records[1] = dataclasses.replace(records[1], payload={"n": 1.0})
    (problem,) = verify_chain(records)
    assert (problem.kind, problem.seq, problem.expected) == ("changed", 2, None)
    assert "float" in problem.message


def test_deleted_event_is_missing_with_the_hash_it_had() -> None:
    records = build_chain()
    removed = records.pop(2)
    (problem,) = verify_chain(records)
    assert (problem.kind, problem.seq) == ("missing", 3)
    assert problem.expected == removed.hash
    assert "seq 3" in problem.message and removed.hash in problem.message


def test_deleted_first_event_is_missing() -> None:
    records = build_chain()
    removed = records.pop(0)
    assert kinds(records) == [("missing", 1)]
    assert verify_chain(records)[0].expected == removed.hash


def test_swapped_events_are_reordered() -> None:
    records = build_chain()
    records[1], records[2] = records[2], records[1]
    (problem,) = verify_chain(records)
    assert (problem.kind, problem.seq) == ("reordered", 2)
    assert "seq 2 comes after seq 3" in problem.message


def test_inserted_forged_event_is_a_duplicate() -> None:
    records = build_chain()
    forged = next_event(records[1], 7, T0, 3, "decision_recorded", {"text": "同意"})
    records.insert(2, forged)
    (problem,) = verify_chain(records)
    assert (problem.kind, problem.seq) == ("duplicate", 3)
    assert (problem.expected, problem.found) == (records[3].hash, forged.hash)


def sealed(seq: int, prev_hash: str) -> EventRecord:
    """A self-consistent record (its hash matches its fields), as a forger would write it."""
    return EventRecord(
        7, seq, T0, 3, "x", {}, prev_hash, compute_hash(7, seq, T0, 3, "x", {}, prev_hash)
    )


def test_first_event_not_chained_to_genesis_is_a_broken_link() -> None:
    (problem,) = verify_chain([sealed(1, "a" * 64)])
    assert (problem.kind, problem.seq) == ("broken_link", 1)
    assert (problem.expected, problem.found) == (GENESIS_HASH, "a" * 64)


def test_event_before_seq_one_is_reported() -> None:
    assert kinds([sealed(0, GENESIS_HASH), *build_chain(2)]) == [("broken_link", 0)]
