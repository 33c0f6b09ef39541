"""The 一次性告知书: every material the applicant must supplement, for every item, in one document.

行政许可法 §32 and the centre's 一次性告知 rule: the applicant is told all missing materials at
once and in writing, not one department at a time. The notice is derived from the minutes, so it
can never list something the minutes do not, or miss something they do. Its wording on paper is
minutes.render.layout.notice_blocks: this module is data only, so the renderers may import it.

One letter per applicant (a joint meeting reviews several applicants' cases, and each is told only
about its own), each with its own number and 送达回证. The number is derived from the minutes'
number, so it needs no sequence of its own and the same minutes always give the same numbers:
the 纪 that closes the minutes' prefix becomes 告 (凤联审纪〔2026〕21号 -> 凤联审告〔2026〕21号;
a prefix without 纪 gets 告 appended), and when the meeting reviewed more than one applicant's
cases the applicant's order in the minutes follows the serial (凤联审告〔2026〕21-2号). The number
is fixed when the minutes are built (Case.notice_number), so a notice cut down to one applicant's
cases keeps the number it has in the whole.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from minutes.model import Agency, Case, Material, Minutes


class NoticeItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    project_code: str
    item_name: str
    materials: list[Material]


class Letter(BaseModel):
    """The notice to one applicant: its cases and the materials asked of them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    applicant: str
    agency: Agency | None
    cases: list[Case]
    items: list[NoticeItem]
    materials: list[Material]


class Notice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    meeting_title: str
    meeting_date: str
    issuer: str
    issued_on: str
    telephone: str
    letters: list[Letter]

    @property
    def materials(self) -> list[Material]:
        """Every material of every letter, in letter order."""
        return [material for letter in self.letters for material in letter.materials]


def notice_number(minutes_number: str, serial: int | None = None) -> str:
    """The notice's number derived from the minutes' (see the module doc); `serial`: the
    applicant's order when the meeting reviewed several applicants' cases."""
    prefix, bracket, rest = minutes_number.partition("〔")
    prefix = prefix.removesuffix("纪") + "告"
    if serial is not None:
        rest = f"{rest.removesuffix('号')}-{serial}号" if rest.endswith("号") else f"{rest}-{serial}"
    return f"{prefix}{bracket}{rest}"


def build_notice(minutes: Minutes) -> Notice:
    """The notice for the applicant(s) of the minutes' cases: a letter per applicant in case
    order, its materials grouped by item in agenda order (items without a request are left out)."""
    order = {(i.project_code, i.name): i.position for i in minutes.items}
    ranked = sorted(minutes.materials,
                    key=lambda mat: (order.get((mat.project_code, mat.item_name), len(order) + 1)))
    applicants: dict[str, list[Case]] = {}
    for case in minutes.cases:
        applicants.setdefault(case.applicant_credit_code or case.applicant, []).append(case)
    several = len(applicants) > 1
    letters = []
    for serial, cases in enumerate(applicants.values(), start=1):
        codes = {case.project_code for case in cases}
        items: dict[tuple[str, str], list[Material]] = {}
        for material in ranked:
            if material.project_code in codes:
                items.setdefault((material.project_code, material.item_name), []).append(material)
        first = cases[0]
        letters.append(Letter(
            number=first.notice_number or notice_number(minutes.number, serial if several else None),
            applicant=first.applicant, agency=next((c.agency for c in cases if c.agency), None), cases=cases,
            items=[NoticeItem(project_code=code, item_name=name, materials=found)
                   for (code, name), found in items.items()],
            materials=[material for found in items.values() for material in found]))
    return Notice(title="补正材料一次性告知书", meeting_title=minutes.meeting_title, meeting_date=minutes.date,
                  issuer=minutes.issuer, issued_on=minutes.issued_on or minutes.date,
                  telephone=minutes.contact_phone, letters=letters)
