"""Node tokens: only a node holding the system's secret, recently, is let through."""

import pytest

from server.cluster.node_token import MAX_AGE_S, NodeTokenError, node_authorization, verify_node

SECRET = b"one system's secret"


def test_a_fresh_token_names_its_node() -> None:
    assert verify_node(SECRET, node_authorization(SECRET, "county-1", now=1000.0), now=1010.0) == "county-1"


@pytest.mark.parametrize("header, why", [
    (None, "required"),
    ("Bearer abc", "required"),
    ("LianshenNode county", "malformed"),
    ("LianshenNode county:soon:ab", "malformed"),
    (node_authorization(b"another secret", "county", now=1000.0), "not signed"),
    (node_authorization(SECRET, "county", now=1000.0).replace("county", "prov"), "not signed"),
    (node_authorization(SECRET, "county", now=1000.0 - MAX_AGE_S - 1), "expired"),
])
def test_anything_else_is_refused_saying_why(header: str | None, why: str) -> None:
    with pytest.raises(NodeTokenError, match=why):
        verify_node(SECRET, header, now=1000.0)
