"""Types of the native extension ``_rtp_parse.c`` (see ``rtp_parse.py``)."""

from aiortc.rtp import HeaderExtensions, RtpPacket

def parse(data: bytes, id_source: object, packet_type: type[RtpPacket], extensions_type: type[HeaderExtensions], /
          ) -> RtpPacket | None: ...
