"""The 一次性告知书: every material the applicant must supplement, for every item, in one document.

行政许可法 §32 and the centre's 一次性告知 rule: the applicant is told all missing materials at
once and in writing, not one department at a time. The notice is derived from the minutes, so it
can never list something the minutes do not, or miss something they do. Its wording on paper is
minutes.render.layout.notice_blocks: this module is data only, so the renderers may import it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from minutes.model import Material, Minutes


class NoticeItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    project_code: str
    item_name: str
    materials: list[Material]


class Notice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    number: str
    addressees: list[str]
    meeting_title: str
    meeting_date: str
    issuer: str
    items: list[NoticeItem]
    materials: list[Material]


def build_notice(minutes: Minutes) -> Notice:
    """The notice for the applicant(s) of the minutes' cases, materials grouped by item in
    agenda order (items without a request are left out)."""
    order = {(i.project_code, i.name): i.position for i in minutes.items}
    ranked = sorted(minutes.materials,
                    key=lambda mat: (order.get((mat.project_code, mat.item_name), len(order) + 1)))
    items: dict[tuple[str, str], list[Material]] = {}
    for material in ranked:
        items.setdefault((material.project_code, material.item_name), []).append(material)
    return Notice(
        title="补正材料一次性告知书",
        number=f"{minutes.number}附件",
        addressees=list(dict.fromkeys(case.applicant for case in minutes.cases)),
        meeting_title=minutes.meeting_title,
        meeting_date=minutes.date,
        issuer=minutes.issuer,
        items=[NoticeItem(project_code=code, item_name=name, materials=found)
               for (code, name), found in items.items()],
        materials=ranked,
    )
