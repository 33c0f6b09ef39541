"""Simulcast in SDP (RFC 8851 ``a=rid``, RFC 8853 ``a=simulcast``): read an offer, accept it.

aiortc 1.16 neither parses nor answers these attributes, nor negotiates the RTP stream id
header extensions (RFC 8852) that name each packet's layer, so the SFU reads them from the
publisher's offer text and adds the matching lines to aiortc's answer. Layers are ordered as
the offer lists them in ``a=simulcast``, lowest first: our clients (browser and bot) list
their encodings that way, and the SDP itself says nothing about resolution.
"""

import re
from dataclasses import dataclass

RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
MAX_LAYERS = 4
RID_NAME = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class SimulcastError(ValueError):
    """A publish offer's simulcast lines cannot be accepted (said to the client as is)."""


@dataclass(frozen=True)
class SimulcastOffer:
    """One m-line's simulcast as offered: its rids lowest layer first, and their extension ids."""

    mid: str
    rids: tuple[str, ...]
    rid_extension_id: int
    repaired_rid_extension_id: int | None


def _sections(sdp: str) -> list[list[str]]:
    """The SDP's lines cut into the session part and one list per m-section."""
    sections: list[list[str]] = [[]]
    for line in sdp.splitlines():
        if line.startswith("m="):
            sections.append([])
        sections[-1].append(line)
    return sections


def read_simulcast(offer_sdp: str) -> dict[str, SimulcastOffer]:
    """The simulcast m-lines of a publish offer, by mid; raises SimulcastError if malformed."""
    offers: dict[str, SimulcastOffer] = {}
    for section in _sections(offer_sdp)[1:]:
        attributes = [line[2:] for line in section if line.startswith("a=")]
        simulcast = [a for a in attributes if a.startswith("simulcast:")]
        if not simulcast:
            continue
        mid = next((a[4:] for a in attributes if a.startswith("mid:")), None)
        if mid is None:
            raise SimulcastError("a simulcast m-line has no a=mid")
        sending = simulcast[0][len("simulcast:"):].split()
        if len(sending) != 2 or sending[0] != "send":
            raise SimulcastError(f"m-line {mid}: only 'a=simulcast:send <rids>' is accepted")
        # Alternatives (a,b) and paused (~a) layers: take the first of each, none paused.
        rids = tuple(group.split(",")[0] for group in sending[1].split(";"))
        if any(rid.startswith("~") or not RID_NAME.match(rid) for rid in rids):
            raise SimulcastError(f"m-line {mid}: bad or paused rid in {sending[1]!r}")
        if not 2 <= len(rids) <= MAX_LAYERS or len(set(rids)) != len(rids):
            raise SimulcastError(f"m-line {mid}: 2 to {MAX_LAYERS} distinct layers, not {sending[1]!r}")
        declared = {a.split()[0][4:] for a in attributes if a.startswith("rid:") and " send" in a}
        missing = [rid for rid in rids if rid not in declared]
        if missing:
            raise SimulcastError(f"m-line {mid}: no 'a=rid:<rid> send' for {missing}")
        extensions = {}
        for a in attributes:
            if a.startswith("extmap:"):
                id_part, _, uri = a[7:].partition(" ")
                extensions[uri.split()[0]] = int(id_part.split("/")[0])
        if RID_URI not in extensions:
            raise SimulcastError(f"m-line {mid}: simulcast needs the {RID_URI} header extension")
        offers[mid] = SimulcastOffer(mid, rids, extensions[RID_URI], extensions.get(REPAIRED_RID_URI))
    return offers


def accept_simulcast(answer_sdp: str, offers: dict[str, SimulcastOffer]) -> str:
    """aiortc's answer with ``a=simulcast:recv``, the rid lines and the rid extensions added."""
    if not offers:
        return answer_sdp
    out: list[str] = []
    for section in _sections(answer_sdp):
        mid = next((line[6:] for line in section if line.startswith("a=mid:")), None)
        out += section
        offer = offers.get(mid) if mid is not None else None
        if offer is None:
            continue
        out.append(f"a=extmap:{offer.rid_extension_id} {RID_URI}")
        if offer.repaired_rid_extension_id is not None:
            out.append(f"a=extmap:{offer.repaired_rid_extension_id} {REPAIRED_RID_URI}")
        out += [f"a=rid:{rid} recv" for rid in offer.rids]
        out.append("a=simulcast:recv " + ";".join(offer.rids))
    return "\r\n".join(out) + "\r\n"


def offer_simulcast(offer_sdp: str, mid: str, rids: tuple[str, ...], rid_extension_id: int) -> str:
    """A sender's offer with simulcast for m-line ``mid`` (the bot's half; browsers add it themselves)."""
    out: list[str] = []
    for section in _sections(offer_sdp):
        out += section
        if f"a=mid:{mid}" in section:
            out.append(f"a=extmap:{rid_extension_id} {RID_URI}")
            out += [f"a=rid:{rid} send" for rid in rids]
            out.append("a=simulcast:send " + ";".join(rids))
    return "\r\n".join(out) + "\r\n"
