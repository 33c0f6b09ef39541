"""A server and a client network namespace joined by a veth pair, for bench/sfu.py --against-janus.

Janus (libnice) never gathers ICE candidates on a loopback interface, so it cannot serve bots on
127.0.0.1 the way bench/sfu.py's loopback runs do. The fair topology for both systems is the same
small network: the SFU under test (Lianshen or Janus) runs in a server namespace on one end of a
veth pair, the bots in a client namespace on the other, and nothing else is reachable from either
(no default route, no other interface), so no media can leave the machine.

The bench process itself moves into the client namespace (``setns``: Python 3.11 has no
``os.setns``, so libc's is called through ctypes) before it starts any thread or worker, so every
bot process it spawns inherits it; servers are started in the server namespace with
``ip netns exec``. :meth:`Topology.close` moves back, ends whatever is still running in the two
namespaces (only processes this bench started can be there) and deletes them, which also deletes
the veth pair. It runs on a normal exit, on an exception and on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

CLONE_NEWNET = 0x40000000
SUBNET = "10.98.0"
PREFIX = 24


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


@dataclass
class Topology:
    """Names and addresses of the pair; ``with Topology.create():`` builds and removes it."""

    server_ns: str
    client_ns: str
    server_if: str
    client_if: str
    server_address: str = f"{SUBNET}.1"
    client_address: str = f"{SUBNET}.2"
    _home_fd: int = -1
    _previous_sigterm: Any = None

    @property
    def network(self) -> str:
        return f"{SUBNET}.0/{PREFIX}"

    @classmethod
    def create(cls) -> Topology:
        """Names unique to this process, so two benches (or a stale one) never share a namespace."""
        tag = f"{os.getpid() % 100000}"
        return cls(f"lsbench-srv-{tag}", f"lsbench-cli-{tag}", f"lsb{tag}s", f"lsb{tag}c")

    def exec_prefix(self) -> list[str]:
        """argv prefix that runs a command in the server namespace (exec: the pid is the command's)."""
        return ["ip", "netns", "exec", self.server_ns]

    def __enter__(self) -> Topology:
        self._previous_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            _run("ip", "netns", "add", self.server_ns)
            _run("ip", "netns", "add", self.client_ns)
            _run("ip", "link", "add", self.server_if, "netns", self.server_ns,
                 "type", "veth", "peer", "name", self.client_if, "netns", self.client_ns)
            for ns, interface, address in ((self.server_ns, self.server_if, self.server_address),
                                           (self.client_ns, self.client_if, self.client_address)):
                inside = ("ip", "netns", "exec", ns)
                # IPv4 only: no link-local IPv6 candidates, the same single address for every ICE agent
                _run(*inside, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
                _run(*inside, "ip", "link", "set", "lo", "up")
                _run(*inside, "ip", "addr", "add", f"{address}/{PREFIX}", "dev", interface)
                _run(*inside, "ip", "link", "set", interface, "up")
            self._home_fd = os.open("/proc/self/ns/net", os.O_RDONLY)
            with open(f"/run/netns/{self.client_ns}") as client:
                _setns(client.fileno())
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Back to the original namespace; end what runs in ours; delete them (idempotent)."""
        if self._home_fd >= 0:
            _setns(self._home_fd)
            os.close(self._home_fd)
            self._home_fd = -1
        for ns in (self.server_ns, self.client_ns):
            if not Path(f"/run/netns/{ns}").exists():
                continue
            self._end_processes(ns)
            with contextlib.suppress(subprocess.CalledProcessError):
                _run("ip", "netns", "del", ns)
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None

    @staticmethod
    def _end_processes(ns: str) -> None:
        """SIGTERM, then SIGKILL after 5 s, every process left in ``ns`` (ours: the namespace is)."""
        def pids() -> list[int]:
            out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, timeout=30)
            return [int(p) for p in out.stdout.split() if p.isdigit() and int(p) != os.getpid()]

        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
            left = pids()
            if not left:
                return
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while pids() and time.monotonic() < deadline:
                time.sleep(0.1)  # polling the kernel's list: there is no event for "namespace empty"
