"""aiortc's handler coroutines run in the read callback (server/sfu/rtp_in.run_handler); the
SFU's own handlers are plain calls (PlainRtpHandler)."""

import asyncio

import pytest
from aiortc.rtp import RtpPacket

from server.sfu.rtp_in import PlainRtpHandler, plain_take, run_handler


@pytest.mark.asyncio
async def test_a_handler_that_does_not_wait_runs_to_its_end_at_once() -> None:
    steps: list[str] = []

    async def send() -> None:  # like aioice's sendto: a socket write under async def
        steps.append("sent")

    async def handler() -> None:
        await send()
        steps.append("done")

    run_handler(handler())
    assert steps == ["sent", "done"]


@pytest.mark.asyncio
async def test_a_handler_that_waits_is_finished_by_a_task() -> None:
    loop = asyncio.get_running_loop()
    gate: asyncio.Future[str] = loop.create_future()
    failing: asyncio.Future[str] = loop.create_future()
    steps: list[str] = []
    finished = asyncio.Event()

    async def waits() -> None:
        steps.append("before")
        steps.append(await gate)
        await asyncio.sleep(0)  # a bare yield
        try:
            await failing
        except ValueError as exc:
            steps.append(str(exc))
        finished.set()

    run_handler(waits())
    assert steps == ["before"]
    gate.set_result("after")
    failing.set_exception(ValueError("seen by the handler"))
    await asyncio.wait_for(finished.wait(), 5)
    assert steps == ["before", "after", "seen by the handler"]


@pytest.mark.asyncio
async def test_plain_handlers_call_each_other_without_coroutines() -> None:
    """A wrapper of a PlainRtpHandler calls its take; of aiortc's coroutine method, runs it."""
    seen: list[tuple[str, int]] = []

    async def aiortc_handler(packet: RtpPacket, arrival_time_ms: int) -> None:
        seen.append(("aiortc", arrival_time_ms))

    inner = plain_take(aiortc_handler)

    def wrapper(packet: RtpPacket, arrival_time_ms: int) -> None:
        seen.append(("inner", arrival_time_ms))
        inner(packet, arrival_time_ms)

    inner_handler = PlainRtpHandler(wrapper)
    assert plain_take(inner_handler) is inner_handler.take
    outer = PlainRtpHandler(plain_take(inner_handler))
    packet = RtpPacket()
    outer.take(packet, 1)
    await outer(packet, arrival_time_ms=2)  # as aiortc's receive task calls it
    assert seen == [("inner", 1), ("aiortc", 1), ("inner", 2), ("aiortc", 2)]
