"""Client side of bench/sfu.py: one process holding several bots, driven over a pipe.

Each worker process runs one asyncio loop with several ``server.bot.signaling.BotClient``s (the
code behind ``lianshen bot``): they join over socket.io, publish the clip encoded once per process
(``server.bot.media``), and count received frames in pass-through (only the first frames of each
source are decoded, to check they decode and to time the first picture). Once a source's decode
sample is done, its datagrams are counted from the clear RTP header off the socket
(``bench/sfu_light.py``) instead of going through aiortc, unless ``light`` is off. The parent sends one
command at a time and waits for its reply, so every step is synchronised by a message, not a sleep.

Commands (parent -> worker) and replies:
  ("join", names)             -> ("joined", {name: {"id", "joined_at", "published_at"}})
  ("await_media", timeout_s)  -> ("media", {name: missing_sources})
  ("mark",)                   -> ("marked", {name: {"at", "sources": {src: [frames, bytes]}}})
  ("finish",)                 -> ("finished", {name: {"first_decoded": {src: t}, "decode_errors"}})
Every reply is preceded by nothing else; an exception is replied as ("error", text).
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any


@dataclass(frozen=True)
class BotSpec:
    """One synthetic participant: its join token, whether it publishes, how many sources it expects."""

    name: str
    token: str
    publish: bool
    expect_sources: int
    meeting_id: int | None = None
    """Its own meeting instead of the worker's (a scenario's second part)."""


class Worker:
    def __init__(self, url: str, meeting_id: int, specs: list[BotSpec], light: bool = True,
                 client: str = "lianshen") -> None:
        """``client`` is ``lianshen`` (socket.io bots) or ``janus`` (bench/janus_client.py: a VideoRoom
        at ``url``, room ``meeting_id``); both carry the same Participant, so the rest is shared."""
        from server.bot.signaling import BotClient

        self.light = light
        self.light_receivers: dict[str, Any] = {}
        self.specs = {spec.name: spec for spec in specs}
        if client == "janus":
            from janus_client import JanusBot

            self.bots: dict[str, Any] = {spec.name: JanusBot(url, meeting_id, name=spec.name, publish=spec.publish)
                                         for spec in specs}
        else:
            self.bots = {spec.name: BotClient(url, spec.meeting_id or meeting_id, token=spec.token, name=spec.name)
                         for spec in specs}
        self.published_at: dict[str, float] = {}
        self.loop_lag = LoopLag()

    async def join(self, names: list[str]) -> dict[str, Any]:
        """Join (and publish) the named bots one after another: a steady trickle of arrivals."""
        out = {}
        for name in names:
            bot = self.bots[name]
            await bot.connect()
            await bot.join()
            if bot.joined.get("status") != "joined":
                raise RuntimeError(f"{name}: not admitted ({bot.joined.get('status')})")
            self._lighten_on_offers(name)
            if self.specs[name].publish:
                await bot.publish(("video", "audio"))
                self.published_at[name] = time.monotonic()
            out[name] = {"id": bot.participant_id, "joined_at": bot.joined_at,
                         "published_at": self.published_at.get(name)}
        return out

    def _decoding(self, name: str) -> int:
        bot = self.bots[name]
        if bot.participant is None:
            return 0
        return sum(1 for s in bot.participant.receiver.stats.values() if s.first_decoded_at is not None)

    async def await_media(self, timeout: float) -> dict[str, int]:
        """Wait until every bot decodes a first frame of every source it expects (bounded)."""
        deadline = time.monotonic() + timeout
        for name, spec in self.specs.items():
            bot = self.bots[name]
            if bot.participant is None or spec.expect_sources == 0:
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                await bot.participant.receiver.wait_for(
                    lambda n=name, want=spec.expect_sources: self._decoding(n) >= want, left)
            except TimeoutError:
                break
        self._lighten()
        return {name: spec.expect_sources - self._decoding(name)
                for name, spec in self.specs.items() if self._decoding(name) < spec.expect_sources}

    def _lighten(self) -> None:
        """Read every receiving bot's subscribe sockets through bench/sfu_light.py (idempotent)."""
        if not self.light:
            return
        for name, bot in self.bots.items():
            if bot.participant is None or self.specs[name].expect_sources == 0:
                continue
            light = self.light_receivers.get(name)
            if light is None:
                light = self.light_receivers[name] = self._light_receiver(bot)
            light.install()

    def _light_receiver(self, bot: Any) -> Any:
        """The socket reader for one bot's subscribe connection (bench/levels_clients.py's also
        timestamps what it counts)."""
        from sfu_light import LightReceiver

        return LightReceiver(bot.participant.subscribe_pc, bot.participant.receiver)

    def _lighten_on_offers(self, name: str) -> None:
        """Install the light reader as soon as the bot has answered a subscribe offer (sockets exist).

        The join phase of 100 subscribers is when full receivers would starve the bots' processes,
        so this is done at every ``set_sources`` (the end of the bot's answer), not only later.
        """
        bot = self.bots[name]
        if not self.light or bot.participant is None or self.specs[name].expect_sources == 0:
            return
        media = bot.participant.receiver
        set_sources = media.set_sources

        def set_sources_then_lighten(*args: Any, **kwargs: Any) -> None:
            set_sources(*args, **kwargs)
            self._lighten()

        media.set_sources = set_sources_then_lighten  # the bot calls it on its instance

    def mark(self) -> dict[str, Any]:
        self._lighten()
        out = {}
        for name, bot in self.bots.items():
            stats = bot.participant.receiver.stats if bot.participant is not None else {}
            out[name] = {"at": time.monotonic(),
                         "sources": {src: [s.frames, s.bytes] for src, s in stats.items()},
                         "process": self.loop_lag.read(),
                         "light_datagrams": getattr(self.light_receivers.get(name), "counted", 0)}
            if self.specs[name].publish and bot.participant is not None:
                # what the clip tracks handed to aiortc: tells a slow publisher from a lossy forwarder
                out[name]["sent"] = {"video": bot.participant.video._sent, "audio": bot.participant.audio._sent}
        return out

    async def finish(self) -> dict[str, Any]:
        out = {}
        for name, bot in self.bots.items():
            stats = bot.participant.receiver.stats if bot.participant is not None else {}
            out[name] = {"first_decoded": {src: s.first_decoded_at for src, s in stats.items()},
                         "decode_errors": sum(s.decode_errors for s in stats.values()),
                         "decoded": sum(s.decoded for s in stats.values())}
        for bot in self.bots.values():
            try:
                await asyncio.wait_for(bot.close(), 10)
            except Exception:  # noqa: BLE001 - leaving is best effort; the server is stopped next
                pass
        return out


class LoopLag:
    """How late this process's event loop wakes a 10 ms timer: a busy loop delays every bot in it."""

    PERIOD_S = 0.01

    def __init__(self) -> None:
        self.worst_s = 0.0
        self.total_s = 0.0
        self.ticks = 0
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.PERIOD_S)
            late = loop.time() - before - self.PERIOD_S
            self.worst_s = max(self.worst_s, late)
            self.total_s += late
            self.ticks += 1

    def read(self) -> dict[str, float]:
        """Cumulative lateness and CPU time of this process (subtract two readings for a window)."""
        times = os.times()
        return {"late_s": self.total_s, "ticks": self.ticks, "worst_late_s": self.worst_s,
                "cpu_s": times.user + times.system}


async def _serve(conn: Connection, url: str, meeting_id: int, specs: list[BotSpec], light: bool,
                 client: str, worker_class: type[Worker]) -> None:
    from server.bot.media import audio_clip, video_clip

    video_clip(), audio_clip()  # encode once, before anything is measured
    worker = worker_class(url, meeting_id, specs, light, client)
    loop = asyncio.get_running_loop()
    conn.send(("ready", None))
    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        try:
            if command == "join":
                reply: tuple[str, Any] = ("joined", await worker.join(*args))
            elif command == "await_media":
                reply = ("media", await worker.await_media(*args))
            elif command == "mark":
                reply = ("marked", worker.mark())
            elif command == "finish":
                conn.send(("finished", await worker.finish()))
                return
            else:
                reply = ("error", f"unknown command {command!r}")
        except Exception:  # noqa: BLE001 - reported to the parent, which decides
            reply = ("error", traceback.format_exc())
        conn.send(reply)


def worker_main(conn: Connection, url: str, meeting_id: int, specs: list[BotSpec], light: bool = True,
                client: str = "lianshen", worker_class: type[Worker] = Worker) -> None:
    """Process entry point (multiprocessing, spawn)."""
    import logging

    logging.basicConfig(level=logging.ERROR)
    try:
        asyncio.run(_serve(conn, url, meeting_id, specs, light, client, worker_class))
    except Exception:  # noqa: BLE001
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()
