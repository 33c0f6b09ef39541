"""The fan-out (``fan_out.py``): the native common case sends what the Python path sends.

Two real ``RtpOut`` m-lines, one on the native state and one on the Python twin, each with a real
libsrtp session of the same key and a real UDP socket on loopback, get the same packets through
``fan_out`` from a real ``PacketConsumer``: a keyframe that starts the run, packets in order,
reordered, late from before the run, across the sequence-number wrap, far ahead (the run's start
slides), marked, and with an audio level. The datagrams on the wire, the m-line's numbers and
counters and the consumer's count must be the same; and the native side must have decided all but
the run's first packet without calling the consumer.
"""

import dataclasses
import os
import random
import socket
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pylibsrtp
import pytest
from aiortc.rtcdtlstransport import State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters, RTCRtpSendParameters

from server.sfu import fan_out as fan_out_module
from server.sfu.fan_out import NATIVE_FAN_OUT, FanOutEntry, Lane, OutState, fan_out
from server.sfu.packet_consumer import PacketConsumer
from server.sfu.packets import ExtensionLayout, ForwardedPacket
from server.sfu.rtp_forward import ABS_SEND_TIME_URI, AUDIO_LEVEL_URI, MID_URI, RtpOut
from tests.unit import test_srtp_send

KEY = bytes(range(30))
PROFILE = pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80
PAYLOAD_TYPE = 111
START_SEQ, START_TS = 4000, 123_456
sockets = test_srtp_send.sockets
"""The fixture: a non-blocking sending socket and a receiving one on 127.0.0.1."""


def session() -> pylibsrtp.Session:
    """An outbound session as aiortc makes it (a packet sent twice is protected twice)."""
    policy = pylibsrtp.Policy(key=KEY, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND, srtp_profile=PROFILE)
    policy.allow_repeat_tx = True
    return pylibsrtp.Session(policy)


class _Transport:
    """The part of asyncio's datagram transport ``RtpOut`` reads: its socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def is_closing(self) -> bool:
        return False


def m_line(native: bool, sending: socket.socket, address: tuple[str, int]) -> tuple[RtpOut, Any]:
    """A configured ``RtpOut`` sending to ``address``, and its stand-in DTLS transport."""
    sender = SimpleNamespace(_ssrc=0xDEADBEEF, _rtx_ssrc=0xBEEF, _send_rtcp=None, _handle_rtcp_packet=None)

    async def send(parameters: RTCRtpSendParameters) -> None:
        return None

    sender.send = send
    pair = SimpleNamespace(protocol=SimpleNamespace(transport=_Transport(sending)), remote_addr=address)
    dtls = SimpleNamespace(_tx_srtp=session(), _state=State.CONNECTED,
                           transport=SimpleNamespace(_connection=SimpleNamespace(_nominated={1: pair})))
    sender.transport = dtls
    out = RtpOut(sender, lambda: None, lambda seq: None, native=native)  # type: ignore[arg-type]
    out._configure(RTCRtpSendParameters(
        codecs=[RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=PAYLOAD_TYPE)],
        headerExtensions=[RTCRtpHeaderExtensionParameters(id=1, uri=MID_URI),
                          RTCRtpHeaderExtensionParameters(id=3, uri=ABS_SEND_TIME_URI),
                          RTCRtpHeaderExtensionParameters(id=2, uri=AUDIO_LEVEL_URI)],
        muxId="4"))
    out.state.next_seq, out.state.last_timestamp = START_SEQ, START_TS  # the same timeline on both
    return out, dtls


def consumer_on(out: RtpOut, video: bool = True) -> PacketConsumer:
    return PacketConsumer("p", video, out, [SimpleNamespace(cache=None)],  # type: ignore[list-item]
                          lambda layer: None, lambda layer, seq: None, lambda consumer: None, lambda layer: None)


def packet(seq: int, keyframe: bool = False, marker: int = 0, level: tuple[bool, int] | None = None) -> ForwardedPacket:
    return ForwardedPacket(seq, (seq * 3000) % 2**32, marker, os.urandom(200 + seq % 700), level,
                           0x1234_5678_0000_0000 + seq * 2**20, keyframe)


def stream() -> list[ForwardedPacket]:
    """A run's packets as a publisher's network delivers them, and some it should not."""
    numbers = [65500, 65501, 65503, 65502, 65499, *range(65504, 65536), *range(0, 40), 12, 9000, 9001, 8999, 1]
    return [packet(seq, keyframe=index == 0, marker=int(seq % 5 == 0), level=(seq % 2 == 0, seq % 127))
            for index, seq in enumerate(numbers)]


def counted(forward: Callable[[ForwardedPacket], None], calls: list[int]) -> Callable[[ForwardedPacket], None]:
    def counting(packet: ForwardedPacket) -> None:
        calls.append(packet.sequence_number)
        forward(packet)

    return counting


def run(native: bool, sockets: tuple[socket.socket, socket.socket],
        packets: list[ForwardedPacket]) -> tuple[list[bytes], RtpOut, PacketConsumer, list[int]]:
    """Fan ``packets`` out to one consumer; the datagrams that arrived, and who decided how many."""
    sending, receiving = sockets
    out, _dtls = m_line(native, sending, receiving.getsockname())
    consumer = consumer_on(out)
    calls: list[int] = []
    entries: list[FanOutEntry] = [(consumer.lane, counted(consumer.forward, calls))]
    for item in packets:
        fan_out(entries, item)
    return [receiving.recv(2048) for _ in range(out.packets)], out, consumer, calls


def test_the_native_fan_out_sends_what_the_python_path_sends(sockets: tuple[socket.socket, socket.socket]) -> None:
    assert NATIVE_FAN_OUT, "the native extension is not built: scripts/setup.sh builds it"
    packets = stream()
    native = run(True, sockets, packets)
    python = run(False, sockets, [dataclasses.replace(item, _blocks={}) for item in packets])  # blocks built anew
    assert type(native[1].state) is not OutState and type(python[1].state) is OutState
    assert native[0] == python[0]
    # 65499 is from before the run; 9000 moves the run's start to 808, after which 1 is too
    assert len(native[0]) == len(packets) - 2
    newest = 9001 - 65500  # the run's newest packet, from its first
    for out in (native[1], python[1]):
        assert (out.next_seq, out.last_timestamp) == (
            (START_SEQ + newest + 1) % 65536, (START_TS + 48000 // 50 + newest * 3000) % 2**32)
        assert out.send_dropped == out.send_failures == 0
    assert (native[1].packets, native[1].octets, native[1].state.last_ntp) == (
        python[1].packets, python[1].octets, python[1].state.last_ntp)
    assert native[1].state.last_ntp == packets[-3].ntp  # the newest packet's arrival: sender reports pair them
    assert native[2].forwarded == python[2].forwarded == len(native[0])
    assert native[3] == [65500], "the native side sent only the run's start through forward()"
    assert python[3] == [p.sequence_number for p in packets]


def test_what_the_native_side_leaves_to_forward(sockets: tuple[socket.socket, socket.socket]) -> None:
    """A Python sender (relayed pair), a closed DTLS transport, a paused lane, an unstarted run,
    another layer and VP8 temporal layers all go to forward(), which decides them as before."""
    sending, receiving = sockets
    out, dtls = m_line(True, sending, receiving.getsockname())
    consumer = consumer_on(out)
    calls: list[int] = []
    entries: list[FanOutEntry] = [(consumer.lane, counted(consumer.forward, calls))]
    fan_out(entries, packet(100, keyframe=True))  # the run starts in forward()
    fan_out(entries, packet(101))
    assert calls == [100] and out.packets == 2

    for change, undo in (
        (lambda: setattr(out.state, "sender", None), lambda: setattr(out.state, "sender", out._wire)),
        (lambda: setattr(dtls, "_state", State.CLOSED), lambda: setattr(dtls, "_state", State.CONNECTED)),
        (lambda: setattr(consumer.lane, "fast", False), lambda: setattr(consumer.lane, "fast", True)),
    ):
        calls.clear()
        change()
        fan_out(entries, packet(102 + len(calls)))
        undo()
        assert len(calls) == 1
    for name in ("sender", "nominated", "dtls", "layout", "pair", "connected"):  # deleted: no crash, forward()
        calls.clear()
        saved = getattr(out.state, name)
        delattr(out.state, name)
        fan_out(entries, packet(105))
        setattr(out.state, name, saved)
        assert calls == [105], name
    sent = out.packets
    fan_out(entries, ForwardedPacket(110, 0, 0, b"x", None, 0, False, layer=1))
    fan_out(entries, ForwardedPacket(111, 0, 0, b"x", None, 0, False, temporal=(0, True)))
    assert calls[-2:] == [110, 111] and out.packets == sent + 1  # the other layer's is not sent


def test_python_lanes_go_through_forward_only() -> None:
    """A consumer on the Python twin (``sfu.native_send = false``) never takes the native path."""
    out = SimpleNamespace(state=OutState())
    lane = fan_out_module.lane_on(out.state)
    assert type(lane) is Lane
    calls: list[int] = []
    fan_out([(lane, lambda p: calls.append(p.sequence_number))], packet(5))
    assert calls == [5]


def test_the_native_fan_out_refuses_what_is_not_its_input() -> None:
    if not NATIVE_FAN_OUT:
        pytest.skip("the native extension is not built")
    with pytest.raises(TypeError):
        fan_out((), packet(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fan_out([(None,)], packet(1))  # type: ignore[list-item]


def test_the_native_extension_block_is_pythons() -> None:
    """Every layout a subscriber can negotiate (one-byte and two-byte forms, any mix of the three
    extensions, long and empty mids), with and without an audio level: the same bytes as
    ``ForwardedPacket._build_block``; what Python refuses is left to Python (None)."""
    if not NATIVE_FAN_OUT:
        pytest.skip("the native extension is not built")
    from server.sfu import _srtp_send

    rng = random.Random(15)
    ids = [None, 1, 2, 14, 15, 200, 255]
    for _ in range(3000):
        layout = ExtensionLayout(rng.choice(ids), bytes(rng.choice((0, 1, 2, 16, 17, 40, 255))),
                                 rng.choice(ids), rng.choice(ids))
        level = rng.choice((None, (True, rng.randrange(128)), (False, rng.randrange(128))))
        item = ForwardedPacket(1, 2, 0, b"x", level, rng.getrandbits(64), False)
        assert _srtp_send.extension_block(layout, item.ntp, level) == item._build_block(layout), (layout, level)
    item = ForwardedPacket(1, 2, 0, b"x", (True, 300), 0, False)
    layout = ExtensionLayout(None, b"", None, 3)
    assert _srtp_send.extension_block(layout, 0, (True, 300)) is None  # Python refuses it: a ValueError
    with pytest.raises(ValueError):
        item._build_block(layout)
    odd_layouts: list[Any] = [(1, b"0"), ExtensionLayout(0, b"0", None, None), ExtensionLayout(300, b"0", None, None),
                              ("1", b"0", None, None), (1, "0", None, None)]
    for odd in odd_layouts:
        assert _srtp_send.extension_block(odd, 0, None) is None, odd
    assert _srtp_send.extension_block(ExtensionLayout(None, b"", None, 1), 0, (1, 5)) is None  # not a bool
    with pytest.raises(TypeError):
        _srtp_send.extension_block(layout, 0)  # type: ignore[call-arg]
    with pytest.raises(OverflowError):
        _srtp_send.extension_block(layout, -1, None)


def test_the_twins_have_the_same_fields() -> None:
    if not NATIVE_FAN_OUT:
        pytest.skip("the native extension is not built")
    from server.sfu import _srtp_send

    for native, python in ((_srtp_send.OutState, OutState), (_srtp_send.Lane, Lane)):
        members = {name for name, value in vars(native).items() if type(value).__name__ == "member_descriptor"}
        assert members == set(python.__slots__)
