"""Types of the native extension ``_srtp_send.c`` (see ``srtp_send.py``)."""

from collections.abc import Callable
from typing import Any

SENT: int
DROPPED: int
FAILED: int
PROTECT_FAILED: int

class Sender:
    def __init__(
        self, session: object, protect: int, context: int, sock: object, host: str, port: int, protect_rtcp: int = 0
    ) -> None: ...
    def send_rtcp(self, packet: bytes, /) -> int: ...
    def send(
        self, first: int, second: int, sequence_number: int, timestamp: int, ssrc: int, block: bytes, payload: bytes, /
    ) -> int: ...

class OutState:
    sender: object
    layout: object
    nominated: object
    pair: object
    dtls: object
    connected: object
    payload_type: int
    ssrc: int
    next_seq: int
    last_timestamp: int
    last_ntp: int
    packets: int
    octets: int
    dropped: int
    failed: int
    protect_failed: int
    def __init__(self) -> None: ...

class Lane:
    out: OutState
    fast: bool
    waiting: bool
    layer: int
    run_start: int
    seq_offset: int
    ts_offset: int
    forwarded: int
    def __init__(self, out: OutState) -> None: ...

def extension_block(layout: tuple[object, ...], ntp: int, audio_level: object, /) -> bytes | None: ...
def fan_out(entries: list[tuple[object, Callable[[Any], None]]], packet: object, /) -> None: ...
