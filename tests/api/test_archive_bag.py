"""BagIt export and offline validation: a case with two meetings, final minutes and a recording
exports to a bag that validates; a flipped byte, a deleted file, a forged manifest or an edited
event line is found and named; an export resumes, skipping complete bags. The commands run as
the operator runs them (`python -m server archive ...` in a subprocess)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from server.archive.bag import verify_bag
from server.settings import Settings
from tests.api.archive_support import PROJECT_X, RECORDING_KEY, archived_case, lianshen

BAG_FILES = ("minutes-v1.pdf", "minutes-v1.docx", "minutes-v1.json", "minutes-v2.pdf", "minutes-v2.docx",
             "minutes-v2.json", "notice.pdf", "events.jsonl")


def _rewrite_manifest_line(bag: Path, relative: str, manifest: str = "manifest-sha256.txt") -> None:
    """Forge: make the manifest agree with the file as it is now."""
    lines = (bag / manifest).read_text(encoding="utf-8").splitlines()
    digest = hashlib.sha256((bag / relative).read_bytes()).hexdigest()
    (bag / manifest).write_text("\n".join(f"{digest}  {relative}" if line.split(maxsplit=1)[1] == relative
                                          else line for line in lines) + "\n", encoding="utf-8")


async def test_export_validate_and_detect(db_sessions, settings: Settings, tmp_path: Path) -> None:
    archived = await archived_case(db_sessions, settings)
    out = tmp_path / "bags"
    code, _, err = await lianshen(settings, "archive", "export", "--case", PROJECT_X, "--out", str(out),
                                  "--data-dir", str(settings.data_dir))
    assert code == 0, err
    bag = out / PROJECT_X
    meeting = bag / "data" / f"meeting-{archived.meeting_1}"
    for name in BAG_FILES:
        assert (meeting / name).stat().st_size > 0, name
    recording = meeting / "recordings" / RECORDING_KEY
    assert {p.relative_to(recording).as_posix() for p in recording.rglob("*") if p.is_file()} == {
        "manifest.json", "composed/meeting.mp4", "tracks/chair-video.webm", "tracks/chair-audio.ogg"}
    assert (bag / "data" / f"meeting-{archived.meeting_2}" / "events.jsonl").is_file()
    readme = (bag / "data" / "README.txt").read_text(encoding="utf-8")
    assert "更正会议地点" in readme and "王发改" in readme and "sha256" in readme
    assert "SHA-256" in (bag / "bag-info.txt").read_text(encoding="utf-8") or (bag / "manifest-sha256.txt").exists()
    code, stdout, _ = await lianshen(settings, "archive", "verify-bag", str(bag))
    assert code == 0, stdout

    code, _, err = await lianshen(settings, "archive", "export", "--meeting", str(archived.meeting_1), "--out",
                                  str(out), "--data-dir", str(settings.data_dir))
    assert code == 0 and "0 bags written" in err and "1 already complete and valid" in err, err

    copy = tmp_path / "flipped"
    shutil.copytree(bag, copy)
    data = bytearray((copy / "data" / "case" / "clock.json").read_bytes())
    data[5] ^= 0x20
    (copy / "data" / "case" / "clock.json").write_bytes(bytes(data))
    code, stdout, _ = await lianshen(settings, "archive", "verify-bag", str(copy))
    assert code == 1 and "data/case/clock.json" in stdout and "checksum mismatch" in stdout, stdout


def _copy(bag: Path, to: Path) -> Path:
    shutil.copytree(bag, to)
    return to


async def test_bag_tampering_is_named(db_sessions, settings: Settings, tmp_path: Path) -> None:
    archived = await archived_case(db_sessions, settings)
    out = tmp_path / "bags"
    code, _, err = await lianshen(settings, "archive", "export", "--year", "2026", "--out", str(out),
                                  "--data-dir", str(settings.data_dir))
    assert code == 0, err
    bag = out / PROJECT_X
    assert verify_bag(bag).valid and verify_bag(out / "2604-530921-04-01-623456").valid
    events = f"data/meeting-{archived.meeting_1}/events.jsonl"
    pdf = f"data/meeting-{archived.meeting_1}/minutes-v2.pdf"

    deleted = _copy(bag, tmp_path / "deleted")
    (deleted / pdf).unlink()
    assert any(pdf in p and "missing" in p for p in verify_bag(deleted).problems)

    forged = _copy(bag, tmp_path / "forged")  # file edited and its manifest line rewritten to match
    (forged / events).write_text((forged / events).read_text(encoding="utf-8").replace("原则同意", "坚决反对", 1),
                                 encoding="utf-8")
    _rewrite_manifest_line(forged, events)
    problems = verify_bag(forged).problems
    assert any("manifest-sha256.txt" in p for p in problems), problems  # the tag manifest catches it
    _rewrite_manifest_line(forged, "manifest-sha256.txt", "tagmanifest-sha256.txt")  # forge that too
    problems = verify_bag(forged).problems
    assert problems and all(p.startswith(events) for p in problems), problems  # the hash chain still does
    assert "changed" in problems[0] or "与其哈希不符" in problems[0]

    minutes = _copy(bag, tmp_path / "minutes")
    name = f"data/meeting-{archived.meeting_1}/minutes-v2.json"
    (minutes / name).write_text((minutes / name).read_text(encoding="utf-8").replace("原则同意", "坚决反对"),
                                encoding="utf-8")
    _rewrite_manifest_line(minutes, name)
    _rewrite_manifest_line(minutes, "manifest-sha256.txt", "tagmanifest-sha256.txt")
    assert [p.split(":")[0] for p in verify_bag(minutes).problems] == [name]

    traversal = _copy(bag, tmp_path / "traversal")
    with (traversal / "manifest-sha256.txt").open("a", encoding="utf-8") as manifest:
        manifest.write(f"{'0' * 64}  data/../../../etc/passwd\n")
    problems = verify_bag(traversal).problems
    assert problems and "unsafe" in " ".join(problems), problems
    assert not verify_bag(tmp_path / "nothing-here").valid
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "bagit.txt").write_text("garbage", encoding="utf-8")
    assert not verify_bag(tmp_path / "junk").valid


async def test_export_resumes_and_never_overwrites(db_sessions, settings: Settings, tmp_path: Path) -> None:
    await archived_case(db_sessions, settings)
    out = tmp_path / "bags"
    (out / f".partial-{PROJECT_X}").mkdir(parents=True)  # left by an interrupted run
    (out / f".partial-{PROJECT_X}" / "half.pdf").write_bytes(b"%PDF-half")
    code, _, err = await lianshen(settings, "archive", "export", "--year", "2026", "--out", str(out),
                                  "--data-dir", str(settings.data_dir))
    assert code == 0 and "2 bags written" in err, err
    assert not (out / f".partial-{PROJECT_X}").exists()
    other = out / "2604-530921-04-01-623456"
    (other / "data" / "case" / "clock.json").write_text("[]", encoding="utf-8")  # damaged since
    code, _, err = await lianshen(settings, "archive", "export", "--year", "2026", "--out", str(out),
                                  "--data-dir", str(settings.data_dir))
    assert code == 0 and "1 bags written" in err and "1 already complete and valid" in err, err
    assert verify_bag(other).valid
    kept = [p for p in out.iterdir() if p.name.startswith("2604-530921-04-01-623456.invalid-")]
    assert len(kept) == 1 and (kept[0] / "data" / "case" / "clock.json").read_text(encoding="utf-8") == "[]"
    code, stdout, _ = await lianshen(settings, "archive", "verify-bag", str(out))
    assert code == 1 and ".invalid-" in stdout  # the set-aside bag is reported as invalid
