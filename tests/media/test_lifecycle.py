"""Joining and leaving leaves nothing behind: tasks, threads, sockets, consumers."""

import asyncio
import dataclasses
import os
import threading

import pytest

from server.sfu import Sfu, SfuSettings, SubscribeOffer

from .meeting import Meeting, source_name

CYCLES = 50


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def resources() -> dict[str, int]:
    return {
        "tasks": len(asyncio.all_tasks()),
        "threads": threading.active_count(),
        "fds": open_fds(),
    }


@pytest.mark.asyncio
@pytest.mark.timeout(240)
async def test_join_leave_cycles_leave_no_leaks(meeting: Meeting) -> None:
    host = await meeting.join("host")

    async def cycle(name: str) -> None:
        guest = await meeting.join(name)
        await guest.receiver.wait_for(lambda: guest.receiver.frames("host:video") > 0, 15)
        await host.receiver.wait_for(lambda: host.receiver.frames(source_name(name, "video")) > 0, 15)
        await meeting.leave(name)
        await meeting.peers["host"].negotiated()  # the host's re-offer without the guest

    await cycle("warm-up")  # first use creates lazy, process-wide state
    baseline, baseline_tasks = resources(), asyncio.all_tasks()

    for index in range(CYCLES):
        await cycle(f"guest{index}")

    # work in flight when the last cycle ended (an RTCP send, a handler's tail) ends; a leak does not
    new = asyncio.all_tasks() - baseline_tasks - {asyncio.current_task()}
    if new:
        await asyncio.wait(new, timeout=5)
    after = resources()
    assert after == baseline, (baseline, after, [task for task in new if not task.done()])
    host_peer = meeting.peers["host"]
    video = host_peer.producers["video"]
    assert len(video.consumers) == 0  # every guest's consumer was removed
    assert len(meeting.room.producers()) == 2  # only the host's audio and video
    subscribe = host_peer.subscribe_connection
    assert subscribe is not None and len(subscribe.getTransceivers()) == 2  # m-lines reused


@pytest.mark.asyncio
@pytest.mark.timeout(30)
async def test_a_subscriber_that_never_answers_is_reported(settings: SfuSettings) -> None:
    sfu = Sfu(dataclasses.replace(settings, negotiation_timeout_s=0.5))
    meeting = Meeting(sfu.room("meeting-2"))
    failures: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    meeting.room.on("peer_failed", lambda peer_id, reason: failures.put_nowait((peer_id, reason)))
    offers: list[SubscribeOffer] = []

    async def silent(offer: SubscribeOffer) -> None:
        offers.append(offer)

    try:
        await meeting.join("alice")
        await meeting.room.join("mute-client", {}, silent)
        peer_id, reason = await asyncio.wait_for(failures.get(), 5)
        assert peer_id == "mute-client" and "no answer" in reason
        assert len(offers) == 1 and {i.kind for i in offers[0].tracks.values()} == {"audio", "video"}
    finally:
        await meeting.close()
        await sfu.close()
