"""The demo's scheduled meeting can be presented: its applicant and a commissioned agent have
accounts, and its case has PDF materials stored and page-counted, loaded once."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db.models import AgendaEntry, ApprovalItem, CaseMaterial, Meeting, User
from server.demo import data
from server.demo.seed import seed_demo
from server.services.calendar import seed_calendar
from server.services.materials import material_path


async def test_the_scheduled_meeting_has_its_applicant_agent_and_materials(client: TestClient, db_sessions,
                                                                           settings) -> None:
    async with db_sessions() as db:
        await seed_calendar(db)
        summary = await seed_demo(db, settings, today=data.DATA_AS_OF)
        await db.commit()
    async with db_sessions() as db:
        await seed_demo(db, settings, today=data.DATA_AS_OF)  # again: nothing added
        await db.commit()
    accounts = {a["username"]: a for a in summary["accounts"]}
    assert accounts["lcnt"]["role"] == "applicant" and accounts["lcnt"]["password"] == "Demo-2026!lcnt"
    assert accounts["daiban_xs"]["role"] == "agent"

    scheduled = next(m for m in summary["meetings"] if m["status"] == "scheduled")
    async with db_sessions() as db:
        case_ids = set(await db.scalars(select(ApprovalItem.case_id).join(AgendaEntry)
                                        .join(Meeting).where(Meeting.id == scheduled["id"])))
        materials = list(await db.scalars(select(CaseMaterial).where(CaseMaterial.case_id.in_(case_ids))))
        uploaders = set(await db.scalars(select(User.username).where(
            User.id.in_({m.uploaded_by_id for m in materials}))))
    assert [(m.title, m.page_count) for m in materials] == [
        ("雪山风电场项目核准申请报告（摘要）", 3), ("场址及升压站选址示意说明", 2)]
    assert uploaders == {"lcnt", "daiban_xs"}
    assert all(material_path(settings.data_dir, m.sha256).read_bytes()[:5] == b"%PDF-" for m in materials)

    # both the applicant and its agent see them through the API, as the room's presenter list does
    for username in ("lcnt", "daiban_xs"):
        client.session.cookie_jar.clear()
        login = await client.post("/api/v1/auth/login",
                                  json={"username": username, "password": accounts[username]["password"]})
        assert login.status == 200, await login.text()
        (case_id,) = case_ids
        listed = await (await client.get(f"/api/v1/cases/{case_id}/materials")).json()
        assert [m["page_count"] for m in listed] == [3, 2], username
