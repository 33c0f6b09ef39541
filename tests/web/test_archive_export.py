"""Archive export from the browser: an archivist starts a job for a case, a meeting or a year, the
job page and its JSON status show the progress, the zip of bags downloads and each bag inside is
valid (as verified server-side); nobody but archivists and admins reaches any of it."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from pathlib import Path

from aiohttp.test_utils import TestClient

from server.archive.bag import verify_bag
from server.settings import Settings
from server.web.pages.archive import EXPORT_JOBS
from tests.api.archive_support import PROJECT_X, archived_case
from tests.api.meetings_support import sign_in


async def _start(client: TestClient, token: str, kind: str, value: str) -> str:
    response = await client.post("/archive/export", data={"csrf_token": token, "kind": kind, "value": value},
                                 allow_redirects=False)
    assert response.status == 303, await response.text()
    location = response.headers["Location"]
    assert re.fullmatch(r"/archive/export/[0-9a-f]{16}", location)
    return location


async def _finished(client: TestClient) -> None:
    """Wait for the app's export tasks themselves (no polling, no sleeps)."""
    assert client.app is not None
    await asyncio.gather(*client.app[EXPORT_JOBS].tasks)


async def test_export_a_case_in_the_browser(client: TestClient, db_sessions, settings: Settings,
                                            tmp_path: Path) -> None:
    archived = await archived_case(db_sessions, settings)
    token = (await sign_in(client, "archivist"))["X-CSRF-Token"]
    form = await (await client.get("/archive/export")).text()
    assert PROJECT_X in form and 'name="kind" value="year"' in form
    assert 'href="/archive/export"' in await (await client.get("/archive")).text()

    job_url = await _start(client, token, "case", PROJECT_X)
    running = await (await client.get(job_url)).text()
    assert 'id="export-progress"' in running
    await _finished(client)

    status = await (await client.get(job_url + "/status")).json()
    assert status["state"] == "done" and status["percent"] == 100 and status["verified"], status
    [bag] = status["bags"]
    assert bag["name"] == PROJECT_X and bag["valid"] and bag["files"] > 8
    octets, files = bag["payload_oxum"].split(".")
    assert int(files) == bag["files"] and int(octets) > 0
    page = await (await client.get(job_url)).text()
    assert "校验通过" in page and bag["payload_oxum"] in page and 'http-equiv="refresh"' not in page

    download = await client.get(status["download_url"])
    assert download.status == 200 and download.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(await download.read())) as archive:
        archive.extractall(tmp_path)
    check = verify_bag(tmp_path / PROJECT_X)
    assert check.valid, check.problems
    assert (tmp_path / PROJECT_X / "data" / f"meeting-{archived.meeting_1}" / "events.jsonl").is_file()

    english = await (await client.get(job_url + "/status?lang=en")).json()
    assert english["step"] == "Done"


async def test_export_by_meeting_and_year(client: TestClient, db_sessions, settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    token = (await sign_in(client, "admin"))["X-CSRF-Token"]
    meeting_job = await _start(client, token, "meeting", str(archived.meeting_1))
    year_job = await _start(client, token, "year", "2026")
    await _finished(client)
    by_meeting = await (await client.get(meeting_job + "/status")).json()
    by_year = await (await client.get(year_job + "/status")).json()
    assert [b["name"] for b in by_meeting["bags"]] == [PROJECT_X] and by_meeting["verified"]
    assert len(by_year["bags"]) >= 2 and by_year["verified"]  # case X and the other organisation's


async def test_bad_requests_are_answered_at_the_form(client: TestClient, db_sessions, settings: Settings) -> None:
    await archived_case(db_sessions, settings)
    token = (await sign_in(client, "archivist"))["X-CSRF-Token"]
    for kind, value, message in (("year", "1999", "没有符合条件的项目"), ("case", "", "请选择"),
                                 ("meeting", "x1", "请选择"), ("planet", "1", "请选择"),
                                 ("case", "0000-000000-00-00-000000", "没有符合条件的项目")):
        response = await client.post("/archive/export", data={"csrf_token": token, "kind": kind, "value": value})
        assert response.status == 422 and message in await response.text(), (kind, value)
    assert client.app is not None and not client.app[EXPORT_JOBS].jobs
    assert (await client.get("/archive/export/0123456789abcdef/status")).status == 404


async def test_only_archivists_and_admins_export(client: TestClient, db_sessions, settings: Settings) -> None:
    await archived_case(db_sessions, settings)
    token = (await sign_in(client, "archivist"))["X-CSRF-Token"]
    job_url = await _start(client, token, "case", PROJECT_X)
    await _finished(client)
    for username in ("chair", "rep_a", "applicant"):
        token = (await sign_in(client, username))["X-CSRF-Token"]
        for url in ("/archive/export", job_url, job_url + "/status", job_url + "/download"):
            assert (await client.get(url, allow_redirects=False)).status == 403, (username, url)
        refused = await client.post("/archive/export", data={"csrf_token": token, "kind": "case",
                                                             "value": PROJECT_X})
        assert refused.status == 403
        assert 'href="/archive/export"' not in await (await client.get("/archive")).text()
    client.session.cookie_jar.clear()
    assert (await client.get(job_url, allow_redirects=False)).status == 302  # sign in first
