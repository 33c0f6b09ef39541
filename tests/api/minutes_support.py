"""Helpers for the minutes workflow tests (not a test module itself): hold a meeting of
tests/world.py as the live meeting would record it, and end it.

The events are the live vocabulary (server.signaling.events): participants with ids, the review
events with the demo payload keys. The item's department (its A post) attends and gives an opinion
that asks for a material; a decision is recorded on the item.
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.principal import Principal
from server.db.models import (
    ClockSuspension,
    MeetingEvent,
    MinutesCaseLink,
    MinutesConfirmation,
    MinutesDocument,
    MinutesEdit,
    MinutesVersion,
)
from server.domain.meetings import MeetingStatus
from server.domain.roles import Role
from server.services.eventlog import append_event
from server.services.meetings import change_status
from server.services.minutes_workflow import answer, finalise, generate_draft, send_for_confirmation
from server.settings import Settings
from tests.api.meetings_support import sign_in
from tests.world import World

OPINION_ID = "op1"
MINUTES_TABLES = (MinutesDocument, MinutesVersion, MinutesEdit, MinutesConfirmation, MinutesCaseLink,
                  ClockSuspension, MeetingEvent)
# per meeting of tests/world.py: the department, its attending A post, the applicant, the item
SCENES = {
    "meeting_x": ("dept_fgj", "FQ-FGJ", "凤庆县发展和改革局", "rep_a", "王发改", "applicant", "张峰",
                  "2603-530921-04-01-512345", "企业投资项目备案"),
    "meeting_y": ("dept_zrj", "FQ-ZRJ", "凤庆县自然资源局", "rep_other", "钱自然", "applicant_other", "孙茶",
                  "2604-530921-04-01-623456", "建设用地规划许可"),
}


def review_events(world: World, meeting: str = "meeting_x") -> list[tuple[str, str, dict[str, Any]]]:
    """(actor, type, payload) of a short review of the meeting's one item."""
    dept, code, unit, rep, rep_name, applicant, applicant_name, project, item_name = SCENES[meeting]

    def joined(username: str, name: str, capacity: str, post: str | None) -> dict[str, Any]:
        member = capacity == "member"
        return {"participant_id": f"p-{username}", "user_id": world.user_ids[username], "display_name": name,
                "unit": unit if member else "", "capacity": capacity,
                "department_id": getattr(world, dept) if member else None, "post": post, "token_id": None,
                "via": "session"}

    item = {"project_code": project, "item_name": item_name}
    return [
        ("chair", "participant_joined", joined("chair", "李主任", "chair", None)),
        (rep, "participant_joined", joined(rep, rep_name, "member", "A")),
        (applicant, "participant_joined", joined(applicant, applicant_name, "applicant", None)),
        ("chair", "agenda_item_opened", {**item, "position": 1}),
        (rep, "opinion_submitted", {
            "opinion_id": OPINION_ID, "revision": 1, **item, "department_code": code, "post": "A",
            "kind": "agree_in_principle", "text": "项目符合产业政策，原则同意。", "conditions": [],
            "reasons": "", "legal_basis": "", "remedy_notice": "", "refer_to": None}),
        (rep, "material_requested", {
            "request_id": "mr1", "opinion_id": OPINION_ID, **item, "department_code": code,
            "material": "项目节能报告", "detail": "须由有资质单位编制", "due_working_days": 10}),
        ("chair", "decision_recorded", {"decision_id": "d1", **item, "text": "补正节能报告后办理。"}),
        ("chair", "agenda_item_closed", {**item, "position": 1, "outcome": "原则同意，待补正材料"}),
    ]


def chair_of(world: World) -> Principal:
    return Principal(user_id=world.user_ids["chair"], username="chair", display_name="李主任", role=Role.CHAIR)


async def hold_meeting(sessions: async_sessionmaker[AsyncSession], world: World, meeting_id: int) -> None:
    """Take the meeting live and write its review to the log (not ended yet)."""
    chair = chair_of(world)
    async with sessions() as db:
        await change_status(db, chair, meeting_id, MeetingStatus.LIVE)
        meeting = "meeting_x" if meeting_id == world.meeting_x else "meeting_y"
        for actor, type, payload in review_events(world, meeting):
            await append_event(db, meeting_id, world.user_ids[actor], type, payload)
        await db.commit()


async def end_through_api(client: TestClient, meeting_id: int) -> None:
    """End the meeting as the chair does (the draft is generated on the way)."""
    headers = await sign_in(client, "chair")
    response = await client.post(f"/api/v1/meetings/{meeting_id}/status", json={"status": "ended"},
                                 headers=headers)
    assert response.status == 200, await response.text()


async def ended_with_draft(sessions: async_sessionmaker[AsyncSession], world: World, meeting_id: int,
                           settings: Settings) -> None:
    """Hold and end the meeting and generate its draft through the services (for the matrix)."""
    await hold_meeting(sessions, world, meeting_id)
    async with sessions() as db:
        await change_status(db, chair_of(world), meeting_id, MeetingStatus.ENDED)
        await generate_draft(db, chair_of(world), meeting_id, settings)
        await db.commit()


async def finalised_minutes_y(sessions: async_sessionmaker[AsyncSession], world: World, settings: Settings) -> None:
    """meeting_y (case Y, 自然资源局) with final minutes, through the services."""
    await ended_with_draft(sessions, world, world.meeting_y, settings)
    rep_other = Principal(user_id=world.user_ids["rep_other"], username="rep_other", display_name="钱自然",
                          role=Role.CHIEF_REP, department_id=world.dept_zrj, post="A")
    async with sessions() as db:
        await send_for_confirmation(db, chair_of(world), world.meeting_y)
        await answer(db, rep_other, world.meeting_y, verdict="confirm", comment="", version=1)
        await finalise(db, chair_of(world), world.meeting_y, "", settings)
        await db.commit()
