"""At server start: recordings a crash interrupted are finished without anyone's help.

For each recording directory with a journal and no manifest, the track files are repaired and the
manifest rebuilt (recorder.recovery), with the meeting's events from the log; and if the log still
says the recording is on (``recording_started`` without its ``recording_stopped``), the stop is
logged now, so the room's indicator does not claim a recording that no longer runs. A directory
that cannot be recovered is logged and left exactly as it is.
"""

from __future__ import annotations

import asyncio
import logging

from record.reducer import fold
from recorder.errors import RecorderError
from recorder.journal import read_journal
from recorder.manifest import Manifest
from recorder.recovery import interrupted, recover
from server.context import AppContext
from server.recording.store import logged_events, recordings_root
from server.services.eventlog import append_event, read_record

logger = logging.getLogger(__name__)


async def recover_interrupted(context: AppContext) -> list[Manifest]:
    """Recover every interrupted recording; the manifests written."""
    recovered = []
    for directory in await asyncio.to_thread(interrupted, recordings_root(context.settings.data_dir)):
        try:
            started = (await asyncio.to_thread(read_journal, directory)).started
            meeting_id, key = int(started["meeting_id"]), str(started["recording_key"])
            async with context.sessions() as db:
                events = await logged_events(db, meeting_id)
            manifest = await asyncio.to_thread(recover, directory, events)
        except (RecorderError, KeyError, TypeError, ValueError) as exc:
            logger.error("recording %s was interrupted and cannot be recovered (left as it is): %s",
                         directory, exc)
            continue
        await _log_stop(context, meeting_id, key)
        damaged = [track.file for track in manifest.tracks if track.state == "damaged"]
        logger.warning("recording %s was interrupted: recovered %d tracks%s", key,
                       len(manifest.tracks), f", damaged: {', '.join(damaged)}" if damaged else "")
        recovered.append(manifest)
    return recovered


async def _log_stop(context: AppContext, meeting_id: int, key: str) -> None:
    async with context.sessions() as db:
        span = fold(await read_record(db, meeting_id)).recordings.get(key)
        if span is not None and span.stopped is None:
            await append_event(db, meeting_id, None, "recording_stopped", {"recording_key": key})
            await db.commit()
