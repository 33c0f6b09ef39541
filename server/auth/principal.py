"""The signed-in person as the authorisation rules see them: role plus what they belong to."""

from __future__ import annotations

from dataclasses import dataclass, field

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
