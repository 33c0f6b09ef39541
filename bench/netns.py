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

:class:`Levels` is the other topology: three namespaces, one per level of government (province,
city, county), for bench/levels.py and the cascade's namespace test (tests/cluster/levels.py names
it there). One module holds both, so the ``setns`` call and the clean-up exist once.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

CLONE_NEWNET = 0x40000000
SUBNET = "10.98.0"
PREFIX = 24


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout


def setns(fd: int) -> None:
    """Move the calling thread into the network namespace open at ``fd`` (threads it starts
    afterwards, and processes it spawns, are born there)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


def enter(ns: str) -> None:
    """Move the calling thread into the named namespace (``ip netns add`` mounts it in /run/netns)."""
    with open(f"/run/netns/{ns}") as namespace:
        setns(namespace.fileno())


def end_processes(ns: str) -> None:
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
            enter(self.client_ns)
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
            setns(self._home_fd)
            os.close(self._home_fd)
            self._home_fd = -1
        for ns in (self.server_ns, self.client_ns):
            if not Path(f"/run/netns/{ns}").exists():
                continue
            end_processes(ns)
            with contextlib.suppress(subprocess.CalledProcessError):
                _run("ip", "netns", "del", ns)
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None


# -- three levels ----------------------------------------------------------------------------------

TBF = ("tbf", "rate", "20mbit", "burst", "64kb", "latency", "50ms")
"""Each end of a wire between levels: a government line's rate, not a LAN's."""
NETWORK = "10.97.0.0/16"


def can_create_namespaces() -> str | None:
    """None when this process may build the topology (real root with `ip` and `tc`), else why not."""
    if os.geteuid() != 0:
        return "needs real root (ip netns, veth, tc)"
    probe = f"lscas-probe-{os.getpid()}"
    try:
        _run("ip", "netns", "add", probe)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"cannot create network namespaces here: {exc}"
    _run("ip", "netns", "del", probe)
    return None


@dataclass(frozen=True)
class Wire:
    """One veth pair between the province and a lower level: interface names at both ends."""

    upper_if: str
    lower_if: str
    upper_address: str
    lower_address: str


@dataclass
class Levels:
    """Three network namespaces, one per level, for the cascade (real root only).

    The province namespace is the hub: a veth pair joins it to the city's and another to the
    county's, each end capped with ``tc ... tbf rate 20mbit`` as a government line between levels
    would be, and it routes between the two (so the city reaches the county's Redis and PostgreSQL
    through it). Nothing else is reachable from any of them: no media can leave the machine. The
    opening thread moves into the province namespace and moves back on close; everything else
    runs in its namespace through ``ip netns exec`` (or :func:`enter` in a new process).

        province 10.97.1.1 ──veth── 10.97.1.2 city
        province 10.97.2.1 ──veth── 10.97.2.2 county (Redis, PostgreSQL)
    """

    tag: str = field(default_factory=lambda: f"{os.getpid() % 100000}")
    _home_fd: int = -1

    def __post_init__(self) -> None:
        t = self.tag
        self.ns = {level: f"lscas-{level}-{t}" for level in ("province", "city", "county")}
        self.wires = {"city": Wire(f"lcp{t}c", f"lcc{t}", "10.97.1.1", "10.97.1.2"),
                      "county": Wire(f"lcp{t}k", f"lck{t}", "10.97.2.1", "10.97.2.2")}
        self.address = {"province": "10.97.1.1", "city": "10.97.1.2", "county": "10.97.2.2"}

    def exec_prefix(self, level: str) -> list[str]:
        return ["ip", "netns", "exec", self.ns[level]]

    def open(self) -> Levels:
        try:
            for ns in self.ns.values():
                _run("ip", "netns", "add", ns)
                inside = ("ip", "netns", "exec", ns)
                _run(*inside, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
                _run(*inside, "ip", "link", "set", "lo", "up")
            province = self.ns["province"]
            _run("ip", "netns", "exec", province, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
            for level, wire in self.wires.items():
                lower = self.ns[level]
                _run("ip", "link", "add", wire.upper_if, "netns", province,
                     "type", "veth", "peer", "name", wire.lower_if, "netns", lower)
                for ns, interface, address in ((province, wire.upper_if, wire.upper_address),
                                               (lower, wire.lower_if, wire.lower_address)):
                    _run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", interface)
                    _run("ip", "-n", ns, "link", "set", interface, "up")
                    _run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", interface, "root", *TBF)
                _run("ip", "-n", lower, "route", "add", "default", "via", wire.upper_address)
            self._home_fd = os.open("/proc/self/ns/net", os.O_RDONLY)
            enter(province)
        except BaseException:
            self.close()
            raise
        return self

    def counters(self, level: str) -> tuple[int, int]:
        """Bytes received and sent so far by the lower end of ``level``'s wire (down, up)."""
        wire = self.wires[level]
        base = Path("/sys/class/net")  # read through `ip netns exec`, which mounts the namespace's sysfs
        out = _run(*self.exec_prefix(level), "cat", str(base / wire.lower_if / "statistics" / "rx_bytes"),
                   str(base / wire.lower_if / "statistics" / "tx_bytes"))
        rx, tx = (int(value) for value in out.split())
        return rx, tx

    def count_media(self) -> None:
        """Count the UDP (media: RTP, RTCP, ICE, DTLS) crossing each wire apart from the rest (the
        nodes' Redis, PostgreSQL and link signalling are TCP): one iptables rule per direction at
        each wire's lower end, with no target, so it only counts."""
        for level, wire in self.wires.items():
            inside = self.exec_prefix(level)
            _run(*inside, "iptables", "-w", "-A", "INPUT", "-i", wire.lower_if, "-p", "udp")
            _run(*inside, "iptables", "-w", "-A", "OUTPUT", "-o", wire.lower_if, "-p", "udp")

    def media_counters(self, level: str) -> tuple[int, int]:
        """UDP bytes (IP packets) received and sent so far by the lower end of ``level``'s wire (down,
        up), as counted since :meth:`count_media`."""
        def counted(chain: str) -> int:
            out = _run(*self.exec_prefix(level), "iptables", "-w", "-L", chain, "-v", "-x", "-n")
            rule = out.splitlines()[2]  # after the chain's title and the column names: the one rule
            return int(rule.split()[1])

        return counted("INPUT"), counted("OUTPUT")

    def close(self) -> None:
        """Back to the original namespace, end whatever still runs in ours (their starters should
        have ended it; after a Ctrl-C they may not have) and delete them (the veth pairs go with
        them). Idempotent."""
        if self._home_fd >= 0:
            setns(self._home_fd)
            os.close(self._home_fd)
            self._home_fd = -1
        for ns in self.ns.values():
            if Path(f"/run/netns/{ns}").exists():
                end_processes(ns)
                with contextlib.suppress(subprocess.CalledProcessError):
                    _run("ip", "netns", "del", ns)
