"""Presenting case materials: the applicant presents by default, the chair may hand it over, and
only the presenter opens, turns and closes the PDF everyone sees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.db.models import CaseMaterial

from .review_support import seats
from .signaling_harness import LiveServer, live, signaling_overrides  # noqa: F401

pytestmark = pytest.mark.timeout(90)


async def add_material(live: LiveServer, case_id: int, title: str, pages: int) -> int:
    """A material row (the file itself is the HTTP tests' concern)."""
    async with live.sessions() as db:
        material = CaseMaterial(case_id=case_id, title=title, file_name=f"{title}.pdf",
                                sha256=f"{case_id:064d}", size=1000, page_count=pages,
                                uploaded_by_id=live.world.user_ids["applicant"], uploaded_at=datetime.now(UTC))
        db.add(material)
        await db.commit()
        return material.id


async def test_presenter_and_page_synchronised_presentation(live: LiveServer) -> None:
    plan = await add_material(live, live.world.case_x, "项目选址图", 3)
    other_case = await add_material(live, live.world.case_y, "茶厂平面图", 2)
    chair, rep = await seats(live, "chair", "rep_a")
    assert chair.review["presenter"] is None
    [applicant] = await seats(live, "applicant")
    assert applicant.review["presenter"] == applicant.id
    await chair.state_where(lambda s: s["presenter"] == applicant.id)  # told when the applicant arrived

    await rep.refused("presentation_open", "not_presenter", material_id=plan)
    await applicant.refused("presentation_open", "unknown_material", material_id=other_case)
    await applicant.refused("presentation_page", "no_presentation", page=2)
    opened = await applicant.do("presentation_open", material_id=plan)
    assert opened["presentation"] == {"material_id": plan, "url": f"/api/v1/meetings/{live.world.meeting_x}/presentation/{plan}",
                                      "title": "项目选址图", "file_name": "项目选址图.pdf", "page": 1,
                                      "page_count": 3}
    await applicant.do("presentation_page", page=3)
    await rep.state_where(lambda s: s["presentation"] and s["presentation"]["page"] == 3)
    await applicant.refused("presentation_page", "bad_page", page=4)
    await rep.refused("presentation_page", "not_presenter", page=2)

    await rep.refused("presenter_set", "not_chair", participant_id=rep.id)
    await chair.refused("presenter_set", "unknown_participant", participant_id="ab" * 8)
    assert (await chair.do("presenter_set", participant_id=rep.id))["presenter"] == rep.id
    await applicant.refused("presentation_page", "not_presenter", page=1)
    await rep.do("presentation_page", page=2)  # the new presenter takes over the open material
    await rep.do("presentation_close")
    await chair.state_where(lambda s: s["presenter"] == rep.id and s["presentation"] is None)
    await rep.refused("presentation_close", "no_presentation")
    assert (await chair.do("presenter_set", participant_id=None))["presenter"] == applicant.id

    await live.settle()
    logged = [(e.type, e.payload) for e in await live.events() if e.type.startswith("presentation_")]
    assert logged == [("presentation_started", {"schema_version": 1, "title": "项目选址图",
                                                "file_name": "项目选址图.pdf", "page_count": 3}),
                      ("presentation_stopped", {"schema_version": 1, "title": "项目选址图"})]
    await live.assert_chain_intact()
