"""The minutes library on its own (no database): numbering, working-day due dates, absent-department
policy, AB posts, edits and determinism, on a small source made by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from minutes import source as ms
from minutes.build import build_minutes
from minutes.edit import EditError, TextEdit, apply_edits, editable_paths
from minutes.model import Minutes
from minutes.numbering import draft_number, format_number, parse_number
from minutes.render import render

START = datetime(2026, 9, 30, 1, 30, tzinfo=UTC)  # the day before the National Day holiday
LABELS = ms.Labels(level={"county": "县"}, category={"filing": "备案制"})
# 2026 National Day: Oct 1-7 off (weekdays among them listed), Sep 27 and Oct 10 make-up workdays.
CALENDAR = ms.WorkCalendar(holidays=frozenset(date(2026, 10, d) for d in (1, 2, 5, 6, 7)),
                           workdays=frozenset({date(2026, 9, 27), date(2026, 10, 10)}),
                           confirmed_years=frozenset({2026}))


def _source(policy: str = "deemed_accept", events: tuple[ms.Event, ...] | None = None) -> ms.MinutesSource:
    people = (ms.Person(user_id=1, username="chair", display_name="杨国强", title="主任"),
              ms.Person(user_id=2, username="a", display_name="甲", department_code="D1", post="A"),
              ms.Person(user_id=3, username="b", display_name="乙", department_code="D1", post="B"))
    joined = {"participant_id": "p1", "user_id": 3, "display_name": "乙", "unit": "", "capacity": "member",
              "department_id": 11, "post": "B", "token_id": None, "via": "session"}
    opinion = {"opinion_id": "op-1", "revision": 1, "project_code": "P", "item_name": "事项", "department_code": "D1",
               "post": "B", "kind": "conditional", "text": "附条件同意。", "conditions": ["条件一"], "reasons": "",
               "legal_basis": "", "remedy_notice": "", "refer_to": None}
    log = events if events is not None else (
        ms.Event(seq=1, ts=START, actor_id=1, type="meeting_status_changed",
                 payload={"from": "scheduled", "to": "live", "note": ""}),
        ms.Event(seq=2, ts=START, actor_id=3, type="participant_joined", payload=joined),
        ms.Event(seq=3, ts=START + timedelta(minutes=1), actor_id=1, type="agenda_item_opened",
                 payload={"project_code": "P", "item_name": "事项", "position": 1}),
        ms.Event(seq=4, ts=START + timedelta(minutes=5), actor_id=3, type="opinion_submitted", payload=opinion),
        ms.Event(seq=5, ts=START + timedelta(minutes=6), actor_id=1, type="task_assigned", payload={
            "task_id": "t-1", "department_code": "D1", "project_code": "P", "item_name": None, "text": "办理。",
            "due_working_days": 3}),
        ms.Event(seq=6, ts=START + timedelta(minutes=7), actor_id=1, type="decision_recorded", payload={
            "decision_id": "d-1", "project_code": "P", "item_name": None, "text": "议定。"}),
    )
    return ms.MinutesSource(
        centre=ms.Centre(name="中心", issuer="并联审批办公室", absent_policy=policy, absent_opinion_due_working_days=2),
        meeting=ms.Meeting(id=7, title="某项目并联审批会议", place="会商室", scheduled_start=START,
                           scheduled_end=START + timedelta(hours=1), chair=people[0], lead_department_code="D1"),
        sites=(), departments=(ms.Department(id=11, code="D1", name="一局", level="county"),
                               ms.Department(id=12, code="D2", name="二局", level="county")),
        people=people,
        invitations=(ms.Invitation(capacity="member", department_code="D1"),
                     ms.Invitation(capacity="member", department_code="D2", excused_reason="外出")),
        cases=(ms.Case(project_code="P", name="某项目", applicant_name="某公司", applicant_credit_code="X",
                       location="凤庆县", total_investment="10.00", scale_content="", category="filing"),),
        items=(ms.Item(position=1, project_code="P", name="事项", department_code="D1", level="county",
                       statutory_limit_wd=20, promised_limit_wd=5, status="in_review"),),
        events=log, calendar=CALENDAR, labels=LABELS)


def test_numbers_are_spelled_and_read_as_gb_t_9704_writes_them() -> None:
    assert format_number("凤联审纪", 2026, 3) == "凤联审纪〔2026〕3号"
    assert parse_number("凤联审纪〔2026〕17号") == ("凤联审纪", 2026, 17)
    for bad in ("凤联审纪〔2026〕03号", "凤联审纪[2026]3号", draft_number("凤联审纪", 2026)):
        with pytest.raises(ValueError):
            parse_number(bad)
    with pytest.raises(ValueError):
        format_number("凤联审纪", 2026, 0)


def test_due_dates_count_working_days_across_the_holiday() -> None:
    minutes = build_minutes(_source(), number="N〔2026〕1号")
    # 9-30 + 3 working days: Oct 8 (Thu), Oct 9 (Fri), Oct 10 (make-up Saturday).
    assert minutes.tasks[0].tasks[0].due_date == "2026-10-10"
    assert not minutes.tasks[0].tasks[0].provisional
    unconfirmed = _source().model_copy(update={"calendar": CALENDAR.model_copy(update={"confirmed_years": frozenset()})})
    assert build_minutes(unconfirmed, number="N〔2026〕1号").tasks[0].tasks[0].provisional


@pytest.mark.parametrize(("policy", "statement", "due"), [
    ("deemed_accept", "二局未出席会议，对事项视为同意会议议定事项。", None),
    ("pending", "二局未出席会议，对事项的意见待定，须于2026年10月9日前书面报送意见。",
     "2026-10-09"),
])
def test_an_absent_department_is_listed_with_the_centre_policy(policy, statement, due) -> None:
    minutes = build_minutes(_source(policy), number="N〔2026〕1号")
    [absent] = minutes.attendance.absent
    assert (absent.name, absent.reason, absent.statement, absent.opinion_due) == ("二局", "外出", statement, due)
    assert [a.department for a in minutes.items[0].absent] == ["二局"]
    assert minutes.absent_policy == policy


def test_a_b_post_is_recorded_standing_in_for_the_a_post() -> None:
    minutes = build_minutes(_source(), number="N〔2026〕1号")
    [present] = minutes.attendance.present
    assert present.people[0].model_dump() == {"name": "乙", "title": "", "post": "B", "post_label": "B岗",
                                               "stands_in_for": "甲", "poor_link_minutes": 0}
    assert minutes.items[0].opinions[0].given_by == "乙"


def test_building_is_deterministic_and_ignores_what_is_not_on_record() -> None:
    source = _source()
    first = build_minutes(source, number="N〔2026〕1号")
    shuffled = source.model_copy(update={"events": tuple(reversed(source.events))})
    assert build_minutes(shuffled, number="N〔2026〕1号") == first  # seq order, not list order
    assert render(first, "json") == render(build_minutes(source, number="N〔2026〕1号"), "json")
    assert Minutes.model_validate_json(render(first, "json")) == first
    assert "properties" in Minutes.model_json_schema()


def test_edits_change_free_text_only() -> None:
    minutes = build_minutes(_source(), number="N〔2026〕1号")
    assert editable_paths(minutes) == ["summary", "items/1/outcome", "decisions/d-1/text", "tasks/t-1/text"]
    edited = apply_edits(minutes, [TextEdit("decisions/d-1/text", " 会议议定。 "), TextEdit("summary", "小结。")])
    assert (edited.decisions[0].text, edited.summary) == ("会议议定。", "小结。")
    assert minutes.decisions[0].text == "议定。"  # the original is unchanged
    for bad in (TextEdit("items/1/opinions", "x"), TextEdit("decisions/d-9/text", "x"),
                TextEdit("tasks/t-1/text", "  "), TextEdit("summary", "a\x00b")):
        with pytest.raises(EditError):
            apply_edits(minutes, [TextEdit("summary", "先改"), bad])
