"""How backup and restore report progress: phases of known size, advanced in bytes.

The library never prints; the CLI turns this into tqdm bars (as the other commands do) and the
tests pass nothing.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def phase(self, name: str, total_bytes: int | None) -> None:
        """A new stage starts (database, files, hashing, verifying); None: size unknown."""

    def advance(self, nbytes: int) -> None:
        """This many more bytes of the current stage are done."""


class Silent:
    """Progress nobody watches."""

    def phase(self, name: str, total_bytes: int | None) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass
