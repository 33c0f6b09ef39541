"""Archive export from the browser: an archivist starts a job for a case, a meeting or a year, the
job page and its JSON status show the progress, the zip of bags downloads and each bag inside is
valid (as verified server-side); nobody but archivists and admins reaches any of it."""

from __future__ import annotations

import asyncio
import io
import os
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from server.app import build_app
from server.archive.bag import verify_bag
from server.db.models import ExportJobRow
from server.settings import Settings, load_settings
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
    cwd = os.getcwd()
    meeting_job = await _start(client, token, "meeting", str(archived.meeting_1))
    year_job = await _start(client, token, "year", "2026")
    await _finished(client)
    # bagit moves the process's working directory while it writes: two jobs at once must leave it home
    assert os.getcwd() == cwd and os.path.isdir(cwd)
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
    async with db_sessions() as db:
        assert await db.scalar(select(func.count()).select_from(ExportJobRow)) == 0
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


def _job_row(job_id: str, state: str, started: datetime, finished: datetime | None) -> ExportJobRow:
    return ExportJobRow(id=job_id, kind="case", value=PROJECT_X, requested_by_id=None, requested_by="档案员",
                        started_at=started, finished_at=finished, state=state, step="bag" if state == "running"
                        else state, current=PROJECT_X, steps_done=2, steps_total=4, bags=[],
                        zip_name=None if state == "running" else "old.zip", error="", error_detail="")


async def test_a_restart_keeps_finished_jobs_interrupts_running_ones_and_prunes_old_ones(
        client: TestClient, db_sessions, settings: Settings) -> None:
    """Jobs are rows: after a restart (a second app on the same database and data directory) the
    finished export still shows and downloads; one that was running when the process stopped says
    it was interrupted and its partial files are gone; one finished longer ago than
    archive.export_keep_days is gone with its files, and so is a directory no job owns that old."""
    await archived_case(db_sessions, settings)
    token = (await sign_in(client, "archivist"))["X-CSRF-Token"]
    done_url = await _start(client, token, "case", PROJECT_X)
    await _finished(client)

    exports = settings.data_dir / "exports"
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=settings.archive.export_keep_days, hours=1)
    async with db_sessions() as db:
        db.add(_job_row("aaaaaaaaaaaaaaaa", "running", now - timedelta(minutes=3), None))
        db.add(_job_row("bbbbbbbbbbbbbbbb", "done", long_ago - timedelta(minutes=5), long_ago))
        db.add(_job_row("cccccccccccccccc", "done", now - timedelta(days=1), now - timedelta(days=1)))
        await db.commit()
    for name, files in (("aaaaaaaaaaaaaaaa", ["bags/partial.txt"]), ("bbbbbbbbbbbbbbbb", ["old.zip"]),
                        ("cccccccccccccccc", ["old.zip"]), ("orphan-from-before", ["x.zip"])):
        for relative in files:
            (exports / name / relative).parent.mkdir(parents=True, exist_ok=True)
            (exports / name / relative).write_bytes(b"x")
    old = long_ago.timestamp()
    os.utime(exports / "orphan-from-before", (old, old))

    async with TestClient(TestServer(build_app(settings), host="127.0.0.1")) as restarted:
        await sign_in(restarted, "archivist")
        status = await (await restarted.get(done_url + "/status")).json()
        assert status["state"] == "done" and status["verified"] and status["kept_until"], status
        assert (await restarted.get(status["download_url"])).status == 200

        cut = await (await restarted.get("/archive/export/aaaaaaaaaaaaaaaa/status")).json()
        assert cut["state"] == "failed" and "服务器在导出过程中停止" in cut["error"], cut
        assert "interrupted" in (await (await restarted.get(
            "/archive/export/aaaaaaaaaaaaaaaa/status?lang=en")).json())["error"]
        page = await (await restarted.get("/archive/export/aaaaaaaaaaaaaaaa")).text()
        assert "本次导出已中断" in page and 'http-equiv="refresh"' not in page
        assert not (exports / "aaaaaaaaaaaaaaaa").exists()

        assert (await restarted.get("/archive/export/bbbbbbbbbbbbbbbb/status")).status == 404
        assert not (exports / "bbbbbbbbbbbbbbbb").exists() and not (exports / "orphan-from-before").exists()
        assert (await restarted.get("/archive/export/cccccccccccccccc/status")).status == 200
        assert (exports / "cccccccccccccccc" / "old.zip").is_file()


async def test_a_job_that_breaks_says_so_in_the_persons_language(client: TestClient, db_sessions,
                                                                 settings: Settings) -> None:
    """An export whose bag cannot be written (the exports directory is a file) ends failed with a
    sentence from the catalog, not the exception's English text (that goes to the log and the row)."""
    await archived_case(db_sessions, settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "exports").write_bytes(b"not a directory")
    token = (await sign_in(client, "archivist"))["X-CSRF-Token"]
    job_url = await _start(client, token, "case", PROJECT_X)
    await _finished(client)
    status = await (await client.get(job_url + "/status")).json()
    assert status["state"] == "failed" and status["error"].startswith("导出失败"), status
    async with db_sessions() as db:
        row = await db.get(ExportJobRow, job_url.rsplit("/", 1)[1])
        assert row is not None and row.error == "failed" and row.error_detail and row.finished_at is not None


async def test_old_jobs_are_pruned_when_the_app_starts(client: TestClient, db_sessions, settings: Settings) -> None:
    """Starting the application removes jobs finished longer ago than archive.export_keep_days, with
    their files, before anyone opens an export page; younger ones and a running one stay (running
    jobs are recovered on first use)."""
    exports = settings.data_dir / "exports"
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=settings.archive.export_keep_days, hours=1)
    rows = {"dddddddddddddddd": ("done", long_ago - timedelta(minutes=5), long_ago),
            "eeeeeeeeeeeeeeee": ("failed", long_ago - timedelta(minutes=5), long_ago),
            "ffffffffffffffff": ("done", now - timedelta(days=1), now - timedelta(days=1)),
            "0000000000000000": ("running", now - timedelta(minutes=3), None)}
    async with db_sessions() as db:
        db.add_all(_job_row(job_id, state, started, finished) for job_id, (state, started, finished) in rows.items())
        await db.commit()
    for job_id in rows:
        (exports / job_id).mkdir(parents=True, exist_ok=True)
        (exports / job_id / "old.zip").write_bytes(b"x")

    async with TestServer(build_app(settings), host="127.0.0.1"):
        async with db_sessions() as db:
            kept = set(await db.scalars(select(ExportJobRow.id)))
    assert kept == {"ffffffffffffffff", "0000000000000000"}
    assert sorted(path.name for path in exports.iterdir()) == ["0000000000000000", "ffffffffffffffff"]


async def test_a_database_away_at_start_up_does_not_stop_the_start(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Pruning is housekeeping: with the database not reachable yet the application still starts,
    and says it did not prune (the first export prunes again)."""
    away = load_settings(data_dir=tmp_path / "data",
                         database={"url": f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'lianshen.db'}"})
    async with TestClient(TestServer(build_app(away), host="127.0.0.1")) as started:
        assert (await started.get("/healthz")).status == 200
    assert "not pruned at start-up" in caplog.text
