"""The backup as a BagIt bag, written and checked by the `bagit` library (so any BagIt tool can
check it as well), and what its bag-info.txt says about it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bagit

from server.archive.bag import _bagit_validation
from server.backup.database import DUMP_NAMES
from server.backup.errors import DAMAGED, BackupError
from server.backup.progress import Progress

FORMAT = "1"
GROUP = "lianshen-backup"
DATABASE_DIR = "database"
FILES_DIR = "files"


class _FileProgress(logging.Handler):
    """bagit hashes without a callback, but logs (INFO) each file it is about to hash: that line
    moves the progress bar by the file's size."""

    def __init__(self, root: Path, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self.root, self.progress = root, progress

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and len(record.args) == 1:
            path = self.root / str(record.args[0])  # relative to the bag, or already absolute
            if path.is_file():
                self.progress.advance(path.stat().st_size)


@contextmanager
def _hashing(root: Path, progress: Progress) -> Iterator[None]:
    logger = logging.getLogger("bagit")
    handler = _FileProgress(root, progress)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False  # a line per file is for the bar, not for the operator's log
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def seal(folder: Path, info: dict[str, str | list[str]], progress: Progress) -> bagit.Bag:
    """Turn `folder` (database/ and files/) into a bag: payload moved under data/, SHA-256 of every
    copied byte in manifest-sha256.txt, `info` in bag-info.txt, tag manifest over both."""
    with _hashing(folder, progress):
        return bagit.make_bag(str(folder), bag_info={"Bag-Group-Identifier": GROUP, "Lianshen-Backup-Format": FORMAT,
                                              **info}, checksums=["sha256"], processes=1)


@dataclass(frozen=True)
class Backup:
    """An opened backup (not yet verified)."""

    path: Path
    bag: bagit.Bag
    database: str
    unfinished: list[str]

    @property
    def dump(self) -> Path:
        return self.path / "data" / DATABASE_DIR / DUMP_NAMES[self.database]

    @property
    def files(self) -> Path:
        return self.path / "data" / FILES_DIR

    @property
    def payload_bytes(self) -> int:
        oxum = str(self.bag.info.get("Payload-Oxum", "0.0"))
        return int(oxum.split(".")[0]) if oxum.split(".")[0].isdigit() else 0

    def problems(self, progress: Progress) -> list[str]:
        """Every missing, extra or altered file, named (bagit's checks); empty when intact."""
        with _hashing(self.path, progress):
            return _bagit_validation(self.bag)


def _values(value: object) -> list[str]:
    if value is None or value == "none":
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def open_backup(path: Path) -> Backup:
    """The backup at `path`, or BackupError (DAMAGED) saying why it is not one."""
    try:
        bag = bagit.Bag(str(path))
    except bagit.BagError as exc:
        raise BackupError(f"{path}: 不是备份（不是有效的 BagIt 包）/ not a backup (not a valid BagIt bag): {exc}",
                          DAMAGED) from None
    found_format = bag.info.get("Lianshen-Backup-Format")
    database = str(bag.info.get("Lianshen-Database", ""))
    if bag.info.get("Bag-Group-Identifier") != GROUP or found_format != FORMAT or database not in DUMP_NAMES:
        raise BackupError(f"{path}: 不是联审备份 / not a Lianshen backup (bag-info.txt: Bag-Group-Identifier "
                          f"{bag.info.get('Bag-Group-Identifier')!r}, Lianshen-Backup-Format {found_format!r}, "
                          f"Lianshen-Database {database!r})", DAMAGED)
    return Backup(path, bag, database, _values(bag.info.get("Lianshen-Unfinished-Recording")))
