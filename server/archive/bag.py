"""BagIt packages (RFC 8493) of a case's dossier, and their offline validation.

A bag holds the dossier catalogue's files under data/ (minutes PDF/DOCX/JSON, the notice, the
recordings as recorded and composed, manifests, the event log as JSON lines, the case's clock and
materials) plus data/metadata.json and data/README.txt (who, what, when, hashes, and what is not
there and why), with SHA-256 payload and tag manifests written by the `bagit` library.

Export writes into a hidden temporary directory next to the target and renames it into place, so
a bag either exists whole or not at all; a bag already present and valid is skipped, which is what
makes a long export resumable. An invalid bag in the way is kept, renamed, never overwritten.

Validation needs nothing but the bag: bagit's completeness and checksums, then what only this
software knows how to read: each event log re-verified as a hash chain, each minutes JSON
re-hashed against the SHA-256 the metadata records.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bagit

from record.vocab import Capacity
from server.archive.dossier import TS_FORMAT, Dossier
from server.domain.eventlog import EventRecord, verify_chain
from server.services.minutes_state import content_sha256

PARTIAL_PREFIX = ".partial-"
METADATA = "metadata.json"
README = "README.txt"
COPY_CHUNK = 1 << 20


@dataclass
class ExportResult:
    name: str
    path: Path
    status: str  # "written" | "skipped" (already complete and valid)
    files: int = 0
    bytes: int = 0
    set_aside: Path | None = None  # an invalid bag that was in the way, renamed


def bag_name(project_code: str) -> str:
    """The directory name of a case's bag: its project code, restricted to safe characters."""
    return re.sub(r"[^0-9A-Za-z-]", "_", project_code) or "case"


def is_valid_bag(path: Path) -> bool:
    try:
        return bagit.Bag(str(path)).is_valid()
    except bagit.BagError:
        return False


def _unit(unit: dict[str, Any]) -> str:
    """'name（出席 / member）', with the reason when the unit was excused."""
    capacity = Capacity(unit["capacity"])
    excused = f" 请假 / excused: {unit['excused_reason']}" if unit["excused_reason"] else ""
    return f"{unit['name']}（{capacity.label_zh} / {capacity.label_en}）{excused}"


def _readme(metadata: dict[str, Any]) -> str:
    case = metadata["case"]
    lines = [f"案件 / case: {case['project_code']} {case['name']}",
             f"申请人 / applicant: {case['applicant']} ({case['applicant_credit_code']})", ""]
    for meeting in metadata["meetings"]:
        lines += [f"会议 / meeting {meeting['id']}: {meeting['title']}",
                  f"  时间 / time: {meeting['scheduled_start']} – {meeting['scheduled_end']}  地点 / place: "
                  f"{meeting['place']}",
                  f"  主持人 / chair: {meeting['chair']}  牵头部门 / lead: {meeting['lead_department']}",
                  f"  参会单位 / units: {'；'.join(_unit(u) for u in meeting['units'])}",
                  f"  参会人员 / people: {'、'.join(meeting['people'])}",
                  f"  事件日志 / event log: {meeting['log']['count']} events, head {meeting['log']['head_hash']}"]
        for version in (meeting.get("minutes") or {}).get("versions", []):
            lines.append(f"  纪要 / minutes v{version['version']} ({version['status']}): sha256 {version['sha256']}"
                         + (f" reason: {version['reason']}" if version["reason"] else ""))
        lines.append("")
    lines.append("文件 / files (SHA-256 of every file: manifest-sha256.txt):")
    lines += [f"  {f['name']}  {f['description']}" for f in metadata["files"]]
    if metadata["unavailable"]:
        lines.append("缺失 / not available:")
        lines += [f"  {g['name']}: {g['reason']}" for g in metadata["unavailable"]]
    return "\n".join(lines) + "\n"


def _copy(source: Path, target: Path) -> None:
    with source.open("rb") as reader, target.open("wb") as out:
        shutil.copyfileobj(reader, out, COPY_CHUNK)


async def _write_payload(dossier: Dossier, root: Path) -> tuple[int, int]:
    files = total = 0
    for name, file in dossier.files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if file.path is not None:
            await asyncio.to_thread(_copy, file.path, target)
        else:
            await asyncio.to_thread(target.write_bytes, await file.read())  # the server's loop runs on
        files += 1
        total += target.stat().st_size
    metadata = dossier.metadata()
    (root / METADATA).write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
    (root / README).write_text(_readme(metadata), encoding="utf-8")
    return files, total


async def export_bag(dossier: Dossier, out_dir: Path, source_organization: str) -> ExportResult:
    """Write the case's bag into out_dir (skipped when a valid one is already there)."""
    case = dossier.out.case
    name = bag_name(case.project_code)
    target = out_dir / name
    result = ExportResult(name=name, path=target, status="skipped")
    if target.exists():
        if await asyncio.to_thread(is_valid_bag, target):
            return result
        result.set_aside = out_dir / f"{name}.invalid-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
        os.rename(target, result.set_aside)
    out_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240  # one directory: too quick to hand to a thread
    partial = out_dir / f"{PARTIAL_PREFIX}{name}"
    if partial.exists():
        shutil.rmtree(partial)  # an export interrupted earlier: start this case again
    partial.mkdir()
    try:
        result.files, result.bytes = await _write_payload(dossier, partial)
        heads = [f"meeting {m.id}: {m.log.head_hash}" for m in dossier.out.meetings if m.log.head_hash]
        await asyncio.to_thread(_make_bag_alone, partial, bag_info={
            "Source-Organization": source_organization,
            "External-Identifier": case.project_code,
            "External-Description": f"{case.name} / {case.applicant}",
            "Bag-Group-Identifier": "lianshen-archive",
            "Lianshen-Event-Log-Heads": "; ".join(heads) or "none",
        }, checksums=["sha256"])
        os.rename(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    result.status = "written"
    return result


@dataclass
class BagCheck:
    path: Path
    problems: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def valid(self) -> bool:
        return not self.problems


BAGIT_CWD = threading.Lock()
"""bagit.make_bag changes the process's working directory while it writes and restores it after.
Two at once in worker threads (a meeting and a year exported together) interleave: one restores
the other's bag directory, which is then renamed and removed, leaving the whole process in a
directory that no longer exists. So bags are made one at a time."""


def _make_bag_alone(path: Path, **options: Any) -> bagit.Bag:
    with BAGIT_CWD:
        return bagit.make_bag(str(path), **options)


def _bagit_problems(error: bagit.BagValidationError) -> list[str]:
    details = getattr(error, "details", None) or []
    out = []
    for detail in details:
        if isinstance(detail, bagit.ChecksumMismatch):
            out.append(f"{detail.path}: 校验值不符 / checksum mismatch ({detail.algorithm}: expected "
                       f"{detail.expected}, found {detail.found})")
        elif isinstance(detail, bagit.FileMissing):
            out.append(f"{detail.path}: 清单所列文件缺失 / listed in a manifest but missing")
        elif isinstance(detail, bagit.UnexpectedFile):
            out.append(f"{detail.path}: 清单未列出的文件 / present but not in any manifest")
        else:
            out.append(str(detail))
    return out or [str(error.message if hasattr(error, "message") else error)]


def _bagit_validation(bag: bagit.Bag) -> list[str]:
    """bagit's own checks. It stops at the first failed stage; when that is the Payload-Oxum
    (file count and size), the completeness and checksum stages are run too, so the message names
    the files instead of only saying that the totals differ."""
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        problems = _bagit_problems(exc)
        if getattr(exc, "details", None):
            return problems
        for stage in (bag._validate_completeness, lambda: bag._validate_entries(1)):
            try:
                stage()
            except bagit.BagValidationError as more:
                problems.extend(_bagit_problems(more))
        return problems
    except bagit.BagError as exc:
        return [f"清单无效 / invalid manifest: {exc}"]
    return []


def _event_log_problems(path: Path, name: str) -> list[str]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
            records.append(EventRecord(
                meeting_id=row["meeting_id"], seq=row["seq"],
                ts=datetime.strptime(row["ts"], TS_FORMAT).replace(tzinfo=UTC), actor_id=row["actor_id"],
                type=row["type"], payload=row["payload"], prev_hash=row["prev_hash"], hash=row["hash"]))
        except (ValueError, KeyError, TypeError) as exc:
            return [f"{name} line {number}: 无法读取的事件 / unreadable event: {exc}"]
    return [f"{name} seq {p.seq}: {p.message}" for p in verify_chain(records)]


def _minutes_problems(data: Path, metadata: dict[str, Any]) -> list[str]:
    problems = []
    for meeting in metadata.get("meetings", []):
        for version in (meeting.get("minutes") or {}).get("versions", []):
            name = f"data/meeting-{meeting['id']}/minutes-v{version['version']}.json"
            path = data / name.removeprefix("data/")
            if not path.is_file():
                problems.append(f"{name}: 元数据所列纪要缺失 / minutes listed in the metadata are missing")
                continue
            found = content_sha256(json.loads(path.read_text(encoding="utf-8")))
            if found != version.get("sha256"):
                problems.append(f"{name}: 纪要哈希不符 / minutes hash mismatch (expected {version.get('sha256')}, "
                                f"found {found})")
    return problems


def verify_bag(path: Path) -> BagCheck:
    """Validate a bag offline; every problem is named (file, entry, expected vs found)."""
    check = BagCheck(path)
    try:
        bag = bagit.Bag(str(path))
    except bagit.BagError as exc:
        check.problems.append(f"不是有效的 BagIt 包 / not a valid bag: {exc}")
        return check
    if "sha256" not in bag.algorithms:
        check.problems.append("缺少 SHA-256 清单 / no manifest-sha256.txt")
    check.problems.extend(_bagit_validation(bag))
    check.files = len(bag.entries) if hasattr(bag, "entries") else 0
    data = path / "data"
    for log in sorted(data.glob("meeting-*/events.jsonl")):
        check.problems.extend(_event_log_problems(log, log.relative_to(path).as_posix()))
    try:
        metadata = json.loads((data / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        check.problems.append(f"data/{METADATA}: 无法读取 / unreadable: {exc}")
        return check
    check.problems.extend(_minutes_problems(data, metadata))
    return check
