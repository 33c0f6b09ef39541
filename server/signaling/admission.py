"""Who may enter a meeting directly, in which capacity, and who waits in the lobby.

Direct entry follows the meeting's invitations: the meeting's own chair (policy.is_meeting_chair,
the rule every service applies; only that capacity moderates, records and conducts the review,
so another chair, admitted from the lobby or by link, is an observer); the A or B post of an invited
department (B stands in for A under the AB post system); the applicant organisation's people and
its commissioned agent; and whoever holds a join token the chair issued. Anyone else who is signed
in may knock: they wait in the lobby until the chair admits (as an observer) or rejects them.
"""

from __future__ import annotations

from server.auth.policy import is_meeting_chair
from server.domain.meetings import MeetingStatus
from server.domain.roles import Role
from server.services.live_meeting import LiveFacts
from server.signaling.auth import Identity

CHAIR, MEMBER, OBSERVER, APPLICANT = "chair", "member", "observer", "applicant"
# Sites connect before the start to test their video; after the end there is nothing to join.
OPEN_STATUSES = frozenset({MeetingStatus.SCHEDULED.value, MeetingStatus.LIVE.value})


def invited_capacity(facts: LiveFacts, identity: Identity) -> str | None:
    """The capacity an identity joins in without asking, or None: it must wait in the lobby."""
    principal = identity.principal
    natural: str | None = None
    if principal is not None:
        if is_meeting_chair(principal, facts.chair_id):
            natural = CHAIR
        elif principal.role == Role.CHIEF_REP and principal.department_id is not None \
                and principal.department_id in facts.departments:
            natural = facts.departments[principal.department_id].capacity
        elif principal.role in (Role.APPLICANT, Role.AGENT) and \
                principal.organisation_ids & facts.organisations:
            natural = APPLICANT
    if natural is None and identity.token is not None and identity.token.meeting_id == facts.id \
            and identity.token_capacity != CHAIR:  # a link never makes its holder the chair
        natural = identity.token_capacity
    return natural
