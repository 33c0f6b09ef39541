"""Consistency of the demo data (server.demo.data): valid codes, existing references, sane dates."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import chinese_calendar
import pytest
from stdnum.cn import uscc

from record.events import parse_event, payload_of
from server.demo import data
from server.demo.record_events import record_events

PROJECT_CODE = re.compile(r"([0-9]{4})-([0-9]{6})-([0-9]{2})-([0-9]{2})-([0-9]{6})")
LEVELS = {"province", "city", "county"}
ROLES = {"admin", "chair", "chief_rep", "applicant", "agent", "archivist"}
ITEM_STATUSES = {"pending", "accepted", "in_review", "suspended", "approved", "rejected", "withdrawn"}
OPINION_KINDS = {"agree", "agree_in_principle", "conditional", "disagree", "refer_upward"}

DIVISIONS = {d.code: d for d in data.DIVISIONS}
DEPARTMENTS = {d.code: d for d in data.DEPARTMENTS}
ORGANISATIONS = {o.credit_code: o for o in data.ORGANISATIONS}
USERS = {u.username: u for u in data.USERS}
CASES = {c.project_code: c for c in data.CASES}
ITEMS = {(c.project_code, i.name): i for c in data.CASES for i in c.items}


def _gb11714_check(first8: str) -> str:
    """Check character of a 9-character organisation code (GB 11714-1997)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in first8]
    remainder = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def _counted_working_days(start: date, end: date, suspensions: tuple) -> int:
    """Working days in (start, end], skipping days start..end of each suspension (both included)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        suspended = any(s.start <= day and (s.end is None or day <= s.end) for s in suspensions)
        if chinese_calendar.is_workday(day) and not suspended:
            count += 1
    return count


def _json_safe(value: object) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return not isinstance(value, float)
    if isinstance(value, list):
        return all(_json_safe(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    return False


def _level(division_code: str) -> str:
    return DIVISIONS[division_code].level


# --- divisions, departments, organisations ---------------------------------------------------


def test_divisions_form_a_tree_with_the_three_required_levels():
    assert {"530000", "530900", "530921"} <= DIVISIONS.keys()
    for division in data.DIVISIONS:
        assert division.level in LEVELS
        assert division.parent_code is None or division.parent_code in DIVISIONS
    assert len(DIVISIONS) == len(data.DIVISIONS)


def test_departments_are_unique_and_span_three_levels():
    assert len(DEPARTMENTS) == len(data.DEPARTMENTS) >= 12
    assert len({d.name for d in data.DEPARTMENTS}) == len(data.DEPARTMENTS)
    for department in data.DEPARTMENTS:
        assert department.division_code in DIVISIONS
        assert department.kind in {"approval", "office", "service"}
    assert {_level(d.division_code) for d in data.DEPARTMENTS} == LEVELS
    assert [d.code for d in data.DEPARTMENTS if d.kind == "office"] == ["FQ-BLB"]


@pytest.mark.parametrize("organisation", data.ORGANISATIONS, ids=lambda o: o.name)
def test_credit_codes_are_valid(organisation):
    code = organisation.credit_code
    assert uscc.is_valid(code), code
    assert code[2:8] == organisation.division_code and code[2:8] in DIVISIONS
    assert code[16] == _gb11714_check(code[8:16]), "organisation-code part (GB 11714) check"
    assert code[:2] == ("11" if organisation.kind == "government" else "91")
    assert organisation.name and organisation.address and organisation.legal_representative
    assert organisation.contact and organisation.phone


def test_credit_codes_are_unique():
    assert len(ORGANISATIONS) == len(data.ORGANISATIONS)


# --- people ----------------------------------------------------------------------------------


def test_usernames_and_names_are_unique():
    assert len(USERS) == len(data.USERS)
    assert len({u.display_name for u in data.USERS}) == len(data.USERS)


def test_accounts_have_valid_roles_and_links():
    for user in data.USERS:
        assert user.role in ROLES
        assert len(user.password) >= 8
        if user.role == "chief_rep":
            assert user.department_code in DEPARTMENTS and user.post in {"A", "B"}
        else:
            assert user.post is None
        if user.role == "chair":
            assert user.department_code == "FQ-BLB"
        if user.role not in {"chief_rep", "chair"}:
            assert user.department_code is None
        if user.role == "applicant":
            assert user.organisation_credit_code in ORGANISATIONS
        else:
            assert user.organisation_credit_code is None
    counts = Counter(u.role for u in data.USERS)
    assert counts["admin"] == 1 and counts["chair"] == 2 and counts["agent"] >= 1
    assert counts["archivist"] >= 1 and counts["applicant"] >= 2
    assert {u.organisation_credit_code for u in data.USERS} >= {data.XWYY, data.DHCY}
    assert any(u.display_name == "张峰" and u.organisation_credit_code == data.XWYY
               for u in data.USERS)


def test_every_department_has_exactly_one_a_and_one_b_post():
    posts = Counter((u.department_code, u.post) for u in data.USERS if u.role == "chief_rep")
    for department in data.DEPARTMENTS:
        expected = 0 if department.kind == "office" else 1
        assert posts[(department.code, "A")] == expected, department.code
        assert posts[(department.code, "B")] == expected, department.code


def test_commissions_reference_an_agent_and_an_organisation():
    assert data.COMMISSIONS
    for commission in data.COMMISSIONS:
        assert USERS[commission.agent_username].role == "agent"
        assert commission.organisation_credit_code in ORGANISATIONS
        assert commission.revoked_on is None or commission.revoked_on > commission.granted_on
        assert commission.granted_on <= data.DATA_AS_OF
        if commission.project_code is not None:
            case = CASES[commission.project_code]
            assert case.organisation_credit_code == commission.organisation_credit_code
            assert case.agent_username == commission.agent_username
    for case in data.CASES:
        if case.agent_username is not None:
            assert any(c.agent_username == case.agent_username
                       and c.organisation_credit_code == case.organisation_credit_code
                       for c in data.COMMISSIONS)


# --- cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", data.CASES, ids=lambda c: c.project_code)
def test_project_code_shape_and_division(case):
    match = PROJECT_CODE.fullmatch(case.project_code)
    assert match, case.project_code
    issue, division = match.group(1), match.group(2)
    assert division in DIVISIONS
    if 2016 <= int(issue) <= 2020:  # old format: YYYY
        pass
    else:
        assert 1 <= int(issue[2:]) <= 12 and int(issue) >= 2011
    assert len(CASES) == len(data.CASES)


@pytest.mark.parametrize("case", data.CASES, ids=lambda c: c.project_code)
def test_case_fields(case):
    assert case.organisation_credit_code in ORGANISATIONS
    assert case.division_code in DIVISIONS
    if case.division_code == "530921":
        assert case.town in data.FENGQING_TOWNS
    amount = Decimal(case.total_investment)
    assert amount > 0 and amount == amount.quantize(Decimal("0.01"))
    assert case.category in {"approval", "ratification", "filing"}
    assert (case.category == "approval") == (case.investor_type == "government")
    assert case.planned_start <= case.planned_finish
    assert case.lead_department_code in DEPARTMENTS
    assert len(case.scale_content) > 60 and case.industry and case.funding_source
    assert len({item.name for item in case.items}) == len(case.items)


@pytest.mark.parametrize("key", sorted(ITEMS), ids=lambda k: f"{k[0]}/{k[1]}")
def test_item_consistency(key):
    item = ITEMS[key]
    assert item.department_code in DEPARTMENTS
    assert DEPARTMENTS[item.department_code].kind == "approval"
    assert item.level == _level(DEPARTMENTS[item.department_code].division_code)
    assert item.status in ITEM_STATUSES
    assert 1 <= item.promised_limit_wd <= item.statutory_limit_wd
    if item.status == "pending":
        assert item.accepted_on is None and item.decided_on is None and not item.suspensions
        return
    accepted = item.accepted_on
    assert accepted is not None and accepted.year == 2026 and chinese_calendar.is_workday(accepted)
    for suspension in item.suspensions:
        assert accepted <= suspension.start and suspension.suspend_notice_no
        assert chinese_calendar.is_workday(suspension.start)
        if suspension.end is not None:
            assert suspension.start <= suspension.end and suspension.resume_notice_no
            assert chinese_calendar.is_workday(suspension.end)
    open_suspensions = [s for s in item.suspensions if s.end is None]
    assert len(open_suspensions) == (1 if item.status == "suspended" else 0)
    if item.status in {"approved", "rejected", "withdrawn"}:
        decided = item.decided_on
        assert decided is not None and accepted <= decided <= data.DATA_AS_OF
        assert chinese_calendar.is_workday(decided) and item.result
        assert bool(item.document_no) == (item.status != "withdrawn")
        assert _counted_working_days(accepted, decided, item.suspensions) <= item.promised_limit_wd
    else:
        assert item.decided_on is None and not item.document_no
        assert accepted <= data.DATA_AS_OF
        used = _counted_working_days(accepted, data.DATA_AS_OF, item.suspensions)
        assert used <= item.promised_limit_wd, "an open item is already overdue"


def test_cases_cover_every_status_category_and_level():
    assert {i.status for i in ITEMS.values()} == ITEM_STATUSES
    assert {c.category for c in data.CASES} == {"approval", "ratification", "filing"}
    assert {i.level for i in ITEMS.values()} == LEVELS
    assert any(PROJECT_CODE.fullmatch(c.project_code).group(1) <= "2020" for c in data.CASES)


# --- meetings --------------------------------------------------------------------------------


@pytest.mark.parametrize("meeting", data.MEETINGS, ids=lambda m: m.key)
def test_meeting_references(meeting):
    assert USERS[meeting.chair_username].role == "chair"
    assert USERS[meeting.created_by_username].role == "chair"
    assert meeting.lead_department_code in DEPARTMENTS
    assert meeting.status in {"scheduled", "ended"}
    assert meeting.scheduled_start.utcoffset() == timedelta(hours=8)
    assert meeting.scheduled_start < meeting.scheduled_end
    assert chinese_calendar.is_workday(meeting.scheduled_start.date())
    sites = {s.key: s for s in meeting.sites}
    assert len(sites) == len(meeting.sites) and sum(s.is_host for s in meeting.sites) == 1
    for site in meeting.sites:
        assert site.level == _level(site.division_code)
        assert site.department_code is None or site.department_code in DEPARTMENTS
    departments = [i.department_code for i in meeting.invitations if i.department_code]
    assert len(departments) == len(set(departments))
    assert meeting.lead_department_code in departments
    for invitation in meeting.invitations:
        assert invitation.capacity in {"member", "observer", "applicant"}
        assert invitation.site_key in sites
        assert (invitation.department_code is None) != (invitation.organisation_credit_code is None)
        if invitation.department_code:
            assert invitation.department_code in DEPARTMENTS
        else:
            assert invitation.capacity == "applicant"
            assert invitation.organisation_credit_code in ORGANISATIONS
        if invitation.excused_reason:
            assert invitation.attended_by is None
    for other in meeting.other_attendees:
        assert other.site_key in sites
    assert meeting.agenda and len(set(meeting.agenda)) == len(meeting.agenda)
    for ref in meeting.agenda:
        assert (ref.project_code, ref.item_name) in ITEMS
    applicants = {i.organisation_credit_code for i in meeting.invitations if i.capacity == "applicant"}
    assert applicants == {CASES[ref.project_code].organisation_credit_code for ref in meeting.agenda}


def test_one_scheduled_and_one_ended_meeting():
    by_status = Counter(m.status for m in data.MEETINGS)
    assert by_status["scheduled"] >= 1 and by_status["ended"] >= 1
    for meeting in data.MEETINGS:
        if meeting.status == "scheduled":
            assert meeting.scheduled_start.date() > data.DATA_AS_OF
            assert not meeting.events and meeting.actual_start is None
            assert all(i.attended_by is None for i in meeting.invitations)
        else:
            assert meeting.actual_start and meeting.actual_end
            assert meeting.actual_start.date() <= data.DATA_AS_OF and meeting.minutes_no


ENDED = [m for m in data.MEETINGS if m.status == "ended"]


@pytest.mark.parametrize("meeting", ENDED, ids=lambda m: m.key)
def test_event_log_shape(meeting):
    events = meeting.events
    assert (events[0].type, events[0].payload["to"], events[0].offset_s) == ("meeting_status_changed", "live", 0)
    assert (events[-1].type, events[-1].payload["to"]) == ("meeting_status_changed", "ended")
    assert events[-1].offset_s == (meeting.actual_end - meeting.actual_start).total_seconds()
    offsets = [e.offset_s for e in events]
    assert offsets == sorted(offsets)
    for event in events:
        assert _json_safe(event.payload), event
        assert event.actor is None or event.actor in USERS


@pytest.mark.parametrize("meeting", ENDED, ids=lambda m: m.key)
def test_the_loader_writes_exactly_the_record(meeting):
    """Every event the loader makes of the demo's notation is the record's, already in its stored
    form (nothing for the log to add but the schema version), people named by ids."""
    users = {username: n for n, username in enumerate(USERS, start=1)}
    departments = {code: n for n, code in enumerate(DEPARTMENTS, start=1)}
    events = record_events(meeting, users, departments)
    assert len(events) == len(meeting.events)
    for event in events:
        assert payload_of(parse_event(event.type, event.payload)) == {"schema_version": 1, **event.payload}
    joined = [e.payload for e in events if e.type == "participant_joined"]
    by_name = {p["display_name"]: p for p in joined}
    for event in events:
        if event.type in ("participant_left", "speaking_started"):
            here = by_name[event.payload["display_name"]]
            assert (event.payload["participant_id"], event.payload["user_id"]) == (
                here["participant_id"], here["user_id"])
    zjj_b = by_name["施晓燕"]
    assert (zjj_b["user_id"], zjj_b["department_id"], zjj_b["post"]) == (
        users["zjj_b"], departments["FQ-ZJJ"], "B")
    private = [e.payload["to"] for e in events if e.type == "chat_message" and e.payload["to"]]
    assert private == [users["zjj_b"]]


@pytest.mark.parametrize("meeting", ENDED, ids=lambda m: m.key)
def test_event_log_attendance(meeting):
    joined = [e.payload for e in meeting.events if e.type == "participant_joined"]
    left = Counter(e.payload["display_name"] for e in meeting.events if e.type == "participant_left")
    assert Counter(p["display_name"] for p in joined) == left, "everyone who joins leaves once"
    by_user = {p["username"]: p for p in joined if p["username"]}
    for payload in joined:
        assert payload["site_key"] in {s.key for s in meeting.sites}
        username = payload["username"]
        if username is None:
            assert payload["display_name"] in {o.person_name for o in meeting.other_attendees}
            continue
        user = USERS[username]
        assert user.display_name == payload["display_name"]
        assert payload["post"] == user.post and payload["department_code"] == user.department_code
        if payload["stands_in_for"]:
            replaced = USERS[payload["stands_in_for"]]
            assert payload["post"] == "B" and replaced.post == "A"
            assert replaced.department_code == user.department_code
    assert by_user[meeting.chair_username]["capacity"] == "chair"
    for invitation in meeting.invitations:
        if invitation.attended_by is None:
            assert invitation.excused_reason, "an invited unit either attends or is excused"
            assert all(p["department_code"] != invitation.department_code for p in joined)
            continue
        payload = by_user[invitation.attended_by]
        assert payload["capacity"] == invitation.capacity
        assert payload["site_key"] == invitation.site_key
        if invitation.department_code:
            assert payload["department_code"] == invitation.department_code
        else:
            assert payload["organisation_credit_code"] == invitation.organisation_credit_code
    assert sum(1 for i in meeting.invitations if i.excused_reason) >= 1
    types = Counter(e.type for e in meeting.events)
    assert types["recording_started"] == types["recording_stopped"] == 1
    assert types["presentation_started"] == types["presentation_stopped"] >= 1
    for needed in ("speaking_started", "chat_message", "hand_raised", "material_requested",
                   "decision_recorded", "task_assigned"):
        assert types[needed] >= 1, needed


@pytest.mark.parametrize("meeting", ENDED, ids=lambda m: m.key)
def test_event_log_agenda_and_opinions(meeting):
    agenda = [(r.project_code, r.item_name) for r in meeting.agenda]
    opened = [(e.payload["project_code"], e.payload["item_name"], e.payload["position"])
              for e in meeting.events if e.type == "agenda_item_opened"]
    closed = [(e.payload["project_code"], e.payload["item_name"], e.payload["position"])
              for e in meeting.events if e.type == "agenda_item_closed"]
    expected = [(p, n, i) for i, (p, n) in enumerate(agenda, start=1)]
    assert opened == expected and closed == expected

    opinions: dict[str, dict] = {}
    posts = {u: USERS[u].post for u in USERS}
    for event in meeting.events:
        payload = event.payload
        if event.type not in {"opinion_submitted", "opinion_amended"}:
            continue
        assert (payload["project_code"], payload["item_name"]) in agenda
        assert payload["kind"] in OPINION_KINDS
        assert USERS[event.actor].department_code == payload["department_code"]
        assert payload["post"] == posts[event.actor]
        assert bool(payload["conditions"]) == (payload["kind"] == "conditional")
        if payload["kind"] == "disagree":
            assert payload["reasons"] and payload["legal_basis"] and payload["remedy_notice"]
            assert "《中华人民共和国水土保持法》" in payload["legal_basis"]
        else:
            assert not payload["remedy_notice"]
        assert (payload["refer_to"] is not None) == (payload["kind"] == "refer_upward")
        if event.type == "opinion_submitted":
            assert payload["opinion_id"] not in opinions and payload["revision"] == 1
        else:
            previous = opinions[payload["opinion_id"]]
            assert payload["revision"] == previous["revision"] + 1 and payload["amendment_reason"]
            for same in ("project_code", "item_name", "department_code"):
                assert payload[same] == previous[same]
        opinions[payload["opinion_id"]] = payload

    members = {i.department_code for i in meeting.invitations
               if i.capacity == "member" and i.attended_by}
    given = Counter((o["department_code"], o["project_code"], o["item_name"]) for o in opinions.values())
    assert given == Counter((d, p, n) for d in members for p, n in agenda), \
        "one opinion per attending member department per agenda item"
    kinds = {o["kind"] for o in opinions.values()}
    assert {"conditional", "disagree"} <= kinds
    assert any(e.type == "opinion_amended" for e in meeting.events)

    for event in meeting.events:
        payload = event.payload
        if event.type in {"material_requested", "task_assigned"}:
            assert payload["department_code"] in DEPARTMENTS and payload["due_working_days"] >= 1
            if payload.get("item_name"):
                assert (payload["project_code"], payload["item_name"]) in ITEMS
        if event.type == "material_requested" and payload["opinion_id"]:
            assert payload["opinion_id"] in opinions


@pytest.mark.parametrize("meeting", ENDED, ids=lambda m: m.key)
def test_clock_events_match_item_suspensions(meeting):
    meeting_day = meeting.actual_start.date()
    for event in meeting.events:
        if event.type not in {"clock_suspended", "clock_resumed"}:
            continue
        payload = event.payload
        item = ITEMS[(payload["project_code"], payload["item_name"])]
        assert item.department_code == payload["department_code"]
        effective = date.fromisoformat(payload["effective_date"])
        assert effective == meeting_day
        if event.type == "clock_suspended":
            matches = [s for s in item.suspensions
                       if s.start == effective and s.suspend_notice_no == payload["notice_no"]]
        else:
            matches = [s for s in item.suspensions
                       if s.end == effective and s.resume_notice_no == payload["notice_no"]]
        assert len(matches) == 1, payload
