"""Creating and changing accounts with the role rules of the AB post system enforced.

The CLI (`lianshen user add`), the admin API and the demo seed all create people through here, so
a chief representative can never exist without a department and post, nor an applicant without
an organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.passwords import HashingBusy, hash_password
from server.auth.principal import Principal
from server.auth.sessions import close_user_sessions
from server.auth.throttle import failures_of, forgive
from server.db.models import AgentCommission, Department, Organisation, User
from server.domain.credit_code import validate_credit_code
from server.domain.roles import Post, Role
from server.services.account_audit import record_account_act


class PeopleError(ValueError):
    """A person could not be created or changed; `field` names the culprit, the message says why."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class NewPerson:
    username: str
    display_name: str
    role: Role
    password: str
    department_code: str | None = None
    post: Post | None = None
    credit_code: str | None = None
    title: str = ""
    phone: str = ""


async def _department(db: AsyncSession, code: str | None) -> Department:
    if not code:
        raise PeopleError("department", "首席代表必须指定部门 / a chief representative needs a department")
    department = await db.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise PeopleError("department", f"部门不存在: {code} / unknown department {code}")
    return department


async def _organisation(db: AsyncSession, credit_code: str | None) -> Organisation:
    if not credit_code:
        raise PeopleError("org", "申请人必须指定单位统一社会信用代码 / an applicant needs an organisation")
    try:
        normalised = validate_credit_code(credit_code)
    except ValueError as exc:
        raise PeopleError("org", str(exc)) from None
    organisation = await db.scalar(select(Organisation).where(Organisation.credit_code == normalised))
    if organisation is None:
        raise PeopleError("org", f"单位不存在: {normalised} / unknown organisation {normalised}")
    return organisation


# Column sizes of the free-text fields (longer values are refused, not cut).
LIMITS = {"display_name": 64, "title": 64, "phone": 32}


def _within_limits(**values: str | None) -> None:
    """Refuse over-long texts and control characters (PostgreSQL refuses NUL) for every caller."""
    for name, value in values.items():
        if value is None:
            continue
        if len(value.strip()) > LIMITS[name]:
            raise PeopleError(name, f"{name} 最多 {LIMITS[name]} 个字符 / {name} allows at most "
                                    f"{LIMITS[name]} characters")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise PeopleError(name, f"{name} 不能包含控制字符 / {name} must not contain control characters")


async def create_person(db: AsyncSession, new: NewPerson) -> User:
    """Validate role-specific links and insert the account (flushed, not committed)."""
    _within_limits(display_name=new.display_name, title=new.title, phone=new.phone)
    username = new.username.strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise PeopleError("username", "用户名只能包含字母、数字、_ - . / username may hold letters, digits, _ - .")
    if await db.scalar(select(User.id).where(User.username == username)) is not None:
        raise PeopleError("username", f"用户名已存在: {username} / username taken", status=409)
    password_hash = await _hashed(new.password)
    user = User(username=username, display_name=new.display_name.strip() or username,
                password_hash=password_hash, role=new.role.value, title=new.title, phone=new.phone,
                is_active=True, created_at=datetime.now(UTC))
    if new.role == Role.CHIEF_REP:
        department = await _department(db, new.department_code)
        post = new.post or Post.A
        taken = await db.scalar(select(User.username).where(User.department_id == department.id,
                                                            User.post == post.value))
        if taken is not None:
            raise PeopleError("post", f"{department.name}{post.label_zh}已由 {taken} 担任 / "
                                      f"post {post.value} of {department.code} is held by {taken}",
                              status=409)
        user.department_id, user.post = department.id, post.value
    elif new.department_code or new.post:
        if new.role != Role.CHAIR:
            raise PeopleError("department", "只有首席代表和主持人属于部门 / "
                                            "only chief representatives and chairs belong to a department")
        user.department_id = (await _department(db, new.department_code)).id
    if new.role == Role.APPLICANT:
        user.organisation_id = (await _organisation(db, new.credit_code)).id
    elif new.credit_code:
        raise PeopleError("org", "只有申请人属于申请单位（代办员通过委托关联）/ "
                                 "only applicants belong to an organisation (agents act by commission)")
    db.add(user)
    await db.flush()
    return user


async def counterpart(db: AsyncSession, user: User) -> User | None:
    """The other post (A↔B) of a chief representative's department."""
    if user.department_id is None or user.post is None:
        return None
    other = Post.B.value if user.post == Post.A.value else Post.A.value
    return await db.scalar(select(User).where(User.department_id == user.department_id, User.post == other))


async def counterparts(db: AsyncSession, people: list[User]) -> dict[int, User]:
    """`counterpart` for many chief representatives at once (one query), by person id."""
    department_ids = {p.department_id for p in people if p.department_id is not None and p.post}
    if not department_ids:
        return {}
    holders = {(u.department_id, u.post): u for u in await db.scalars(
        select(User).where(User.department_id.in_(department_ids), User.post.is_not(None)))}
    found = {}
    for person in people:
        if person.department_id is None or person.post is None:
            continue
        other = Post.B.value if person.post == Post.A.value else Post.A.value
        if (match := holders.get((person.department_id, other))) is not None:
            found[person.id] = match
    return found


async def list_people(db: AsyncSession, *, role: Role | None = None, department_id: int | None = None,
                      active: bool | None = None) -> list[User]:
    """People by role, then department and post (so A and B of a department sit together)."""
    conditions = []
    if role is not None:
        conditions.append(User.role == role.value)
    if department_id is not None:
        conditions.append(User.department_id == department_id)
    if active is not None:
        conditions.append(User.is_active.is_(active))
    rows = await db.scalars(select(User).where(*conditions)
                            .order_by(User.role, User.department_id, User.post, User.username))
    return list(rows)


@dataclass(frozen=True)
class PersonChanges:
    """What an administrator may change on an account; None keeps the current value."""

    display_name: str | None = None
    title: str | None = None
    phone: str | None = None
    is_active: bool | None = None


async def update_person(db: AsyncSession, actor_id: int, person: User, changes: PersonChanges) -> User:
    """Apply the changes; deactivating someone signs them out everywhere at once.

    Administrators cannot deactivate themselves, so the last one cannot lock everybody out.
    """
    if changes.is_active is False and person.id == actor_id:
        raise PeopleError("is_active", "不能停用自己的账号 / you cannot deactivate your own account", status=409)
    _within_limits(display_name=changes.display_name, title=changes.title, phone=changes.phone)
    if changes.display_name is not None:
        if not changes.display_name.strip():
            raise PeopleError("display_name", "姓名不能为空 / the display name cannot be empty")
        person.display_name = changes.display_name.strip()
    if changes.title is not None:
        person.title = changes.title.strip()
    if changes.phone is not None:
        person.phone = changes.phone.strip()
    if changes.is_active is not None:
        if not changes.is_active and person.is_active:
            await close_user_sessions(db, person.id)
        person.is_active = changes.is_active
    await db.flush()
    return person


async def _hashed(password: str) -> str:
    """The argon2 hash, computed in the hashing pool (off the event loop)."""
    try:
        return await hash_password(password)
    except ValueError as exc:
        raise PeopleError("password", str(exc)) from None
    except HashingBusy:
        raise PeopleError("password", "服务器正忙，请稍后再试 / the server is busy, try again in a moment",
                          status=503) from None


async def set_password(db: AsyncSession, actor: Principal | None, person: User, password: str,
                       remote: str = "") -> None:
    """Set a new password (an administrator's reset), end the person's sessions (the old one may be
    known) and forgive their failed sign-ins, so they can sign in with it at once; audited."""
    person.password_hash = await _hashed(password)
    await close_user_sessions(db, person.id)
    record = await failures_of(db, person.username)
    await forgive(db, person.username)
    await record_account_act(db, actor, "password_reset", person,
                             {"was_locked": bool(record and record.locked)}, remote)
    await db.flush()


async def unlock(db: AsyncSession, actor: Principal | None, person: User, remote: str = "") -> None:
    """Forgive a person's failed sign-ins and lift their lock (an administrator's act; audited)."""
    record = await failures_of(db, person.username)
    if record is None:
        raise PeopleError("person", "该账号没有失败登录记录，无需解锁 / the account has no failed sign-ins "
                                    "to forgive", status=409)
    await forgive(db, person.username)
    await record_account_act(db, actor, "unlock", person, {
        "failures": record.failures, "was_locked": record.locked,
        "locked_until": record.locked_until.isoformat() if record.locked_until else None}, remote)


async def commissions_of(db: AsyncSession, agent_ids: set[int]) -> dict[int, list[AgentCommission]]:
    """Each agent's commissions (current and revoked), newest first."""
    found: dict[int, list[AgentCommission]] = {}
    if agent_ids:
        rows = await db.scalars(select(AgentCommission).where(AgentCommission.agent_id.in_(agent_ids))
                                .order_by(AgentCommission.granted_on.desc(), AgentCommission.id.desc()))
        for commission in rows:
            found.setdefault(commission.agent_id, []).append(commission)
    return found


async def add_commission(db: AsyncSession, agent: User, organisation_id: int, document_no: str,
                         granted_on: date) -> AgentCommission:
    """Record that `agent` acts for an organisation under a commission document (委托书)."""
    if agent.role != Role.AGENT.value:
        raise PeopleError("agent", "只有代办员可以接受委托 / only agents can be commissioned", status=409)
    if not document_no.strip():
        raise PeopleError("document_no", "委托书编号不能为空 / the commission document number is required")
    if await db.get(Organisation, organisation_id) is None:
        raise PeopleError("organisation_id", f"单位不存在: {organisation_id} / unknown organisation {organisation_id}")
    current = await db.scalar(select(AgentCommission.document_no).where(
        AgentCommission.agent_id == agent.id, AgentCommission.organisation_id == organisation_id,
        AgentCommission.revoked_on.is_(None)))
    if current is not None:
        raise PeopleError("organisation_id", f"该代办员已受此单位委托（{current}）/ the agent already holds a "
                                             f"current commission from this organisation ({current})", status=409)
    commission = AgentCommission(agent_id=agent.id, organisation_id=organisation_id,
                                 document_no=document_no.strip(), granted_on=granted_on)
    db.add(commission)
    await db.flush()
    await db.refresh(commission, ["organisation"])
    return commission


async def revoke_commission(db: AsyncSession, commission: AgentCommission, on: date) -> AgentCommission:
    """End a commission; the agent loses access to the organisation's cases on their next request."""
    if commission.revoked_on is not None:
        raise PeopleError("commission", f"委托已于 {commission.revoked_on} 撤销 / "
                                        f"the commission was already revoked on {commission.revoked_on}", status=409)
    if on < commission.granted_on:
        raise PeopleError("revoked_on", "撤销日期早于委托日期 / revocation before the grant date")
    commission.revoked_on = on
    await db.flush()
    return commission


@dataclass(frozen=True)
class NewOrganisation:
    credit_code: str
    name: str
    address: str = ""
    legal_representative: str = ""
    contact: str = ""
    phone: str = ""


async def create_organisation(db: AsyncSession, new: NewOrganisation) -> Organisation:
    """Register an applicant unit under its validated 统一社会信用代码 (one row per code)."""
    try:
        code = validate_credit_code(new.credit_code)
    except ValueError as exc:
        raise PeopleError("credit_code", str(exc)) from None
    if not new.name.strip():
        raise PeopleError("name", "单位名称不能为空 / the organisation name is required")
    existing = await db.scalar(select(Organisation.name).where(Organisation.credit_code == code))
    if existing is not None:
        raise PeopleError("credit_code", f"该统一社会信用代码已登记为「{existing}」 / "
                                         f"credit code {code} is already registered ({existing})", status=409)
    organisation = Organisation(credit_code=code, name=new.name.strip(), address=new.address.strip(),
                                legal_representative=new.legal_representative.strip(),
                                contact=new.contact.strip(), phone=new.phone.strip())
    db.add(organisation)
    await db.flush()
    return organisation


async def list_organisations(db: AsyncSession) -> list[Organisation]:
    return list(await db.scalars(select(Organisation).order_by(Organisation.name)))
