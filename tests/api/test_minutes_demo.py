"""The demo's ended meeting yields complete minutes out of the box (issue 6): every invited
department's opinion on every item, 附条件同意 and 不同意 with their conditions, reasons and legal
basis, materials, decisions, tasks, the absent department with the centre's policy; and
`lianshen minutes render` writes them from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from minutes.build import build_minutes
from minutes.notice import build_notice
from minutes.render import render, render_notice
from server.demo import data
from server.demo.seed import seed_demo
from server.services.minutes_source import load_minutes_source
from tests.minutes_checks import check_docx, check_html, check_pdf, pdf_text

ENDED = next(m for m in data.MEETINGS if m.status == "ended")


async def _demo_minutes(db_sessions, settings):
    async with db_sessions() as db:
        from server.services.calendar import seed_calendar

        await seed_calendar(db)
        summary = await seed_demo(db, settings, today=data.DATA_AS_OF)
        await db.commit()
    meeting_id = next(m["id"] for m in summary["meetings"] if m["title"] == ENDED.title)
    async with db_sessions() as db:
        source = await load_minutes_source(db, meeting_id, settings)
    return build_minutes(source, number=ENDED.minutes_no)


async def test_demo_meeting_minutes_are_complete(db_sessions, settings) -> None:
    minutes = await _demo_minutes(db_sessions, settings)
    departments = {d.code: d.name for d in data.DEPARTMENTS}
    members = [i.department_code for i in ENDED.invitations if i.capacity == "member"]
    attended = [i.department_code for i in ENDED.invitations if i.capacity == "member" and i.attended_by]
    assert [u.code for u in minutes.attendance.present] == attended
    assert [a.code for a in minutes.attendance.absent] == sorted(set(members) - set(attended))
    assert minutes.attendance.absent[0].statement.endswith("视为同意会议议定事项。")
    for item in minutes.items:
        assert sorted(o.department_code for o in item.opinions) == sorted(attended), item.name
        assert all(o.given_by and o.recording for o in item.opinions)
    opinions = [o for item in minutes.items for o in item.opinions]
    assert {o.kind for o in opinions} >= {"agree", "agree_in_principle", "conditional", "disagree"}
    assert all(o.conditions for o in opinions if o.kind == "conditional")
    assert all(o.reasons and o.legal_basis and o.remedy_notice for o in opinions if o.kind == "disagree")
    assert any(o.amendments for o in opinions)
    assert len(minutes.materials) == 3 and len(minutes.decisions) == 7
    # 7 tasks: the excused 县应急管理局 is deemed to agree, so it owes no written opinion
    assert sum(len(g.tasks) for g in minutes.tasks) == 7 and len(minutes.clock) == 2
    expected = [minutes.title, ENDED.minutes_no, *(departments[c] for c in members), "附条件同意", "不同意",
                "请假", "列席", *(m.material for m in minutes.materials)]
    pdf = render(minutes, "pdf")
    check_pdf(pdf, expected)
    assert all(o.text.replace(" ", "")[:20] in pdf_text(pdf) for o in opinions)
    check_docx(render(minutes, "docx"), expected)
    check_html(render(minutes, "html"), expected)
    notice = build_notice(minutes)
    check_pdf(render_notice(notice, "pdf"), [m.material for m in minutes.materials])


def test_cli_renders_the_demo_minutes(tmp_path: Path) -> None:
    env = {**os.environ, "LIANSHEN_DATA_DIR": str(tmp_path / "data")}
    env.pop("LIANSHEN_DATABASE_URL", None)

    def lianshen(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "server", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    assert lianshen("demo", "--no-serve").returncode == 0
    for fmt in ("pdf", "docx", "html", "json"):
        out = tmp_path / f"minutes.{fmt}"
        done = lianshen("minutes", "render", "1", "--format", fmt, "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 1000
    assert pdf_text((tmp_path / "minutes.pdf").read_bytes()).count("凤庆县水务局") >= 4
    notice = lianshen("minutes", "notice", "1", "--format", "pdf", "--out", str(tmp_path / "notice.pdf"))
    assert notice.returncode == 0 and "一次性告知书" in pdf_text((tmp_path / "notice.pdf").read_bytes())
    missing = lianshen("minutes", "render", "999", "--format", "pdf", "--out", str(tmp_path / "x.pdf"))
    assert missing.returncode == 1 and "no meeting 999" in missing.stderr
    assert not (tmp_path / "x.pdf").exists()
