"""A structural check of client SDP before it reaches aiortc.

aiortc's parser is lenient: text that is barely SDP parses into a description with no media, which
a publish would then "accept". Refusing what is not a well-formed offer or answer here gives the
client a clear error, and bounds what the SFU spends on one description (m-lines, line length).
"""

from __future__ import annotations

import re

from aioice import Candidate
from aiortc import sdp as aiortc_sdp

from server.signaling.errors import SignalingError

MAX_MEDIA = 8
"""A publisher sends camera, microphone and a screen; a subscriber answers one m-line per producer,
which the SFU itself bounds, so the limit applies to offers only."""
MAX_LINE = 4096
_LINE = re.compile(r"^[a-z]=[\x20-\x7e]*$")
_REQUIRED = ("v=0", "o=", "s=", "t=")


def check(sdp: str, *, offer: bool) -> None:
    """Raise SignalingError("bad_sdp") unless ``sdp`` is well-formed session description text."""
    lines = sdp.replace("\r\n", "\n").rstrip("\n").split("\n")
    for prefix, line in zip(_REQUIRED, lines, strict=False):
        if not line.startswith(prefix):
            raise SignalingError("bad_sdp", reason=f"expected a line starting {prefix!r}")
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE or not _LINE.match(line):
            raise SignalingError("bad_sdp", reason=f"line {number} is not an SDP line")
    media = sum(line.startswith("m=") for line in lines)
    if media == 0:
        raise SignalingError("bad_sdp", reason="no media section")
    if offer and media > MAX_MEDIA:
        raise SignalingError("bad_sdp", reason=f"{media} media sections (at most {MAX_MEDIA})")
    _check_transport(sdp)


def _check_transport(sdp: str) -> None:
    """Every media section must be able to connect: mid, ICE credentials, DTLS fingerprint.

    aiortc checks these only halfway through applying a description, after it has changed the
    connection; a description that fails there can leave a publish connection unusable, so it is
    refused before it gets that far.
    """
    try:
        parsed = aiortc_sdp.SessionDescription.parse(sdp)
    except Exception as exc:  # noqa: BLE001 - the parser raises whatever the text provokes
        raise SignalingError("bad_sdp", reason=f"unparsable: {type(exc).__name__}: {exc}"[:200]) from None
    for index, media in enumerate(parsed.media):
        if media.kind not in ("audio", "video"):
            raise SignalingError("bad_sdp", reason=f"media {index}: kind {media.kind!r} not carried")
        if not media.rtp.muxId:
            raise SignalingError("bad_sdp", reason=f"media {index}: no a=mid")
        if media.ice is None or not media.ice.usernameFragment or not media.ice.password:
            raise SignalingError("bad_sdp", reason=f"media {index}: no ICE credentials")
        if media.dtls is None or not media.dtls.fingerprints:
            raise SignalingError("bad_sdp", reason=f"media {index}: no DTLS fingerprint")
        if not media.rtp.codecs:
            raise SignalingError("bad_sdp", reason=f"media {index}: no codecs")


def check_candidate(candidate: str) -> None:
    """Raise SignalingError("bad_sdp") for a trickled candidate that does not parse.

    An empty string (end of candidates) passes; so does a well-formed candidate the network policy
    will refuse, which is answered with ``accepted: false`` instead. Browsers' mDNS (``.local``)
    candidates are accepted and resolved by the SFU (server/sfu/candidates.py).
    """
    if not candidate:
        return
    try:
        Candidate.from_sdp(candidate.removeprefix("a=").removeprefix("candidate:"))
    except (ValueError, IndexError) as exc:
        raise SignalingError("bad_sdp", reason=f"malformed candidate: {exc}"[:200]) from None
