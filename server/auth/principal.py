"""The signed-in person as the authorisation rules see them: role plus what they belong to."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import AgentCommission, User
from server.domain.roles import Role


@dataclass(frozen=True)
class Principal:
    """Who is asking. `organisation_ids` are the applicant units the person may act for:
    their own organisation (applicant) or those under a current commission (agent)."""

    user_id: int
    username: str
    display_name: str
    role: Role
    department_id: int | None = None
    post: str | None = None
    organisation_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_staff_reader(self) -> bool:
        """Roles that may read every case and meeting of the centre."""
        return self.role in (Role.ADMIN, Role.CHAIR, Role.ARCHIVIST)


async def load_principal(db: AsyncSession, user: User) -> Principal:
    """The authorisation view of `user`, including the organisations an agent acts for.

    Shared by HTTP requests and socket connections so both agree on what a person may act for.
    """
    org_ids: set[int] = set()
    if user.organisation_id is not None:
        org_ids.add(user.organisation_id)
    if user.role == Role.AGENT:
        rows = await db.scalars(
            select(AgentCommission.organisation_id).where(
                AgentCommission.agent_id == user.id, AgentCommission.revoked_on.is_(None)
            )
        )
        org_ids.update(rows)
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        department_id=user.department_id,
        post=user.post,
        organisation_ids=frozenset(org_ids),
    )
