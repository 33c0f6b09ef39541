"""Incoming SRTP and SRTCP (``srtp_recv.py``): the native unprotector and pylibsrtp's give the
same packets from a real libsrtp session, and refuse the same ones (forged, replayed, too long)."""

import gc
import os

import pylibsrtp
import pytest
from aiortc.rtp import RtcpRrPacket, RtpPacket

from server.sfu.srtp_recv import NATIVE_AVAILABLE, TOO_LONG, PythonUnprotector, Unprotect, unprotector

KEY = bytes(range(30))
PROFILE = pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80


def session(direction: int) -> pylibsrtp.Session:
    return pylibsrtp.Session(pylibsrtp.Policy(key=KEY, ssrc_type=direction, srtp_profile=PROFILE))


def rtp(seq: int, size: int = 1000) -> bytes:
    return bytes(RtpPacket(payload_type=96, sequence_number=seq, timestamp=seq * 3000, ssrc=0x1234,
                           payload=os.urandom(size)).serialize())


def rtcp() -> bytes:
    return bytes(RtcpRrPacket(ssrc=0x1234).__bytes__())


def both() -> list[Unprotect]:
    native = unprotector(session(pylibsrtp.Policy.SSRC_ANY_INBOUND))
    assert not isinstance(native, PythonUnprotector), "the native unprotector is not built: scripts/setup.sh"
    return [native, unprotector(session(pylibsrtp.Policy.SSRC_ANY_INBOUND), native=False)]


def test_the_native_unprotector_is_built() -> None:
    assert NATIVE_AVAILABLE
    from server.sfu import _srtp_recv

    assert _srtp_recv.TOO_LONG == TOO_LONG


def test_both_give_the_same_packets_and_refuse_the_same() -> None:
    sender = session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
    plain = [rtp(seq) for seq in (65534, 65535, 0, 1)] + [rtp(2, size=0)]  # across the rollover
    protected = [sender.protect(packet) for packet in plain]
    report = rtcp()
    protected_report = sender.protect_rtcp(report)
    forged = bytearray(sender.protect(rtp(3)))
    forged[20] ^= 1
    for unprotect in both():
        assert [unprotect.rtp(packet) for packet in protected] == plain
        assert unprotect.rtcp(protected_report) == report
        assert unprotect.rtp(protected[-1]) is None, "a replay"
        replay_status = unprotect.status
        assert unprotect.rtp(bytes(forged)) is None
        assert unprotect.status not in (0, replay_status), "a forged packet is refused for another reason"
        assert unprotect.rtcp(b"\x80\xc9\x00\x01" + bytes(20)) is None
        assert unprotect.rtp(bytes(1501)) is None and unprotect.status == TOO_LONG


def test_the_native_unprotector_keeps_its_session_alive() -> None:
    if not NATIVE_AVAILABLE:
        pytest.skip("the native extension is not built")
    sender = session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
    unprotect = unprotector(session(pylibsrtp.Policy.SSRC_ANY_INBOUND))
    gc.collect()  # the session has no other reference: the unprotector's must keep its context
    for packet in (rtp(7, size=10), rtp(8, size=10)):
        assert unprotect.rtp(sender.protect(packet)) == packet


def test_the_native_unprotector_refuses_what_is_not_a_datagram() -> None:
    if not NATIVE_AVAILABLE:
        pytest.skip("the native extension is not built")
    unprotect = unprotector(session(pylibsrtp.Policy.SSRC_ANY_INBOUND))
    with pytest.raises(TypeError):
        unprotect.rtp(bytearray(10))  # type: ignore[arg-type]
    from server.sfu._srtp_recv import Unprotector

    with pytest.raises(ValueError):
        Unprotector(object(), 0, 0, 0)
