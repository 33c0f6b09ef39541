"""The data-directory copy of a backup (server.backup.files) against files that change under it.

The copy reports progress after every chunk it writes; these tests use that moment to act as the
server would in the middle of a copy (append to a file, finish a recording, delete a temporary
file), so each race happens at a known point instead of by chance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from server.backup.errors import BackupError
from server.backup.files import copy_data_dir

RECORDING = "recordings/3/M3-20261206-R1"


class During:
    """Progress that runs `act` each time a chunk has been copied."""

    def __init__(self, act: Callable[[], None]) -> None:
        self.act = act

    def phase(self, name: str, total_bytes: int | None) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        self.act()


def _write(root: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)


def _copied(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_leaves_out_the_database_and_work_in_progress(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _write(data, {"secret.key": b"k" * 32, "materials/ab.pdf": b"%PDF-1.7 ...", "materials/tmpx1.part": b"half",
                  "minutes/.tmp-9": b"half", "minutes/cd.pdf": b"%PDF", "lianshen.db": b"db", "lianshen.db-wal": b"w",
                  f"{RECORDING}/manifest.json": b"{}", f"{RECORDING}/cam.webm": b"webm",
                  f"{RECORDING}/cam.webm.repair": b"x", f"{RECORDING}/.compose.lock": b"123",
                  f"{RECORDING}/composed/.meeting.mp4.part": b"x", "eventlog-spool/meeting-4.jsonl": b"{}\n"})
    (data / "secret.key").chmod(0o600)
    report = copy_data_dir(data, tmp_path / "copy", {data / "lianshen.db", data / "lianshen.db-wal"}, During(lambda: None))
    assert sorted(_copied(tmp_path / "copy")) == ["eventlog-spool/meeting-4.jsonl", "materials/ab.pdf", "minutes/cd.pdf",
                                                  f"{RECORDING}/cam.webm", f"{RECORDING}/manifest.json", "secret.key"]
    assert (tmp_path / "copy" / "secret.key").stat().st_mode & 0o777 == 0o600
    assert report.unfinished == [] and report.vanished == []


def test_a_file_changed_during_its_copy_is_copied_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _write(data, {"demo.json": b"[1]"})
    changes = []

    def change_once() -> None:
        if not changes:
            changes.append(1)
            (data / "demo.json").write_bytes(b"[1, 2, 3]")

    copy_data_dir(data, tmp_path / "copy", set(), During(change_once))
    assert (tmp_path / "copy" / "demo.json").read_bytes() == b"[1, 2, 3]"


def test_a_file_that_keeps_changing_stops_the_backup_naming_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _write(data, {"eventlog-spool/meeting-4.jsonl": b"{}\n"})

    def append() -> None:
        with (data / "eventlog-spool/meeting-4.jsonl").open("ab") as spool:
            spool.write(b"{}\n")

    with pytest.raises(BackupError, match="eventlog-spool/meeting-4.jsonl: .*kept changing"):
        copy_data_dir(data, tmp_path / "copy", set(), During(append))


def test_a_recording_still_written_is_copied_as_it_stands_and_named(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _write(data, {f"{RECORDING}/journal.jsonl": b'{"event": "started"}\n', f"{RECORDING}/cam.webm": b"cluster" * 100})

    def grow() -> None:
        with (data / RECORDING / "cam.webm").open("ab") as track:
            track.write(b"cluster")

    report = copy_data_dir(data, tmp_path / "copy", set(), During(grow))
    assert report.unfinished == [RECORDING]
    copied = _copied(tmp_path / "copy")
    assert sorted(copied) == [f"{RECORDING}/cam.webm", f"{RECORDING}/journal.jsonl"]
    assert (data / RECORDING / "cam.webm").read_bytes().startswith(copied[f"{RECORDING}/cam.webm"])


def test_a_recording_that_finishes_during_the_copy_is_copied_whole(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _write(data, {f"{RECORDING}/journal.jsonl": b'{"event": "started"}\n', f"{RECORDING}/cam.webm": b"cluster"})

    def finish() -> None:
        if not (data / RECORDING / "manifest.json").exists():
            (data / RECORDING / "cam.webm").write_bytes(b"cluster, cues")
            (data / RECORDING / "journal.jsonl").write_bytes(b'{"event": "started"}\n{"event": "stopped"}\n')
            (data / RECORDING / "manifest.json").write_bytes(b'{"status": "complete"}')

    report = copy_data_dir(data, tmp_path / "copy", set(), During(finish))
    assert report.unfinished == []
    assert _copied(tmp_path / "copy") == {
        f"{RECORDING}/cam.webm": b"cluster, cues", f"{RECORDING}/journal.jsonl": b'{"event": "started"}\n{"event": '
        b'"stopped"}\n', f"{RECORDING}/manifest.json": b'{"status": "complete"}'}


def test_a_file_removed_before_its_turn_is_reported_not_fatal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _write(data, {"materials/aa.pdf": b"%PDF-a", "materials/ee.pdf": b"%PDF-e"})  # listed together
    report = copy_data_dir(data, tmp_path / "copy", set(),
                           During(lambda: (data / "materials/ee.pdf").unlink(missing_ok=True)))
    assert report.vanished == ["materials/ee.pdf"] and sorted(_copied(tmp_path / "copy")) == ["materials/aa.pdf"]


def test_linked_folders_are_followed_once(tmp_path: Path) -> None:
    data, disk = tmp_path / "data", tmp_path / "big-disk"
    _write(disk, {"3/M3-20261206-R1/manifest.json": b"{}", "3/M3-20261206-R1/cam.webm": b"webm"})
    data.mkdir()
    (data / "recordings").symlink_to(disk)
    (disk / "loop").symlink_to(disk)
    copy_data_dir(data, tmp_path / "copy", set(), During(lambda: None))
    assert sorted(_copied(tmp_path / "copy")) == [f"{RECORDING}/cam.webm", f"{RECORDING}/manifest.json"]
