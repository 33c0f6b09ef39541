"""A handoff ticket opens a session on the one node it names, for a minute, and only if genuine."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from server.cluster.handoff import MAX_AGE_S, HandoffError, issue_ticket, read_ticket

SECRET = b"the nodes' shared secret"
NOW = 1_800_000_000.0


def test_a_genuine_fresh_ticket_reads_back() -> None:
    ticket = read_ticket(SECRET, issue_ticket(SECRET, 7, 42, "city-2.a", now=NOW), "city-2.a", now=NOW + 5)
    assert (ticket.user_id, ticket.meeting_id, ticket.node_id, ticket.issued) == (7, 42, "city-2.a", int(NOW))
    assert len(ticket.nonce) >= 16


def test_every_ticket_has_its_own_nonce() -> None:
    tickets = {read_ticket(SECRET, issue_ticket(SECRET, 7, 42, "city", now=NOW), "city", now=NOW).nonce
               for _ in range(20)}
    assert len(tickets) == 20


@pytest.mark.parametrize(("tamper", "message"), [
    (lambda t: t.replace("7:42:", "8:42:", 1), "not signed"),  # another account
    (lambda t: t.replace("7:42:", "7:43:", 1), "not signed"),  # another meeting
    (lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"), "not signed"),
    (lambda t: "", "malformed"),
    (lambda t: "x:y:z", "malformed"),
    (lambda t: t.replace(":", "::", 1), "malformed"),
])
def test_a_changed_or_broken_ticket_is_refused(tamper: Callable[[str], str], message: str) -> None:
    ticket = issue_ticket(SECRET, 7, 42, "city", now=NOW)
    with pytest.raises(HandoffError, match=message):
        read_ticket(SECRET, tamper(ticket), "city", now=NOW)


def test_a_ticket_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(HandoffError, match="not signed"):
        read_ticket(SECRET, issue_ticket(b"another system", 7, 42, "city", now=NOW), "city", now=NOW)


def test_a_ticket_for_another_node_is_refused_there() -> None:
    with pytest.raises(HandoffError, match="for node city"):
        read_ticket(SECRET, issue_ticket(SECRET, 7, 42, "city", now=NOW), "county", now=NOW)


def test_a_stale_ticket_is_refused() -> None:
    ticket = issue_ticket(SECRET, 7, 42, "city", now=NOW)
    read_ticket(SECRET, ticket, "city", now=NOW + MAX_AGE_S)
    with pytest.raises(HandoffError, match="expired"):
        read_ticket(SECRET, ticket, "city", now=NOW + MAX_AGE_S + 1)
