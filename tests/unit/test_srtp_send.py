"""The packet path's two senders (``srtp_send.py``): the native one and the Python one send the
same datagrams, over real UDP sockets on loopback, protected with a real libsrtp session."""

import gc
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pylibsrtp
import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtcpByePacket, RtcpSenderInfo, RtcpSrPacket, RtpPacket

from server.sfu.packets import EXTENSION_BIT, RTP_VERSION_2, ExtensionLayout, ForwardedPacket
from server.sfu.srtp_send import (
    DROPPED,
    FAILED,
    NATIVE_AVAILABLE,
    PROTECT_FAILED,
    SENT,
    PythonSender,
    RtpSender,
    native_sender,
)

KEY = bytes(range(30))  # AES-128 master key (16) and salt (14)
PROFILE = pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80
LAYOUT = ExtensionLayout(mid_id=1, mid=b"3", abs_send_time_id=3, audio_level_id=2)


def session(direction: int) -> pylibsrtp.Session:
    return pylibsrtp.Session(pylibsrtp.Policy(key=KEY, ssrc_type=direction, srtp_profile=PROFILE))


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(a non-blocking sending socket, a receiving one), both on 127.0.0.1."""
    receiving = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiving.bind(("127.0.0.1", 0))
    receiving.settimeout(5)
    sending = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sending.bind(("127.0.0.1", 0))
    sending.setblocking(False)
    yield sending, receiving
    sending.close()
    receiving.close()


def senders(sending: socket.socket, address: tuple[str, int]) -> list[RtpSender]:
    """Both senders, each with its own outbound session of the same key (they encrypt alike)."""
    native = native_sender(session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND), sending, address)
    assert native is not None, "the native sender is not built: scripts/setup.sh builds it"
    return [native, PythonSender(session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND), sending.sendto, address)]


def send(sender: RtpSender, packet: ForwardedPacket, payload_type: int, seq: int, ts: int, ssrc: int) -> int:
    block = packet.extension_block(LAYOUT)
    return sender.send(RTP_VERSION_2 | EXTENSION_BIT, (packet.marker << 7) | payload_type, seq, ts, ssrc, block,
                       packet.payload)


def test_the_native_sender_is_built() -> None:
    """CI runs on what scripts/setup.sh builds: a missing extension is a setup failure, not a skip."""
    assert NATIVE_AVAILABLE
    from server.sfu import _srtp_send  # the C module's results are the ones srtp_send names

    assert (_srtp_send.SENT, _srtp_send.DROPPED, _srtp_send.FAILED, _srtp_send.PROTECT_FAILED) == (
        SENT, DROPPED, FAILED, PROTECT_FAILED)


def test_both_senders_send_the_same_protected_datagrams(sockets: tuple[socket.socket, socket.socket]) -> None:
    sending, receiving = sockets
    address = receiving.getsockname()
    packet = ForwardedPacket(7, 1000, 1, os.urandom(1100), (True, 30), 0x1234_5678_9ABC_DEF0, False)
    numbers = [(65534, 2**32 - 1), (65535, 0), (0, 3000)]  # wrap-arounds: libsrtp's rollover counter
    datagrams = []
    for sender in senders(sending, address):
        for seq, ts in numbers:
            assert send(sender, packet, 111, seq, ts, 0xDEADBEEF) == SENT
        datagrams.append([receiving.recv(2048) for _ in numbers])
    native, python = datagrams
    assert native == python

    inbound = session(pylibsrtp.Policy.SSRC_ANY_INBOUND)
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
        RTCRtpHeaderExtensionParameters(id=2, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
        RTCRtpHeaderExtensionParameters(id=3, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
    ]))
    for data, (seq, ts) in zip(native, numbers, strict=True):
        parsed = RtpPacket.parse(inbound.unprotect(data), extensions)
        assert (parsed.payload_type, parsed.sequence_number, parsed.timestamp, parsed.ssrc) == (
            111, seq, ts, 0xDEADBEEF)
        assert parsed.marker == 1 and parsed.payload == packet.payload
        assert parsed.extensions.mid == "3" and parsed.extensions.audio_level == (True, 30)
        assert parsed.extensions.abs_send_time == (0x1234_5678_9ABC_DEF0 >> 14) & 0xFFFFFF


def test_both_senders_send_the_same_protected_rtcp(sockets: tuple[socket.socket, socket.socket]) -> None:
    """An m-line's sender reports go through its sender too: the same SRTCP datagrams both ways,
    each one the receiver unprotects back to the compound packet sent."""
    sending, receiving = sockets
    report = bytes(RtcpSrPacket(ssrc=0xDEADBEEF, sender_info=RtcpSenderInfo(
        ntp_timestamp=0x1234_5678_9ABC_DEF0, rtp_timestamp=90_000, packet_count=10, octet_count=12_000)))
    compounds = [report, report + bytes(RtcpByePacket(sources=[0xDEADBEEF]))]
    datagrams = []
    for sender in senders(sending, receiving.getsockname()):
        for compound in compounds:
            assert sender.send_rtcp(compound) == SENT
        datagrams.append([receiving.recv(2048) for _ in compounds])
        assert sender.send_rtcp(b"\x80" * 1500) == PROTECT_FAILED
    native, python = datagrams
    assert native == python
    inbound = session(pylibsrtp.Policy.SSRC_ANY_INBOUND)
    assert [inbound.unprotect_rtcp(data) for data in native] == compounds


def test_a_packet_without_extensions(sockets: tuple[socket.socket, socket.socket]) -> None:
    sending, receiving = sockets
    inbound = session(pylibsrtp.Policy.SSRC_ANY_INBOUND)
    for sender in senders(sending, receiving.getsockname()):
        assert sender.send(RTP_VERSION_2, 96, 1, 2, 3, b"", b"media") == SENT
        parsed = RtpPacket.parse(inbound.unprotect(receiving.recv(2048)))
        assert parsed.extensions.mid is None and parsed.payload == b"media" and parsed.marker == 0
        inbound = session(pylibsrtp.Policy.SSRC_ANY_INBOUND)  # the next sender repeats the numbers


def test_what_cannot_be_sent_is_told_not_raised(sockets: tuple[socket.socket, socket.socket]) -> None:
    sending, receiving = sockets
    for sender in senders(sending, receiving.getsockname()):
        too_long = b"\x00" * 1500
        assert sender.send(RTP_VERSION_2, 96, 1, 2, 3, b"", too_long) == PROTECT_FAILED
    sending.close()  # the transport closed under a consumer: counted as a failure, nothing raised
    for sender in senders(sending, receiving.getsockname()):
        assert sender.send(RTP_VERSION_2, 96, 1, 2, 3, b"", b"media") == FAILED


def test_the_native_sender_refuses_bad_arguments(sockets: tuple[socket.socket, socket.socket]) -> None:
    sending, receiving = sockets
    native = senders(sending, receiving.getsockname())[0]
    with pytest.raises(OverflowError):
        native.send(RTP_VERSION_2, 96, 70000, 2, 3, b"", b"media")  # sequence number > 16 bits
    with pytest.raises(OverflowError):
        native.send(RTP_VERSION_2, 96, 1, -2, 3, b"", b"media")
    with pytest.raises(TypeError):
        native.send(RTP_VERSION_2, 96, 1, 2, 3, "", b"media")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        native.send(RTP_VERSION_2, 96, 1, 2)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        native.send_rtcp("report")  # type: ignore[arg-type]
    from server.sfu import _srtp_send
    from server.sfu.srtp_binding import context_address, function_address

    outbound = session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
    protect = function_address("srtp_protect")
    assert protect is not None
    rtp_only = _srtp_send.Sender(outbound, protect, context_address(outbound), sending, "127.0.0.1", 9)
    with pytest.raises(ValueError):  # made without srtp_protect_rtcp: refuses, never calls a null pointer
        rtp_only.send_rtcp(b"\x80\xc8\x00\x06" + bytes(24))
    assert native_sender(outbound, sending, ("fe80::1%eth0", 5000)) is None  # a zone: Python sends it
    assert native_sender(outbound, sending, ("host.example", 5000)) is None


def test_the_native_sender_keeps_its_session_alive(sockets: tuple[socket.socket, socket.socket]) -> None:
    """The libsrtp context is the Session's: it must outlive every sender using it."""
    sending, receiving = sockets
    native = native_sender(session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND), sending, receiving.getsockname())
    assert native is not None
    gc.collect()
    assert native.send(RTP_VERSION_2, 96, 1, 2, 3, b"", b"media") == SENT
    parsed = RtpPacket.parse(session(pylibsrtp.Policy.SSRC_ANY_INBOUND).unprotect(receiving.recv(2048)))
    assert parsed.payload == b"media"


def test_a_full_receiver_makes_packets_drop_instead_of_queueing(tmp_path: Path) -> None:
    """The packet path's send bound: what the kernel cannot take at once is dropped, not queued.

    (An AF_UNIX receiver that never reads fills up at once; the native sender takes IP addresses
    only, and maps the same EAGAIN to DROPPED.)"""
    path = str(tmp_path / "subscriber")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sending:
        receiver.bind(path)  # and never reads: a subscriber that stopped keeping up
        sending.setblocking(False)
        sender = PythonSender(session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND), sending.sendto, path)
        results = [sender.send(RTP_VERSION_2, 96, seq, 0, 3, b"", bytes(1200)) for seq in range(2000)]
        sent = results.count(SENT)
        assert 0 < sent < 2000 and results.count(DROPPED) == 2000 - sent
        assert results[-1] == DROPPED  # once full, it stays full: nothing waits in user space
        receiver.setblocking(False)
        assert len(receiver.recv(2000)) > 1200  # what was taken arrives whole (with its SRTP tag)
        assert sender.send(RTP_VERSION_2, 96, 2000, 0, 3, b"", b"after") == SENT  # room again
