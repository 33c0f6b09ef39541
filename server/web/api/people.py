"""People, agent commissions and applicant organisations over the API.

Administrators manage accounts. Chairs may read people (to see who holds each department's A and B
post when scheduling) and read and register applicant organisations (the parallel-approval office
registers cases for them); nobody else sees the directory.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StrictBool, model_validator

from server.auth.client_address import client_address
from server.auth.throttle import locked_accounts
from server.db.models import AgentCommission, User
from server.domain.roles import Post, Role
from server.schemas.base import Body, Out
from server.schemas.fields import PG_INT_MAX, DbId, one_line
from server.schemas.refs import (
    DepartmentRef,
    OrganisationRef,
    PersonRef,
    department_ref,
    organisation_ref,
    person_ref,
)
from server.services.account_audit import AccountAuditOut, AccountAuditQuery, read_account_audit
from server.services.clock import CENTRE_TZ
from server.services.people import (
    NewOrganisation,
    NewPerson,
    PeopleError,
    PersonChanges,
    add_commission,
    commissions_of,
    counterparts,
    create_organisation,
    create_person,
    list_organisations,
    list_people,
    revoke_commission,
    set_password,
    unlock,
    update_person,
)
from server.web.api import API
from server.web.api.registry import Call
from server.web.context import context
from server.web.errors import ApiError

TAG = "people"
ADMIN = {Role.ADMIN}
DIRECTORY_READERS = {Role.ADMIN, Role.CHAIR}
Password = Annotated[str, Field(min_length=1, max_length=256)]


# ---------------------------------------------------------------- input


class PersonIn(Body):
    """A new account. chief_rep: department_code and post (one A and one B per department);
    applicant: credit_code of a registered organisation; chair: department_code optional."""

    username: Annotated[str, one_line(64, 1)]
    display_name: Annotated[str, one_line(64)] = ""
    role: Role
    password: Password
    department_code: Annotated[str, one_line(32, 1)] | None = None
    post: Post | None = None
    credit_code: Annotated[str, one_line(32, 1)] | None = None
    title: Annotated[str, one_line(64)] = ""
    phone: Annotated[str, one_line(32)] = ""

    @model_validator(mode="after")
    def _post_for_representatives(self) -> PersonIn:
        if self.role == Role.CHIEF_REP and self.post is None:
            raise ValueError("首席代表须指定 A 岗或 B 岗 / a chief representative needs post A or B")
        return self


class PersonPatch(Body):
    display_name: Annotated[str, one_line(64, 1)] | None = None
    title: Annotated[str, one_line(64)] | None = None
    phone: Annotated[str, one_line(32)] | None = None
    is_active: StrictBool | None = None

    @model_validator(mode="after")
    def _something_non_null(self) -> PersonPatch:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"字段不能为 null: {nulls} / fields cannot be null: {nulls}")
        if not self.model_fields_set:
            raise ValueError("没有要修改的内容 / nothing to change")
        return self


class PasswordIn(Body):
    password: Password


class CommissionIn(Body):
    organisation_id: DbId
    document_no: Annotated[str, one_line(64, 1)]
    granted_on: date


class OrganisationIn(Body):
    credit_code: Annotated[str, one_line(32, 1)]
    name: Annotated[str, one_line(128, 1)]
    address: Annotated[str, one_line(256)] = ""
    legal_representative: Annotated[str, one_line(64)] = ""
    contact: Annotated[str, one_line(64)] = ""
    phone: Annotated[str, one_line(32)] = ""


class PeopleQuery(Body):
    role: Role | None = None
    department_id: int | None = Field(None, ge=1, le=PG_INT_MAX)
    active: bool | None = None


# ---------------------------------------------------------------- output


class CommissionOut(Out):
    id: int
    agent_id: int
    organisation: OrganisationRef
    document_no: str
    granted_on: date
    revoked_on: date | None


class PersonOut(Out):
    """An account; for a chief representative `counterpart` is the other post of the department."""

    id: int
    username: str
    display_name: str
    role: str
    department: DepartmentRef | None
    post: str | None
    organisation: OrganisationRef | None
    title: str
    phone: str
    is_active: bool
    created_at: datetime
    counterpart: PersonRef | None
    commissions: list[CommissionOut]


class LockOut(Out):
    """An account locked by failed sign-ins: how many in a row, and until when."""

    person: PersonRef
    username: str
    failures: int
    locked_until: datetime


class OrganisationOut(Out):
    id: int
    credit_code: str
    name: str
    address: str
    legal_representative: str
    contact: str
    phone: str


def _commission(commission: AgentCommission) -> CommissionOut:
    return CommissionOut(id=commission.id, agent_id=commission.agent_id,
                         organisation=organisation_ref(commission.organisation),
                         document_no=commission.document_no, granted_on=commission.granted_on,
                         revoked_on=commission.revoked_on)


async def people_out(call: Call, people: list[User]) -> list[PersonOut]:
    """People with their counterparts and commissions (two queries for the whole list)."""
    pairs = await counterparts(call.db, people)
    commissions = await commissions_of(call.db, {p.id for p in people if p.role == Role.AGENT.value})
    return [
        PersonOut(
            id=p.id, username=p.username, display_name=p.display_name, role=p.role,
            department=department_ref(p.department) if p.department else None, post=p.post,
            organisation=organisation_ref(p.organisation) if p.organisation else None,
            title=p.title, phone=p.phone, is_active=p.is_active, created_at=p.created_at.astimezone(CENTRE_TZ),
            counterpart=person_ref(pairs[p.id]) if p.id in pairs else None,
            commissions=[_commission(c) for c in commissions.get(p.id, [])],
        )
        for p in people
    ]


def refusal(error: PeopleError) -> ApiError:
    return ApiError(error.status, str(error), details=[{"field": error.field}])


async def _person(call: Call) -> User:
    person = await call.db.get(User, call.path_int("id"))
    if person is None:
        raise ApiError(404, "人员不存在 / no such person")
    return person


async def _one_out(call: Call, person: User) -> PersonOut:
    return (await people_out(call, [person]))[0]


# ---------------------------------------------------------------- endpoints


@API.route("GET", "/people", summary="People, by role and department (admins; chairs read)",
           roles=DIRECTORY_READERS, query=PeopleQuery, response=list[PersonOut], tag=TAG)
async def api_list_people(call: Call) -> list[PersonOut]:
    q: PeopleQuery = call.query
    people = await list_people(call.db, role=q.role, department_id=q.department_id, active=q.active)
    return await people_out(call, people)


@API.route("GET", "/people/{id}", summary="One person (admins; chairs read)", roles=DIRECTORY_READERS,
           response=PersonOut, tag=TAG)
async def api_get_person(call: Call) -> PersonOut:
    return await _one_out(call, await _person(call))


@API.route("POST", "/people", summary="Create an account (admins)", roles=ADMIN, body=PersonIn,
           response=PersonOut, status=201, tag=TAG)
async def api_create_person(call: Call) -> PersonOut:
    b: PersonIn = call.body
    new = NewPerson(username=b.username, display_name=b.display_name, role=b.role, password=b.password,
                    department_code=b.department_code, post=b.post, credit_code=b.credit_code,
                    title=b.title, phone=b.phone)
    try:
        person = await create_person(call.db, new)
    except PeopleError as error:
        raise refusal(error) from None
    await call.db.refresh(person, ["department", "organisation"])
    return await _one_out(call, person)


@API.route("PATCH", "/people/{id}", summary="Change name, title, phone or active flag (admins)",
           roles=ADMIN, body=PersonPatch, response=PersonOut, tag=TAG)
async def api_update_person(call: Call) -> PersonOut:
    person = await _person(call)
    changes = PersonChanges(**{name: getattr(call.body, name) for name in call.body.model_fields_set})
    try:
        await update_person(call.db, call.principal.user_id, person, changes)
    except PeopleError as error:
        raise refusal(error) from None
    return await _one_out(call, person)


def _remote(call: Call) -> str:
    return client_address(call.request, context(call.request).settings.server.trusted_proxies)


@API.route("POST", "/people/{id}/password",
           summary="Reset a person's password; ends their sessions, lifts a sign-in lock; audited (admins)",
           roles=ADMIN, body=PasswordIn, status=204, tag=TAG)
async def api_set_password(call: Call) -> None:
    person = await _person(call)
    try:
        await set_password(call.db, call.principal, person, call.body.password, _remote(call))
    except PeopleError as error:
        raise refusal(error) from None


@API.route("POST", "/people/{id}/unlock", summary="Forgive a person's failed sign-ins and lift the lock; "
           "audited (admins)", roles=ADMIN, status=204, tag=TAG)
async def api_unlock(call: Call) -> None:
    person = await _person(call)
    try:
        await unlock(call.db, call.principal, person, _remote(call))
    except PeopleError as error:
        raise refusal(error) from None


@API.route("GET", "/login-locks", summary="Accounts locked by failed sign-ins right now (admins)",
           roles=ADMIN, response=list[LockOut], tag=TAG)
async def api_login_locks(call: Call) -> list[LockOut]:
    # locked_accounts selects only locks with a future locked_until; the test narrows the type.
    return [LockOut(person=person_ref(user), username=user.username, failures=lock.failures,
                    locked_until=lock.locked_until.astimezone(CENTRE_TZ))
            for user, lock in await locked_accounts(call.db) if lock.locked_until is not None]


@API.route("GET", "/account-audit", summary="Administrators' acts on accounts (unlocks, password resets), "
           "newest first (admins)", roles=ADMIN, query=AccountAuditQuery, response=list[AccountAuditOut], tag=TAG)
async def api_account_audit(call: Call) -> list[AccountAuditOut]:
    return await read_account_audit(call.db, call.query)


@API.route("POST", "/people/{id}/commissions", summary="Record an agent's commission by an organisation (admins)",
           roles=ADMIN, body=CommissionIn, response=CommissionOut, status=201, tag=TAG)
async def api_add_commission(call: Call) -> CommissionOut:
    person = await _person(call)
    b: CommissionIn = call.body
    try:
        commission = await add_commission(call.db, person, b.organisation_id, b.document_no, b.granted_on)
    except PeopleError as error:
        raise refusal(error) from None
    return _commission(commission)


@API.route("POST", "/commissions/{id}/revoke", summary="Revoke an agent's commission as of today (admins)",
           roles=ADMIN, response=CommissionOut, tag=TAG)
async def api_revoke_commission(call: Call) -> CommissionOut:
    commission = await call.db.get(AgentCommission, call.path_int("id"))
    if commission is None:
        raise ApiError(404, "委托不存在 / no such commission")
    try:
        await revoke_commission(call.db, commission, datetime.now(CENTRE_TZ).date())
    except PeopleError as error:
        raise refusal(error) from None
    return _commission(commission)


@API.route("GET", "/organisations", summary="Applicant organisations (admins, chairs)",
           roles=DIRECTORY_READERS, response=list[OrganisationOut], tag=TAG)
async def api_list_organisations(call: Call) -> list[OrganisationOut]:
    return [OrganisationOut.model_validate(o) for o in await list_organisations(call.db)]


@API.route("POST", "/organisations", summary="Register an applicant organisation (admins, chairs)",
           roles=DIRECTORY_READERS, body=OrganisationIn, response=OrganisationOut, status=201, tag=TAG)
async def api_create_organisation(call: Call) -> OrganisationOut:
    b: OrganisationIn = call.body
    try:
        organisation = await create_organisation(call.db, NewOrganisation(**b.model_dump()))
    except PeopleError as error:
        raise refusal(error) from None
    return OrganisationOut.model_validate(organisation)
