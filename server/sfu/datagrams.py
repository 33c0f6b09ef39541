"""Sending a datagram now or never: the packet path's bound on a subscriber's backlog.

asyncio's datagram transport queues what the kernel refuses (a full socket send buffer) in
an unbounded per-transport buffer, so a subscriber behind a slow link would make the server's
memory grow with every packet forwarded to it. Media that arrives late is worthless anyway:
here a packet the kernel will not take at once is dropped and counted, so each subscriber's
backlog is bounded by its socket's send buffer and nothing else. (On the packet path this is
also the cheapest way to send: one ``socket.sendto`` call per packet, no asyncio wrapper.)
"""

from collections.abc import Callable
from typing import Any


class DatagramSender:
    """Sends datagrams to one address through a non-blocking socket, dropping what does not fit.

    Aimed with :meth:`aim` (again when the route changes; the counts carry on); unaimed, every
    datagram fails.
    """

    def __init__(self) -> None:
        self._sendto: Any = None
        self._address: Any = None
        self.dropped = 0
        """Datagrams dropped because the socket's send buffer was full."""
        self.failed = 0
        """Datagrams the kernel refused otherwise (socket closed, address unreachable, ...)."""

    def aim(self, sendto: Callable[[bytes, Any], object], address: Any) -> None:
        """Send with ``sendto`` (a non-blocking socket's) to ``address`` from now on."""
        self._sendto = sendto
        self._address = address

    def send(self, data: bytes) -> bool:
        """Hand ``data`` to the kernel now; False (and counted) if it cannot take it."""
        sendto = self._sendto
        if sendto is None:
            self.failed += 1
            return False
        try:
            sendto(data, self._address)
        except (BlockingIOError, InterruptedError):
            self.dropped += 1
            return False
        except OSError:
            self.failed += 1
            return False
        return True
