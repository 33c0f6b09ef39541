"""What bench/levels.py runs in the three level namespaces: Redis and PostgreSQL in the county's
(one database for the whole system, as docs/deployment.md places it), and one `lianshen serve` node
per level, each configured through LIANSHEN_* variables as an operator would (config/cluster/).

Every process is started with ``ip netns exec`` (which execs: the pid is the program's), so its
CPU time is read from /proc/<pid>/stat. :meth:`Services.stop` ends them in reverse order; whatever
it misses (a Ctrl-C in the middle) is ended by ``Levels.close``, which empties the namespaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sfu  # bench/sfu.py: its process helpers
from netns import NETWORK, Levels

REPO = Path(__file__).resolve().parent.parent
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
PORT = 8080
LEASE_S = 60.0
"""The nodes' lease: long, so that a heartbeat held up on a saturated machine does not pass the
meeting's home to another node in the middle of a measurement (the cascade test does the same)."""
TOKEN_SECRET = "levels-bench-token-secret-0123456789"
NAMESPACE = "levels-bench"
READY_S = 180.0
"""Starting a node imports the whole server (aiortc, PyAV, WeasyPrint): a minute on a loaded machine."""


def missing_tools() -> str | None:
    """None when the bench can run here, else what it lacks."""
    if not PG_BIN:
        return "PostgreSQL's binaries (/usr/lib/postgresql/*/bin)"
    for tool in ("redis-server", "runuser", "tc", "ip"):
        if shutil.which(tool) is None:
            return tool
    return None


@dataclass
class Node:
    level: str
    url: str
    process: subprocess.Popen[bytes]


@dataclass
class Services:
    levels: Levels
    workdir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    nodes: dict[str, Node] = field(default_factory=dict)
    pg_dir: Path | None = None

    @property
    def county(self) -> str:
        return self.levels.address["county"]

    @property
    def redis_url(self) -> str:
        return f"redis://{self.county}:6379/0"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://postgres@{self.county}:5432/lianshen"

    def _start(self, level: str, argv: list[str], log: str,
               env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with (self.workdir / log).open("wb") as out:
            process = subprocess.Popen([*self.levels.exec_prefix(level), *argv], cwd=REPO, env=env,
                                       stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def start_databases(self) -> None:
        """Redis and a fresh PostgreSQL cluster in the county, the schema migrated."""
        self._start("county", ["redis-server", "--bind", self.county, "--port", "6379", "--save", "",
                               "--appendonly", "no", "--protected-mode", "no"], "redis.txt")
        self.pg_dir = Path(tempfile.mkdtemp(prefix="lslevels-pg-"))  # the postgres user must reach it
        shutil.chown(self.pg_dir, "postgres", "postgres")
        bin_dir = PG_BIN[-1]
        subprocess.run(["runuser", "-u", "postgres", "--", str(bin_dir / "initdb"), "-D", str(self.pg_dir / "data"),
                        "-A", "trust", "-U", "postgres", "--no-sync"], check=True, capture_output=True, timeout=120)
        with (self.pg_dir / "data" / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {NETWORK} trust\n")
        self._start("county", ["runuser", "-u", "postgres", "--", str(bin_dir / "postgres"), "-D",
                               str(self.pg_dir / "data"), "-c", f"listen_addresses={self.county}",
                               "-c", f"unix_socket_directories={self.pg_dir}", "-c", "fsync=off",
                               "-c", "max_connections=200", "-p", "5432"], "postgres.txt")
        _until(lambda: subprocess.run([str(bin_dir / "pg_isready"), "-q", "-h", self.county, "-p", "5432"],
                                      timeout=10).returncode == 0, 60, "PostgreSQL")
        _until(lambda: _redis_answers(self.redis_url), 60, "Redis")
        subprocess.run([str(bin_dir / "createdb"), "-h", self.county, "-U", "postgres", "lianshen"],
                       check=True, capture_output=True, timeout=60)
        from server.db.migrate import upgrade

        upgrade(self.database_url)

    def start_nodes(self) -> None:
        """The three nodes, started together; returns once each accepts connections and all three
        are in the directory."""
        for level in ("province", "city", "county"):
            address = self.levels.address[level]
            media = [self.levels.wires["city"].upper_address, self.levels.wires["county"].upper_address] \
                if level == "province" else [address]
            data_dir = self.workdir / level
            data_dir.mkdir()
            url = f"http://{address}:{PORT}"
            env = {**os.environ, "PYTHONUNBUFFERED": "1",
                   "LIANSHEN_DATA_DIR": str(data_dir), "LIANSHEN_DATABASE_URL": self.database_url,
                   "LIANSHEN_AUTH_TOKEN_SECRET": TOKEN_SECRET,
                   "LIANSHEN_NODE_ID": level, "LIANSHEN_NODE_LEVEL": level, "LIANSHEN_NODE_SIGNALING_URL": url,
                   "LIANSHEN_NODE_MEDIA_ADDRESSES": json.dumps(media),
                   "LIANSHEN_NODE_REDIS_URL": self.redis_url, "LIANSHEN_NODE_NAMESPACE": NAMESPACE,
                   "LIANSHEN_NODE_LEASE_SECONDS": str(LEASE_S),
                   "LIANSHEN_SFU_ICE_GATHER_ADDRESSES": json.dumps(media),
                   "LIANSHEN_SFU_ALLOWED_NETWORKS": json.dumps([NETWORK]),
                   "LIANSHEN_SFU_DENIED_NETWORKS": json.dumps(["169.254.0.0/16"])}
            env.pop("LIANSHEN_CONFIG", None)
            process = self._start(level, [sys.executable, "-m", "server", "serve", "--host", address,
                                          "--port", str(PORT)], f"{level}.log", env)
            self.nodes[level] = Node(level, url, process)
        for level, node in self.nodes.items():
            sfu.wait_listening(node.process, PORT, READY_S, self.levels.address[level])
        _until(lambda: asyncio.run(self._node_ids()) == set(self.nodes), 30, "the three nodes in the directory")

    async def _node_ids(self) -> set[str]:
        from server.cluster.directory import Directory

        directory = Directory.connect(self.redis_url, NAMESPACE, LEASE_S)
        try:
            return {node.id for node in await directory.nodes()}
        finally:
            await directory.close()

    async def home_of(self, meeting_id: int) -> str | None:
        from server.cluster.directory import Directory

        directory = Directory.connect(self.redis_url, NAMESPACE, LEASE_S)
        try:
            return await directory.home_of(meeting_id)
        finally:
            await directory.close()

    def stop(self) -> None:
        """SIGTERM (a clean stop, as a service manager does), SIGKILL after 20 s: the nodes together
        first, so they withdraw from the directory while Redis still answers; then the databases."""
        nodes = [node.process for node in self.nodes.values()]
        for group in (nodes, [p for p in reversed(self.processes) if p not in nodes]):
            for process in group:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in group:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
        self.processes.clear()
        self.nodes.clear()
        if self.pg_dir is not None:
            shutil.rmtree(self.pg_dir, ignore_errors=True)
            self.pg_dir = None


def _redis_answers(url: str) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


def _until(ready: Callable[[], bool], within_s: float, what: str) -> None:
    """Poll ``ready()`` until it holds (another process's state: there is no event to wait on)."""
    deadline = time.monotonic() + within_s
    while True:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            if ready():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready within {within_s:.0f} s")
        time.sleep(0.2)
