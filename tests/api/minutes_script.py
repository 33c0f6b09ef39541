"""A scripted joint-review meeting written through the event-log service, for the minutes tests.

The events go through server.services.eventlog.append_event (the hash-chained write every live
and demo event takes, which checks each against the record, record.events) and the status-change
events of server.services.meetings.change_status. Times are fixed so that the minutes can be compared with
a reviewed golden file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import AgendaEntry, ApprovalItem, Invitation, Meeting, User
from server.domain.meetings import MeetingStatus
from server.services.calendar import seed_calendar
from server.services.eventlog import append_event
from tests.world import World

START = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)  # 09:30 in Fengqing
LAND = "建设项目用地预审与选址意见书核发"
FILING = "企业投资项目备案"
CASE = "2603-530921-04-01-512345"
REMEDY = "申请人如对本意见不服，享有依法申请行政复议或者提起行政诉讼的权利。"
CITY_EXCUSE = "市发改委固定资产投资科同日参加省级项目调度会，经主持人同意请假。"


def _opinion(opinion_id: str, item: str, department: str, post: str, kind: str, text: str, *,
             revision: int = 1, conditions: tuple[str, ...] = (), reasons: str = "",
             legal_basis: str = "", refer_to: str | None = None) -> dict[str, Any]:
    return {"opinion_id": opinion_id, "revision": revision, "project_code": CASE, "item_name": item,
            "department_code": department, "post": post, "kind": kind, "text": text,
            "conditions": list(conditions), "reasons": reasons, "legal_basis": legal_basis,
            "remedy_notice": REMEDY if kind == "disagree" else "", "refer_to": refer_to}


async def arrange(sessions: async_sessionmaker[AsyncSession], world: World) -> None:
    """Meeting X gets a second item (自然资源局), the 自然资源局 and the city 发改委 as members
    (the latter excused), and the holiday calendar."""
    async with sessions() as db:
        await seed_calendar(db)
        item = ApprovalItem(case_id=world.case_x, name=LAND, department_id=world.dept_zrj, level="county",
                            accepted_on=date(2026, 12, 1), statutory_limit_wd=20, promised_limit_wd=12,
                            status="in_review")
        db.add(item)
        await db.flush()
        db.add_all([
            AgendaEntry(meeting_id=world.meeting_x, item_id=item.id, position=2),
            Invitation(meeting_id=world.meeting_x, capacity="member", department_id=world.dept_zrj),
            Invitation(meeting_id=world.meeting_x, capacity="member", department_id=world.dept_city,
                       excused_reason=CITY_EXCUSE),
        ])
        await db.commit()


async def run_meeting(sessions: async_sessionmaker[AsyncSession], world: World) -> None:
    """Two items, five opinions (one amended), a refusal, materials, decisions, tasks, a
    suspension, a recording; the city 发改委 never comes."""
    ids = world.user_ids
    chair, rep_a, rep_other, applicant = ids["chair"], ids["rep_a"], ids["rep_other"], ids["applicant"]
    async with sessions() as db:
        users = {u.id: u for u in await db.scalars(select(User))}
    clock = iter(range(0, 100_000, 60))

    async def write(db: AsyncSession, actor: int | None, type: str, **payload: Any) -> None:
        await append_event(db, world.meeting_x, actor, type, payload, ts=START + timedelta(seconds=next(clock)))

    def joined(user_id: int, capacity: str, participant: str) -> dict[str, Any]:
        user = users[user_id]
        return {"participant_id": participant, "user_id": user_id, "display_name": user.display_name,
                "unit": user.title, "capacity": capacity,
                "department_id": user.department_id, "post": user.post, "token_id": None, "via": "session"}

    async with sessions() as db:
        await _status(db, world.meeting_x, chair, MeetingStatus.SCHEDULED, MeetingStatus.LIVE,
                      START + timedelta(seconds=next(clock)))
        await write(db, chair, "participant_joined", **joined(chair, "chair", "p1"))
        await write(db, rep_a, "participant_joined", **joined(rep_a, "member", "p2"))
        await write(db, rep_other, "participant_joined", **joined(rep_other, "member", "p3"))
        await write(db, applicant, "participant_joined", **joined(applicant, "applicant", "p4"))
        await append_event(db, world.meeting_x, chair, "recording_started",
                           {"recording_key": "M-R1", "consent_notice": "本次会议全程录音录像。"},
                           ts=START + timedelta(seconds=next(clock)))
        await write(db, chair, "agenda_item_opened", project_code=CASE, item_name=FILING, position=1)
        await write(db, rep_a, "opinion_submitted", **_opinion("op-1", FILING, "FQ-FGJ", "A", "agree", "同意备案。"))
        await write(db, rep_other, "opinion_submitted", **_opinion(
            "op-2", FILING, "FQ-ZRJ", "A", "agree_in_principle", "原则同意。"))
        await write(db, chair, "agenda_item_closed", project_code=CASE, item_name=FILING, position=1,
                    outcome="通过，由县发改局出具备案证明。")
        await write(db, chair, "agenda_item_opened", project_code=CASE, item_name=LAND, position=2)
        await write(db, rep_other, "opinion_submitted", **_opinion(
            "op-3", LAND, "FQ-ZRJ", "A", "disagree", "不同意现选址方案。",
            reasons="拟选址部分位于永久基本农田保护范围内。", legal_basis="《中华人民共和国土地管理法》第三十五条"))
        await write(db, rep_other, "material_requested", request_id="mr-1", opinion_id="op-3", project_code=CASE,
                    item_name=LAND, department_code="FQ-ZRJ", material="调整后的选址论证报告",
                    detail="避让永久基本农田，附比选方案。", due_working_days=10)
        await write(db, rep_a, "opinion_submitted", **_opinion(
            "op-4", LAND, "FQ-FGJ", "A", "conditional", "附条件同意。", conditions=("选址调整后重新报审；",)))
        await write(db, rep_a, "opinion_amended", **_opinion(
            "op-4", LAND, "FQ-FGJ", "A", "refer_upward", "用地规模超出县级权限，需转报市级审查。",
            revision=2, refer_to="LC-FGW"), amendment_reason="核实用地规模后改为转报上级。")
        await write(db, rep_a, "material_requested", request_id="mr-2", opinion_id="op-4", project_code=CASE,
                    item_name=LAND, department_code="FQ-FGJ", material="项目用地规模测算说明",
                    detail="", due_working_days=3)
        await append_event(db, world.meeting_x, rep_other, "clock_suspended", {
            "project_code": CASE, "item_name": LAND, "department_code": "FQ-ZRJ",
            "notice_no": "凤自然资中〔2026〕9号", "effective_date": "2026-12-08",
            "reason": "选址调整期间中止审查。"}, ts=START + timedelta(seconds=next(clock)))
        await write(db, chair, "agenda_item_closed", project_code=CASE, item_name=LAND, position=2,
                    outcome="不同意现选址，调整后重新报审。")
        await write(db, chair, "decision_recorded", decision_id="d-1", project_code=CASE, item_name=None,
                    text="项目备案事项当场办结。")
        await write(db, chair, "decision_recorded", decision_id="d-2", project_code=CASE, item_name=LAND,
                    text="用地选址调整后重新报审，补正材料一次性告知申请人。")
        await write(db, chair, "task_assigned", task_id="t-1", department_code="FQ-FGJ", project_code=CASE,
                    item_name=None, text="出具备案证明。", due_working_days=1)
        await write(db, chair, "task_assigned", task_id="t-2", department_code="FQ-ZRJ", project_code=CASE,
                    item_name=LAND, text="指导选址调整。", due_working_days=15)
        await write(db, chair, "chat_message", text="会后请查收一次性告知书。", to=None)
        await append_event(db, world.meeting_x, chair, "recording_stopped", {"recording_key": "M-R1"},
                           ts=START + timedelta(seconds=next(clock)))
        await write(db, applicant, "participant_left", participant_id="p4", user_id=applicant,
                    display_name=users[applicant].display_name, reason=None, duration_ms=1_200_000)
        await _status(db, world.meeting_x, chair, MeetingStatus.LIVE, MeetingStatus.ENDED,
                      START + timedelta(seconds=next(clock)), note="会议审查2个事项：1项通过，1项不同意现选址。")
        await db.commit()


async def _status(db: AsyncSession, meeting_id: int, actor: int, old: MeetingStatus, new: MeetingStatus,
                  ts: datetime, note: str = "") -> None:
    """What server.services.meetings.change_status writes, at a fixed time (the service stamps
    the current time, which a golden file cannot hold)."""
    meeting = await db.get(Meeting, meeting_id)
    assert meeting is not None
    meeting.status = new.value
    await append_event(db, meeting_id, actor, "meeting_status_changed",
                       {"from": old.value, "to": new.value, "note": note}, ts=ts)
