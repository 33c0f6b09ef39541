"""An archived case for the archive tests (not a test module): case X of tests/world.py reviewed
in two meetings, the first recorded, with final minutes in two versions (v1 superseded by v2 with
a reason); the second meeting discusses a township sewage plant (乡镇污水处理厂) in the 自然资源局's
absence, ends, and has no minutes yet. Case Y (the other organisation) is reviewed in meeting_y.

Everything goes through the real services (event log, meetings, minutes workflow); the recording
directory is written with the recorder's own Manifest model over small stand-in track files (the
archive hashes files, it does not decode them).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from recorder.manifest import Manifest, TrackEntry
from server.db.models import AgendaEntry, Invitation, Meeting
from server.domain.meetings import MeetingStatus
from server.services.eventlog import append_event
from server.services.meetings import change_status
from server.services.minutes_workflow import finalise, generate_draft, new_version, send_for_confirmation
from server.settings import Settings
from tests.api.minutes_support import chair_of, hold_meeting
from tests.world import World, build_world

PROJECT_X = "2603-530921-04-01-512345"  # case X of tests/world.py
SEWAGE_TEXT = "同意在勐佑镇建设乡镇污水处理厂配套管网，须先取得排污许可。"
RECORDING_KEY = "rec-20261208-0930"


@dataclass
class Archived:
    world: World
    meeting_1: int
    meeting_2: int
    recording_dir: Path


async def _second_meeting(sessions: async_sessionmaker[AsyncSession], world: World) -> int:
    async with sessions() as db:
        meeting = Meeting(
            title="小湾生态渔业鱼制品加工厂建设项目第二次并联审批会议", status="scheduled",
            scheduled_start=datetime(2026, 12, 15, 1, 30, tzinfo=UTC),
            scheduled_end=datetime(2026, 12, 15, 3, 30, tzinfo=UTC), place="凤庆县政务服务中心三楼会商室",
            chair_id=world.user_ids["chair"], lead_department_id=world.dept_fgj,
            created_by_id=world.user_ids["chair"], created_at=datetime.now(UTC),
            agenda=[AgendaEntry(item_id=world.item_x, position=1)],
            invitations=[Invitation(capacity="member", department_id=world.dept_fgj),
                         Invitation(capacity="applicant", organisation_id=world.org_x)])
        db.add(meeting)
        await db.flush()
        chair = chair_of(world)
        await change_status(db, chair, meeting.id, MeetingStatus.LIVE)
        item = {"project_code": PROJECT_X, "item_name": "企业投资项目备案"}
        await append_event(db, meeting.id, world.user_ids["rep_a"], "opinion_submitted", {
            "opinion_id": "op2", "revision": 1, **item, "department_code": "FQ-FGJ", "post": "A",
            "kind": "conditional", "text": SEWAGE_TEXT, "conditions": ["取得排污许可证"], "reasons": "",
            "legal_basis": "", "remedy_notice": "", "refer_to": None})
        await append_event(db, meeting.id, world.user_ids["chair"], "chat_message",
                           {"text": "请申请人补充 \"OR\" NEAR(排污) 的说明", "to": None})
        await append_event(db, meeting.id, world.user_ids["chair"], "chat_message",
                           {"text": "私聊：污水处理厂选址另议", "to": world.user_ids["rep_a"]})
        await change_status(db, chair, meeting.id, MeetingStatus.ENDED)
        await db.commit()
        return meeting.id


def write_recording(data_dir: Path, meeting_id: int, started_at: datetime) -> Path:
    directory = data_dir / "recordings" / str(meeting_id) / RECORDING_KEY
    (directory / "composed").mkdir(parents=True)
    tracks = []
    for index, (kind, codec, name) in enumerate((("video", "VP8", "chair-video.webm"),
                                                ("audio", "opus", "chair-audio.ogg"))):
        content = f"{kind} stand-in track {index}".encode() * 200
        (directory / name).write_bytes(content)
        tracks.append(TrackEntry(
            track_id=f"t{index}", participant_id="p-chair", user_id=None, display_name="李主任",
            department=None, unit="凤庆县投资项目并联审批办公室", kind=kind, codec=codec, file=name,
            start_ms=0, end_ms=600_000, wall_start=started_at, wall_end=started_at + timedelta(minutes=10),
            duration_ms=600_000, size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest(),
            gaps=[], state="complete"))
    Manifest(recording_key=RECORDING_KEY, meeting_id=meeting_id, meeting_title="小湾生态渔业",
             case_codes=[PROJECT_X], started_at=started_at, stopped_at=started_at + timedelta(minutes=10),
             duration_ms=600_000, tracks=tracks, events=[], status="complete").write(directory)
    (directory / "composed" / "meeting.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"composed" * 500)
    return directory


async def archived_case(sessions: async_sessionmaker[AsyncSession], settings: Settings,
                        world: World | None = None) -> Archived:
    """`world`: one already built (a live server's); by default a new one."""
    world = world or await build_world(sessions)
    started = datetime.now(UTC) - timedelta(seconds=30)
    await hold_meeting(sessions, world, world.meeting_x)
    chair = chair_of(world)
    async with sessions() as db:
        await change_status(db, chair, world.meeting_x, MeetingStatus.ENDED)
        await generate_draft(db, chair, world.meeting_x, settings)
        await send_for_confirmation(db, chair, world.meeting_x)
        await finalise(db, chair, world.meeting_x, "发改局未在期限内确认", settings)
        await new_version(db, chair, world.meeting_x, "更正会议地点", settings)
        await send_for_confirmation(db, chair, world.meeting_x)
        await finalise(db, chair, world.meeting_x, "发改局未在期限内确认", settings)
        await db.commit()
    recording = write_recording(settings.data_dir, world.meeting_x, started)
    meeting_2 = await _second_meeting(sessions, world)
    await hold_meeting(sessions, world, world.meeting_y)  # the other organisation's case, for scope
    return Archived(world, world.meeting_x, meeting_2, recording)


async def lianshen(settings: Settings, *args: str) -> tuple[int, str, str]:
    """Run `python -m server ARGS` on the test database: (exit code, stdout, stderr)."""
    env = {**os.environ, "LIANSHEN_DATABASE_URL": settings.database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    return process.returncode or 0, out.decode(), err.decode()
