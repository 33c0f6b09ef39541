"""Short references to departments, organisations and people, shared by the meeting and people APIs."""

from __future__ import annotations

from server.db.models import Department, Organisation, User
from server.schemas.base import Out


class DepartmentRef(Out):
    id: int
    code: str
    name: str
    short_name: str
    level: str


class OrganisationRef(Out):
    id: int
    name: str
    credit_code: str


class PersonRef(Out):
    id: int
    display_name: str
    post: str | None
    is_active: bool


def department_ref(department: Department) -> DepartmentRef:
    """The department with its level (省/市/县 by its division)."""
    return DepartmentRef(id=department.id, code=department.code, name=department.name,
                         short_name=department.short_name, level=department.division.level)


def organisation_ref(organisation: Organisation) -> OrganisationRef:
    return OrganisationRef.model_validate(organisation)


def person_ref(user: User) -> PersonRef:
    return PersonRef.model_validate(user)
