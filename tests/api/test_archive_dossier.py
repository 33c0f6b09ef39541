"""A case's dossier over HTTP and as pages: every meeting, minutes versions with reasons, the
notice, the recording with jumps to opinions, the event log, clocks; downloads only by catalogue
name; who may open it; the access log."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from recorder.manifest import Manifest
from server.db.models import MeetingEvent
from server.services.clock import CENTRE_TZ
from server.services.minutes_state import content_sha256
from server.settings import Settings
from tests.api.archive_support import RECORDING_KEY, archived_case
from tests.api.meetings_support import sign_in


async def _dossier(client: TestClient, case_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/archive/cases/{case_id}/dossier")
    assert response.status == 200, await response.text()
    return await response.json()


async def test_dossier_holds_the_whole_record(client: TestClient, db_sessions, settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    await sign_in(client, "archivist")
    dossier = await _dossier(client, archived.world.case_x)
    first, second = dossier["meetings"]
    assert [first["id"], second["id"]] == [archived.meeting_1, archived.meeting_2]
    versions = first["minutes"]["versions"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "superseded"), (2, "final")]
    assert versions[1]["reason"] == "更正会议地点"
    names = {f["name"] for f in dossier["files"]}
    prefix = f"meeting-{archived.meeting_1}"
    assert {f"{prefix}/minutes-v{v}.{fmt}" for v in (1, 2) for fmt in ("pdf", "docx", "json")} <= names
    assert {f"{prefix}/notice.pdf", f"{prefix}/events.jsonl", "case/clock.json",
            f"{prefix}/recordings/{RECORDING_KEY}/manifest.json",
            f"{prefix}/recordings/{RECORDING_KEY}/composed/meeting.mp4",
            f"{prefix}/recordings/{RECORDING_KEY}/tracks/chair-video.webm"} <= names
    assert first["log"]["intact"] and first["log"]["count"] > 5
    opinion = next(e for e in first["events"] if e["type"] == "opinion_submitted")
    assert opinion["jump"]["recording_key"] == RECORDING_KEY and 0 < opinion["jump"]["at_ms"] < 600_000
    assert opinion["jump"]["playback"].endswith("composed/meeting.mp4")
    assert second["minutes"] is None
    assert {g["name"] for g in dossier["unavailable"]} == {f"meeting-{archived.meeting_2}/minutes"}
    assert not any(e["text"].startswith("私聊") for e in second["events"])  # private chat shows no text


async def test_downloads(client: TestClient, db_sessions, settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    await sign_in(client, "applicant")
    url = f"/api/v1/archive/cases/{archived.world.case_x}/file"
    prefix = f"meeting-{archived.meeting_1}"
    pdf = await client.get(url, params={"name": f"{prefix}/minutes-v2.pdf"})
    assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF")
    assert (await (await client.get(url, params={"name": f"{prefix}/minutes-v2.docx"})).read()).startswith(b"PK")
    content = json.loads(await (await client.get(url, params={"name": f"{prefix}/minutes-v2.json"})).read())
    versions = (await _dossier(client, archived.world.case_x))["meetings"][0]["minutes"]["versions"]
    assert content_sha256(content) == versions[1]["sha256"]
    notice = await client.get(url, params={"name": f"{prefix}/notice.pdf"})
    assert notice.status == 200 and notice.headers["Content-Type"] == "application/pdf"
    video = await client.get(url, params={"name": f"{prefix}/recordings/{RECORDING_KEY}/composed/meeting.mp4"},
                             headers={"Range": "bytes=8-15"})
    assert video.status == 206 and await video.read() == b"mp42comp"
    events = (await (await client.get(url, params={"name": f"{prefix}/events.jsonl"})).read()).decode().splitlines()
    assert [json.loads(line)["seq"] for line in events] == list(range(1, len(events) + 1))
    for name in ("../../etc/passwd", "/etc/passwd", f"{prefix}/../../lianshen.db", "lianshen.db",
                 f"{prefix}/recordings/{RECORDING_KEY}/tracks/../manifest.json", "case/clock.json\x00", "%2e%2e/x"):
        response = await client.get(url, params={"name": name})
        assert response.status in (404, 422), name
        assert "error" in await response.json()
    await sign_in(client, "applicant_other")
    assert (await client.get(url, params={"name": "case/clock.json"})).status == 404
    assert (await client.get(f"/api/v1/archive/cases/{archived.world.case_x}/dossier")).status == 404


async def test_views_and_downloads_are_logged(client: TestClient, db_sessions, settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    case = archived.world.case_x
    await sign_in(client, "archivist")
    await _dossier(client, case)
    assert (await client.get(f"/api/v1/archive/cases/{case}/file", params={"name": "case/clock.json"})).status == 200
    await sign_in(client, "admin")
    log = await (await client.get("/api/v1/archive/access-log", params={"username": "archivist"})).json()
    assert [(row["action"], row["target"]) for row in log] == [
        ("download", f"case:{case}/case/clock.json"), ("view", f"case:{case}")]


async def test_pages(client: TestClient, db_sessions, settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    await sign_in(client, "archivist")
    page = await client.get("/archive", params={"q": "污水处理"})
    text = await page.text()
    assert page.status == 200 and "<mark>污水处理</mark>" in text
    assert f'href="/archive/cases/{archived.world.case_x}#event-{archived.meeting_2}-' in text
    assert "<script>alert" not in (await (await client.get("/archive", params={"q": "<script>alert(1)</script>"}))
                                   .text())
    dossier = await client.get(f"/archive/cases/{archived.world.case_x}?lang=en")
    html = await dossier.text()
    assert dossier.status == 200 and "Case dossier" in html and f'id="event-{archived.meeting_2}-' in html
    assert "<video" in html and "#t=" in html
    await sign_in(client, "applicant_other")
    assert (await client.get(f"/archive/cases/{archived.world.case_x}")).status == 404


async def test_refused_attempts_are_logged_too(client: TestClient, db_sessions, settings: Settings) -> None:
    """Who tried to open what they may not: a refusal rolls the request back, yet leaves its row."""
    archived = await archived_case(db_sessions, settings)
    case = archived.world.case_x
    await sign_in(client, "applicant_other")
    assert (await client.get(f"/api/v1/archive/cases/{case}/dossier")).status == 404
    assert (await client.get(f"/api/v1/archive/cases/{case}/file", params={"name": "case/clock.json"})).status == 404
    assert (await client.get(f"/archive/cases/{case}")).status == 404
    await sign_in(client, "applicant")
    for name in ("../../etc/passwd", "case/clock.json\x00"):
        assert (await client.get(f"/api/v1/archive/cases/{case}/file", params={"name": name})).status == 404
    await sign_in(client, "admin")
    log = await (await client.get("/api/v1/archive/access-log")).json()
    assert [(r["username"], r["action"], r["target"], json.loads(r["detail"])) for r in log] == [
        ("applicant", "download", f"case:{case}/case/clock.json\\x00", {"refused": 404}),
        ("applicant", "download", f"case:{case}/../../etc/passwd", {"refused": 404}),
        ("applicant_other", "view", f"case:{case}", {"refused": 404}),
        ("applicant_other", "download", f"case:{case}/case/clock.json", {"refused": 404}),
        ("applicant_other", "view", f"case:{case}", {"refused": 404}),
    ]
    assert all(r["remote"] == "127.0.0.1" for r in log)


async def test_a_forged_recording_manifest_opens_nothing_outside(client: TestClient, db_sessions,
                                                                settings: Settings) -> None:
    """Track names in a manifest on disk are data: a path or a link out of the recording directory
    is listed as a gap and never served."""
    archived = await archived_case(db_sessions, settings)
    manifest = Manifest.load(archived.recording_dir)
    secret = settings.data_dir / "secret.txt"
    secret.write_text("not for the archive", encoding="utf-8")
    (archived.recording_dir / "link.webm").symlink_to(secret)
    forged = [manifest.tracks[0].model_copy(update={"file": name, "track_id": f"f{i}"})
              for i, name in enumerate(("../../../secret.txt", "link.webm", "..", ".hidden"))]
    manifest.model_copy(update={"tracks": [*manifest.tracks, *forged]}).write(archived.recording_dir)
    await sign_in(client, "archivist")
    dossier = await _dossier(client, archived.world.case_x)
    base = f"meeting-{archived.meeting_1}/recordings/{RECORDING_KEY}/tracks"
    names = {f["name"] for f in dossier["files"]}
    assert f"{base}/chair-video.webm" in names and not any("secret" in n or "link" in n for n in names)
    gaps = {g["name"] for g in dossier["unavailable"]}
    assert {f"{base}/{t.file}" for t in forged} <= gaps
    for track in forged:
        response = await client.get(f"/api/v1/archive/cases/{archived.world.case_x}/file",
                                    params={"name": f"{base}/{track.file}"})
        assert response.status == 404 and b"not for the archive" not in await response.read()


SCHEDULED_LABEL = "计划时间："


def _held_spans(html: str, meeting_id: int) -> tuple[str, str]:
    """The dossier's held and scheduled times of one meeting ("" if it shows no held time)."""
    section = html[html.index(f'id="meeting-{meeting_id}"'):]
    held = re.search(rf'<span id="meeting-{meeting_id}-held">([^<]*)</span>', section[:3000])
    scheduled = re.search(rf'{SCHEDULED_LABEL}<span id="meeting-{meeting_id}-scheduled">([^<]*)</span>',
                          section[:3000])
    assert scheduled is not None, section[:3000]
    return (held.group(1) if held else ""), scheduled.group(1)


async def test_the_dossier_header_tells_when_each_meeting_was_held(client: TestClient, db_sessions,
                                                                   settings: Settings) -> None:
    """Each meeting's header in the dossier tells what its meeting page tells: when the record says
    it was held (Beijing time; "in progress" while live), its scheduled time beneath; the API gives
    the same moments."""
    archived = await archived_case(db_sessions, settings)
    world = archived.world
    await sign_in(client, "archivist")
    for case_id, meeting_ids in ((world.case_x, (archived.meeting_1, archived.meeting_2)),
                                 (world.case_y, (world.meeting_y,))):
        page = await (await client.get(f"/archive/cases/{case_id}?lang=zh")).text()
        api = {m["id"]: m for m in (await _dossier(client, case_id))["meetings"]}
        for meeting_id in meeting_ids:
            async with db_sessions() as db:
                changes = {row.payload["to"]: row.ts for row in await db.scalars(select(MeetingEvent).where(
                    MeetingEvent.meeting_id == meeting_id, MeetingEvent.type == "meeting_status_changed"))}
            meeting_page = await (await client.get(f"/meetings/{meeting_id}?lang=zh")).text()
            on_meeting_page = re.search(r'<span id="meeting-held">([^<]*)</span>', meeting_page)
            scheduled_there = re.search(r'id="meeting-scheduled">计划时间：([^<]*)</div>', meeting_page)
            assert on_meeting_page is not None and scheduled_there is not None
            held, scheduled = _held_spans(page, meeting_id)
            assert (held, scheduled) == (on_meeting_page.group(1), scheduled_there.group(1))
            start = changes["live"].astimezone(CENTRE_TZ).strftime("%Y-%m-%d %H:%M")
            assert held.startswith(start) and scheduled != held
            live = meeting_id == world.meeting_y
            assert held.endswith("开始，正在进行") == live
            assert datetime.fromisoformat(api[meeting_id]["started"]) == changes["live"]
            assert (api[meeting_id]["ended"] is None) == live
            if not live:
                assert datetime.fromisoformat(api[meeting_id]["ended"]) == changes["ended"]
