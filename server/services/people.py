"""Creating and changing accounts with the role rules of the AB post system enforced.

The CLI (`lianshen user add`), the admin API and the demo seed all create people through here, so
a chief representative can never exist without a department and post, nor an applicant without
an organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.passwords import hash_password
from server.db.models import Department, Organisation, User
from server.domain.credit_code import validate_credit_code
from server.domain.roles import Post, Role


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


async def create_person(db: AsyncSession, new: NewPerson) -> User:
    """Validate role-specific links and insert the account (flushed, not committed)."""
    username = new.username.strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise PeopleError("username", "用户名只能包含字母、数字、_ - . / username may hold letters, digits, _ - .")
    if await db.scalar(select(User.id).where(User.username == username)) is not None:
        raise PeopleError("username", f"用户名已存在: {username} / username taken", status=409)
    try:
        password_hash = hash_password(new.password)
    except ValueError as exc:
        raise PeopleError("password", str(exc)) from None
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
            raise PeopleError("department", "只有首席代表和主持人属于部门 / only chief representatives and chairs belong to a department")
        user.department_id = (await _department(db, new.department_code)).id
    if new.role == Role.APPLICANT:
        user.organisation_id = (await _organisation(db, new.credit_code)).id
    elif new.credit_code:
        raise PeopleError("org", "只有申请人属于申请单位（代办员通过委托关联）/ only applicants belong to an organisation (agents act by commission)")
    db.add(user)
    await db.flush()
    return user


async def counterpart(db: AsyncSession, user: User) -> User | None:
    """The other post (A↔B) of a chief representative's department."""
    if user.department_id is None or user.post is None:
        return None
    other = Post.B.value if user.post == Post.A.value else Post.A.value
    return await db.scalar(select(User).where(User.department_id == user.department_id, User.post == other))
