"""Node-to-node credentials: a node proves it is one of the system's nodes with the shared secret.

The nodes of one system share ``auth.token_secret`` (server.settings requires it with Redis), so a
node signs ``<node id>:<unix time>`` with it; the receiving node checks the MAC in constant time and
that the time is recent, so a token overheard in a log stops working within a minute. Participants'
credentials (sessions, join links) never open node endpoints, and node tokens never open theirs.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SCHEME = "LianshenNode"
MAX_AGE_S = 60.0
"""How old (or, with clocks apart, how far ahead) a token may be."""


class NodeTokenError(ValueError):
    """The token is missing, malformed, forged or stale (the message says which)."""


def _mac(secret: bytes, node_id: str, issued: int) -> str:
    return hmac.new(secret, f"lianshen-node:{node_id}:{issued}".encode(), hashlib.sha256).hexdigest()


def node_authorization(secret: bytes, node_id: str, now: float | None = None) -> str:
    """The Authorization header value a node sends to another."""
    issued = int(time.time() if now is None else now)
    return f"{SCHEME} {node_id}:{issued}:{_mac(secret, node_id, issued)}"


def verify_node(secret: bytes, header: str | None, now: float | None = None) -> str:
    """The sending node's id, or NodeTokenError."""
    scheme, _, token = (header or "").partition(" ")
    if scheme != SCHEME or not token:
        raise NodeTokenError(f"a node token is required (Authorization: {SCHEME} <token>)")
    parts = token.rsplit(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit():
        raise NodeTokenError("malformed node token")
    node_id, issued_text, mac = parts
    issued = int(issued_text)
    if not hmac.compare_digest(mac, _mac(secret, node_id, issued)):
        raise NodeTokenError("node token not signed with this system's secret")
    if abs((time.time() if now is None else now) - issued) > MAX_AGE_S:
        raise NodeTokenError("node token expired")
    return node_id
