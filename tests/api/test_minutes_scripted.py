"""Minutes of a scripted meeting written through the event-log service: the JSON equals the reviewed
golden file, and the PDF, DOCX and HTML renderings hold the same content (issue 6).

Set LIANSHEN_WRITE_GOLDEN=1 to rewrite the golden file after a deliberate change; review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from minutes.build import build_minutes
from minutes.notice import build_notice
from minutes.render import render, render_notice
from server.services.minutes_source import load_minutes_source
from tests.api import minutes_script
from tests.minutes_checks import check_docx, check_html, check_pdf
from tests.world import build_world

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "minutes_scripted.json"
NUMBER = "凤联审纪〔2026〕21号"


def _comparable(content: dict[str, Any], meeting_id: int) -> dict[str, Any]:
    """Database ids and the chain head differ between SQLite and PostgreSQL runs; everything
    else must be identical."""
    text = json.dumps(content, ensure_ascii=False).replace(f"/meetings/{meeting_id}/", "/meetings/<id>/")
    comparable = json.loads(text)
    comparable["meeting_id"] = "<id>"
    comparable["source_log"]["head_hash"] = "<hash>"
    return comparable


@pytest.fixture
async def scripted(db_sessions, settings):
    world = await build_world(db_sessions)
    await minutes_script.arrange(db_sessions, world)
    await minutes_script.run_meeting(db_sessions, world)
    async with db_sessions() as db:
        source = await load_minutes_source(db, world.meeting_x, settings)
    return world, source


async def test_scripted_meeting_minutes_match_the_golden_file(scripted) -> None:
    world, source = scripted
    minutes = build_minutes(source, number=NUMBER)
    content = _comparable(minutes.model_dump(mode="json"), world.meeting_x)
    if os.environ.get("LIANSHEN_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert content == json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert build_minutes(source, number=NUMBER) == minutes  # deterministic
    assert minutes.source_log is not None and minutes.source_log.head_hash


async def test_scripted_meeting_renders_in_every_format(scripted) -> None:
    _world, source = scripted
    minutes = build_minutes(source, number=NUMBER)
    expected = [minutes.title, NUMBER, "凤庆县发展和改革局", "凤庆县自然资源局", "需转报上级", "不同意",
                "调整后的选址论证报告", "项目用地规模测算说明", "临沧市发展和改革委员会"]
    check_pdf(render(minutes, "pdf"), expected)
    check_docx(render(minutes, "docx"), expected)
    check_html(render(minutes, "html"), expected)
    assert json.loads(render(minutes, "json")) == minutes.model_dump(mode="json")
    notice = build_notice(minutes)
    assert [m.material for m in notice.materials] == ["调整后的选址论证报告", "项目用地规模测算说明"]
    check_pdf(render_notice(notice, "pdf"), ["一次性告知书", "调整后的选址论证报告", "项目用地规模测算说明"])
    check_html(render_notice(notice, "html"), ["一次性告知书", "2026年12月22日"])
