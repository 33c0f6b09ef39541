"""The one error of backup and restore: a sentence for the operator, and the exit status it means."""

from __future__ import annotations

DAMAGED = 1
"""The backup is damaged or is not a Lianshen backup."""
REFUSED = 2
"""The operation is refused as asked (target not empty, tool missing, database unreachable)."""


class BackupError(Exception):
    """Raised with a bilingual message ("中文 / English") the CLI prints as it is."""

    def __init__(self, message: str, status: int = REFUSED, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.problems = problems or []
