"""In-room confirmations in the record: a confirmation belongs to the revision it names, an
amendment after it voids it, and the A post's confirmation stands against B's (AB工作制)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from record.events import Logged, parse_event
from record.reducer import fold

OPINION = {"opinion_id": "op-01", "project_code": "P", "item_name": "备案", "department_code": "FQ-FGJ",
           "kind": "agree", "text": "同意。", "conditions": [], "reasons": "", "legal_basis": "",
           "remedy_notice": "", "refer_to": None}
START = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)


def _log(*events: tuple[int | None, str, dict[str, Any]]) -> list[Logged]:
    return [Logged(START + timedelta(minutes=n), actor, parse_event(type, payload), n + 1)
            for n, (actor, type, payload) in enumerate(events)]


def _confirm(actor: int, revision: int, post: str) -> tuple[int, str, dict[str, Any]]:
    return actor, "opinion_confirmed", {"opinion_id": "op-01", "revision": revision,
                                        "department_code": "FQ-FGJ", "post": post}


def test_the_a_posts_confirmation_stands_against_a_later_b_one() -> None:
    state = fold(_log((7, "opinion_submitted", {**OPINION, "revision": 1, "post": "B"}),
                      _confirm(7, 1, "B"), _confirm(3, 1, "A"), _confirm(7, 1, "B")))
    confirmation = state.opinions["op-01"].confirmation
    assert confirmation is not None and (confirmation.event.post.value, confirmation.act.actor_id) == ("A", 3)
    only_b = fold(_log((7, "opinion_submitted", {**OPINION, "revision": 1, "post": "B"}), _confirm(7, 1, "B")))
    assert only_b.opinions["op-01"].confirmation is not None


def test_an_amendment_voids_the_confirmation_and_an_old_revisions_confirmation_counts_for_nothing() -> None:
    state = fold(_log((3, "opinion_submitted", {**OPINION, "revision": 1, "post": "A"}), _confirm(3, 1, "A"),
                      (3, "opinion_amended", {**OPINION, "revision": 2, "post": "A", "amendment_reason": "改"}),
                      _confirm(3, 1, "A")))
    opinion = state.opinions["op-01"]
    assert opinion.confirmation is None
    assert [c.event.revision for c in opinion.confirmations] == [1]  # the late one naming revision 1: ignored
    reconfirmed = fold(_log((3, "opinion_submitted", {**OPINION, "revision": 1, "post": "A"}),
                            (3, "opinion_amended", {**OPINION, "revision": 2, "post": "A", "amendment_reason": "改"}),
                            _confirm(3, 2, "A")))
    assert reconfirmed.opinions["op-01"].confirmation is not None


def test_a_confirmation_of_an_opinion_not_on_record_changes_nothing() -> None:
    assert fold(_log(_confirm(3, 1, "A"))).opinions == {}
