"""The link state of a live meeting's participants (bitrate, loss, round trip), for its chair.

Only the meeting's own chair and administrators read it: it names every site's network
condition, which is the chair's to act on (issue 17). Numbers come from this process's SFU
(server.sfu.link_stats); a meeting not live here answers ``live: false`` with no peers.
"""

from __future__ import annotations

from server.auth.policy import is_meeting_chair
from server.domain.roles import Role
from server.schemas.base import Out
from server.services.meetings import find_visible
from server.sfu.link_stats import PeerLinks, RoomLinks, RoomTotals
from server.signaling.server import SIGNALING
from server.web.api import API
from server.web.api.registry import Call
from server.web.errors import ApiError

TAG = "meetings"


class LinksOut(Out):
    """One snapshot; rates cover the time since the previous one (anyone's: panel or scraper)."""

    meeting_id: int
    live: bool
    taken_at: float | None
    """Unix time of the snapshot; None when not live."""
    peers: list[PeerLinks]
    totals: RoomTotals | None


def links_out(meeting_id: int, links: RoomLinks | None) -> LinksOut:
    if links is None:
        return LinksOut(meeting_id=meeting_id, live=False, taken_at=None, peers=[], totals=None)
    return LinksOut(meeting_id=meeting_id, live=True, taken_at=links.taken_at, peers=list(links.peers),
                    totals=links.totals)


@API.route("GET", "/meetings/{id}/links",
           summary="Each participant's link state in a live meeting (its chair; administrators)",
           roles={Role.CHAIR, Role.ADMIN}, response=LinksOut, tag=TAG)
async def api_meeting_links(call: Call) -> LinksOut:
    meeting = await find_visible(call.db, call.principal, call.path_int("id"))
    if meeting is None:
        raise ApiError(404, "会议不存在或无权查看 / no such meeting visible to you")
    if call.principal.role != Role.ADMIN and not is_meeting_chair(call.principal, meeting.chair_id):
        raise ApiError(403, "只有本会议的主持人可以查看线路状态 / only this meeting's chair sees its link state")
    live = call.request.app[SIGNALING].meetings.get(meeting.id)
    return links_out(meeting.id, await live.room.link_snapshot() if live is not None else None)
