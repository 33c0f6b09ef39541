"""Minutes that print only what the record holds (issue 12, "Truthful rules"), on sources made by
hand: post-meeting amendments printed as such, the absent-department policy only on items actually
reviewed (never for an item's own lead department, nor for a department owing a written opinion),
items never opened listed as not reviewed, and the meeting's start and end from the record in
Beijing time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from minutes import model as m, source as ms
from minutes.build import build_minutes
from minutes.render.layout import Heading, Para, meeting_time, minutes_blocks

LIVE = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)  # 3:30 on 2 December in Beijing
CODE = "2611-530921-04-01-512345"
FILING, LAND = "企业投资项目备案", "建设项目用地预审与选址意见书核发"
CALENDAR = ms.WorkCalendar(confirmed_years=frozenset({2026}))
NUMBER = "N〔2026〕1号"


def _event(seq: int, minutes: float, actor: int | None, type: str, **payload: Any) -> ms.Event:
    return ms.Event(seq=seq, ts=LIVE + timedelta(minutes=minutes), actor_id=actor, type=type, payload=payload)


def _opinion(item: str, department: str, post: str, kind: str, text: str, revision: int = 1) -> dict[str, Any]:
    return {"opinion_id": f"op-{item}-{department}", "revision": revision, "project_code": CODE, "item_name": item,
            "department_code": department, "post": post, "kind": kind, "text": text, "conditions": [],
            "reasons": "", "legal_basis": "", "remedy_notice": "", "refer_to": None}


class Log:
    """A meeting's log written in order, one minute apart unless told otherwise."""

    def __init__(self) -> None:
        self.events: list[ms.Event] = []
        self.minute = -1.0

    def add(self, actor: int | None, type: str, at: float | None = None, **payload: Any) -> Log:
        """Append an event `at` minutes after LIVE (default: a minute after the last one)."""
        self.minute = at if at is not None else self.minute + 1
        self.events.append(_event(len(self.events) + 1, self.minute, actor, type, **payload))
        return self

    def live(self) -> Log:
        return self.add(1, "meeting_status_changed", at=0, **{"from": "scheduled", "to": "live", "note": ""})

    def end(self, at: float) -> Log:
        return self.add(1, "meeting_status_changed", at=at, **{"from": "live", "to": "ended", "note": ""})

    def join(self, user_id: int, department_id: int, post: str) -> Log:
        return self.add(user_id, "participant_joined", participant_id=f"p{user_id}", user_id=user_id,
                        display_name=PEOPLE[user_id].display_name, unit="", capacity="member",
                        department_id=department_id, post=post, token_id=None, via="session")

    def open(self, item: str, position: int) -> Log:
        return self.add(1, "agenda_item_opened", project_code=CODE, item_name=item, position=position)

    def opinion(self, user_id: int, item: str, department: str, kind: str = "agree", text: str = "同意。") -> Log:
        return self.add(user_id, "opinion_submitted", **_opinion(item, department, PEOPLE[user_id].post or "A",
                                                                 kind, text))


PEOPLE = {1: ms.Person(user_id=1, display_name="李主任", title="主任"),
          2: ms.Person(user_id=2, display_name="王发改", department_code="FGJ", post="A"),
          3: ms.Person(user_id=3, display_name="赵发改", department_code="FGJ", post="B"),
          4: ms.Person(user_id=4, display_name="钱自然", department_code="ZRJ", post="A"),
          5: ms.Person(user_id=5, display_name="孙市发改", department_code="CITY", post="A")}
DEPARTMENTS = (ms.Department(id=11, code="FGJ", name="县发改局", level="county"),
               ms.Department(id=12, code="ZRJ", name="县自然资源局", level="county"),
               ms.Department(id=13, code="CITY", name="市发改委", level="city"))


def _source(log: Log, *, members: tuple[str, ...] = ("FGJ", "ZRJ", "CITY"), policy: str = "deemed_accept",
            land_lead: str = "ZRJ") -> ms.MinutesSource:
    """Two items on the agenda: the filing (led by 县发改局) and the land item (by `land_lead`)."""
    return ms.MinutesSource(
        centre=ms.Centre(name="中心", issuer="并联审批办公室", absent_policy=policy, absent_opinion_due_working_days=3),
        meeting=ms.Meeting(id=7, title="某项目并联审批会议", place="会商室", scheduled_start=LIVE - timedelta(hours=1),
                           scheduled_end=LIVE + timedelta(hours=1), chair=PEOPLE[1], lead_department_code="FGJ"),
        sites=(), departments=DEPARTMENTS, people=tuple(PEOPLE.values()),
        invitations=tuple(ms.Invitation(capacity="member", department_code=code) for code in members),
        cases=(ms.Case(project_code=CODE, name="某项目", applicant_name="某公司", applicant_credit_code="X",
                       location="凤庆县", total_investment="10.00", scale_content="", category="filing"),),
        items=(ms.Item(position=1, project_code=CODE, name=FILING, department_code="FGJ", level="county",
                       statutory_limit_wd=20, promised_limit_wd=5, status="in_review"),
               ms.Item(position=2, project_code=CODE, name=LAND, department_code=land_lead, level="county",
                       statutory_limit_wd=20, promised_limit_wd=12, status="in_review")),
        events=tuple(log.events), calendar=CALENDAR,
        labels=ms.Labels(level={"county": "县"}, category={"filing": "备案制"}))


def _text(minutes: m.Minutes) -> str:
    """The document's words as every rendering lays them out (labels included)."""
    return "\n".join(f"{b.label}{b.text}" if isinstance(b, Para) else b.text
                     for b in minutes_blocks(minutes) if isinstance(b, Para | Heading))


def _absent(item: m.Item) -> dict[str, tuple[str, str]]:
    return {a.department_code: (a.status, a.statement) for a in item.absent}


# ------------------------------------------------------------------ amendments


def test_an_amendment_after_the_meeting_is_printed_as_a_post_meeting_amendment() -> None:
    log = Log().live().join(2, 11, "A").open(FILING, 1).opinion(2, FILING, "FGJ", "conditional", "附条件同意。")
    log.add(2, "opinion_amended", **_opinion(FILING, "FGJ", "A", "agree", "同意。", revision=2),
            amendment_reason="核实后同意。")
    log.end(at=60)
    log.add(3, "opinion_amended", at=60 * 24 * 2 + 7 * 60,  # two days later, 10:30 in Beijing, by the B post
            **_opinion(FILING, "FGJ", "B", "refer_upward", "需转报市级。", revision=3),
            amendment_reason="超出县级权限。")
    minutes = build_minutes(_source(log, members=("FGJ",)), number=NUMBER)
    [opinion] = minutes.items[0].opinions
    during, after = opinion.amendments
    assert (during.phase, during.phase_label, during.by, during.post_label) == ("during", "会中", "王发改", "A岗")
    assert (after.phase, after.phase_label, after.by, after.post, after.post_label, after.at, after.reason) == (
        "after", "会后", "赵发改", "B", "B岗", "2026-12-04T10:30", "超出县级权限。")
    assert (opinion.given_by, opinion.post_label, opinion.revision) == ("赵发改", "B岗", 3)
    text = _text(minutes)
    assert "（会中修改：2026年12月2日3时34分，王发改（A岗），理由：核实后同意。）" in text
    assert "（会后修改：2026年12月4日10时30分，赵发改（B岗），理由：超出县级权限。）" in text
    assert "县发改局（赵发改，B岗）：" in text
    assert "会中修改意见" not in text and text.count("会中修改") == 1


# ------------------------------------------------------------------ absent departments, reviewed items


def test_an_absent_department_is_deemed_to_agree_only_on_the_items_reviewed() -> None:
    log = Log().live().join(2, 11, "A").join(4, 12, "A").open(FILING, 1).opinion(2, FILING, "FGJ")
    log.opinion(4, FILING, "ZRJ").add(1, "agenda_item_closed", project_code=CODE, item_name=FILING, position=1,
                                     outcome="通过。").end(at=30)
    minutes = build_minutes(_source(log), number=NUMBER)
    filing, land = minutes.items
    assert (filing.reviewed, land.reviewed) == (True, False)
    assert _absent(filing) == {"CITY": ("deemed_accept", "未出席，视为同意会议议定事项")}
    assert land.absent == [] and land.opinions == []
    [city] = minutes.attendance.absent
    assert city.statement == f"市发改委未出席会议，对{FILING}视为同意会议议定事项。"
    text = _text(minutes)
    assert f"对{FILING}视为同意" in text and f"{LAND}视为同意" not in text
    part = text.index("未审议事项")
    assert LAND in text[part:] and "本次会议未审议" in text[part:] and "视为同意" not in text[part:].split("\n")[1]
    assert "对某项目的1个审批事项进行并联审查（另有1个事项未审议）" in text


def test_no_item_opened_means_nobody_is_deemed_to_agree_to_anything() -> None:
    minutes = build_minutes(_source(Log().live().join(2, 11, "A").end(at=5)), number=NUMBER)
    assert [i.reviewed for i in minutes.items] == [False, False]
    assert all(i.absent == [] for i in minutes.items)
    assert [a.statement for a in minutes.attendance.absent] == ["县自然资源局未出席会议。", "市发改委未出席会议。"]
    text = _text(minutes)
    assert "某项目的2个审批事项均未审议" in text and "本次会议未审议审批事项。" in text
    assert "视为同意会议议定事项。" not in text.replace("对会议已审议的事项视为同意会议议定事项", "")


@pytest.mark.parametrize("policy", ["deemed_accept", "pending"])
def test_an_items_own_lead_department_is_never_deemed_to_agree_on_it(policy: str) -> None:
    log = Log().live().join(2, 11, "A").open(LAND, 2).opinion(2, LAND, "FGJ").end(at=30)
    minutes = build_minutes(_source(log, members=("FGJ", "ZRJ"), policy=policy), number=NUMBER)
    land = minutes.items[1]
    assert _absent(land) == {"ZRJ": ("own_opinion_required",
                                     "未出席，未出具意见；本事项由该部门主办，须由本部门出具意见（会后跟进）")}
    [zrj] = minutes.attendance.absent
    assert zrj.statement == f"县自然资源局未出席会议，{LAND}由该部门主办，须由本部门出具意见。"
    assert zrj.opinion_due is None
    assert "视为同意" not in _absent(land)["ZRJ"][1]


def test_a_present_lead_department_without_an_opinion_is_named_for_follow_up() -> None:
    log = Log().live().join(2, 11, "A").join(4, 12, "A").open(LAND, 2).opinion(2, LAND, "FGJ").end(at=30)
    minutes = build_minutes(_source(log, members=("FGJ", "ZRJ")), number=NUMBER)
    assert _absent(minutes.items[1]) == {"ZRJ": ("own_opinion_required",
                                                 "未出具意见；本事项由该部门主办，须由本部门出具意见（会后跟进）")}
    assert minutes.attendance.absent == []


def test_a_department_owing_a_written_opinion_is_not_deemed_to_agree() -> None:
    log = Log().live().join(2, 11, "A").join(4, 12, "A").open(FILING, 1).opinion(2, FILING, "FGJ")
    log.opinion(4, FILING, "ZRJ").add(1, "task_assigned", task_id="t-1", department_code="CITY", project_code=CODE,
                                     item_name=FILING, text="会后书面报送意见。", due_working_days=3).end(at=30)
    minutes = build_minutes(_source(log), number=NUMBER)
    assert _absent(minutes.items[0]) == {"CITY": ("written_opinion", "未出席，意见待定（会后书面报送）")}
    assert minutes.attendance.absent[0].statement == f"市发改委未出席会议，对{FILING}的意见待定，会后书面报送。"
    assert "视为同意会议议定事项。" not in _text(minutes).replace("对会议已审议的事项视为同意会议议定事项", "")


def test_under_the_pending_policy_an_absent_department_owes_its_opinion_on_reviewed_items_only() -> None:
    log = Log().live().join(2, 11, "A").join(4, 12, "A").open(FILING, 1).opinion(2, FILING, "FGJ")
    log.opinion(4, FILING, "ZRJ").end(at=30)
    minutes = build_minutes(_source(log, policy="pending"), number=NUMBER)
    [city] = minutes.attendance.absent
    # 2 Dec (Wed) + 3 working days = 7 Dec (Mon)
    assert (city.opinion_due, city.statement) == (
        "2026-12-07", f"市发改委未出席会议，对{FILING}的意见待定，须于2026年12月7日前书面报送意见。")
    assert _absent(minutes.items[0]) == {"CITY": ("pending", "未出席，意见待定（须于2026年12月7日前书面报送）")}
    assert minutes.items[1].absent == []


# ------------------------------------------------------------------ start and end


def test_start_and_end_come_from_the_record_in_beijing_time() -> None:
    minutes = build_minutes(_source(Log().live().join(2, 11, "A").end(at=45)), number=NUMBER)
    assert (minutes.date, minutes.start, minutes.end, minutes.start_planned) == (
        "2026-12-02", "2026-12-02T03:30", "2026-12-02T04:15", False)
    assert _text(minutes).startswith("2026年12月2日3时30分至4时15分，")


def test_a_meeting_never_opened_prints_its_planned_time_as_planned() -> None:
    minutes = build_minutes(_source(Log()), number=NUMBER)
    assert (minutes.date, minutes.start, minutes.end, minutes.start_planned) == (
        "2026-12-02", "2026-12-02T02:30", None, True)
    assert _text(minutes).startswith("2026年12月2日2时30分（计划时间），")


@pytest.mark.parametrize(("log", "printed"), [
    (Log().live(), "2026年12月2日3时30分，"),  # still running: only the start
    (Log().live().end(at=0.5), "2026年12月2日3时30分，"),  # ended the minute it started: one time
    (Log().live().end(at=60 * 21), "2026年12月2日3时30分至2026年12月3日0时30分，"),  # over midnight
])
def test_the_time_is_printed_honestly_when_the_end_is_missing_equal_or_another_day(log: Log, printed: str) -> None:
    minutes = build_minutes(_source(log), number=NUMBER)
    assert meeting_time(minutes) + "，" == printed
    assert _text(minutes).startswith(printed)


# ------------------------------------------------------------------ clocks


def test_the_clocks_given_with_the_source_are_printed_as_given() -> None:
    case_clock = m.CaseClock(state="running", state_label="计时中", limit_wd=34, start="2026-11-02", used=22,
                             left=12, deadline="2026-12-18", overdue=False, suspended=False, provisional=False)
    item_clock = m.ItemClock(state="suspended", state_label="中止计时（补正）", used=7, left=-2,
                             promised_deadline=None, statutory_deadline=None, overdue=True,
                             statutory_overdue=False, suspended=True, provisional=True)
    source = _source(Log().live().open(FILING, 1).end(at=10))
    source = source.model_copy(update={
        "cases": (source.cases[0].model_copy(update={"clock": case_clock}),),
        "items": (source.items[0].model_copy(update={"clock": item_clock}), source.items[1])})
    minutes = build_minutes(source, number=NUMBER)
    assert (minutes.cases[0].clock, minutes.items[0].clock, minutes.items[1].clock) == (case_clock, item_clock, None)
    text = _text(minutes)
    assert ("办理时限：本中心承诺备案制项目34个工作日内办结，自2026年11月2日受理起计，截至2026年12月2日"
            "计时中，已用22个工作日，剩余12个工作日，承诺办结日2026年12月18日。") in text
    assert "截至会议当日中止计时（补正），已用7个工作日，超期2个工作日（暂定，该年度节假日安排未确认）。" in text


def test_minutes_stored_before_these_fields_still_load() -> None:
    minutes = build_minutes(_source(Log().live().open(FILING, 1).end(at=10)), number=NUMBER)
    stored = minutes.model_dump(mode="json")
    for field in ("start_planned",):
        stored.pop(field)
    for item in stored["items"]:
        item.pop("reviewed"), item.pop("clock")
    assert m.Minutes.model_validate(stored).items[0].reviewed
    assert date.fromisoformat(minutes.date) == date(2026, 12, 2)
