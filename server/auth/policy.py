"""Who may see which cases and meetings: ownership rules as SQL conditions.

Expressed as WHERE clauses (not per-row Python checks) so that lists, counts, searches and single
lookups all apply the same rule, and a list can never show what a detail page would refuse.
Objects outside the caller's scope answer 404, not 403: their existence is not disclosed.
Acting on a meeting is narrower than seeing it: every chair sees every meeting, but only the
meeting's own chair changes it (`is_meeting_chair`; a refusal there is 403, since the meeting
is visible).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, select, true

from server.auth.principal import Principal
from server.db.models import AgendaEntry, ApprovalItem, InvestmentCase, Invitation, Meeting
from server.domain.roles import Role


def _meetings_inviting_department(department_id: int) -> ColumnElement[bool]:
    return exists().where(Invitation.meeting_id == Meeting.id, Invitation.department_id == department_id)


def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """Condition on InvestmentCase rows the principal may read."""
    if principal.is_staff_reader:
        return true()
    if principal.role == Role.CHIEF_REP and principal.department_id is not None:
        dept = principal.department_id
        own_item = exists().where(ApprovalItem.case_id == InvestmentCase.id, ApprovalItem.department_id == dept)
        invited_meeting_items = (
            select(ApprovalItem.case_id)
            .join(AgendaEntry, AgendaEntry.item_id == ApprovalItem.id)
            .join(Invitation, Invitation.meeting_id == AgendaEntry.meeting_id)
            .where(Invitation.department_id == dept)
        )
        return or_(own_item, InvestmentCase.id.in_(invited_meeting_items))
    if principal.role in (Role.APPLICANT, Role.AGENT) and principal.organisation_ids:
        return InvestmentCase.organisation_id.in_(principal.organisation_ids)
    return false()


def visible_meetings(principal: Principal) -> ColumnElement[bool]:
    """Condition on Meeting rows the principal may read."""
    if principal.is_staff_reader:
        return true()
    if principal.role == Role.CHIEF_REP and principal.department_id is not None:
        return _meetings_inviting_department(principal.department_id)
    if principal.role in (Role.APPLICANT, Role.AGENT) and principal.organisation_ids:
        orgs = principal.organisation_ids
        invited = exists().where(Invitation.meeting_id == Meeting.id, Invitation.organisation_id.in_(orgs))
        their_items = exists().where(
            AgendaEntry.meeting_id == Meeting.id,
            AgendaEntry.item_id == ApprovalItem.id,
            ApprovalItem.case_id == InvestmentCase.id,
            InvestmentCase.organisation_id.in_(orgs),
        )
        return or_(invited, their_items)
    return false()


def may_decide_item(principal: Principal, item: ApprovalItem) -> bool:
    """Only the item's own department (A post or B standing in) records its status and result."""
    return principal.role == Role.CHIEF_REP and principal.department_id == item.department_id


def is_meeting_chair(principal: Principal, chair_id: int) -> bool:
    """Whether the principal chairs THIS meeting (the one whose chair is `chair_id`).

    The one rule for every act on a meeting, its agenda, invitations, status, join links,
    recordings and minutes, used by the services (API and pages) and by admission to the live
    room (where the chair capacity carries the moderation and recording powers). The chair role
    alone is not enough: all chairs read all meetings, so visibility is no guard.
    """
    return principal.role == Role.CHAIR and principal.user_id == chair_id


def may_compose(principal: Principal, chair_id: int) -> bool:
    """Composing a recording writes into the meeting's archive copy: the meeting's own chair, the
    archive and administrators (not the chair of another meeting)."""
    return principal.role in (Role.ARCHIVIST, Role.ADMIN) or is_meeting_chair(principal, chair_id)


def may_manage_cases(principal: Principal) -> bool:
    """The parallel-approval office (chairs) registers and edits cases; admins may correct them."""
    return principal.role in (Role.CHAIR, Role.ADMIN)

