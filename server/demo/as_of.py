"""The demo as of the day it is loaded: server.demo.data moved by whole weeks.

The data describes the world on ``DATA_AS_OF`` (a meeting held eleven days before, one scheduled a
week after, cases part-way through their clocks). Loaded months later as it stood, every case would
be long overdue and the "coming" meeting long past, so the loader takes the same world moved to the
day it is loaded: every date and time moves by the same whole number of weeks. Whole weeks keep the
weekdays (a Friday decision stays a Friday), so the clocks read as they do on ``DATA_AS_OF``, give
or take the holidays the moved dates now cross. A weekday can still be a public holiday (a meeting
moved onto 1 January): ``shift_for`` asks the working-day calendar and takes the nearest whole
number of weeks that keeps every meeting on a working day.

What moves (``demo_world``, the one place that applies the shift):
- every ``date`` and ``datetime`` field of the cases, commissions and meetings (acceptance,
  decision, suspension, planned dates; meeting times, so the events' timestamps, which count from
  the meeting's start);
- the calendar references written in text: full dates (2026年11月20日), months (2027年3月), ISO
  dates (the clock notices' ``effective_date``) and the compact dates in keys (FQ-20261120-R1);
- the identifiers that carry their own date: a document number's year (〔2026〕, and the year in a
  planning certificate number 用字第530921202600058号) follows its document's date, and a current
  format project code's issue month (2610-...) follows the case's first acceptance, wherever the
  identifier is written (a code quoted in a result, a number quoted in a decision).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from server.demo import data
from server.demo.records import Case, Commission, Meeting
from server.domain.project_code import parse_project_code
from server.domain.workcalendar import WorkCalendar

WEEK = timedelta(days=7)
SEARCH_WEEKS = 4  # how far from the nearest week shift_for looks; holidays last at most about a week
T = TypeVar("T")

_FULL_OR_MONTH = re.compile(r"(\d{4})年(\d{1,2})月(?:(\d{1,2})日)?")
_ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
_KEY_DATE = re.compile(r"(?<=FQ-)(\d{4})(\d{2})(\d{2})(?!\d)")
_DOCUMENT_YEAR = re.compile(r"〔(\d{4})〕|(?<=\d{6})(\d{4})(?=\d{5}号)")


@dataclass(frozen=True)
class DemoWorld:
    """The demo's cases, commissions and meetings as of ``DATA_AS_OF + shift``."""

    shift: timedelta
    cases: tuple[Case, ...]
    commissions: tuple[Commission, ...]
    meetings: tuple[Meeting, ...]

    @property
    def as_of(self) -> date:
        """The day this world describes (``DATA_AS_OF`` moved)."""
        return data.DATA_AS_OF + self.shift


def shift_for(today: date, calendar: WorkCalendar) -> timedelta:
    """The whole number of weeks nearest to ``today - DATA_AS_OF`` that puts every meeting day on
    a working day of ``calendar``; when the nearest would not, a week later, then a week earlier,
    and so on out to ``SEARCH_WEEKS`` (later first: the coming meeting should still be to come).
    ValueError if none does (a calendar that cannot be right)."""
    nearest = round((today - data.DATA_AS_OF).days / 7)
    days = _meeting_days()
    for distance in range(SEARCH_WEEKS + 1):
        for weeks in dict.fromkeys((nearest + distance, nearest - distance)):
            shift = WEEK * weeks
            if all(calendar.is_working_day(day + shift) for day in days):
                return shift
    raise ValueError(f"演示会议在{today}前后{SEARCH_WEEKS}周内都落在节假日 / no shift within {SEARCH_WEEKS} "
                     f"weeks of {today} puts the demo's meetings on working days")


def _meeting_days() -> frozenset[date]:
    """The days the demo's meetings are scheduled or held on (local dates, as the data gives them)."""
    return frozenset(moment.date() for meeting in data.MEETINGS
                     for moment in (meeting.scheduled_start, meeting.scheduled_end,
                                    meeting.actual_start, meeting.actual_end) if moment is not None)


def demo_world(shift: timedelta) -> DemoWorld:
    """The demo data with every date, calendar reference and dated identifier moved by ``shift``
    (a whole number of weeks; ValueError otherwise)."""
    if shift % WEEK:
        raise ValueError(f"演示数据只能整周平移 / the demo moves by whole weeks, not {shift}")
    renames = _renamed_identifiers(shift)
    pattern = (re.compile("|".join(re.escape(old) for old in sorted(renames, key=len, reverse=True)))
               if renames else None)

    def text(value: str) -> str:
        if pattern is not None:
            value = pattern.sub(lambda m: renames[m.group(0)], value)
        return _redated_text(value, shift)

    return DemoWorld(shift, _moved(data.CASES, shift, text), _moved(data.COMMISSIONS, shift, text),
                     _moved(data.MEETINGS, shift, text))


def _moved(value: T, shift: timedelta, text: Callable[[str], str]) -> T:
    """``value`` (records, tuples, dicts, dates, text) with its dates moved and text rewritten."""
    moved: Any
    if isinstance(value, date):  # a datetime is a date too: both move by the same timedelta
        moved = value + shift
    elif isinstance(value, str):
        moved = text(value)
    elif isinstance(value, (tuple, list)):
        moved = type(value)(_moved(v, shift, text) for v in value)
    elif isinstance(value, dict):
        moved = {k: _moved(v, shift, text) for k, v in value.items()}
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        moved = dataclasses.replace(value, **{f.name: _moved(getattr(value, f.name), shift, text)
                                              for f in dataclasses.fields(value)})
    else:
        moved = value
    return moved


def _redated_text(value: str, shift: timedelta) -> str:
    """Full dates, months, ISO dates and key dates in ``value`` moved by ``shift``. A month alone
    moves as its first day does."""

    def full_or_month(m: re.Match[str]) -> str:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)) + shift
        return f"{day.year}年{day.month}月" + (f"{day.day}日" if m.group(3) else "")

    def iso(m: re.Match[str]) -> str:
        return (date(int(m.group(1)), int(m.group(2)), int(m.group(3))) + shift).isoformat()

    def key(m: re.Match[str]) -> str:
        return (date(int(m.group(1)), int(m.group(2)), int(m.group(3))) + shift).strftime("%Y%m%d")

    return _KEY_DATE.sub(key, _ISO_DATE.sub(iso, _FULL_OR_MONTH.sub(full_or_month, value)))


def _renamed_identifiers(shift: timedelta) -> dict[str, str]:
    """Old -> new for every dated identifier whose date moves into another year (document
    numbers) or month (project codes)."""
    renames: dict[str, str] = {}
    for number, day in _dated_numbers():
        renames[number] = _in_year(number, (day + shift).year)
    divisions = {division.code for division in data.DIVISIONS}
    for case in data.CASES:
        code = parse_project_code(case.project_code, divisions, data.DATA_AS_OF)
        accepted = [item.accepted_on for item in case.items if item.accepted_on is not None]
        if code.format == "new" and accepted:
            issued = min(accepted) + shift
            renames[case.project_code] = f"{issued:%y%m}{case.project_code[4:]}"
    return {old: new for old, new in renames.items() if old != new}


def _in_year(number: str, year: int) -> str:
    """A document number with its year (〔2026〕, or the year inside a certificate number) replaced."""
    return _DOCUMENT_YEAR.sub(lambda m: f"〔{year}〕" if m.group(1) else str(year), number)


def _dated_numbers() -> Iterable[tuple[str, date]]:
    """Each document number of the data with the date of its document."""
    for case in data.CASES:
        for item in case.items:
            if item.document_no and item.decided_on is not None:
                yield item.document_no, item.decided_on
            for suspension in item.suspensions:
                yield suspension.suspend_notice_no, suspension.start
                if suspension.end is not None:
                    yield suspension.resume_notice_no, suspension.end
    for commission in data.COMMISSIONS:
        yield commission.document_no, commission.granted_on
    for meeting in data.MEETINGS:
        if meeting.minutes_no and meeting.actual_start is not None:
            yield meeting.minutes_no, meeting.actual_start.date()
