"""A small, complete world for API and authorisation tests: one account per role and the
ownership edges that matter (two applicant organisations, two county departments, a city one,
and a second chair who chairs none of the world's meetings).

People are created through the real service (so role rules apply); reference rows are inserted
directly because they are the arrangement, not the thing under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import (
    AgendaEntry,
    AgentCommission,
    ApprovalItem,
    Department,
    Division,
    InvestmentCase,
    Invitation,
    Meeting,
    MeetingSite,
    Organisation,
)
from server.domain.roles import Post, Role
from server.services.people import NewPerson, create_person

PASSWORD = "Test-pass-2026"
USERNAMES = {
    "admin": Role.ADMIN,
    "chair": Role.CHAIR,  # chairs meeting_x and meeting_y
    "chair_other": Role.CHAIR,  # chairs neither: reads every meeting like a chair, changes none
    "rep_a": Role.CHIEF_REP,  # 发改局 A post (invited to the meeting, item of case X)
    "rep_b": Role.CHIEF_REP,  # 发改局 B post
    "rep_other": Role.CHIEF_REP,  # 自然资源局 A post (item of case Y only)
    "applicant": Role.APPLICANT,  # organisation X
    "applicant_other": Role.APPLICANT,  # organisation Y
    "agent": Role.AGENT,  # commissioned by organisation X
    "archivist": Role.ARCHIVIST,
}


def credit_code(body17: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    from stdnum.cn import uscc

    return body17 + uscc.calc_check_digit(body17)


def org_code(base8: str) -> str:
    """A valid GB 11714 organisation code (8 characters + check character)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    total = sum(alphabet.index(c) * w for c, w in zip(base8, weights, strict=True))
    check = 11 - total % 11
    return base8 + {10: "X", 11: "0"}.get(check, str(check))


@dataclass
class World:
    user_ids: dict[str, int] = field(default_factory=dict)
    org_x: int = 0
    org_y: int = 0
    org_x_code: str = ""
    org_y_code: str = ""
    dept_fgj: int = 0
    dept_zrj: int = 0
    dept_city: int = 0
    case_x: int = 0
    case_y: int = 0
    item_x: int = 0
    item_y: int = 0
    meeting_x: int = 0
    meeting_y: int = 0


async def build_world(sessions: async_sessionmaker[AsyncSession]) -> World:
    world = World()
    async with sessions() as db:
        db.add_all([
            Division(code="530000", name="云南省", level="province", parent_code=None),
            Division(code="530900", name="临沧市", level="city", parent_code="530000"),
            Division(code="530921", name="凤庆县", level="county", parent_code="530900"),
        ])
        await db.flush()
        fgj = Department(code="FQ-FGJ", name="凤庆县发展和改革局", short_name="县发改局", division_code="530921")
        zrj = Department(code="FQ-ZRJ", name="凤庆县自然资源局", short_name="县自然资源局", division_code="530921")
        city = Department(code="LC-FGW", name="临沧市发展和改革委员会", short_name="市发改委", division_code="530900")
        world.org_x_code = credit_code("91530921" + org_code("MA6K3A6X"))
        world.org_y_code = credit_code("91530921" + org_code("MA6N2B7Y"))
        org_x = Organisation(credit_code=world.org_x_code, name="凤庆县小湾生态渔业有限公司")
        org_y = Organisation(credit_code=world.org_y_code, name="凤庆县滇红茶业有限责任公司")
        db.add_all([fgj, zrj, city, org_x, org_y])
        await db.flush()
        world.dept_fgj, world.dept_zrj, world.dept_city = fgj.id, zrj.id, city.id
        world.org_x, world.org_y = org_x.id, org_y.id

        specs = {
            "admin": NewPerson("admin", "管理员", Role.ADMIN, PASSWORD),
            "chair": NewPerson("chair", "李主任", Role.CHAIR, PASSWORD),
            "rep_a": NewPerson("rep_a", "王发改", Role.CHIEF_REP, PASSWORD, "FQ-FGJ", Post.A),
            "rep_b": NewPerson("rep_b", "赵发改", Role.CHIEF_REP, PASSWORD, "FQ-FGJ", Post.B),
            "rep_other": NewPerson("rep_other", "钱自然", Role.CHIEF_REP, PASSWORD, "FQ-ZRJ", Post.A),
            "applicant": NewPerson("applicant", "张峰", Role.APPLICANT, PASSWORD, credit_code=world.org_x_code),
            "applicant_other": NewPerson("applicant_other", "孙茶", Role.APPLICANT, PASSWORD,
                                         credit_code=world.org_y_code),
            "agent": NewPerson("agent", "周代办", Role.AGENT, PASSWORD),
            "archivist": NewPerson("archivist", "吴档案", Role.ARCHIVIST, PASSWORD),
            "chair_other": NewPerson("chair_other", "刘主任", Role.CHAIR, PASSWORD),
        }
        for name, spec in specs.items():
            world.user_ids[name] = (await create_person(db, spec)).id
        db.add(AgentCommission(agent_id=world.user_ids["agent"], organisation_id=org_x.id,
                               document_no="凤代办委〔2026〕7号", granted_on=date(2026, 3, 1)))
        now = datetime.now(UTC)
        case_x = InvestmentCase(
            project_code="2603-530921-04-01-512345", name="小湾生态渔业鱼制品加工厂建设项目",
            organisation_id=org_x.id, division_code="530921", town="小湾镇", address="小湾村",
            total_investment=Decimal("3200.00"), category="filing", investor_type="enterprise",
            industry="农副食品加工业", funding_source="企业自筹", created_at=now)
        case_y = InvestmentCase(
            project_code="2604-530921-04-01-623456", name="滇红茶加工厂扩建项目",
            organisation_id=org_y.id, division_code="530921", town="凤山镇", address="工业园区",
            total_investment=Decimal("1800.50"), category="filing", investor_type="enterprise",
            created_at=now)
        db.add_all([case_x, case_y])
        await db.flush()
        world.case_x, world.case_y = case_x.id, case_y.id
        item_x = ApprovalItem(case_id=case_x.id, name="企业投资项目备案", department_id=fgj.id,
                              level="county", accepted_on=date(2026, 3, 10), statutory_limit_wd=20,
                              promised_limit_wd=5, status="in_review")
        item_y = ApprovalItem(case_id=case_y.id, name="建设用地规划许可", department_id=zrj.id,
                              level="county", accepted_on=date(2026, 4, 2), statutory_limit_wd=20,
                              promised_limit_wd=10, status="accepted")
        db.add_all([item_x, item_y])
        await db.flush()
        world.item_x, world.item_y = item_x.id, item_y.id
        for case_item, case_dept, org_id, title in (
            (item_x, fgj, org_x.id, "小湾生态渔业鱼制品加工厂建设项目并联审批会议"),
            (item_y, zrj, org_y.id, "滇红茶加工厂扩建项目并联审批会议"),
        ):
            meeting = Meeting(
                title=title, status="scheduled",
                scheduled_start=datetime(2026, 12, 8, 1, 30, tzinfo=UTC),
                scheduled_end=datetime(2026, 12, 8, 3, 30, tzinfo=UTC),
                place="凤庆县政务服务中心三楼会商室", chair_id=world.user_ids["chair"],
                lead_department_id=fgj.id, created_by_id=world.user_ids["chair"], created_at=now,
                agenda=[AgendaEntry(item_id=case_item.id, position=1)],
                invitations=[Invitation(capacity="member", department_id=case_dept.id),
                             Invitation(capacity="applicant", organisation_id=org_id)],
                sites=[MeetingSite(name="临沧市发改委视频会商点", division_code="530900", level="city")],
            )
            db.add(meeting)
            await db.flush()
            if org_id == org_x.id:
                world.meeting_x = meeting.id
            else:
                world.meeting_y = meeting.id
        await db.commit()
    return world
