"""The recording's free-space floor on a real, really filling file system.

The server runs in its own mount namespace (``unshare -m``, private propagation: nothing is
mounted on the host) with its data directory on a 40 MiB tmpfs. The test reaches that file system
through ``/proc/<pid>/root`` and fills it while the meeting is recorded: the server must notice the
free space it measures itself (statvfs), stop, tell the chair, and leave complete files.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recorder.verify import verify
from server.bot.media import audio_clip, video_clip
from server.bot.signaling import BotClient
from tests.world import World

from .recording_support import until_exists
from .test_recording_crash import ROOT, ServerProcess, bot, world_db  # noqa: F401 - fixture
from .test_recording_live import media_for

pytestmark = pytest.mark.timeout(150)

TMPFS_MB = 40
FLOOR_MB = 24
FILL_MB = 20


class TmpfsServer(ServerProcess):
    """The server, its data directory a small tmpfs in a mount namespace of its own."""

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.env["LIANSHEN_RECORDING_MIN_FREE_MB"] = str(FLOOR_MB)
        with self.log.open("ab") as log:
            # unshare and sh exec: the pid is the server's, inside the namespace
            self.process = subprocess.Popen(
                ["unshare", "-m", "--propagation", "private", "sh", "-c",
                 f'mount -t tmpfs -o size={TMPFS_MB}m lianshen-test "$0" && exec "$@"', str(self.data_dir),
                 sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        await self.wait_ready()

    @property
    def seen_data_dir(self) -> Path:
        """The data directory as the server sees it (the tmpfs), from outside its namespace."""
        assert self.process is not None
        return Path(f"/proc/{self.process.pid}/root") / self.data_dir.relative_to("/")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="mounting a tmpfs in a private mount namespace needs root and util-linux unshare")
async def test_a_filling_disk_stops_the_recording_cleanly(tmp_path: Path,
                                                          world_db: tuple[Path, World]) -> None:  # noqa: F811
    database, world = world_db
    meeting = world.meeting_x
    server = TmpfsServer(tmp_path, database)
    bots: list[BotClient] = []
    await asyncio.to_thread(lambda: (video_clip(), audio_clip()))
    try:
        await server.start()
        assert server.process is not None
        mounts = Path(f"/proc/{server.process.pid}/mountinfo").read_text()
        assert any(line.split()[4] == str(server.data_dir) and " tmpfs " in line for line in mounts.splitlines())
        assert str(server.data_dir) not in Path("/proc/self/mountinfo").read_text()  # not on the host

        chair = await bot(server, meeting, "chair")
        rep = await bot(server, meeting, "rep_a")
        bots += [chair, rep]
        await chair.wait_frames(lambda b: b.frames(rep.participant_id, "audio") >= 25, 30)
        key = (await chair.call("recording_start", {"meeting_id": meeting}))["recording_key"]
        await media_for(chair, rep, 2)

        filler = server.seen_data_dir / "filler"
        with filler.open("wb") as out:  # another program filling the disk
            out.write(b"\0" * (FILL_MB << 20))
        stats = os.statvfs(server.seen_data_dir)
        assert stats.f_bavail * stats.f_frsize < FLOOR_MB << 20  # really below the floor now

        _, alert = await chair.wait_event(
            lambda n, d: n == "error" and d["code"] == "recording_disk_low", 20)
        assert alert["details"]["recording_key"] == key
        assert alert["details"]["free_mb"] < FLOOR_MB == alert["details"]["min_free_mb"]
        _, changed = await rep.wait_event(lambda n, d: n == "recording_changed" and not d["recording"], 10)
        assert changed["reason"] == "disk_low"

        # recording_changed goes out before the files are closed and the manifest written
        directory = server.seen_data_dir / "recordings" / str(meeting) / key
        await asyncio.wait_for(until_exists(directory / "manifest.json"), 20)
        report = verify(directory)
        assert report.ok, {c.entry.file: c.problems for c in report.tracks}
        assert len(report.manifest.tracks) == 4 and report.manifest.status == "complete"
        assert "Traceback" not in server.log.read_text()
    finally:
        for client in bots:
            await client.kill()
        server.stop()
