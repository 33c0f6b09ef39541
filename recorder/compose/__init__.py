"""Composition of a recording: one MP4 of the whole meeting from its per-track files.

Reads a recording directory (manifest.json + track files, written by the live recorder) and writes
composed/meeting.mp4 (H.264 + AAC, chapters at agenda items and opinions), composed/chapters.json
(the page's chapter list) and composed/status.json (progress a page can poll).
"""

from recorder.compose.errors import ComposeBusy, ComposeError
from recorder.compose.job import (
    CHAPTERS_NAME,
    COMPOSED_DIR,
    OUTPUT_NAME,
    compose,
    composed_dir,
    load_manifest,
    lock_holder,
    read_status,
    track_path,
    write_status,
)

__all__ = ["CHAPTERS_NAME", "COMPOSED_DIR", "OUTPUT_NAME", "ComposeBusy", "ComposeError", "compose",
           "composed_dir", "load_manifest", "lock_holder", "read_status", "track_path", "write_status"]
