"""`lianshen archive verify`: an intact archive passes; an edited event row, an altered minutes
version, a flipped byte in a track, a deleted track and a rewritten manifest are each reported
naming where, which row, expected and found."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.archive.integrity import VerifyReport, verify_archive
from server.db.models import MeetingEvent, MinutesVersion
from server.settings import Settings
from tests.api.archive_support import RECORDING_KEY, archived_case, lianshen
from tests.api.meetings_support import drop_append_only_triggers


async def _verify(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> VerifyReport:
    async with sessions() as db:
        report = await verify_archive(db, settings.data_dir)
        await db.commit()
    return report


def _flip_byte(path: Path, at: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


async def test_intact_then_each_alteration_is_named(db_sessions, settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    first = await _verify(db_sessions, settings)
    assert first.ok, [p.line() for p in first.problems]
    assert first.meetings == 3 and first.minutes_versions == 2 and first.recordings == 1
    assert first.fixity_recorded == 2  # the manifest and the composed video, first seen now
    assert (await _verify(db_sessions, settings)).fixity_recorded == 0  # recorded once, then re-checked

    await drop_append_only_triggers(db_sessions)
    async with db_sessions() as db:
        row = await db.scalar(select(MeetingEvent).where(MeetingEvent.meeting_id == archived.meeting_2,
                                                         MeetingEvent.type == "opinion_submitted"))
        assert row is not None
        await db.execute(update(MeetingEvent).where(MeetingEvent.id == row.id).values(
            payload={**row.payload, "kind": "agree"}))
        await db.commit()
    report = await _verify(db_sessions, settings)
    assert [(p.where, p.row) for p in report.problems] == [
        ("meeting_events", f"meeting {archived.meeting_2} seq {row.seq}")]
    assert report.problems[0].expected != report.problems[0].found  # recomputed vs stored hash


async def test_minutes_and_recording_alterations(db_sessions, settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    assert (await _verify(db_sessions, settings)).ok
    async with db_sessions() as db:  # someone with database access bypasses the minutes triggers
        if db.get_bind().dialect.name == "sqlite":
            await db.execute(text("DROP TRIGGER minutes_versions_final_no_update"))
        else:
            await db.execute(text("DROP TRIGGER minutes_versions_final_immutable ON minutes_versions"))
        final = await db.scalar(select(MinutesVersion).where(MinutesVersion.status == "final"))
        assert final is not None
        await db.execute(update(MinutesVersion).where(MinutesVersion.id == final.id).values(
            content={**final.content, "summary": "篡改后的小结"}))
        await db.commit()
    recording = archived.recording_dir
    _flip_byte(recording / "chair-video.webm")
    (recording / "chair-audio.ogg").unlink()
    manifest = recording / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("李主任", "王某某"), encoding="utf-8")
    report = await _verify(db_sessions, settings)
    lines = [p.line() for p in report.problems]
    base = f"recordings/{archived.meeting_1}/{RECORDING_KEY}"
    assert {(p.where, p.row.split(":")[0]) for p in report.problems} == {
        ("minutes_versions", f"id {final.id}"),
        (f"{base}/chair-video.webm", "track t0 (王某某 video)"),
        (f"{base}/chair-audio.ogg", "track t1 (王某某 audio)"),
        (f"{base}/manifest.json", "file"),
    }, lines
    video = next(p for p in report.problems if p.where.endswith("chair-video.webm"))
    assert "does not match its manifest" in video.message and video.expected != video.found
    assert any("missing" in line for line in lines if "chair-audio.ogg" in line)


async def test_the_commands(db_sessions, settings: Settings) -> None:
    """`lianshen archive reindex` and `verify` as the operator runs them: exit 0 when intact, 1 with
    each problem printed (file, row, expected, found) when not."""
    archived = await archived_case(db_sessions, settings)
    data_dir = ("--data-dir", str(settings.data_dir))
    code, _, err = await lianshen(settings, "archive", "reindex", "--full", *data_dir)
    assert code == 0 and "3 meetings" in err, err
    code, out, err = await lianshen(settings, "archive", "verify", *data_dir)
    assert code == 0 and out == "" and "intact" in err, (out, err)
    _flip_byte(archived.recording_dir / "composed" / "meeting.mp4", at=100)
    code, out, err = await lianshen(settings, "archive", "verify", *data_dir)
    base = f"recordings/{archived.meeting_1}/{RECORDING_KEY}"
    assert code == 1 and out.startswith(f"{base}/composed/meeting.mp4 [file]: ") and "expected" in out, out
    assert "1 PROBLEMS" in err
