"""``GET /metrics``: live meetings' media state in the Prometheus text format (issue 16).

Per meeting a few aggregates, and per participant its link in each direction; labels are the
meeting id, the participant id and the direction, so series come and go with participants and
never multiply per track. A participant's name is on one ``lianshen_peer_info`` series only.
Administrators read it signed in; a scraper sends ``Authorization: Bearer <server.metrics_token>``.
A node of a cluster appends its cascade links' series (``lianshen_cascade_link_*``,
server.cluster.links), so one scrape per node covers both its participants and its links.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator

from aiohttp import web

from server.cluster.node import CASCADE
from server.domain.roles import Role
from server.sfu.link_stats import RoomLinks
from server.signaling.server import SIGNALING
from server.web.context import PRINCIPAL, context

routes = web.RouteTableDef()

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_MEETING_GAUGES: tuple[tuple[str, str], ...] = (
    ("lianshen_meeting_peers", "Participants with media in the meeting"),
    ("lianshen_meeting_producers", "Tracks published (audio, video, screen)"),
    ("lianshen_meeting_consumers", "Tracks forwarded to subscribers"),
    ("lianshen_meeting_bytes_sent", "Payload bytes sent by the consumers present now"),
    ("lianshen_meeting_send_dropped", "Packets dropped at subscribers' full socket buffers"),
    ("lianshen_meeting_subscriber_loss_mean", "Mean loss fraction subscribers report"),
    ("lianshen_meeting_subscriber_loss_max", "Worst loss fraction a subscriber reports"),
)
_PEER_GAUGES: tuple[tuple[str, str], ...] = (
    ("lianshen_peer_info", "A participant's name (value 1)"),
    ("lianshen_link_bitrate_kbps", "Payload bitrate of a participant's link (up: it sends; down: it receives)"),
    ("lianshen_link_loss_ratio", "Loss fraction on the link (up: missing on arrival; down: as reported)"),
    ("lianshen_link_rtt_ms", "Round-trip time of the participant's subscribe connection"),
)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _series(name: str, labels: dict[str, str], value: float | None) -> Iterator[str]:
    if value is None:
        return
    text = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
    yield f"{name}{{{text}}} {value:g}"


def prometheus_text(rooms: Iterable[RoomLinks]) -> str:
    """The exposition text for these snapshots (HELP and TYPE once per metric, even with none)."""
    samples: dict[str, list[str]] = {name: [] for name, _ in (*_MEETING_GAUGES, *_PEER_GAUGES)}
    for room in rooms:
        meeting = {"meeting": room.meeting_id}
        totals = room.totals
        for name, value in zip(
            (name for name, _ in _MEETING_GAUGES),
            (totals.peers, totals.producers, totals.consumers, totals.bytes_sent, totals.send_dropped,
             totals.mean_subscriber_loss, totals.max_subscriber_loss),
            strict=True,
        ):
            samples[name].extend(_series(name, meeting, value))
        for peer in room.peers:
            who = {**meeting, "peer": peer.peer_id}
            samples["lianshen_peer_info"].extend(_series("lianshen_peer_info", {**who, "name": peer.name}, 1))
            for direction, kbps, loss in (("up", peer.up_kbps, peer.up_loss), ("down", peer.down_kbps, peer.down_loss)):
                link = {**who, "direction": direction}
                samples["lianshen_link_bitrate_kbps"].extend(_series("lianshen_link_bitrate_kbps", link, kbps))
                samples["lianshen_link_loss_ratio"].extend(_series("lianshen_link_loss_ratio", link, loss))
            samples["lianshen_link_rtt_ms"].extend(
                _series("lianshen_link_rtt_ms", {**who, "direction": "down"}, peer.rtt_ms))
    lines: list[str] = []
    for name, help_text in (*_MEETING_GAUGES, *_PEER_GAUGES):
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *samples[name]]
    return "\n".join(lines) + "\n"


def _allowed(request: web.Request) -> bool:
    principal = request[PRINCIPAL]
    if principal is not None and principal.role == Role.ADMIN:
        return True
    token = context(request).settings.server.metrics_token
    sent = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(sent.encode(errors="replace"), f"Bearer {token}".encode())


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    if not _allowed(request):
        # Plain text, not the login redirect of pages: a scraper reads the status.
        if request[PRINCIPAL] is None:
            return web.Response(status=401, text="需要登录或令牌 / sign in or send the metrics token\n",
                                headers={"WWW-Authenticate": "Bearer"})
        return web.Response(status=403, text="只有系统管理员可以查看 / administrators only\n")
    live = list(request.app[SIGNALING].meetings.values())
    rooms = [await meeting.room.link_snapshot() for meeting in live]
    text = prometheus_text(rooms)
    cascade = request.app.get(CASCADE)
    if cascade is not None:
        text += cascade.metrics()
    return web.Response(text=text, headers={"Content-Type": CONTENT_TYPE})
