"""Signed in on one node, signed in on the node it sends you to: a one-time handoff ticket.

A browser that reaches a node not serving it is sent to another node's room page (routing.py). Its
session cookie belongs to the first node's origin, so without help it would land on a login form.
The sending node therefore puts a ticket in the room address: who (the account), for which meeting,
for which node, when, and a random nonce, signed with the nodes' shared ``auth.token_secret`` (as
node tokens are). The receiving node's ``GET /cluster/v1/handoff?ticket=`` checks the signature,
that the ticket names this node and is under a minute old, spends the nonce once in Redis (a ticket
read from a browser history or a proxy log does not open a second session), opens a session for
the account if it is still active, and sends the browser on to the room. A ticket that fails any of
these is refused (403, the error page in the caller's language, which offers the login form).

Tickets are only for accounts: a guest's join link already works on every node.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import NoReturn

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError
from yarl import URL

from server.auth.client_address import client_address
from server.auth.sessions import open_session
from server.db.models import User
from server.web.context import context, db
from server.web.cookies import set_session_cookie
from server.web.errors import ApiError

logger = logging.getLogger(__name__)

HANDOFF_PATH = "/cluster/v1/handoff"
MAX_AGE_S = 60.0
"""How long a ticket stays good: the browser follows the redirect at once."""
SPENT_TTL_S = int(2 * MAX_AGE_S)
"""How long a spent nonce is remembered: longer than any ticket that names it is good."""


class HandoffError(ValueError):
    """The ticket is malformed, forged, for another node, stale or spent (the message says which)."""


@dataclass(frozen=True)
class Ticket:
    user_id: int
    meeting_id: int
    node_id: str
    issued: int
    nonce: str


def _mac(secret: bytes, body: str) -> str:
    return hmac.new(secret, f"lianshen-handoff:{body}".encode(), hashlib.sha256).hexdigest()


def issue_ticket(secret: bytes, user_id: int, meeting_id: int, node_id: str, now: float | None = None) -> str:
    """A ticket for ``user_id`` to enter ``meeting_id`` on node ``node_id`` (node ids hold no ':')."""
    issued = int(time.time() if now is None else now)
    body = f"{user_id}:{meeting_id}:{node_id}:{issued}:{secrets.token_urlsafe(12)}"
    return f"{body}:{_mac(secret, body)}"


def read_ticket(secret: bytes, ticket: str, node_id: str, now: float | None = None) -> Ticket:
    """The ticket's content if it is genuine, for ``node_id`` and fresh; HandoffError otherwise
    (spending it is the caller's part, :meth:`HandoffDesk.spend`)."""
    body, _, mac = ticket.rpartition(":")
    parts = body.split(":")
    if len(parts) != 5 or not (parts[0].isdigit() and parts[1].isdigit() and parts[3].isdigit()):
        raise HandoffError("malformed handoff ticket")
    if not hmac.compare_digest(mac, _mac(secret, body)):
        raise HandoffError("handoff ticket not signed with this system's secret")
    user_id, meeting_id, for_node, issued, nonce = parts
    if for_node != node_id:
        raise HandoffError(f"handoff ticket is for node {for_node}, not this one ({node_id})")
    if abs((time.time() if now is None else now) - int(issued)) > MAX_AGE_S:
        raise HandoffError("handoff ticket expired")
    return Ticket(int(user_id), int(meeting_id), for_node, int(issued), nonce)


class HandoffDesk:
    """This node's end of the handoff: issues tickets for other nodes, redeems those for itself."""

    def __init__(self, secret: bytes, node_id: str, namespace: str, redis: Redis) -> None:
        self._secret = secret
        self._node_id = node_id
        self._namespace = namespace
        self._redis = redis

    def room_url(self, user_id: int | None, meeting_id: int, node_id: str, signaling_url: str) -> str:
        """Where to send a browser: through the target's handoff desk when it has an account."""
        room = f"{signaling_url}/meetings/{meeting_id}/room"
        if user_id is None:
            return room
        ticket = issue_ticket(self._secret, user_id, meeting_id, node_id)
        return str(URL(f"{signaling_url}{HANDOFF_PATH}").with_query(ticket=ticket))

    async def spend(self, ticket: Ticket) -> bool:
        """Mark the ticket used; False when it was used before (or Redis says so)."""
        key = f"{self._namespace}:handoff:{ticket.nonce}"
        return bool(await self._redis.set(key, self._node_id, nx=True, ex=SPENT_TTL_S))

    async def redeem(self, request: web.Request) -> NoReturn:
        """``GET /cluster/v1/handoff?ticket=``: a session here and on to the room, or a 403 page."""
        try:
            ticket = read_ticket(self._secret, request.query.get("ticket", ""), self._node_id)
            try:
                fresh = await self.spend(ticket)
            except RedisError as exc:
                raise ApiError(503, "节点目录暂不可用，请稍后再试 / the node directory is away: try again shortly",
                               code="directory_away") from exc
            if not fresh:
                raise HandoffError("handoff ticket already used")
            user = await db(request).get(User, ticket.user_id)
            if user is None or not user.is_active:
                raise HandoffError("the account is no longer active")
        except HandoffError as refused:
            logger.warning("handoff refused: %s", refused)
            raise ApiError(403, f"跳转凭据无效，请重新登录 / handoff ticket refused ({refused}): please sign in",
                           code="handoff_refused") from refused
        settings = context(request).settings
        remote = client_address(request, settings.server.trusted_proxies)
        token, _row = await open_session(db(request), user, settings.auth.session_hours, remote)
        logger.info("handoff: user %s enters meeting %s here", ticket.user_id, ticket.meeting_id)
        response = web.HTTPFound(f"/meetings/{ticket.meeting_id}/room")
        set_session_cookie(request, response, token)
        raise response  # raised, so the request's transaction (the new session) is committed

