"""The cascade across three levels' networks: province, city and county nodes, each in a network
namespace of its own, joined by rate-capped veth pairs (tests/cluster/levels.py), with Redis and
PostgreSQL started by the test in the county's namespace and bots in every namespace.

Proves: every bot decodes every other bot's video, behind links at the rate a subscriber on the
publisher's own node gets it (near 30 fps on a quiet machine); the bytes on each inter-level
wire are one copy of each stream that must cross it (two subscribers behind a wire cost it one
stream); a county node killed and started again links anew, and whoever
joins it again sees and is seen.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from server.cluster.directory import Directory
from server.db.engine import create_engine, session_factory
from server.db.models import Invitation
from server.domain.roles import Post, Role
from server.services.people import NewPerson, create_person
from tests.world import PASSWORD, World, build_world

from .conftest import RedisSpace, until
from .levels import NETWORK, Levels, can_create_namespaces
from .nodes import Node, start_node

LEASE_S = 60.0
"""Long enough that a heartbeat held up on a loaded machine does not pass a home to another node."""
PORT = 8080
FPS = 30
WINDOW_S = 8.0
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
NAMESPACE = "cascade"

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]


@pytest.fixture(scope="module", autouse=True)
def netns() -> None:
    if os.environ.get("LIANSHEN_TEST_NETNS") != "1":
        # Opt-in: it builds namespaces, starts Redis, PostgreSQL and three nodes (a minute or more).
        # On a loaded machine a link may drop and come back; see docs/deployment.md, "Cascade".
        pytest.skip("set LIANSHEN_TEST_NETNS=1 to run (real root, a machine not otherwise loaded)")
    reason = can_create_namespaces()
    if reason is not None:
        pytest.skip(reason)
    if not PG_BIN or shutil.which("redis-server") is None:
        pytest.skip("needs PostgreSQL's binaries (/usr/lib/postgresql/*/bin) and redis-server")


@dataclass
class Services:
    """What the test started: the topology, the county's Redis and PostgreSQL, their URLs."""

    levels: Levels
    redis_url: str
    database_url: str
    processes: list[asyncio.subprocess.Process]


async def _ready(check: Any) -> bool:
    try:
        await check()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError):
        return False
    return True


@pytest_asyncio.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    levels = Levels().open()
    processes: list[asyncio.subprocess.Process] = []
    pg_dir = Path(tempfile.mkdtemp(prefix="lscas-pg-"))  # the postgres user must reach it
    try:
        county = levels.address["county"]
        processes.append(await asyncio.create_subprocess_exec(
            *levels.exec_prefix("county"), "redis-server", "--bind", county, "--port", "6379", "--save", "",
            "--appendonly", "no", "--protected-mode", "no",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL))
        shutil.chown(pg_dir, "postgres", "postgres")
        initdb = await asyncio.create_subprocess_exec(
            "runuser", "-u", "postgres", "--", str(PG_BIN[-1] / "initdb"), "-D", str(pg_dir / "data"),
            "-A", "trust", "-U", "postgres", "--no-sync",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await initdb.communicate()
        assert initdb.returncode == 0, err.decode()
        with (pg_dir / "data" / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {NETWORK} trust\n")
        processes.append(await asyncio.create_subprocess_exec(
            *levels.exec_prefix("county"), "runuser", "-u", "postgres", "--", str(PG_BIN[-1] / "postgres"),
            "-D", str(pg_dir / "data"), "-c", f"listen_addresses={county}", "-c", f"unix_socket_directories={pg_dir}",
            "-c", "fsync=off", "-p", "5432",
            stdout=asyncio.subprocess.DEVNULL, stderr=(tmp_path / "postgres.txt").open("wb")))
        admin = f"postgresql://postgres@{county}:5432/postgres"
        redis = Redis.from_url(f"redis://{county}:6379/0")
        try:
            async with asyncio.timeout(60):
                await until(lambda: _ready(redis.ping))
                await until(lambda: _ready(lambda: _pg(admin, "SELECT 1")))
        finally:
            await redis.aclose()
        await _pg(admin, "CREATE DATABASE lianshen")
        database_url = f"postgresql+asyncpg://postgres@{county}:5432/lianshen"
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; from server.db.migrate import upgrade; upgrade(sys.argv[1])",
            database_url, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await migrate.communicate()
        assert migrate.returncode == 0, err.decode()[-2000:]
        yield Services(levels, f"redis://{county}:6379/0", database_url, processes)
    finally:
        for process in reversed(processes):
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    process.kill()
                    await process.wait()
        levels.close()
        shutil.rmtree(pg_dir, ignore_errors=True)


async def _pg(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


class Bot:
    """A tests/cluster/netns_bot.py process in a level's namespace."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.participant_id = ""

    @classmethod
    async def start(cls, levels: Levels, level: str, url: str, meeting_id: int, user: str,
                    watch: bool = False) -> Bot:
        process = await asyncio.create_subprocess_exec(
            *levels.exec_prefix(level), sys.executable, "-m", "tests.cluster.netns_bot", url, str(meeting_id), user,
            *(["watch"] if watch else []), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        bot = cls(user, process)
        bot._send(PASSWORD)
        joined = await bot._line(90)
        bot.participant_id = joined["joined"]
        return bot

    def _send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())

    async def _line(self, within_s: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), within_s)
        assert line, f"bot {self.name} ended (exit {await self.process.wait()})"
        return dict(json.loads(line))

    async def report(self) -> dict[str, dict[str, Any]]:
        """participant id:kind -> what this bot received of it so far."""
        self._send("report")
        sources = (await self._line(30))["sources"]
        return {f"{s['participant']}:{s['kind']}": s for s in sources}

    async def quit(self) -> None:
        if self.process.returncode is None:
            self._send("quit")
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def _sees(bot: Bot, others: list[Bot], frames: int) -> bool:
    report = await bot.report()
    return all(report.get(f"{o.participant_id}:video", {}).get("frames", 0) >= frames for o in others)


async def _all_see_all(bots: list[Bot], directory: Directory, watchers: tuple[Bot, ...] = ()) -> None:
    """Every bot (and watcher) has received 2 s of every other bot's video within 90 s (else what
    each got, and the links)."""
    try:
        async with asyncio.timeout(90):
            for bot in [*bots, *watchers]:
                others = [o for o in bots if o is not bot]

                async def seen(bot: Bot = bot, others: list[Bot] = others) -> bool:
                    return await _sees(bot, others, 2 * FPS)

                await until(seen)
    except TimeoutError:
        got = {bot.name: {source: s["frames"] for source, s in (await bot.report()).items()}
               for bot in [*bots, *watchers]}
        ids = {bot.participant_id: bot.name for bot in bots}
        links = {node: await directory.links(node) for node in ("province", "city", "county")}
        raise AssertionError(f"not everyone sees everyone: {ids} {got} {links}") from None


def _rate(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], source: str, field: str) -> float:
    return (after[source][field] - before[source][field]) / WINDOW_S


async def test_cascade_three_levels(tmp_path: Path, services: Services) -> None:
    levels = services.levels
    engine = create_engine(services.database_url)
    world: World = await build_world(session_factory(engine))
    async with session_factory(engine)() as db:
        db.add(Invitation(meeting_id=world.meeting_x, capacity="observer", department_id=world.dept_city))
        await create_person(db, NewPerson("rep_city", "孙市发改", Role.CHIEF_REP, PASSWORD, "LC-FGW", Post.A))
        await create_person(db, NewPerson("viewer_city", "周市发改", Role.CHIEF_REP, PASSWORD, "LC-FGW", Post.B))
        await db.commit()
    await engine.dispose()
    space = RedisSpace(services.redis_url, NAMESPACE, Redis.from_url(services.redis_url, decode_responses=True))
    directory = Directory.connect(services.redis_url, NAMESPACE, LEASE_S)
    nodes: list[Node] = []
    bots: list[Bot] = []
    """The publishing bots."""
    watchers: list[Bot] = []
    """Bots that only watch, on the province and the city: what a subscriber on a publisher's own
    node gets, the measure for those behind links (a loaded machine slows both alike)."""

    async def node(level: str, port: int | None = None) -> Node:
        address = levels.address[level]
        media = [levels.wires["city"].upper_address, levels.wires["county"].upper_address] \
            if level == "province" else [address]
        overrides = {"LIANSHEN_SFU_ICE_GATHER_ADDRESSES": json.dumps(media),
                     "LIANSHEN_NODE_MEDIA_ADDRESSES": json.dumps(media),
                     "LIANSHEN_SFU_ALLOWED_NETWORKS": json.dumps([NETWORK]),
                     "LIANSHEN_SFU_DENIED_NETWORKS": json.dumps(["169.254.0.0/16"])}
        return await start_node(tmp_path, level, level, services.database_url, space, LEASE_S, nodes,
                                port=port or PORT, host=address, prefix=levels.exec_prefix(level),
                                overrides=overrides)

    try:
        province, city, county = await asyncio.gather(node("province"), node("city"), node("county"))
        async with asyncio.timeout(20):
            await until(lambda: _node_ids(directory, {"province", "city", "county"}))

        # The chair (no level) joins first, on the province node: its home. The others are served
        # by their own level's node, which links to the home.
        chair = await Bot.start(levels, "province", province.url, world.meeting_x, "chair")
        bots.append(chair)
        assert await directory.home_of(world.meeting_x) == "province"
        for level, user, at in (("city", "rep_city", city), ("county", "rep_a", county), ("county", "rep_b", county)):
            bots.append(await Bot.start(levels, level, at.url, world.meeting_x, user))
        _, rep_city, rep_a, rep_b = bots
        for level, user, at in (("province", "applicant", province), ("city", "viewer_city", city)):
            watchers.append(await Bot.start(levels, level, at.url, world.meeting_x, user, watch=True))
        province_viewer, city_viewer = watchers
        local = {chair.name: province_viewer, rep_city.name: city_viewer, rep_a.name: rep_b, rep_b.name: rep_a}
        await _all_see_all(bots, directory, tuple(watchers))
        async with asyncio.timeout(30):
            await until(lambda: _link_tracks(directory, "county", sent=4, received=4))
            await until(lambda: _link_tracks(directory, "city", sent=2, received=6))

        # A window: frames and bytes each bot received, bytes on each wire.
        before = {bot.name: await bot.report() for bot in bots + watchers}
        wires_before = {level: levels.counters(level) for level in ("city", "county")}
        await asyncio.sleep(WINDOW_S)  # the measuring window, not a synchronisation
        after = {bot.name: await bot.report() for bot in bots + watchers}
        wires_after = {level: levels.counters(level) for level in ("city", "county")}

        def fps(subscriber: Bot, publisher: Bot) -> float:
            return _rate(before[subscriber.name], after[subscriber.name], f"{publisher.participant_id}:video",
                         "frames")

        rates = {(b.name, o.name): fps(b, o) for b in bots + watchers for o in bots if o is not b}
        print(f"video fps (subscriber, publisher): {rates}")
        for bot in bots + watchers:
            for other in bots:
                if other is bot:
                    continue
                # The local subscriber's rate is the reference, but no more than the clip's: on a
                # loaded machine a stalled process catches up in a burst (seen: 55 fps in a window).
                reference = min(fps(local[other.name], other), FPS)
                assert fps(bot, other) >= 0.8 * reference, (bot.name, other.name, rates)
                # A decode error is ours (a broken forwarder) unless the bot lost packets for good:
                # aiortc's jitter buffer, full (128 packets) behind a hole no resend filled in time,
                # hands its decoder the next frame without its first packets. On a loaded machine a
                # stalled process catches up in a burst that overflows a socket or a wire's queue.
                video = after[bot.name][f"{other.participant_id}:video"]
                assert video["decode_errors"] <= video["packets_lost"], (bot.name, other.name, video)

        def stream(of: Bot, seen_by: Bot) -> float:
            """One copy of ``of``'s video and audio, in payload bytes per second, as ``seen_by`` got it."""
            return sum(_rate(before[seen_by.name], after[seen_by.name], f"{of.participant_id}:{kind}", "bytes")
                       for kind in ("video", "audio"))

        expected = {  # level -> (one copy down, one copy up) in bytes per second
            "county": (stream(chair, rep_a) + stream(rep_city, rep_a), stream(rep_a, chair) + stream(rep_b, chair)),
            "city": (stream(chair, rep_city) + stream(rep_a, rep_city) + stream(rep_b, rep_city),
                     stream(rep_city, chair)),
        }
        measured = {}
        for level in ("city", "county"):
            (rx0, tx0), (rx1, tx1) = wires_before[level], wires_after[level]
            measured[level] = ((rx1 - rx0) / WINDOW_S, (tx1 - tx0) / WINDOW_S)
        print(f"wires (down, up) bytes/s: measured {measured}, one copy of each stream {expected}")
        for level in ("city", "county"):
            for measured_rate, one_copy in zip(measured[level], expected[level], strict=True):
                # one copy plus headers (RTP, SRTP, UDP, IP: most of a small audio packet), RTCP,
                # and the nodes' Redis and PostgreSQL traffic; a copy per subscriber would be >= 2x
                assert 0.9 * one_copy <= measured_rate <= 1.5 * one_copy, (level, measured, expected)

        # kill -9 the county node; start it again: it links anew, and the people who join it again
        # see everyone and are seen.
        county.kill()
        await county.process.wait()
        for gone in (rep_a, rep_b):
            bots.remove(gone)
            await gone.quit()
        county = await node("county")
        rep_a = await Bot.start(levels, "county", county.url, world.meeting_x, "rep_a")
        bots.append(rep_a)
        await _all_see_all(bots, directory)
    finally:
        for bot in bots + watchers:
            await bot.quit()
        for started in nodes:
            started.kill()
            await started.process.wait()
        await directory.close()
        await space.client.aclose()


async def _node_ids(directory: Directory, expected: set[str]) -> bool:
    return {node.id for node in await directory.nodes()} == expected


async def _link_tracks(directory: Directory, node_id: str, sent: int, received: int) -> bool:
    links = await directory.links(node_id)
    return len(links) == 1 and links[0]["status"] == "connected" and (
        (links[0]["sent"] or {}).get("tracks"), (links[0]["received"] or {}).get("tracks")) == (sent, received)
