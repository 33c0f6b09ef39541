"""The packet path's per-subscriber send, native against Python, in a hot loop.

    python bench/srtp_send.py [--sends 50000] [--payload 1100]

Each sender (``server/sfu/srtp_send.py``) builds, protects (AES-GCM, as browsers negotiate) and
sends one RTP copy per call to a real UDP socket on 127.0.0.1 that reads nothing (the kernel
drops what overflows it, as it would a slow subscriber's). Prints process CPU per send, each
sender twice, alternating. In-process and single-threaded: the figures are CPU, not latency.
"""

import argparse
import os
import socket
import time

import pylibsrtp

from server.sfu.packets import EXTENSION_BIT, RTP_VERSION_2, ExtensionLayout, ForwardedPacket
from server.sfu.srtp_send import PythonSender, RtpSender, native_sender

KEY = os.urandom(28)  # AES-128-GCM master key (16) and salt (12)
PROFILE = pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM


def session() -> pylibsrtp.Session:
    return pylibsrtp.Session(
        pylibsrtp.Policy(key=KEY, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND, srtp_profile=PROFILE)
    )


def cpu_per_send(sender: RtpSender, packet: ForwardedPacket, block: bytes, sends: int) -> float:
    """µs of process CPU per send."""
    first = RTP_VERSION_2 | EXTENSION_BIT
    started = time.process_time()
    for index in range(sends):
        sender.send(first, 96, index & 0xFFFF, (index * 3000) & 0xFFFFFFFF, 1234, block, packet.payload)
    return (time.process_time() - started) / sends * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=50_000)
    parser.add_argument("--payload", type=int, default=1100, help="RTP payload bytes")
    args = parser.parse_args()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiving, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sending:
        receiving.bind(("127.0.0.1", 0))
        sending.setblocking(False)
        address = receiving.getsockname()
        packet = ForwardedPacket(1, 1000, 0, os.urandom(args.payload), None, 123 << 40, False)
        block = packet.extension_block(ExtensionLayout(1, b"0", 3, None))
        for _ in range(2):
            native = native_sender(session(), sending, address)
            if native is None:
                raise SystemExit("the native sender is not built: run scripts/setup.sh")
            for name, sender in (("native", native), ("python", PythonSender(session(), sending.sendto, address))):
                print(f"{name:7s} {cpu_per_send(sender, packet, block, args.sends):6.2f} µs CPU per send")


if __name__ == "__main__":
    main()
