"""Types of the native extension ``_srtp_send.c`` (see ``srtp_send.py``)."""

SENT: int
DROPPED: int
FAILED: int
PROTECT_FAILED: int

class Sender:
    def __init__(self, session: object, protect: int, context: int, sock: object, host: str, port: int) -> None: ...
    def send(
        self, first: int, second: int, sequence_number: int, timestamp: int, ssrc: int, block: bytes, payload: bytes, /
    ) -> int: ...
