"""The packet path's send bound: what the kernel cannot take at once is dropped and counted."""

import socket
from pathlib import Path

from server.sfu.datagrams import DatagramSender


def test_a_full_receiver_makes_packets_drop_instead_of_queueing(tmp_path: Path) -> None:
    path = str(tmp_path / "subscriber")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        receiver.bind(path)  # and never reads: a subscriber that stopped keeping up
        sender.setblocking(False)
        datagrams = DatagramSender()
        datagrams.aim(sender.sendto, path)
        results = [datagrams.send(bytes(1200)) for _ in range(2000)]
        sent = results.count(True)
        assert 0 < sent < 2000 and datagrams.dropped == 2000 - sent and datagrams.failed == 0
        assert results[-1] is False  # once full, it stays full: nothing waits in user space
        receiver.setblocking(False)
        assert len(receiver.recv(2000)) == 1200  # what was taken arrives whole
        assert datagrams.send(b"after") is True  # room again: sending resumes


def test_an_unaimed_or_closed_socket_fails_without_raising() -> None:
    datagrams = DatagramSender()
    assert datagrams.send(b"x") is False and datagrams.failed == 1
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    datagrams.aim(sock.sendto, ("127.0.0.1", 9))
    sock.close()
    assert datagrams.send(b"x") is False and datagrams.failed == 2 and datagrams.dropped == 0
