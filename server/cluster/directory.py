"""The directory in Redis: which nodes are alive, which meeting each hosts as home, who is on which node.

Every entry is a lease. A node rewrites its own entries on each heartbeat (``announce``) and they
expire ``lease`` after the last one, so a node that dies (kill -9, a cut cable) drops out of the
directory by itself, and a Redis that restarted empty is filled again by the next heartbeats.
Keys (``ns`` is the configured namespace; a node id holds no ':'):

- ``ns:node:<id>`` hash: level, signaling_url, media_addresses (JSON), started_at, heartbeat_at,
  participants (a count, for choosing among nodes of one level), listening (1 when its socket.io
  subscription is up: broadcasts from other nodes reach it);
- ``ns:node:<id>:participants`` hash: participant id -> JSON (meeting_id, display_name, unit);
- ``ns:node:<id>:homes`` set: the meetings whose home this node is;
- ``ns:node:<id>:links`` hash: link name -> JSON, the node's cascade links and their counters
  (the one place links are kept: written by the node's cascade, read by `lianshen node status`,
  which also shows them per meeting);
- ``ns:meeting:<id>:home`` string: the home node's id (the node of the meeting's first live join),
  claimed only when free and kept only by its holder (``CLAIM``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return holder
"""
"""Take the home of a meeting if free, refresh it if ours; answer the holder either way."""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
"""Give a home up, but only if it is still ours (it may have expired and passed on)."""


@dataclass(frozen=True)
class NodeRecord:
    """A node as it announces itself."""

    id: str
    level: str
    signaling_url: str
    media_addresses: tuple[str, ...] = ()
    started_at: float = 0.0
    heartbeat_at: float = 0.0
    participants: int = 0
    listening: bool = False
    """Its socket.io Redis subscription was up at its last heartbeat: room broadcasts from other
    nodes reach its connections (after Redis restarts, not before it has subscribed again)."""


@dataclass(frozen=True)
class ParticipantRecord:
    """A participant served by a node (what `lianshen node status` and routing need of them)."""

    id: str
    meeting_id: int
    display_name: str
    unit: str = ""


class Directory:
    """The shared directory of one system (one namespace) in one Redis."""

    def __init__(self, redis: Redis, namespace: str, lease_seconds: float) -> None:
        self._redis = redis
        self._ns = namespace
        self.lease_ms = max(1, round(lease_seconds * 1000))
        self._claim = redis.register_script(CLAIM)
        self._release = redis.register_script(RELEASE)

    @classmethod
    def connect(cls, url: str, namespace: str, lease_seconds: float) -> Directory:
        """A directory over a new client (it connects on first use); close() releases it."""
        return cls(Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5),
                   namespace, lease_seconds)

    @property
    def redis(self) -> Redis:
        """The client (the live feed publishes and subscribes through it)."""
        return self._redis

    async def close(self) -> None:
        await self._redis.aclose()

    # -- keys ---------------------------------------------------------------------

    def _node(self, node_id: str) -> str:
        return f"{self._ns}:node:{node_id}"

    def _home(self, meeting_id: int) -> str:
        return f"{self._ns}:meeting:{meeting_id}:home"

    # -- a node's own entries ------------------------------------------------------

    async def announce(self, node: NodeRecord, participants: Sequence[ParticipantRecord],
                       homes: Iterable[int]) -> set[int]:
        """One heartbeat: the node, its participants and its homes, all leased anew. Answers the
        meetings of ``homes`` that another node holds now (this node's lease on them had run out)."""
        homes = sorted(set(homes))
        holders = [await self._claim(keys=[self._home(m)], args=[node.id, self.lease_ms]) for m in homes]
        kept = [m for m, holder in zip(homes, holders, strict=True) if holder == node.id]
        key = self._node(node.id)
        fields: dict[FieldT, EncodableT] = {
            "level": node.level, "signaling_url": node.signaling_url,
            "media_addresses": json.dumps(list(node.media_addresses)),
            "started_at": node.started_at, "heartbeat_at": time.time(), "participants": len(participants),
            "listening": int(node.listening)}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.pexpire(key, self.lease_ms)
            pipe.delete(f"{key}:participants", f"{key}:homes")
            if participants:
                pipe.hset(f"{key}:participants", mapping={p.id: json.dumps(
                    {"meeting_id": p.meeting_id, "display_name": p.display_name, "unit": p.unit},
                    ensure_ascii=False) for p in participants})
                pipe.pexpire(f"{key}:participants", self.lease_ms)
            if kept:
                pipe.sadd(f"{key}:homes", *kept)
                pipe.pexpire(f"{key}:homes", self.lease_ms)
            await pipe.execute()
        return set(homes) - set(kept)

    async def withdraw(self, node_id: str, homes: Iterable[int]) -> None:
        """A node stopping cleanly: its entries go at once instead of at the end of the lease."""
        for meeting_id in homes:
            await self.release_home(meeting_id, node_id)
        key = self._node(node_id)
        await self._redis.delete(key, f"{key}:participants", f"{key}:homes", f"{key}:links")

    async def put_links(self, node_id: str, links: Mapping[str, str]) -> None:
        """A node's cascade links now (name -> JSON state, server.cluster.links), leased like the
        node itself: a dead node's links vanish with it."""
        key = f"{self._node(node_id)}:links"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if links:
                fields: dict[FieldT, EncodableT] = {name: value for name, value in links.items()}
                pipe.hset(key, mapping=fields)
                pipe.pexpire(key, self.lease_ms)
            await pipe.execute()

    async def claim_home(self, meeting_id: int, node_id: str) -> str:
        """Make ``node_id`` the meeting's home if it has none; answer the home node's id."""
        return str(await self._claim(keys=[self._home(meeting_id)], args=[node_id, self.lease_ms]))

    async def release_home(self, meeting_id: int, node_id: str) -> None:
        await self._release(keys=[self._home(meeting_id)], args=[node_id])

    # -- reading ----------------------------------------------------------------------

    async def home_of(self, meeting_id: int) -> str | None:
        holder = await self._redis.get(self._home(meeting_id))
        return str(holder) if holder is not None else None

    async def nodes(self) -> list[NodeRecord]:
        """The living nodes (whose lease has not run out), by id."""
        prefix = f"{self._ns}:node:"
        ids = sorted({key[len(prefix):] async for key in self._redis.scan_iter(match=f"{prefix}*", count=500)
                      if ":" not in key[len(prefix):]})
        found = []
        for node_id in ids:
            fields = await self._redis.hgetall(self._node(node_id))
            if fields:  # it may have expired since the scan
                found.append(NodeRecord(
                    id=node_id, level=str(fields.get("level", "")),
                    signaling_url=str(fields.get("signaling_url", "")),
                    media_addresses=tuple(json.loads(fields.get("media_addresses", "[]"))),
                    started_at=float(fields.get("started_at", 0)),
                    heartbeat_at=float(fields.get("heartbeat_at", 0)),
                    participants=int(fields.get("participants", 0)),
                    listening=fields.get("listening") == "1"))
        return found

    async def participants(self, node_id: str) -> list[ParticipantRecord]:
        entries = await self._redis.hgetall(f"{self._node(node_id)}:participants")
        return sorted((ParticipantRecord(id=str(pid), **json.loads(value)) for pid, value in entries.items()),
                      key=lambda p: (p.meeting_id, p.id))

    async def links(self, node_id: str) -> list[dict[str, Any]]:
        """A node's cascade links as it last wrote them, by name."""
        entries = await self._redis.hgetall(f"{self._node(node_id)}:links")
        return [json.loads(entries[name]) for name in sorted(entries)]

    async def homes(self, node_id: str) -> list[int]:
        return sorted(int(m) for m in await self._redis.smembers(f"{self._node(node_id)}:homes"))
