"""Bots in a real meeting over socket.io: media flows all ways, late joiners, reconnects, the log."""

from __future__ import annotations

import pytest

from server.bot.signaling import BotClient

from .signaling_harness import FRAMES, LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(90)


def others(bots: dict[str, BotClient], name: str) -> list[str]:
    return [b.participant_id for n, b in bots.items() if n != name and b.participant_id]


async def test_three_bots_see_and_hear_each_other(live: LiveServer) -> None:
    bots = {name: await live.bot(name) for name in ("chair", "rep_a", "applicant")}
    for name, bot in bots.items():
        wanted = [(pid, kind) for pid in others(bots, name) for kind in ("video", "audio")]
        await bot.wait_frames(lambda b, w=wanted: all(b.frames(p, k) >= FRAMES for p, k in w), 20)
        report = {(s["participant"], s["kind"]): s for s in bot.report()["sources"]}
        for source in wanted:
            assert report[source]["decode_errors"] == 0, (name, source)
            assert report[source]["first_frame_s"] is not None
    first_frames = [s["first_frame_s"] for b in bots.values() for s in b.report()["sources"]
                    if s["kind"] == "video"]
    print(f"join -> first decoded video frame: max {max(first_frames):.3f} s")


async def test_late_joiner_decodes_within_a_second(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    await rep.wait_frames(lambda b: b.frames(chair.participant_id, "video") >= FRAMES, 20)

    late = await live.bot("applicant", publish=())
    await late.wait_frames(
        lambda b: all((s := b.participant.receiver.stats.get(f"{p}:video")) is not None
                      and s.first_decoded_at is not None
                      for p in (chair.participant_id, rep.participant_id)), 5)
    first = {s["participant"]: s["first_frame_s"] for s in late.report()["sources"] if s["kind"] == "video"}
    print(f"late joiner: join -> first decoded frame {first}")
    assert max(first.values()) < 1.0
    assert {p["id"] for p in late.joined["participants"]} >= {chair.participant_id, rep.participant_id}
    assert {(p["participant_id"], p["kind"]) for p in late.joined["producers"]} == {
        (pid, kind) for pid in (chair.participant_id, rep.participant_id) for kind in ("video", "audio")}


async def test_log_records_joins_publishes_speakers_and_leaves(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    await rep.wait_frames(lambda b: b.frames(chair.participant_id, "audio") >= 25, 20)
    await chair.wait_event("speaker_changed", 10)  # the tone counts as speech
    await rep.leave()
    await chair.wait_event(lambda n, d: n == "participant_left" and d["participant_id"] == rep.participant_id)
    await live.settle()

    rows = await live.events()
    by_type: dict[str, list[dict]] = {}
    for row in rows:
        by_type.setdefault(row.type, []).append(row.payload)
    joined = {p["participant_id"]: p for p in by_type["participant_joined"]}
    assert joined[chair.participant_id]["capacity"] == "chair"
    assert joined[rep.participant_id]["capacity"] == "member"
    assert joined[rep.participant_id]["post"] == "A" and joined[rep.participant_id]["via"] == "session"
    published = {(p["participant_id"], p["kind"]) for p in by_type["producer_published"]}
    assert published == {(pid, k) for pid in (chair.participant_id, rep.participant_id) for k in ("audio", "video")}
    assert {p["participant_id"] for p in by_type["speaking_started"]} <= {chair.participant_id, rep.participant_id}
    assert {(p["participant_id"], p["kind"]) for p in by_type["producer_unpublished"]} == {
        (rep.participant_id, "audio"), (rep.participant_id, "video")}
    assert [(p["participant_id"], p["reason"]) for p in by_type["participant_left"]] == [(rep.participant_id, "left")]
    assert rows[-1].type == "participant_left"  # its producers were unpublished before it left
    await live.assert_chain_intact()


async def test_dropped_bot_resumes_with_the_same_identity(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    applicant = await live.bot("applicant")
    await chair.wait_frames(lambda b: b.frames(rep.participant_id, "video") >= FRAMES, 20)
    rep_id, secret = rep.participant_id, rep.resume_secret
    assert secret

    seen_before = {bot: len(bot.events) for bot in (chair, applicant)}
    await rep.kill()
    await chair.wait_event(lambda n, d: n == "participant_reconnecting" and d["participant_id"] == rep_id)

    back = await live.client(connect=False)
    await back.connect(resume=secret)
    ack = await back.join(resume=secret)
    assert ack["resumed"] and not ack["media_kept"]
    assert back.participant_id == rep_id and ack["capacity"] == "member"
    await back.publish()
    before = chair.frames(rep_id, "video")
    await chair.wait_frames(lambda b: b.frames(rep_id, "video") >= before + FRAMES, 20)
    await back.wait_frames(lambda b: b.frames(chair.participant_id, "video") >= FRAMES
                           and b.frames(applicant.participant_id, "audio") >= FRAMES, 20)
    await chair.wait_event(lambda n, d: n == "participant_reconnected" and d["participant"]["id"] == rep_id)
    await live.settle()
    for bot, start in seen_before.items():
        since = [name for name, _data in bot.events[start:]]
        assert "participant_left" not in since and "participant_joined" not in since, since
    assert "participant_left" not in await live.event_types()
    await live.assert_chain_intact()
