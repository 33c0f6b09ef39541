"""A recording of a world meeting in place on disk, as the live recorder leaves it (optionally
composed), for the recording API, matrix and page tests."""

from __future__ import annotations

from pathlib import Path

from recorder.compose import compose
from server.recording.store import recordings_root
from server.settings import Settings
from tests.unit.compose_support import AGENDA, OPINION, SPEAKER, Track, build_recording, sources


def recording_key(meeting_id: int, number: int = 1) -> str:
    return f"M{meeting_id}-20261129-R{number}"


def place_recording(settings: Settings, meeting_id: int, *, number: int = 1, composed: bool = False) -> Path:
    """A two-track recording (camera + microphone, 4 s) of the meeting under the data directory."""
    made = sources()
    directory = recordings_root(settings.data_dir) / str(meeting_id) / recording_key(meeting_id, number)
    build_recording(directory, [
        Track("p1-video-0", "p1", "王发改", "video", made.cam_a, 0, 4000),
        Track("p1-audio-0", "p1", "王发改", "audio", made.mic_a, 0, 4000),
    ], [SPEAKER, AGENDA, OPINION], duration_ms=4000, meeting_id=meeting_id, key=recording_key(meeting_id, number))
    if composed:
        compose(directory, fps=15)
    return directory
