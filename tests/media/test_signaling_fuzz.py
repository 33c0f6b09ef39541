"""Every socket.io event under hostile payloads, in a live meeting: each is acknowledged (ok, or
refused with a code other than ``internal``) or answered with an ``error`` event; the meeting, its
honest participants, their media and the event log carry on.

Payloads come from the server's own payload schemas (`Signaling.payload_schemas`) through
tests/hostile.py, with real ids offered for id fields; malformed packets (nesting past the decoder,
numbers past Engine.IO's limit, events that are not ``[name, ...]``) are sent as raw socket.io text.
Two fuzzing connections take turns: the meeting's chair (chair-only events go deep) and a member
department's B post; rep_a and the applicant publish media and are never targeted.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import engineio
import pytest
import socketio
from hypothesis import example, given, strategies as st

from server.bot.signaling import BotClient, BotError
from server.signaling import tokens
from server.signaling.packets import UNDECODABLE
from tests.api.materials_support import seed_material
from tests.hostile import (
    Hints,
    budget,
    from_schema,
    hostile_variants,
    json_values,
    nested,
    short_hostile_strings,
)

from .signaling_harness import FRAMES, LiveServer, live  # noqa: F401

pytestmark = [pytest.mark.timeout(300), pytest.mark.filterwarnings("ignore:Generating overly large repr"),
              # aiortc and aioice draw from `random` on the event loop while hypothesis generates
              pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")]

EXAMPLES = 1000
AUTH_EXAMPLES = 150
# Engine.IO closes a connection whose message exceeds 4 x max_event_bytes (256 KiB) before anything
# is parsed; the fuzz stays below, the end of the test checks that case once.
TRANSPORT_LIMIT = 200_000
ACK_TIMEOUT_S = 10.0
FUZZERS = ("chair", "rep_b", "archivist")  # the archivist is not invited: connected, never auto-joined
# Long enough to be refused as too_large (64 KiB of escaped JSON), short enough for the transport.
socket_strings = st.one_of(short_hostile_strings, st.integers(2_000, 12_000).map(lambda n: "长" * n))
socket_json = json_values(socket_strings)


@pytest.fixture
def signaling_overrides() -> dict[str, Any]:
    # the fuzzers send as fast as they can: no rate limit (tests/media/test_signaling_bad_input.py
    # covers the limits)
    return {"rate_events_per_second": 100_000.0, "rate_burst": 100_000, "flood_disconnect_after": 10_000_000}


@dataclass(frozen=True)
class Emission:
    """One thing a fuzzer sends: an event with arguments (acked), or raw socket.io packet text
    answered by an ``error`` event naming ``refused_as``."""

    who: str
    event: str = ""
    args: tuple[Any, ...] = ()
    raw: str | None = None
    refused_as: str = ""


def raw_packets(events: list[str]) -> st.SearchStrategy[Emission]:
    """Malformed socket.io EVENT packets (type 2) the client library would never write."""
    event = st.sampled_from(events)
    deep = st.builds(lambda e, d: (f'2["{e}",{nested(d)}]', e if d < 1_000 else UNDECODABLE),
                     event, st.sampled_from([200, 900, 5_000, 50_000]))
    long_number = st.builds(lambda e: (f'2["{e}",{{"meeting_id":{"9" * 150}}}]', UNDECODABLE), event)
    shapeless = st.sampled_from(['2{"a":1}', '2"join"', "2[]", "2[1,2]", "2[null]", '2[{"x":1}]', "2[",
                                 '2["join",{"meeting_id":1}'])
    reserved = st.sampled_from(['2["connect",{}]', '2["disconnect"]', '2["connect"]'])
    packets = st.one_of(deep, long_number, shapeless.map(lambda p: (p, UNDECODABLE)),
                        reserved.map(lambda p: (p, json.loads(p[1:])[0])))
    return st.builds(lambda who, packet: Emission(who, raw=packet[0], refused_as=packet[1]),
                     st.sampled_from(FUZZERS), packets)


def emissions(schemas: dict[str, dict[str, Any]], hints: dict[str, Hints]) -> st.SearchStrategy[Emission]:
    def event_of(who: str, event: str) -> st.SearchStrategy[Emission]:
        schema, definitions = schemas[event], schemas[event].get("$defs", {})
        valid = from_schema(schema, definitions, hints[who])  # twice as likely: get past validation
        payload = st.one_of(valid, valid, hostile_variants(schema, definitions, hints[who], socket_json))
        shapes = st.one_of(payload.map(lambda p: (p,)), payload.map(lambda p: (p,)), payload.map(lambda p: (p,)),
                           st.just(()), st.tuples(payload, socket_json))
        return shapes.filter(lambda args: len(json.dumps(args)) < TRANSPORT_LIMIT).map(
            lambda args: Emission(who, event, args))

    known = sorted(schemas)
    structured = st.tuples(st.sampled_from(FUZZERS), st.sampled_from(known + ["no_such_event", "error"])).flatmap(
        lambda pair: event_of(*pair) if pair[1] in schemas else st.just(Emission(pair[0], pair[1], ({},))))
    return st.one_of(structured, structured, structured, raw_packets(known))


class Fuzzer:
    """A connection that sends emissions; before each it reconnects if it was dropped and rejoins
    if it left (unlocking the meeting the chair fuzzer may have locked)."""

    def __init__(self, live: LiveServer, username: str, rejoin: bool = True) -> None:
        self.live = live
        self.username = username
        self.rejoin = rejoin
        self.bot: BotClient | None = None

    def joined(self) -> bool:
        connection = self.live.signaling.connections.get(self.bot.sio.get_sid()) if self.bot else None
        return connection is not None and connection.participant is not None

    async def ready(self, chair: BotClient | None = None) -> BotClient:
        if self.bot is None or not self.bot.sio.connected or (self.rejoin and not self.joined()):
            old = self.bot
            if old is not None:
                await old.close()  # its peer connections closed when it left: start afresh
            self.bot = await self.live.client(self.username)
            if self.rejoin:
                # the chair itself (whose old connection was just closed) enters a locked meeting
                if chair is not None and chair is not old and chair.sio.connected \
                        and self.live.signaling.meetings[self.live.world.meeting_x].locked:
                    await chair.sio.call("moderate", {"meeting_id": self.live.world.meeting_x, "action": "unlock"})
                try:
                    await self.bot.join()
                except BotError:
                    pass  # removed by the chair fuzzer: it goes on fuzzing the gate, unjoined
        return self.bot

    async def emit(self, emission: Emission, chair: BotClient | None) -> str | None:
        """What went wrong with the server's answer, or None."""
        bot = await self.ready(chair)
        if emission.raw is not None:
            before = len(bot.seen("error"))
            await bot.sio.eio.send(emission.raw)
            try:
                await bot.wait_event(lambda n, d: n == "error" and d.get("event") == emission.refused_as
                                     and len(bot.seen("error")) > before, ACK_TIMEOUT_S)
            except TimeoutError:
                return f"no error event naming {emission.refused_as!r} for raw packet {emission.raw[:120]!r}"
            return None
        try:
            # one argument as itself, none as None, several as a tuple (python-socketio's convention)
            data = emission.args[0] if len(emission.args) == 1 else (emission.args or None)
            ack = await bot.sio.call(emission.event, data, timeout=ACK_TIMEOUT_S)
        except socketio.exceptions.TimeoutError:
            return "no ack (a hang)"
        if not isinstance(ack, dict) or "ok" not in ack:
            return f"ack without ok: {ack!r:.200}"
        if not ack["ok"] and ack["error"].get("code") == "internal":
            return f"internal error: {ack['error']}"
        return None


async def test_hostile_events_never_break_the_meeting(live: LiveServer) -> None:  # noqa: F811
    world = live.world
    material_id = await seed_material(live.sessions, live.settings, world)
    chair, rep_b, outsider = Fuzzer(live, "chair"), Fuzzer(live, "rep_b"), Fuzzer(live, "archivist", rejoin=False)
    await chair.ready()
    rep, applicant = await live.bot("rep_a"), await live.bot("applicant")
    await rep_b.ready()
    pair = ((rep, applicant.participant_id), (applicant, rep.participant_id))
    for bot, other in pair:
        await bot.wait_frames(lambda b, o=other: b.frames(o, "video") >= FRAMES, 20)
    counts = {bot: bot.frames(other, "video") for bot, other in pair}

    def hints_for(fuzzer: Fuzzer) -> Hints:
        own = fuzzer.bot.participant_id if fuzzer.bot is not None else None
        return {"meeting_id": st.just(world.meeting_x), "item_id": st.sampled_from([world.item_x, world.item_y]),
                "material_id": st.just(material_id), "participant_id": st.sampled_from([own or "0", "ffff"]),
                "department_code": st.sampled_from(["FQ-FGJ", "FQ-ZRJ"])}

    await outsider.ready()
    fuzzers = {"chair": chair, "rep_b": rep_b, "archivist": outsider}
    strategy = emissions(live.signaling.payload_schemas(), {name: hints_for(f) for name, f in fuzzers.items()})
    loop = asyncio.get_running_loop()

    @budget(EXAMPLES, shrink=False)
    @given(strategy)
    def check(emission: Emission) -> None:
        fuzzer = fuzzers[emission.who]
        problem = asyncio.run_coroutine_threadsafe(fuzzer.emit(emission, chair.bot), loop).result(60)
        assert problem is None, f"{emission.who} {emission.event or 'raw'}: {problem}"

    await asyncio.to_thread(check)

    # a message past the transport's limit is answered (too_large) and closes that one connection,
    # and only that one
    oversized = await outsider.ready()
    await oversized.sio.emit("chat_send", {"meeting_id": world.meeting_x, "text": "长" * TRANSPORT_LIMIT})
    await oversized.wait_event(lambda n, d: n == "error" and d["code"] == "too_large", ACK_TIMEOUT_S)
    await asyncio.wait_for(oversized.sio.wait(), ACK_TIMEOUT_S)

    # the meeting never noticed: still live, honest participants in it and their media flowing
    assert world.meeting_x in live.signaling.meetings
    for bot, other in pair:
        await bot.wait_frames(lambda b, o=other, c=counts[bot]: b.frames(o, "video") >= c + FRAMES, 20)
        assert bot.sio.connected and not bot.seen("removed") and not bot.seen("error")
        assert other not in [d["participant_id"] for d in bot.seen("participant_left")]
    await live.settle()
    await live.assert_chain_intact()


async def test_undecodable_packets_are_refused_not_dropped(live: LiveServer) -> None:  # noqa: F811
    """Found by the suite: python-socketio's decoder raised inside Engine.IO's handler, which only
    logged it; the client got nothing back (and a 50,000-deep payload cost a RecursionError)."""
    rep = await live.bot("rep_a", publish=())
    before = len(rep.seen("error"))
    for raw in (f'25["chat_send",{nested(50_000)}]', '2["hand_raise",{"meeting_id":' + "9" * 150 + "}]", "2[]"):
        await rep.sio.eio.send(raw)
        _, error = await rep.wait_event(lambda n, d: n == "error" and len(rep.seen("error")) > before)
        assert (error["code"], error["event"]) == ("invalid_payload", UNDECODABLE) and " / " in error["message"]
        before += 1
    assert rep.sio.connected and (await rep.call("hand_raise", {"meeting_id": live.world.meeting_x}))["ok"]

    # a connection whose auth cannot be decoded is refused at once, not left waiting
    raw_client = engineio.AsyncClient()
    answers: asyncio.Queue[str] = asyncio.Queue()
    raw_client.on("message", answers.put_nowait)
    await raw_client.connect(live.url, transports=["websocket"], engineio_path="socket.io")
    try:
        await raw_client.send("0" + nested(50_000))
        answer = await asyncio.wait_for(answers.get(), ACK_TIMEOUT_S)
    finally:
        await raw_client.disconnect()
    assert answer.startswith("4") and json.loads(answer[1:])["data"]["code"] == "invalid_payload"


async def test_ids_past_the_database_integer_are_refused(live: LiveServer) -> None:  # noqa: F811
    """Found by the suite: a meeting id past SQLite's (or PostgreSQL's) integer reached the
    database in ``join`` and came back as ``internal``."""
    outsider = await live.client("archivist")
    for meeting_id in (2**31, 2**63, 10**30):
        ack = await outsider.sio.call("join", {"meeting_id": meeting_id}, timeout=ACK_TIMEOUT_S)
        assert ack["error"]["code"] == "invalid_payload", ack


async def test_hostile_auth_is_answered(live: LiveServer) -> None:  # noqa: F811
    """The connect packet's auth (join token, resume secret) is client data too: every connection
    attempt is accepted or refused with a code other than ``internal``, never left waiting."""
    token_like = st.builds(lambda a, b: f"{tokens.PREFIX}.{a}.{b}", short_hostile_strings, short_hostile_strings)
    auths = st.one_of(socket_json, st.fixed_dictionaries(
        {}, optional={"token": st.one_of(token_like, socket_json), "resume": st.one_of(short_hostile_strings, socket_json)}))
    loop = asyncio.get_running_loop()

    async def attempt(auth: Any) -> str | None:
        client = socketio.AsyncClient(reconnection=False)
        refusals: list[Any] = []
        client.on("connect_error", refusals.append)
        try:
            await client.connect(live.url, auth=auth, transports=["websocket"], socketio_path="socket.io",
                                 wait_timeout=ACK_TIMEOUT_S)
        except socketio.exceptions.ConnectionError:
            if not refusals:
                return "neither connected nor refused (a hang)"
            code = (refusals[0].get("data") or {}).get("code") if isinstance(refusals[0], dict) else None
            return f"refused as internal: {refusals[0]}" if code == "internal" else None
        await client.disconnect()
        return None

    @budget(AUTH_EXAMPLES, shrink=False)
    @given(auths)
    @example({"token": f"{tokens.PREFIX}.abc.é"})  # found: compare_digest raised on non-ASCII text
    @example({"token": f"{tokens.PREFIX}.\ud84a.x"})  # found: encoding a lone surrogate raised
    @example({"token": "长" * 50_000})  # past the transport's frame limit: refused as too_large
    def check(auth: Any) -> None:
        problem = asyncio.run_coroutine_threadsafe(attempt(auth), loop).result(60)
        assert problem is None, problem

    await asyncio.to_thread(check)
