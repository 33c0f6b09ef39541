"""Why a composition was refused or failed, in words an operator can act on."""

from __future__ import annotations

from recorder.errors import RecorderError


class ComposeError(RecorderError):
    """The recording cannot be composed as asked (missing manifest, unreadable track, finished
    output that would be overwritten). The message is bilingual and names the file at fault."""


class ComposeBusy(ComposeError):
    """Another composition of the same recording is running; a second one would race it for the
    same output file, so it is refused rather than queued."""
