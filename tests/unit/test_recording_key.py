"""Recording keys carry the centre's (Beijing) date, not the UTC one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from server.recording.store import new_key


def test_key_uses_the_beijing_date(tmp_path: Path) -> None:
    just_after_midnight = datetime(2026, 12, 6, 16, 30, tzinfo=UTC)  # 2026-12-07 00:30 in Beijing
    assert new_key(tmp_path, 2, just_after_midnight) == "M2-20261207-R1"
    (tmp_path / "2" / "M2-20261207-R1").mkdir(parents=True)
    assert new_key(tmp_path, 2, just_after_midnight) == "M2-20261207-R2"
    assert new_key(tmp_path, 2, datetime(2026, 12, 6, 15, 59, tzinfo=UTC)) == "M2-20261206-R1"
