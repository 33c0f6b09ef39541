"""A producer's packet to every subscriber: the common case in one native call, the rest in Python.

Per subscriber copy, the packet path ran two Python methods (``PacketConsumer.forward`` and
``RtpOut.send``) around one native send. Measured in the server's own thread CPU time
(``bench/sfu_probe.py --cpu-split``), a copy cost ~23 µs at fanout:10, and skipping only the
send took ~8 µs of it: most of a copy was the interpreter, running cold between one system
call into the kernel's network stack and the next. Deciding the common case here instead took
a copy from 25-29 to 16-18 µs at fanout:10, and from ~20 to ~14.5 µs at fanout:50
(bench/RESULTS.md).

So the state of a copy lives in two small objects that Python and C share. An
:class:`OutState` is one m-line's sending end (``RtpOut``: where its packets go, its numbers and
counters), a :class:`Lane` one consumer's run on it (``PacketConsumer``: its layer, where its run
starts, its offsets). :func:`fan_out` takes a packet and a list of ``(lane, forward)`` entries,
one per consumer, and for each lane in the common case does what ``forward`` would, natively
(``_srtp_send.c``). That case is a packet of the lane's own layer, without VP8 temporal layers or
picture renumbering, in a run already started, on an m-line whose native sender still goes to the
nominated pair of a connected DTLS transport. Everything else goes to ``forward``, which handles
every case on the same state. Without the extension, the same classes exist in Python
and :func:`fan_out` calls every ``forward``; tests/unit/test_fan_out.py holds the two to the same
datagrams.
"""

from collections.abc import Callable, Sequence
from typing import Any, cast

from .packets import ForwardedPacket

FanOutEntry = tuple[Any, Callable[[ForwardedPacket], None]]
"""A consumer's lane (native or not) and its ``forward``."""


class OutState:
    """One m-line's sending end, as :class:`RtpOut` keeps it (the Python twin of ``_srtp_send.OutState``)."""

    __slots__ = (
        "connected",
        "dropped",
        "dtls",
        "failed",
        "last_ntp",
        "last_timestamp",
        "layout",
        "next_seq",
        "nominated",
        "octets",
        "packets",
        "pair",
        "payload_type",
        "protect_failed",
        "sender",
        "ssrc",
    )

    def __init__(self) -> None:
        self.sender: Any = None
        """The native sender to ``pair``, or None (a Python sender, or none yet)."""
        self.layout: Any = None
        """The m-line's ``ExtensionLayout``."""
        self.nominated: Any = None
        """The ICE connection's nominated pairs by component (aioice ``Connection._nominated``)."""
        self.pair: Any = None
        self.dtls: Any = None
        self.connected: Any = None
        """``dtls._state`` while packets may go out (aiortc's ``State.CONNECTED``)."""
        self.payload_type = 0
        self.ssrc = 0
        self.next_seq = 0
        self.last_timestamp = -1
        """The timestamp most recently sent; -1: none yet."""
        self.last_ntp = 0
        self.packets = 0
        self.octets = 0
        self.dropped = 0
        self.failed = 0
        self.protect_failed = 0


class Lane:
    """One consumer's run on an m-line (the Python twin of ``_srtp_send.Lane``)."""

    __slots__ = ("fast", "forwarded", "layer", "out", "run_start", "seq_offset", "ts_offset", "waiting")

    def __init__(self, out: OutState) -> None:
        self.out = out
        self.fast = False
        """Whether the consumer allows the native common case (open, no picture renumbering)."""
        self.waiting = True
        self.layer = 0
        self.run_start = 0
        self.seq_offset = 0
        self.ts_offset = 0
        self.forwarded = 0


def _python_fan_out(entries: Sequence[FanOutEntry], packet: ForwardedPacket) -> None:
    for _lane, forward in entries:
        forward(packet)


try:
    from ._srtp_send import Lane as _NativeLane, OutState as _NativeOutState, fan_out as _native_fan_out
except ImportError:  # not built: srtp_send.py says so at import
    _NativeLane = _NativeOutState = None  # type: ignore[assignment, misc]
    _native_fan_out = None  # type: ignore[assignment]

NATIVE_FAN_OUT = _native_fan_out is not None

fan_out: Callable[[list[FanOutEntry], ForwardedPacket], None] = (
    _native_fan_out if _native_fan_out is not None else _python_fan_out
)
"""Each entry's copy of the packet: ``fan_out(entries, packet)``."""


def out_state(native: bool) -> OutState:
    """A new m-line state: the native one where it exists and ``native`` asks for it.

    The native class is not a subclass but has the same attributes (tests/unit/test_fan_out.py).
    """
    if native and _NativeOutState is not None:
        return cast(OutState, _NativeOutState())
    return OutState()


def lane_on(out: OutState) -> Lane:
    """A consumer's lane on ``out``, of the same kind (a native lane needs a native state)."""
    if _NativeOutState is not None and isinstance(out, _NativeOutState):
        return cast(Lane, _NativeLane(out))
    return Lane(out)
