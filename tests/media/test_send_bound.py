"""A subscriber's link that cannot keep up: both senders of the packet path drop, never queue.

``srtp_send.py`` hands each copy to the kernel now or never: when the sending socket's buffer is
full the packet is dropped and told as DROPPED (counted in ``RtpOut.send_dropped``), so a slow
subscriber's backlog is its socket buffer. To fill a real UDP socket's buffer, the senders run in
a network namespace of their own whose loopback has a token-bucket qdisc far slower than they
send: packets wait in the qdisc charged to the socket, which soon takes no more. (On an unshaped
loopback the kernel hands every datagram on at once and the buffer never fills.)

Needs real root (``unshare -n``, ``tc``): scripts/test.sh runs the media tests as root inside
``unshare -n``; the namespace made here lives under that one.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHAPE = "tc qdisc add dev lo root tbf rate 64kbit burst 1600 latency 30s"
"""Slow enough that nothing sent here leaves the queue while the senders run."""

SENDERS = r"""
import json, socket, sys
import pylibsrtp
from server.sfu.srtp_send import PythonSender, native_sender

policy = pylibsrtp.Policy(key=bytes(range(30)), ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
                          srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80)
receiving = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
receiving.bind(("127.0.0.1", 0))
results = {}
for name in ("native", "python"):
    sending = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sending.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # the kernel's smallest, doubled
    sending.setblocking(False)
    session = pylibsrtp.Session(policy)
    sender = (native_sender(session, sending, receiving.getsockname()) if name == "native"
              else PythonSender(session, sending.sendto, receiving.getsockname()))
    if sender is None:
        sys.exit("the native sender is not built")
    results[name] = [sender.send(0x80, 96, seq, 0, 7, b"", bytes(1200)) for seq in range(200)]
print(json.dumps(results))
"""


@pytest.mark.media
@pytest.mark.timeout(60)
def test_a_full_socket_buffer_drops_instead_of_queueing() -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("tc") is None:
        pytest.skip("needs root, unshare and tc (scripts/test.sh runs media tests as root)")
    from server.sfu.srtp_send import DROPPED, FAILED, PROTECT_FAILED, SENT

    script = f"ip link set lo up && {SHAPE} && exec {sys.executable} -c \"$0\""
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", script, SENDERS],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=50,
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, list[int]] = json.loads(done.stdout)
    for name, sends in results.items():
        sent, dropped = sends.count(SENT), sends.count(DROPPED)
        assert 0 < sent < 50, (name, sends)  # a few fit in the buffer, then it is full
        assert dropped == len(sends) - sent, (name, sends)  # nothing else: no failure, no raise
        assert FAILED not in sends and PROTECT_FAILED not in sends
        assert sends[-1] == DROPPED  # once full it stays full: nothing waits in user space
    assert set(results) == {"native", "python"}
