"""Three network namespaces, one per level, for the cascade's namespace test (real root only).

The province namespace is the hub: a veth pair joins it to the city's and another to the county's,
each end capped with ``tc ... tbf rate 20mbit`` as a government line between levels would be, and
it routes between the two (so the city reaches the county's Redis and PostgreSQL through it).
Nothing else is reachable from any of them: no media can leave the machine. The test process's
main thread moves into the province namespace (``setns``; Python 3.11 has no ``os.setns``) and
moves back on close; everything else runs in its namespace through ``ip netns exec``.

    province 10.97.1.1 ──veth── 10.97.1.2 city
    province 10.97.2.1 ──veth── 10.97.2.2 county (Redis, PostgreSQL)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWNET = 0x40000000
TBF = ("tbf", "rate", "20mbit", "burst", "64kb", "latency", "50ms")
NETWORK = "10.97.0.0/16"


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


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
    """The namespaces (by level), the wires, and each level's address for nodes and bots."""

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
            with open(f"/run/netns/{province}") as namespace:
                _setns(namespace.fileno())
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

    def close(self) -> None:
        """Back to the original namespace and delete ours (the veth pairs go with them). Processes
        started in them must have been ended by their starters first."""
        if self._home_fd >= 0:
            _setns(self._home_fd)
            os.close(self._home_fd)
            self._home_fd = -1
        for ns in self.ns.values():
            if Path(f"/run/netns/{ns}").exists():
                with contextlib.suppress(subprocess.CalledProcessError):
                    _run("ip", "netns", "del", ns)
