"""Uploading case materials: real PDFs stored by content, refusals that write nothing, safe names,
and scoping to the case's organisation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db.models import CaseMaterial
from server.services.materials import material_path, safe_file_name
from server.settings import Settings, load_settings
from tests.api.materials_support import form, pdf
from tests.test_app_core import login
from tests.world import build_world


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # 2 MiB: more than server.max_body_bytes (1 MiB), so the upload must stream past that limit
    return load_settings(data_dir=tmp_path / "data", database={"url": database_url}, materials={"max_mb": 2})


async def upload(client: TestClient, csrf: str, case_id: int, data) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    response = await client.post(f"/api/v1/cases/{case_id}/materials", data=data, headers={"X-CSRF-Token": csrf})
    return response.status, await response.json()


async def stored_rows(db_sessions) -> int:  # type: ignore[no-untyped-def]
    async with db_sessions() as db:
        return await db.scalar(select(func.count()).select_from(CaseMaterial)) or 0


async def test_applicant_uploads_a_pdf_and_everyone_in_scope_reads_it(client: TestClient, db_sessions,
                                                                      settings: Settings) -> None:
    world = await build_world(db_sessions)
    content = pdf(pages=3, padding=1_500_000)  # larger than any JSON body the API takes
    assert 1024 * 1024 < len(content) < 2 * 1024 * 1024
    csrf = await login(client, "applicant")
    status, body = await upload(client, csrf, world.case_x, form(content, "项目 选址图.pdf", title="项目选址及平面布置图"))
    assert status == 201, body
    sha256 = hashlib.sha256(content).hexdigest()
    assert body | {"case_id": world.case_x, "title": "项目选址及平面布置图", "file_name": "项目 选址图.pdf",
                   "page_count": 3, "size": len(content), "sha256": sha256,
                   "url": f"/api/v1/materials/{body['id']}/file"} == body
    assert material_path(settings.data_dir, sha256).read_bytes() == content

    status, again = await upload(client, csrf, world.case_x, form(content, "copy.pdf"))
    assert (status, again["error"]["code"]) == (409, "duplicate_material")

    listed = await client.get(f"/api/v1/cases/{world.case_x}/materials")
    assert [m["id"] for m in await listed.json()] == [body["id"]]
    client.session.cookie_jar.clear()
    await login(client, "rep_a")
    response = await client.get(body["url"])
    assert response.status == 200 and await response.read() == content
    assert response.headers["Content-Type"] == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'inline; filename="material-{body["id"]}.pdf"')
    assert "filename*=UTF-8''%E9%A1%B9%E7%9B%AE%20" in disposition

    client.session.cookie_jar.clear()
    csrf = await login(client, "agent")  # the commissioned agent acts for the organisation
    status, second = await upload(client, csrf, world.case_x, form(pdf(pages=1), "委托书.PDF"))
    assert status == 201 and (second["title"], second["file_name"], second["page_count"]) == ("委托书", "委托书.pdf", 1)


async def test_bad_uploads_are_refused_and_leave_nothing(client: TestClient, db_sessions,
                                                         settings: Settings) -> None:
    world = await build_world(db_sessions)
    csrf = await login(client, "applicant")
    cases = [
        (form(b"PK\x03\x04 this is a zip"), 415, "not_pdf"),
        (form(b"<html>%PDF-</html>"), 415, "not_pdf"),
        (form(b""), 422, "empty_file"),
        (form(b"%PDF-1.7\n this is not really a PDF"), 422, "bad_pdf"),
        (form(b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024)), 413, "too_large"),
        (form(pdf(1), title="一行\n两行"), 422, "invalid"),
    ]
    for data, status, code in cases:
        got, body = await upload(client, csrf, world.case_x, data)
        assert (got, body["error"]["code"]) == (status, code), body
        assert body["error"]["message"] and " / " in body["error"]["message"]
    no_file = await client.post(f"/api/v1/cases/{world.case_x}/materials", data={"title": "只有标题"},
                                headers={"X-CSRF-Token": csrf})
    assert no_file.status in (415, 422)
    assert await stored_rows(db_sessions) == 0
    folder = settings.data_dir / "materials"
    assert not folder.exists() or list(folder.iterdir()) == []  # no partial or rejected files kept


async def test_path_traversal_in_names_is_harmless(client: TestClient, db_sessions, settings: Settings) -> None:
    world = await build_world(db_sessions)
    csrf = await login(client, "applicant")
    names = (("../../../etc/cron.d/evil.pdf", "evil.pdf"), ("..\\..\\boot.ini", "boot.ini.pdf"),
             ('"/><script>.pdf', "script.pdf"), ("..", "material.pdf"), ("%2e%2e%2fup.pdf", "%2e%2e%2fup.pdf"))  # a literal name, shown as is
    for pages, (name, shown) in enumerate(names, start=1):  # distinct files: distinct page counts
        status, body = await upload(client, csrf, world.case_x, form(pdf(pages), name))
        assert status == 201, body
        assert body["file_name"] == shown
        assert material_path(settings.data_dir, body["sha256"]).is_file()
    written = {p.name for p in settings.data_dir.rglob("*") if p.is_file()}
    assert all(name.endswith(".pdf") and len(name) == 68 or name in ("secret.key", "lianshen.db")
               for name in written), written
    assert safe_file_name("a\x00b\u202e.pdf") == "ab.pdf"


async def test_another_organisations_applicant_sees_nothing(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    csrf = await login(client, "applicant")
    status, body = await upload(client, csrf, world.case_x, form(pdf()))
    assert status == 201
    client.session.cookie_jar.clear()
    csrf = await login(client, "applicant_other")
    for response in (await client.get(f"/api/v1/cases/{world.case_x}/materials"),
                     await client.get(body["url"]),
                     await client.post(f"/api/v1/cases/{world.case_x}/materials", data=form(pdf(4)),
                                       headers={"X-CSRF-Token": csrf})):
        assert response.status == 404, await response.text()
    assert await stored_rows(db_sessions) == 1
