"""A PDF uploaded from a plain HTML form (no JavaScript, so no X-CSRF-Token header): the form's
csrf_token field comes first and the CSRF check reads only that field, leaving the file's stream
to the upload handler."""

from __future__ import annotations

import hashlib

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db.models import CaseMaterial, User
from server.services.materials import material_path
from server.settings import Settings
from tests.api.materials_support import form, pdf
from tests.test_app_core import login
from tests.world import build_world


def browser_form(content: bytes, csrf: str | None, *, token_last: bool = False) -> FormData:
    """What a browser sends for <form enctype="multipart/form-data"> with the hidden token first."""
    data = FormData()
    if csrf is not None and not token_last:
        data.add_field("csrf_token", csrf)
    data.add_field("title", "项目用地预审意见")
    data.add_field("file", content, filename="用地预审.pdf", content_type="application/pdf")
    if csrf is not None and token_last:
        data.add_field("csrf_token", csrf)
    return data


async def stored(db_sessions) -> list[str]:  # type: ignore[no-untyped-def]
    async with db_sessions() as db:
        return list(await db.scalars(select(CaseMaterial.sha256)))


async def test_plain_form_upload_with_its_csrf_field_is_stored(client: TestClient, db_sessions,
                                                               settings: Settings) -> None:
    world = await build_world(db_sessions)
    csrf = await login(client, "applicant")
    content = pdf(pages=2, padding=300_000)
    url = f"/api/v1/cases/{world.case_x}/materials"

    refused = [await client.post(url, data=browser_form(content, None)),  # no token at all
               await client.post(url, data=browser_form(content, csrf, token_last=True)),  # not first
               await client.post(url, data=browser_form(content, "x" * 32))]  # someone else's
    for response in refused:
        assert response.status == 403 and (await response.json())["error"]["code"] == "csrf"
    assert await stored(db_sessions) == []

    response = await client.post(url, data=browser_form(content, csrf))
    assert response.status == 201, await response.text()
    body = await response.json()
    sha256 = hashlib.sha256(content).hexdigest()
    assert (body["title"], body["file_name"], body["sha256"]) == ("项目用地预审意见", "用地预审.pdf", sha256)
    assert material_path(settings.data_dir, sha256).read_bytes() == content
    assert await stored(db_sessions) == [sha256]


async def test_scripts_keep_uploading_with_the_header(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    csrf = await login(client, "applicant")
    url = f"/api/v1/cases/{world.case_x}/materials"
    response = await client.post(url, data=form(pdf(1), "a.pdf"), headers={"X-CSRF-Token": csrf})
    assert response.status == 201, await response.text()
    # the page's form sent by a script: the header is checked and the form's own token field ignored
    response = await client.post(url, data=browser_form(pdf(2), csrf), headers={"X-CSRF-Token": csrf})
    assert response.status == 201, await response.text()
    assert len(await stored(db_sessions)) == 2


async def test_a_page_form_posted_as_multipart_still_reads_its_fields(client: TestClient, db_sessions) -> None:
    """Only the token is read by the check: a handler that reads the whole form gets the rest."""
    await build_world(db_sessions)
    csrf = await login(client, "admin")
    data = FormData(default_to_multipart=True)
    data.add_field("csrf_token", csrf)
    for name, value in {"username": "dangan2", "display_name": "郑档案", "role": "archivist",
                        "password": "Another-pass-2026"}.items():
        data.add_field(name, value)
    response = await client.post("/people", data=data, allow_redirects=False)
    assert response.status == 302, await response.text()
    async with db_sessions() as db:
        assert await db.scalar(select(func.count()).select_from(User).where(User.username == "dangan2")) == 1
