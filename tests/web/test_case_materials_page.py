"""The case page's materials: the list and the plain-form upload (no JavaScript), refused by the
field in the page's language, for the same people as the API; and the new-case form's defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db.models import CaseMaterial
from server.settings import Settings, load_settings
from tests.api.case_world import sign_in
from tests.api.materials_support import pdf
from tests.world import build_world


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", database={"url": database_url}, materials={"max_mb": 1})


def page_form(csrf: str, content: bytes, file_name: str = "选址意见.pdf", title: str = "") -> FormData:
    """What the case page's form sends: the token first, then the title and the file."""
    data = FormData()
    data.add_field("csrf_token", csrf)
    data.add_field("title", title)
    data.add_field("file", content, filename=file_name, content_type="application/pdf")
    return data


async def rows(db_sessions) -> int:
    async with db_sessions() as db:
        return await db.scalar(select(func.count()).select_from(CaseMaterial)) or 0


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="material-{field}-error" role="alert"\s*>([^<]*)</p>', html)
    return found.group(1) if found else ""


async def test_applicant_uploads_from_the_page_and_sees_the_list(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    headers = await sign_in(client, "applicant")
    page = await (await client.get(f"/cases/{world.case_x}")).text()
    assert 'id="material-upload"' in page and 'enctype="multipart/form-data"' in page and "暂无材料" in page
    response = await client.post(f"/cases/{world.case_x}/materials", allow_redirects=False,
                                 data=page_form(headers["X-CSRF-Token"], pdf(3), title="项目选址意见书"))
    assert response.status == 303, (await response.text())[:500]
    location = response.headers["Location"]
    assert location.startswith(f"/cases/{world.case_x}?uploaded=") and location.endswith("#materials")
    html = await (await client.get(location)).text()
    row = html[html.index('<tr id="material-'):]
    row = row[:row.index("</tr>")]
    for fragment in ("项目选址意见书", "选址意见.pdf", "3 页", "KB", "张峰"):
        assert fragment in row, fragment
    assert re.search(r"<td>\d{4}-\d{2}-\d{2} \d{2}:\d{2}</td>", row)
    assert "材料已上传" in html

    # the agent commissioned by the same organisation and the chair upload too
    for pages, username in enumerate(("agent", "chair"), start=1):
        csrf = (await sign_in(client, username))["X-CSRF-Token"]
        response = await client.post(f"/cases/{world.case_x}/materials", allow_redirects=False,
                                      data=page_form(csrf, pdf(pages)))
        assert response.status == 303, (username, (await response.text())[:300])
    assert await rows(db_sessions) == 3


async def test_refusals_are_shown_by_the_field_in_the_page_language(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    csrf = (await sign_in(client, "applicant"))["X-CSRF-Token"]
    url = f"/cases/{world.case_x}/materials"
    for data, status, field, message in [
        (page_form(csrf, b"GIF89a not a pdf", "图.gif"), 415, "file", "只接受 PDF 文件"),
        (page_form(csrf, pdf(1, padding=1_200_000)), 413, "file", "文件超过 1 MB 上限"),
        (page_form(csrf, b"%PDF-1.7\nbroken"), 422, "file", "PDF 文件已损坏或无法读取"),
        (page_form(csrf, b""), 422, "file", "文件为空"),
        (page_form(csrf, pdf(1), title="长" * 300), 422, "title", "标题须为一行，不超过 256 字"),
    ]:
        response = await client.post(url, data=data)
        html = await response.text()
        assert response.status == status, (message, html[:300])
        shown = field_error(html, field)
        assert shown.startswith(message) and " / " not in shown and "the" not in shown, shown
        assert field_error(html, "title" if field == "file" else "file") == ""
    no_file = FormData(default_to_multipart=True)
    no_file.add_field("csrf_token", csrf)
    no_file.add_field("title", "只有标题")
    response = await client.post(url, data=no_file)
    assert response.status == 422 and field_error(await response.text(), "file") == "请选择要上传的 PDF 文件"
    assert await rows(db_sessions) == 0

    content = pdf(2)
    assert (await client.post(url, data=page_form(csrf, content), allow_redirects=False)).status == 303
    response = await client.post(url, data=page_form(csrf, content))
    assert response.status == 409 and field_error(await response.text(), "file").startswith("该文件已上传")
    assert await rows(db_sessions) == 1

    response = await client.post(url + "?lang=en", data=page_form(csrf, b"GIF89a not a pdf", "x.gif"))
    assert field_error(await response.text(), "file") == "only PDF files are accepted"


async def test_only_uploaders_of_the_case_see_the_form_and_post_it(client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    csrf = (await sign_in(client, "applicant"))["X-CSRF-Token"]
    assert (await client.post(f"/cases/{world.case_x}/materials", data=page_form(csrf, pdf(1)),
                              allow_redirects=False)).status == 303
    for username in ("rep_a", "archivist", "admin"):  # they see the case and its list, upload nothing
        csrf = (await sign_in(client, username))["X-CSRF-Token"]
        html = await (await client.get(f"/cases/{world.case_x}")).text()
        assert "选址意见" in html and 'id="material-upload"' not in html, username
        response = await client.post(f"/cases/{world.case_x}/materials", data=page_form(csrf, pdf(2)))
        assert response.status == 403, username
    csrf = (await sign_in(client, "applicant_other"))["X-CSRF-Token"]  # another organisation's case
    assert (await client.get(f"/cases/{world.case_x}")).status == 404
    response = await client.post(f"/cases/{world.case_x}/materials", data=page_form(csrf, pdf(2)))
    assert response.status == 404
    no_token = FormData()
    no_token.add_field("file", pdf(2), filename="a.pdf", content_type="application/pdf")
    assert (await client.post(f"/cases/{world.case_y}/materials", data=no_token)).status == 403
    assert await rows(db_sessions) == 1


async def test_new_case_form_defaults_are_the_centres(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)  # its two cases are enterprise filings
    await sign_in(client, "chair")
    html = await (await client.get("/cases/new")).text()
    assert re.search(r'<option value="530921" selected>', html)
    assert re.search(r'<option value="filing" selected>', html)
    assert re.search(r'<option value="enterprise" selected>', html)
    assert not re.search(r'<option value="(530000|government|approval)" selected>', html)


async def test_new_case_form_refusals_name_the_field_by_its_label(client: TestClient, db_sessions) -> None:
    await build_world(db_sessions)
    headers = await sign_in(client, "chair")
    base = {"csrf_token": headers["X-CSRF-Token"], "project_code": "2611-530921-04-01-712345", "name": "",
            "organisation_id": "x", "division_code": "530921", "category": "filing", "investor_type": "enterprise",
            "total_investment": "100", "town": "长" * 70}
    for lang, expected in (("zh", {"name": "请填写项目名称", "town": "乡镇最多 64 个字符"}),
                           ("en", {"name": "Project name"})):
        response = await client.post(f"/cases/new?lang={lang}", data=base)
        html = await response.text()
        assert response.status == 422
        for field, text in expected.items():
            shown = html[html.index(f'id="{field}-error"'):]
            shown = shown[shown.index(">") + 1:shown.index("</p>")]
            assert text in shown, (lang, field, shown)
        errors = re.findall(r'class="field-error"[^>]*>([^<]*)<', html)
        assert errors and not any(word in " ".join(errors) for word in ("Field required", "organisation_id",
                                                                         "should", "Input"))
