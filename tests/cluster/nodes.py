"""Real `lianshen serve` processes as nodes of one system on 127.0.0.1, for the cluster tests.

Each node is the installed command in a process of its own (its own data directory and port),
configured through LIANSHEN_* variables as an operator would; the nodes share the test's PostgreSQL
database and its Redis namespace. Their SFUs gather on 127.0.0.1 only, so what media the cascade
tests send (bots and node-to-node links) stays on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.bot.media import audio_clip, video_clip
from server.bot.signaling import BotClient, sign_in
from tests.world import PASSWORD

from .conftest import RedisSpace

READY_TIMEOUT_S = 150.0
"""Starting imports the whole server (aiortc, PyAV, WeasyPrint): seconds, or minutes on a loaded machine."""
TOKEN_SECRET = "cluster-test-token-secret-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Node:
    """A running node: its id, level, URL and process."""

    id: str
    level: str
    url: str
    env: dict[str, str]
    process: asyncio.subprocess.Process

    def kill(self) -> None:
        """kill -9: no goodbye, its directory entries are left to expire."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        """A clean stop (SIGTERM), as a service manager does."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)

    async def command(self, *args: str) -> tuple[int, str, str]:
        """Another `lianshen` command run with this node's settings."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server", *args, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()


def node_env(data_dir: Path, node_id: str, level: str, url: str, database_url: str, space: RedisSpace,
             lease_seconds: float) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "LIANSHEN_DATA_DIR": str(data_dir), "LIANSHEN_DATABASE_URL": database_url,
           "LIANSHEN_AUTH_TOKEN_SECRET": TOKEN_SECRET,
           "LIANSHEN_NODE_ID": node_id, "LIANSHEN_NODE_LEVEL": level, "LIANSHEN_NODE_SIGNALING_URL": url,
           "LIANSHEN_NODE_MEDIA_ADDRESSES": json.dumps(["127.0.0.1"]),
           "LIANSHEN_NODE_REDIS_URL": space.url, "LIANSHEN_NODE_NAMESPACE": space.namespace,
           "LIANSHEN_NODE_LEASE_SECONDS": str(lease_seconds),
           "LIANSHEN_SFU_ICE_GATHER_ADDRESSES": json.dumps(["127.0.0.1"]),
           "LIANSHEN_SFU_ALLOWED_NETWORKS": json.dumps(["127.0.0.0/8"]),
           "LIANSHEN_SFU_DENIED_NETWORKS": json.dumps(["10.0.0.0/8", "169.254.0.0/16"])}
    env.pop("LIANSHEN_CONFIG", None)
    return env


async def start_node(base: Path, node_id: str, level: str, database_url: str, space: RedisSpace,
                     lease_seconds: float, started: list[Node], port: int | None = None,
                     host: str = "127.0.0.1", prefix: Sequence[str] = (),
                     overrides: Mapping[str, str] | None = None) -> Node:
    """Start a node and return once it serves (it prints its URL when listening). It is added to
    ``started`` at once, so the test's teardown ends it even if it never got ready. A node started
    again (after a kill) passes its old ``port`` and keeps its data directory. ``prefix`` runs it
    elsewhere (``ip netns exec NS``, which execs: the process is the node's), on ``host``, with
    ``overrides`` of its environment."""
    port = port or free_port()
    url = f"http://{host}:{port}"
    data_dir = base / node_id
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**node_env(data_dir, node_id, level, url, database_url, space, lease_seconds), **(overrides or {})}
    with (data_dir / "stderr.txt").open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            *prefix, sys.executable, "-m", "server", "serve", "--host", host, "--port", str(port),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr)
    node = Node(node_id, level, url, env, process)
    started.append(node)
    assert process.stdout is not None
    seen: list[str] = []
    async with asyncio.timeout(READY_TIMEOUT_S):
        while "running at" not in (line := (await process.stdout.readline()).decode()):
            if not line:
                raise AssertionError(f"node {node_id} exited: {seen} "
                                     f"{(data_dir / 'stderr.txt').read_text(errors='replace')[-2000:]}")
            seen.append(line)
    return node


async def start_nodes(base: Path, database_url: str, space: RedisSpace, lease_s: float, started: list[Node],
                      *nodes: tuple[str, str]) -> list[Node]:
    """Nodes (id, level) started together; meanwhile the bots' clips are encoded, once, off the
    event loop: encoded on first use by a joined bot, they would hold up the joined bots'
    heartbeats on a busy machine (and have them dropped)."""
    clips = asyncio.gather(asyncio.to_thread(video_clip), asyncio.to_thread(audio_clip))
    running = await asyncio.gather(
        *(start_node(base, node_id, level, database_url, space, lease_s, started) for node_id, level in nodes))
    await clips
    return list(running)


def redirect_of(ack: dict[str, Any]) -> tuple[str, str]:
    """The node id and signalling URL a join answer sends the participant to."""
    assert ack["status"] == "redirect", ack
    return ack["node"]["id"], ack["node"]["signaling_url"]


async def joined_bot(node: Node, meeting: int, username: str, bots: list[BotClient]) -> BotClient:
    """``username`` signed in on ``node`` and joined there (served by it, not redirected); kept in
    ``bots`` for the test's teardown."""
    client = BotClient(node.url, meeting, cookie=await sign_in(node.url, username, PASSWORD), name=username)
    bots.append(client)
    await client.connect()
    joined = await client.join()
    assert joined["status"] == "joined" and client.url == node.url, joined
    return client
