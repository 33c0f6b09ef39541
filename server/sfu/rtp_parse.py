"""An incoming RTP packet parsed into aiortc's ``RtpPacket``: natively where it can be.

``rtp_in.py`` parses every RTP packet a publisher sends. aiortc's ``RtpPacket.parse`` does it in
Python (struct unpacking, a list of the header extensions, a chain of id comparisons per
extension); per packet that was ~8 % of the server's event loop CPU at ten subscribers, more than
any other step of the receive side but the bandwidth estimate (bench/RESULTS.md, issue 15). The
native ``parse`` of ``_rtp_parse.c`` (built by ``scripts/setup.sh``) builds the same
``RtpPacket`` and ``HeaderExtensions`` for the well-formed common case and leaves the rest (what
aiortc refuses or reads oddly) to aiortc's own parse, so errors are aiortc's as before
(tests/unit/test_rtp_parse.py compares the two over every kind of packet).

Depends on aiortc 1.16 internals, all in this module: ``HeaderExtensionsMap.__ids`` (a
``HeaderExtensions`` whose fields hold the negotiated extension ids), the attributes
``RtpPacket.__init__`` sets and the fields of ``HeaderExtensions`` (the test checks both).
"""

import logging

from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, RtpPacket

logger = logging.getLogger(__name__)

try:
    from ._rtp_parse import parse as _native_parse
except ImportError as exc:
    logger.info("native RTP parse unavailable (%s): parsing with aiortc", exc)
    _native_parse = None  # type: ignore[assignment]

NATIVE_PARSE = _native_parse is not None


def parse_rtp(data: bytes, extensions_map: HeaderExtensionsMap, native: bool = True) -> RtpPacket:
    """aiortc's ``RtpPacket.parse(data, extensions_map)``; raises ``ValueError`` as it does."""
    if native and _native_parse is not None:
        # aiortc 1.16 internal: the map's ids, read at every packet (a re-offer may add some).
        packet = _native_parse(data, extensions_map._HeaderExtensionsMap__ids,  # type: ignore[attr-defined]
                               RtpPacket, HeaderExtensions)
        if packet is not None:
            return packet
    return RtpPacket.parse(data, extensions_map)
