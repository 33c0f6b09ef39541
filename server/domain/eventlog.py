r"""The meeting event log as a hash chain: the archive's proof that the record was not altered.

Each event's hash covers its own fields and the previous event's hash, so changing, removing,
inserting or reordering a stored event breaks the chain at that point. A chain cannot by itself
reveal events cut off at its end, nor a wholesale rewrite from some point on: the head hash must
also be recorded elsewhere (the confirmed minutes, the archive manifest).

Canonical encoding (what the hash covers). The hash must come out the same when the row is read
back from SQLite or PostgreSQL, today or decades later, by any JSON library. Hence:
- one JSON object {meeting_id, seq, ts, actor_id, type, payload, prev_hash}, keys sorted (by code
  point), no whitespace (separators "," and ":"), non-ASCII kept as UTF-8 (ensure_ascii=False);
  escapes as Python's json writes them: \" \\ \b \f \n \r \t, other characters below U+0020 as
  \u00xx (lower-case hex), nothing else escaped; a verifier in another language must match this;
- ts as UTC ISO-8601 with microseconds and "Z" ("2026-11-29T08:00:00.000000Z"); naive datetimes are
  refused because their instant is unknown;
- payload values limited to dict (string keys), list, str, bool, None and integers within
  ±(2**53 - 1). Floats are refused outright, not normalised: writers print the same float
  differently (Python 1e+20, PostgreSQL jsonb 100000000000000000000; 1.0 may come back as 1), and
  integers beyond 2**53 lose precision in any double-based reader (JavaScript). Send amounts as
  strings ("1234.50") or in integer minor units. Tuples, sets, bytes, Decimal and datetimes are
  refused too: they either do not survive a JSON round trip unchanged or have no single JSON form;
- strings may not contain U+0000 (PostgreSQL jsonb cannot store it) or lone surrogates (not UTF-8).
"""

import copy
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

GENESIS_HASH = "0" * 64
_MAX_SAFE_INTEGER = 2**53 - 1


@dataclass(frozen=True)
class EventRecord:
    """One stored event; `hash` covers every other field (see the module docstring).

    seq starts at 1 for each meeting and has no gaps. ts is when the server recorded the event
    (aware, UTC); it is not required to increase, since wall clocks can step back, and seq alone
    gives the order.
    """

    meeting_id: int
    seq: int
    ts: datetime
    actor_id: int | None
    type: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


def canonical_bytes(
    meeting_id: int,
    seq: int,
    ts: datetime,
    actor_id: int | None,
    type: str,
    payload: dict[str, Any],
    prev_hash: str,
) -> bytes:
    """The exact bytes an event's hash covers; ValueError for anything not reproducible."""
    if not isinstance(payload, dict):
        raise ValueError(f"payload must be a JSON object, got {_type_name(payload)}")
    document = {
        "meeting_id": meeting_id,
        "seq": seq,
        "ts": _utc(ts).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": actor_id,
        "type": type,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    _check_json_safe(document, "event")
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def compute_hash(
    meeting_id: int,
    seq: int,
    ts: datetime,
    actor_id: int | None,
    type: str,
    payload: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (lower-case hex) of the canonical bytes."""
    encoded = canonical_bytes(meeting_id, seq, ts, actor_id, type, payload, prev_hash)
    return hashlib.sha256(encoded).hexdigest()


def next_event(
    prev: EventRecord | None,
    meeting_id: int,
    ts: datetime,
    actor_id: int | None,
    type: str,
    payload: dict[str, Any],
) -> EventRecord:
    """The event that follows `prev` (None for a meeting's first event, chained to GENESIS_HASH).

    The payload is deep-copied and ts converted to UTC, so the record equals what the database
    hands back and a caller mutating its dict afterwards cannot desynchronise record and hash.
    """
    if prev is not None and prev.meeting_id != meeting_id:
        raise ValueError(f"previous event belongs to meeting {prev.meeting_id}, not {meeting_id}")
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS_HASH if prev is None else prev.hash
    utc_ts = _utc(ts)
    own_payload = copy.deepcopy(payload)
    return EventRecord(
        meeting_id=meeting_id,
        seq=seq,
        ts=utc_ts,
        actor_id=actor_id,
        type=type,
        payload=own_payload,
        prev_hash=prev_hash,
        hash=compute_hash(meeting_id, seq, utc_ts, actor_id, type, own_payload, prev_hash),
    )


ProblemKind = Literal["changed", "missing", "reordered", "broken_link", "duplicate"]


@dataclass(frozen=True)
class ChainProblem:
    """One break in a chain. expected/found are hashes where the kind has them:
    changed: recomputed vs stored hash; broken_link: the predecessor's hash vs this event's
    prev_hash; missing: the hash the absent event must have had (from its successor) vs None;
    duplicate: the chained event's hash vs the extra one's; reordered: None, None."""

    seq: int
    kind: ProblemKind
    expected: str | None
    found: str | None
    message: str


def verify_chain(records: Sequence[EventRecord]) -> list[ChainProblem]:
    """Every problem found in one meeting's events, ordered by seq; an empty list means intact.

    Pass the rows in the order they were stored (e.g. by the table's surrogate id), not sorted by
    seq: only then can rows that were swapped show up as "reordered". Among events sharing a seq,
    the one its successor's prev_hash points to is taken as the chained one, the others reported
    as "duplicate".
    """
    problems = [*_changed(records), *_reordered(records)]
    by_seq: defaultdict[int, list[EventRecord]] = defaultdict(list)
    for record in records:
        by_seq[record.seq].append(record)
    chain: dict[int, EventRecord] = {}
    for seq, group in by_seq.items():
        successor_links = {record.prev_hash for record in by_seq.get(seq + 1, ())}
        chained = next((r for r in group if r.hash in successor_links), group[0])
        chain[seq] = chained
        problems.extend(_duplicate(seq, chained, extra) for extra in group if extra is not chained)
    for seq in sorted(chain.keys() | set(range(1, max(chain, default=0) + 1))):
        problem = _link_problem(seq, chain)
        if problem is not None:
            problems.append(problem)
    return sorted(problems, key=lambda problem: problem.seq)


def _changed(records: Sequence[EventRecord]) -> Iterator[ChainProblem]:
    for record in records:
        try:
            recomputed = _recomputed_hash(record)
        except ValueError as error:
            yield ChainProblem(
                seq=record.seq,
                kind="changed",
                expected=None,
                found=record.hash,
                message=f"第{record.seq}条事件无法计算哈希，内容已被改动 / "
                f"event seq {record.seq} was changed and cannot be hashed: {error}",
            )
            continue
        if recomputed != record.hash:
            yield ChainProblem(
                seq=record.seq,
                kind="changed",
                expected=recomputed,
                found=record.hash,
                message=f"第{record.seq}条事件内容与其哈希不符"
                f"（应为 {recomputed}，实为 {record.hash}）/ "
                f"event seq {record.seq} was changed: expected {recomputed}, found {record.hash}",
            )


def _recomputed_hash(record: EventRecord) -> str:
    return compute_hash(
        record.meeting_id,
        record.seq,
        record.ts,
        record.actor_id,
        record.type,
        record.payload,
        record.prev_hash,
    )


def _reordered(records: Sequence[EventRecord]) -> Iterator[ChainProblem]:
    highest: int | None = None
    for record in records:
        if highest is not None and record.seq < highest:
            yield ChainProblem(
                seq=record.seq,
                kind="reordered",
                expected=None,
                found=None,
                message=f"第{record.seq}条事件排在第{highest}条之后 / "
                f"event seq {record.seq} comes after seq {highest}",
            )
        else:
            highest = record.seq


def _duplicate(seq: int, chained: EventRecord, extra: EventRecord) -> ChainProblem:
    return ChainProblem(
        seq=seq,
        kind="duplicate",
        expected=chained.hash,
        found=extra.hash,
        message=f"第{seq}条事件重复（链上为 {chained.hash}，多出 {extra.hash}）/ "
        f"event seq {seq} appears more than once: chained {chained.hash}, extra {extra.hash}",
    )


def _link_problem(seq: int, chain: dict[int, EventRecord]) -> ChainProblem | None:
    """A missing event at `seq`, or an event whose prev_hash does not name its predecessor."""
    record = chain.get(seq)
    if record is None:
        successor = chain.get(seq + 1)
        expected = successor.prev_hash if successor is not None else None
        return ChainProblem(
            seq=seq,
            kind="missing",
            expected=expected,
            found=None,
            message=f"缺少第{seq}条事件（其哈希应为 {expected}）/ "
            f"event seq {seq} is missing (its hash was {expected})",
        )
    if seq < 1:
        return ChainProblem(
            seq=seq,
            kind="broken_link",
            expected=None,
            found=record.prev_hash,
            message=f"事件序号须从1开始，出现第{seq}条 / "
            f"event seq must start at 1, found seq {seq}",
        )
    predecessor = chain.get(seq - 1)
    if seq == 1:
        expected_prev = GENESIS_HASH
    elif predecessor is not None:
        expected_prev = predecessor.hash
    else:
        return None  # the gap before it is already reported as missing
    if record.prev_hash == expected_prev:
        return None
    return ChainProblem(
        seq=seq,
        kind="broken_link",
        expected=expected_prev,
        found=record.prev_hash,
        message=f"第{seq}条事件的前序哈希不符（应为 {expected_prev}，实为 {record.prev_hash}）/ "
        f"event seq {seq} does not link to its predecessor: expected {expected_prev}, "
        f"found {record.prev_hash}",
    )


def _utc(ts: datetime) -> datetime:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"naive datetime {ts.isoformat()}: event times must carry a time zone")
    return ts.astimezone(UTC)


def _check_json_safe(value: object, path: str) -> None:
    """Refuse any value whose JSON form would not survive a database round trip byte for byte."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        _check_string(value, path)
    elif isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise ValueError(f"{path}: integer {value} exceeds ±(2**53 - 1)")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_safe(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: key {key!r} is not a string")
            _check_string(key, path)
            _check_json_safe(item, f"{path}.{key}")
    else:
        raise ValueError(f"{path}: {_type_name(value)} is not allowed in the event log")


def _check_string(text: str, path: str) -> None:
    if "\x00" in text:
        raise ValueError(f"{path}: NUL character not allowed")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{path}: string is not valid Unicode (lone surrogate)") from None


def _type_name(value: object) -> str:
    return type(value).__name__
